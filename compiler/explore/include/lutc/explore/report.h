#pragma once
// Plots (gnuplot: SVG and PNG) and a static report.html that embeds them:
// rate-distortion per scheme, energy/token vs tokens/s coloured by quality,
// and the energy breakdown of the Pareto points.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lutc::explore {

struct ReportFiles {
  std::string html;                   // out/report.html
  std::vector<std::string> plots;     // plots rendered (each as SVG and PNG)
  std::vector<std::string> images;    // the image files written, plots x formats
  std::vector<std::string> failures;  // gnuplot runs that failed: the run reports them and fails
  std::string note;                   // why something was not rendered (no gnuplot, no ok points)
};

// Rows must already carry "point" and "pareto".
ReportFiles write_report(const std::string& out_dir, const std::string& sweep_name,
                         const std::vector<nlohmann::json>& rows);

// The gnuplot executable on PATH, or "" when there is none.
std::string find_gnuplot();

}  // namespace lutc::explore
