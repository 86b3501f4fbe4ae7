// Data files and gnuplot scripts for the three standard explore plots, each
// rendered to SVG and PNG. gnuplot runs from an argument vector in the plots
// folder (no shell), and the scripts name only the fixed file names below, so
// no user path is ever quoted into a command or a script.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "plots.h"

#include <unistd.h>

#include "lutc/compiler/engine_stats.h"
#include "lutc/explore/report.h"
#include "lutc/explore/results.h"
#include "lutc/explore/subprocess.h"
#include "lutc/model/atomic_file.h"

namespace lutc::explore {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Above this many ok points the scatter labels only the Pareto points: a label
// per point would cover the plot.
constexpr size_t kMaxScatterLabels = 60;

void write_text(const fs::path& path, const std::string& text) {
  AtomicFile f(path.string());
  f.write(text.data(), text.size());
  f.commit();
}

bool ok(const json& r) { return r.value("status", "") == "ok"; }
double num(const json& r, const std::string& k) {
  const auto it = r.find(k);
  return it != r.end() && it->is_number() ? it->get<double>() : NAN;
}
std::string g(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

// A string column of a gnuplot data file: double-quoted, so a '"' inside
// would end it early; it becomes a single quote.
std::string quoted(std::string s) {
  std::replace(s.begin(), s.end(), '"', '\'');
  std::replace(s.begin(), s.end(), '\n', ' ');
  return "\"" + s + "\"";
}

}  // namespace

std::string format_label(const json& r, bool with_rate) {
  const std::string quant = r.value("quant", "");
  // A SOP format string names its scheme already.
  const bool has_sop_format = (" " + quant).find(" sop_format=") != std::string::npos;
  std::istringstream words(quant);
  std::string out;
  for (std::string w; words >> w;) {
    const size_t eq = w.find('=');
    const std::string k = w.substr(0, eq), v = eq == std::string::npos ? "" : w.substr(eq + 1);
    if (!with_rate && (k == "bits" || k == "budget_bpw")) continue;
    if (k == "scheme" && has_sop_format) continue;
    out += (out.empty() ? "" : " ") + (k == "scheme" || k == "sop_format" ? v : w);
  }
  return out.empty() ? r.value("scheme", "?") : out;
}

std::string arch_label(const json& r, bool with_name) {
  std::string out = with_name ? r.value("arch", "") : "";
  std::istringstream items(r.value("arch_overrides", ""));
  for (std::string kv; std::getline(items, kv, ';');) {
    if (kv.empty()) continue;
    const size_t dot = kv.find('.');
    out += (out.empty() ? "" : " ") + (dot == std::string::npos ? kv : kv.substr(dot + 1));
  }
  return out;
}

std::string point_label(const json& r, bool with_arch_name) {
  const std::string arch = arch_label(r, with_arch_name);
  return format_label(r, true) + (arch.empty() ? "" : " @ " + arch);
}

AxisRange padded_range(const std::vector<double>& values, bool log) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v) && (!log || v > 0)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) return {0, 1};
  if (log) {
    // 8% of the decade span each side; a single value gets a factor 1.5.
    const double f = hi > lo ? std::pow(hi / lo, 0.08) : 1.5;
    return {lo / f, hi * f};
  }
  const double m = hi > lo ? 0.08 * (hi - lo) : (lo != 0 ? 0.1 * std::fabs(lo) : 1.0);
  return {lo - m, hi + m};
}

namespace {

std::string range_line(const char* axis, const AxisRange& r) {
  return std::string("set ") + axis + "range [" + g(r.lo) + ":" + g(r.hi) + "]\n";
}

// Rate-distortion: one line per format (the quant config without its rate
// knob, bits or budget_bpw), one point per rate; a format with one rate is a
// point, not a line.
std::string rate_distortion(const fs::path& dir, const std::vector<json>& rows) {
  std::map<std::string, std::map<std::string, std::pair<double, double>>> by_format;  // format -> quant -> (bpw, sqnr)
  std::vector<double> xs, ys;
  for (const auto& r : rows) {
    const double bpw = num(r, "bpw"), sq = num(r, "sqnr_db");
    if (!std::isfinite(bpw) || !std::isfinite(sq)) continue;
    by_format[format_label(r, false)].emplace(r.value("quant", ""), std::make_pair(bpw, sq));
    xs.push_back(bpw), ys.push_back(sq);
  }
  if (by_format.empty()) return "";
  std::string data, plot;
  int index = 0;
  for (const auto& [format, quants] : by_format) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [q, p] : quants) pts.push_back(p);
    std::sort(pts.begin(), pts.end());
    data += quoted(format) + "\n";
    for (const auto& [b, s] : pts) data += g(b) + " " + g(s) + "\n";
    data += "\n\n";
    plot += std::string(plot.empty() ? "plot " : ", ") + "'rate_distortion.dat' index " + std::to_string(index++) +
            " using 1:2 with " + (pts.size() > 1 ? "linespoints" : "points") + " pt 7 title columnheader(1)";
  }
  write_text(dir / "rate_distortion.dat", data);
  return "set title 'Rate-distortion per format' noenhanced\nset xlabel 'effective bits per weight'\n"
         "set ylabel 'SQNR (dB)'\nset grid\nset key outside right top noenhanced\n" +
         range_line("x", padded_range(xs, false)) + range_line("y", padded_range(ys, false)) + plot + "\n";
}

// Labels alternate above and below their points in tokens/s order, so two
// neighbours do not print over each other: below[i] for point i.
std::vector<bool> labels_below(const std::vector<const json*>& pts) {
  std::vector<size_t> order(pts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return num(*pts[a], "tokens_per_s") < num(*pts[b], "tokens_per_s"); });
  std::vector<bool> below(pts.size());
  for (size_t k = 0; k < order.size(); ++k) below[order[k]] = k % 2 == 1;
  return below;
}

// A log axis when the values span more than a factor 20 (and are all positive).
bool wide_span(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return *lo > 0 && *hi / *lo > 20;
}

// The gnuplot script over energy_vs_throughput.dat and pareto.dat, whose
// axes cover ts (tokens/s) and es (uJ per token).
std::string energy_vs_throughput_script(const std::vector<double>& ts, const std::vector<double>& es, bool label_all) {
  const bool log_t = wide_span(ts), log_e = wide_span(es);
  std::string s = std::string("set title 'Energy per token vs tokens/s (colour: quality dB; rings: Pareto front") +
                  (label_all ? "" : "; labels: Pareto points") +
                  ")' noenhanced\n"
                  "set xlabel 'tokens/s'\nset ylabel 'energy per token (uJ)'\nset cblabel 'quality (dB)'\n"
                  "set grid\nset palette rgbformulae 33,13,10\nset key below\n";
  if (log_t) s += "set logscale x\n";
  if (log_e) s += "set logscale y\n";
  s += range_line("x", padded_range(ts, log_t)) + range_line("y", padded_range(es, log_e));
  s += "plot 'energy_vs_throughput.dat' using 1:2:3 with points pt 7 ps 0.9 lc palette notitle, "
       "'pareto.dat' using 1:2 with points pt 6 ps 1.8 lc rgb 'black' title 'Pareto front', "
       "'energy_vs_throughput.dat' using 1:2:4 with labels font ',7' offset char 0,0.9 noenhanced notitle, "
       "'energy_vs_throughput.dat' using 1:2:5 with labels font ',7' offset char 0,-0.9 noenhanced notitle\n";
  return s;
}

// Energy/token vs tokens/s, coloured by quality, Pareto points ringed, each
// point labelled with its format and arch.
std::string energy_vs_throughput(const fs::path& dir, const std::vector<json>& rows) {
  std::vector<const json*> pts;
  std::set<std::string> arch_names;
  for (const auto& r : rows)
    if (ok(r)) pts.push_back(&r), arch_names.insert(r.value("arch", ""));
  const bool label_all = pts.size() <= kMaxScatterLabels;
  const std::vector<bool> below = labels_below(pts);
  std::string all, front;
  std::vector<double> ts, es;
  for (size_t i = 0; i < pts.size(); ++i) {
    const json& r = *pts[i];
    const double t = num(r, "tokens_per_s"), e = num(r, "energy_pj_per_token") * 1e-6;
    double q = num(r, "quality_db");
    if (std::isnan(q)) q = 200;  // exact: above any finite SQNR
    const bool pareto = r.value("pareto", 0) == 1;
    const std::string label = label_all || pareto ? point_label(r, arch_names.size() > 1) : "";
    const std::string line = g(t) + " " + g(e) + " " + g(q) + " " + quoted(below[i] ? "" : label) + " " +
                             quoted(below[i] ? label : "") + "\n";
    all += line;
    if (pareto) front += line;
    ts.push_back(t), es.push_back(e);
  }
  if (all.empty()) return "";
  write_text(dir / "energy_vs_throughput.dat", all);
  write_text(dir / "pareto.dat", front.empty() ? "\n" : front);
  return energy_vs_throughput_script(ts, es, label_all);
}

// Stacked energy parts per Pareto point (at most 40, lowest energy first),
// each bar named by its format and arch.
std::string energy_breakdown(const fs::path& dir, const std::vector<json>& rows) {
  std::vector<const json*> front;
  std::set<std::string> arch_names;
  for (const auto& r : rows)
    if (ok(r) && r.value("pareto", 0) == 1) front.push_back(&r), arch_names.insert(r.value("arch", ""));
  if (front.empty()) return "";
  std::stable_sort(front.begin(), front.end(), [](const json* a, const json* b) {
    return num(*a, "energy_pj_per_token") < num(*b, "energy_pj_per_token");
  });
  if (front.size() > 40) front.resize(40);
  std::string data = "point";
  for (const char* p : kEnergyParts) data += std::string(" ") + p;
  data += "\n";
  double top = 0;
  for (const json* r : front) {
    data += quoted(point_label(*r, arch_names.size() > 1));
    double sum = 0;
    for (const char* p : kEnergyParts) {
      const double v = num(*r, energy_column(p)) * 1e-6;
      data += " " + g(v);
      if (std::isfinite(v)) sum += v;
    }
    top = std::max(top, sum);
    data += "\n";
  }
  write_text(dir / "energy_breakdown.dat", data);
  std::string s =
      "set title 'Energy per token of the Pareto points, by unit'\nset ylabel 'energy per token (uJ)'\n"
      "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\n"
      "set boxwidth 0.75\nset xtics rotate by -60 noenhanced\nset key outside right noenhanced\nset grid y\n" +
      range_line("x", {-0.6, double(front.size()) - 0.4}) + range_line("y", {0, top > 0 ? top * 1.08 : 1.0}) +
      "plot 'energy_breakdown.dat' using 2:xtic(1) title columnheader(2)";
  for (int c = 3; c <= 9; ++c)
    s += ", '' using " + std::to_string(c) + " title columnheader(" + std::to_string(c) + ")";
  return s + "\n";
}

}  // namespace

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(ss, d, ':');) {
    const fs::path p = fs::path(d) / "gnuplot";
    // Absolute: gnuplot runs in the plots folder, where a relative PATH entry means something else.
    if (!d.empty() && access(p.c_str(), X_OK) == 0) return fs::absolute(p).lexically_normal().string();
  }
  return "";
}

// The plots it rendered and their image files; appends to *note what it
// could not plot for lack of data or of gnuplot; a gnuplot run that fails is
// in .failures.
PlotFiles render_plots(const fs::path& dir, const std::vector<json>& rows, std::string* note) {
  fs::create_directories(dir);
  const std::pair<const char*, std::string> plots[] = {{"rate_distortion", rate_distortion(dir, rows)},
                                                       {"energy_vs_throughput", energy_vs_throughput(dir, rows)},
                                                       {"energy_breakdown", energy_breakdown(dir, rows)}};
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) *note += "gnuplot not found on PATH: scripts written, nothing rendered. ";
  PlotFiles out;
  for (const auto& [name, body] : plots) {
    if (body.empty()) {
      *note += std::string(name) + ": no data. ";
      continue;
    }
    size_t rendered = 0;
    for (const auto& [ext, term] : {std::make_pair("svg", "svg size 960,600 dynamic font 'sans,12'"),
                                    std::make_pair("png", "pngcairo size 960,600 font 'sans,10'")}) {
      const std::string file = std::string(name) + "." + ext;
      const std::string script = file + ".gp";
      write_text(dir / script, "set terminal " + std::string(term) + "\nset output '" + file + "'\n" + body);
      if (gnuplot.empty()) continue;
      // The script names its data files relative to the plots folder.
      const fs::path log = dir / (script + ".log");
      std::error_code ec;
      fs::remove(dir / file, ec);  // an image left by an earlier run must not pass for this one
      const int rc = run_process({gnuplot, script}, log.string(), dir.string());
      if (rc == 0 && fs::exists(dir / file) && fs::file_size(dir / file, ec) > 0) {
        out.images.push_back((dir / file).string());
        ++rendered;
      } else {
        out.failures.push_back((dir / file).string() + ": gnuplot " +
                               (rc == 0 ? std::string("exited 0 but wrote no image") : "exited " + std::to_string(rc)) +
                               " (" + log_tail(log.string(), 300) + "; log " + log.string() + ")");
      }
    }
    if (rendered == 2) out.plots.push_back(name);
  }
  return out;
}

}  // namespace lutc::explore
