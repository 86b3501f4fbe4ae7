#pragma once
// Internal: renders the standard plots into a folder (plots.cpp), and the
// labels and axis ranges they use (exposed for the tests).
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lutc::explore {

struct PlotFiles {
  std::vector<std::string> plots;     // plot names rendered to every image format
  std::vector<std::string> images;    // the image files written
  std::vector<std::string> failures;  // "file: gnuplot exited N (log tail; log path)" per failed render
};

PlotFiles render_plots(const std::filesystem::path& dir, const std::vector<nlohmann::json>& rows, std::string* note);

// "xfp.v2 bits=3", "e2m1.ue4m3.b16": a row's quant config, the scheme's and
// sop_format's keys left out (and the scheme itself when a SOP format names
// it); without its rate knob (bits, budget_bpw) it names the format a
// rate-distortion line joins.
std::string format_label(const nlohmann::json& row, bool with_rate);
// "lanes=16 mant_bits=6": the arch overrides without their sections, after
// the base arch's name when with_name.
std::string arch_label(const nlohmann::json& row, bool with_name);
// "xfp.v2 bits=3 @ lanes=16": what a scatter point or a bar is called.
std::string point_label(const nlohmann::json& row, bool with_arch_name);

// An axis range holding every finite value with a margin each side, so no
// point sits on the border (where gnuplot clips half of it); log axes pad by
// a factor and skip values <= 0.
struct AxisRange {
  double lo, hi;
};
AxisRange padded_range(const std::vector<double>& values, bool log);

}  // namespace lutc::explore
