// Data files and gnuplot scripts for the three standard explore plots, each
// rendered to SVG and PNG.
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

#include "lutc/explore/report.h"
#include "lutc/explore/subprocess.h"
#include "lutc/model/atomic_file.h"

namespace lutc::explore {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kParts[] = {"dram", "sram", "lut", "multiply", "accumulate", "outlier", "control", "leakage"};

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

// Rate-distortion: one series per scheme, one point per quant config.
std::string rate_distortion(const fs::path& dir, const std::vector<json>& rows) {
  std::map<std::string, std::map<std::string, std::pair<double, double>>> by_scheme;  // scheme -> quant -> (bpw, sqnr)
  for (const auto& r : rows) {
    const double bpw = num(r, "bpw"), sq = num(r, "sqnr_db");
    if (std::isnan(bpw) || std::isnan(sq)) continue;
    by_scheme[r.value("scheme", "")].emplace(r.value("quant", ""), std::make_pair(bpw, sq));
  }
  if (by_scheme.empty()) return "";
  std::string data, plot;
  int index = 0;
  for (const auto& [scheme, quants] : by_scheme) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [q, p] : quants) pts.push_back(p);
    std::sort(pts.begin(), pts.end());
    data += "\"" + scheme + "\"\n";
    for (const auto& [b, s] : pts) data += g(b) + " " + g(s) + "\n";
    data += "\n\n";
    plot += std::string(plot.empty() ? "plot " : ", ") + "'rate_distortion.dat' index " + std::to_string(index++) +
            " using 1:2 with linespoints pt 7 title columnheader(1)";
  }
  write_text(dir / "rate_distortion.dat", data);
  return "set title 'Rate-distortion per scheme' noenhanced\nset xlabel 'effective bits per weight'\n"
         "set ylabel 'SQNR (dB)'\nset grid\nset key top left noenhanced\n" + plot + "\n";
}

// Energy/token vs tokens/s, coloured by quality, Pareto points ringed.
std::string energy_vs_throughput(const fs::path& dir, const std::vector<json>& rows) {
  std::string all, front;
  double lo_t = INFINITY, hi_t = 0, lo_e = INFINITY, hi_e = 0;
  for (const auto& r : rows) {
    if (!ok(r)) continue;
    const double t = num(r, "tokens_per_s"), e = num(r, "energy_pj_per_token");
    double q = num(r, "quality_db");
    if (std::isnan(q)) q = 200;  // exact: above any finite SQNR
    const std::string line = g(t) + " " + g(e * 1e-6) + " " + g(q) + "\n";
    all += line;
    if (r.value("pareto", 0) == 1) front += line;
    lo_t = std::min(lo_t, t), hi_t = std::max(hi_t, t), lo_e = std::min(lo_e, e), hi_e = std::max(hi_e, e);
  }
  if (all.empty()) return "";
  write_text(dir / "energy_vs_throughput.dat", all);
  write_text(dir / "pareto.dat", front.empty() ? "\n" : front);
  std::string s = "set title 'Energy per token vs tokens/s (colour: quality dB; rings: Pareto front)'\n"
                  "set xlabel 'tokens/s'\nset ylabel 'energy per token (uJ)'\nset cblabel 'quality (dB)'\n"
                  "set grid\nset palette rgbformulae 33,13,10\nset key top right\n";
  if (hi_t / lo_t > 20) s += "set logscale x\n";
  if (hi_e / lo_e > 20) s += "set logscale y\n";
  s += "plot 'energy_vs_throughput.dat' using 1:2:3 with points pt 7 ps 0.9 lc palette notitle, "
       "'pareto.dat' using 1:2 with points pt 6 ps 1.8 lc rgb 'black' title 'Pareto front'\n";
  return s;
}

// Stacked energy parts per Pareto point (at most 40, lowest energy first).
std::string energy_breakdown(const fs::path& dir, const std::vector<json>& rows) {
  std::vector<const json*> front;
  for (const auto& r : rows)
    if (ok(r) && r.value("pareto", 0) == 1) front.push_back(&r);
  if (front.empty()) return "";
  std::stable_sort(front.begin(), front.end(), [](const json* a, const json* b) {
    return num(*a, "energy_pj_per_token") < num(*b, "energy_pj_per_token");
  });
  if (front.size() > 40) front.resize(40);
  std::string data = "point";
  for (const char* p : kParts) data += std::string(" ") + p;
  data += "\n";
  for (const json* r : front) {
    data += "p" + std::to_string(r->value("point", 0));
    for (const char* p : kParts) data += " " + g(num(*r, std::string("energy_") + p + "_pj") * 1e-6);
    data += "\n";
  }
  write_text(dir / "energy_breakdown.dat", data);
  std::string s = "set title 'Energy per token of the Pareto points, by unit'\nset ylabel 'energy per token (uJ)'\n"
                  "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\n"
                  "set boxwidth 0.75\nset xtics rotate by -60 noenhanced\nset key outside right noenhanced\nset grid y\n"
                  "plot 'energy_breakdown.dat' using 2:xtic(1) title columnheader(2)";
  for (int c = 3; c <= 9; ++c) s += ", '' using " + std::to_string(c) + " title columnheader(" + std::to_string(c) + ")";
  return s + "\n";
}

}  // namespace

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(ss, d, ':');) {
    const fs::path p = fs::path(d) / "gnuplot";
    if (!d.empty() && access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// Returns the images it rendered; appends to *note what it could not.
std::vector<std::string> render_plots(const fs::path& dir, const std::vector<json>& rows, std::string* note) {
  fs::create_directories(dir);
  const std::pair<const char*, std::string> plots[] = {{"rate_distortion", rate_distortion(dir, rows)},
                                                       {"energy_vs_throughput", energy_vs_throughput(dir, rows)},
                                                       {"energy_breakdown", energy_breakdown(dir, rows)}};
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) *note += "gnuplot not found on PATH: scripts written, nothing rendered. ";
  std::vector<std::string> images;
  for (const auto& [name, body] : plots) {
    if (body.empty()) {
      *note += std::string(name) + ": no data. ";
      continue;
    }
    for (const auto& [ext, term] : {std::make_pair("svg", "svg size 960,600 dynamic font 'sans,12'"),
                                    std::make_pair("png", "pngcairo size 960,600 font 'sans,10'")}) {
      const std::string file = std::string(name) + "." + ext;
      const std::string script = std::string(name) + "." + ext + ".gp";
      write_text(dir / script, "set terminal " + std::string(term) + "\nset output '" + file + "'\n" + body);
      if (gnuplot.empty()) continue;
      // gnuplot resolves the data files relative to its working directory.
      const std::string cmd = "cd '" + dir.string() + "' && exec '" + gnuplot + "' '" + script + "'";
      const int rc = run_process({"/bin/sh", "-c", cmd}, (dir / (script + ".log")).string());
      if (rc == 0 && fs::exists(dir / file)) images.push_back((dir / file).string());
      else *note += file + ": gnuplot exited " + std::to_string(rc) + " (" + log_tail((dir / (script + ".log")).string(), 200) + "). ";
    }
  }
  return images;
}

}  // namespace lutc::explore
