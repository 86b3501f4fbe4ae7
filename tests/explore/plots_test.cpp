// The explore plots: a rate-distortion line joins only points of one format,
// scatter points and bars carry their format/arch label (never "p6"), every
// axis range holds its points with a margin, and gnuplot renders them (when
// installed) with the labels in the SVG.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "lutc/explore/report.h"
#include "plots.h"
#include "test_data.h"

namespace lutc::explore {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Rows of a sweep with three formats (one at two rates), two archs, random
// but plausible numbers; every row ok, a random half on the Pareto front.
std::vector<json> random_rows(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const std::pair<const char*, const char*> quants[] = {{"xfp.v2", "scheme=xfp.v2 bits=3"},
                                                        {"xfp.v2", "scheme=xfp.v2 bits=4"},
                                                        {"xfp.v2", "scheme=xfp.v2 bits=4 group=128"},
                                                        {"sop", "scheme=sop sop_format=e2m1.ue4m3.b16"},
                                                        {"sop", "scheme=sop sop_format=nf4.ue4m4.b16"}};
  std::vector<json> rows;
  for (const auto& [scheme, quant] : quants)
    for (const char* ov : {"core.lanes=16;hif.mant_bits=6", "core.lanes=64;hif.mant_bits=11"}) {
      json r = {{"point", rows.size()},
                {"status", "ok"},
                {"scheme", scheme},
                {"quant", quant},
                {"arch", "default"},
                {"arch_overrides", ov},
                {"bpw", 3 + 2 * u(rng)},
                {"sqnr_db", 10 + 15 * u(rng)},
                {"quality_db", 10 + 15 * u(rng)},
                {"tokens_per_s", 1e3 * (1 + 9 * u(rng))},
                {"energy_pj_per_token", 1e6 * (1 + 4 * u(rng))},
                {"pareto", int(rows.size() % 2 || u(rng) < 0.5)}};
      for (const char* p : {"dram", "sram", "lut", "multiply", "accumulate", "outlier", "control", "leakage"})
        r[std::string("energy_") + p + "_pj"] = 1e5 * u(rng);
      rows.push_back(r);
    }
  // The same quant config at two archs has one bpw/SQNR (they come from the quantization).
  for (size_t i = 1; i < rows.size(); i += 2)
    rows[i]["bpw"] = rows[i - 1]["bpw"], rows[i]["sqnr_db"] = rows[i - 1]["sqnr_db"];
  return rows;
}

std::pair<double, double> range_of(const std::string& script, const std::string& axis) {
  std::smatch m;
  const std::regex re("set " + axis + "range \\[([^:]+):([^\\]]+)\\]");
  EXPECT_TRUE(std::regex_search(script, m, re)) << axis << " in\n" << script;
  return m.size() == 3 ? std::make_pair(std::stod(m[1]), std::stod(m[2])) : std::make_pair(0.0, 0.0);
}

TEST(Plots, LinesJoinOneFormatPointsAreLabelledAndRangesHaveMargins) {
  const uint64_t seed = lutc::testing::fresh_seed();
  const std::vector<json> rows = random_rows(seed);
  const fs::path dir = fs::path(lutc::testing::temp_dir()) / "plots";
  std::string note;
  const PlotFiles out = render_plots(dir, rows, &note);
  SCOPED_TRACE("seed " + std::to_string(seed));

  // Rate-distortion: a block per format, holding exactly that format's rates.
  // format -> bpw values, as the data file prints them (9 significant digits)
  auto printed = [](double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return std::stod(b);
  };
  std::map<std::string, std::set<double>> want;
  for (const auto& r : rows) want[format_label(r, false)].insert(printed(r["bpw"].get<double>()));
  EXPECT_EQ(want.size(), 4u);  // xfp.v2 (bits 3, 4), xfp.v2 group=128, two SOP formats
  std::istringstream rd(slurp(dir / "rate_distortion.dat"));
  std::map<std::string, std::set<double>> got;
  std::string current;
  for (std::string line; std::getline(rd, line);) {
    if (line.empty()) continue;
    if (line[0] == '"') {
      current = line.substr(1, line.size() - 2);
      EXPECT_EQ(got.count(current), 0u) << current << " is split over two blocks";
      got[current];
      continue;
    }
    got[current].insert(std::stod(line.substr(0, line.find(' '))));
  }
  EXPECT_EQ(got, want);
  const std::string rd_script = slurp(dir / "rate_distortion.svg.gp");
  size_t lines = 0;
  for (size_t at = 0; (at = rd_script.find("with linespoints", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 1u) << "only xfp.v2 has two rates:\n" << rd_script;
  const auto [x_lo, x_hi] = range_of(rd_script, "x");
  const auto [y_lo, y_hi] = range_of(rd_script, "y");
  for (const auto& r : rows) {
    EXPECT_LT(x_lo, r["bpw"].get<double>());
    EXPECT_GT(x_hi, r["bpw"].get<double>());
    EXPECT_LT(y_lo, r["sqnr_db"].get<double>());
    EXPECT_GT(y_hi, r["sqnr_db"].get<double>());
  }

  // Scatter: every point labelled with its format and arch; the axes hold all.
  const std::string ev = slurp(dir / "energy_vs_throughput.dat");
  for (const auto& r : rows) {
    const std::string label = point_label(r, false);
    EXPECT_NE(ev.find("\"" + label + "\""), std::string::npos) << label << "\n" << ev;
  }
  EXPECT_NE(ev.find("\"xfp.v2 bits=4 group=128 @ lanes=64 mant_bits=11\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"e2m1.ue4m3.b16 @ lanes=16 mant_bits=6\""), std::string::npos) << ev;
  const std::string ev_script = slurp(dir / "energy_vs_throughput.svg.gp");
  EXPECT_NE(ev_script.find("with labels"), std::string::npos) << ev_script;
  const auto [t_lo, t_hi] = range_of(ev_script, "x");
  const auto [e_lo, e_hi] = range_of(ev_script, "y");
  for (const auto& r : rows) {
    EXPECT_LT(t_lo, r["tokens_per_s"].get<double>());
    EXPECT_GT(t_hi, r["tokens_per_s"].get<double>());
    EXPECT_LT(e_lo, r["energy_pj_per_token"].get<double>() * 1e-6);
    EXPECT_GT(e_hi, r["energy_pj_per_token"].get<double>() * 1e-6);
  }

  // Breakdown: bars named by label, none by point number.
  const std::string bd = slurp(dir / "energy_breakdown.dat");
  EXPECT_FALSE(std::regex_search(bd, std::regex("\n\"?p[0-9]+\"? "))) << bd;
  size_t bars = 0;
  for (const auto& r : rows) {
    if (r["pareto"] != 1) continue;
    ++bars;
    EXPECT_NE(bd.find("\"" + point_label(r, false) + "\""), std::string::npos) << point_label(r, false) << "\n" << bd;
  }
  EXPECT_EQ(std::count(bd.begin(), bd.end(), '\n'), std::ptrdiff_t(bars + 1));

  if (find_gnuplot().empty()) {
    EXPECT_TRUE(out.images.empty());
    EXPECT_NE(note.find("gnuplot not found"), std::string::npos) << note;
    return;
  }
  EXPECT_TRUE(out.failures.empty()) << out.failures.at(0);
  EXPECT_EQ(out.plots.size(), 3u);
  EXPECT_EQ(out.images.size(), 6u);
  for (const auto& f : out.images) EXPECT_GT(fs::file_size(f), 0u) << f;
  // The SVGs carry the labels as text: tick labels of the bars, point labels, series titles.
  const std::string bd_svg = slurp(dir / "energy_breakdown.svg");
  for (const auto& r : rows) {
    if (r["pareto"] == 1) {
      EXPECT_NE(bd_svg.find(">" + point_label(r, false) + "<"), std::string::npos) << point_label(r, false);
    }
  }
  const std::string ev_svg = slurp(dir / "energy_vs_throughput.svg");
  EXPECT_NE(ev_svg.find(">" + point_label(rows[0], false) + "<"), std::string::npos);
  const std::string rd_svg = slurp(dir / "rate_distortion.svg");
  for (const auto& [format, bpws] : want) EXPECT_NE(rd_svg.find(">" + format + "<"), std::string::npos) << format;
}

TEST(Plots, PaddedRangesHoldEveryValue) {
  std::mt19937_64 rng(lutc::testing::fresh_seed());
  std::uniform_real_distribution<double> u(-5, 5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> v(1 + rng() % 6);
    for (auto& x : v) x = u(rng);
    const bool log = trial % 2;
    if (log)
      for (auto& x : v) x = std::exp(x);
    const AxisRange r = padded_range(v, log);
    for (double x : v) {
      EXPECT_LT(r.lo, x);
      EXPECT_GT(r.hi, x);
    }
    if (log) {
      EXPECT_GT(r.lo, 0);
    }
  }
  const AxisRange one = padded_range({0.0}, false);
  EXPECT_LT(one.lo, 0);
  EXPECT_GT(one.hi, 0);
}

}  // namespace
}  // namespace lutc::explore
