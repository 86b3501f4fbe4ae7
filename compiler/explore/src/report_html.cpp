// report.html: a static page that inlines the SVG plots and lists the Pareto
// points, readable offline and attachable to a mail.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lutc/explore/report.h"
#include "lutc/explore/results.h"
#include "lutc/model/atomic_file.h"
#include "plots.h"

namespace lutc::explore {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string inline_svg(const fs::path& path) {
  std::ifstream f(path);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  const size_t at = s.find("<svg");
  return at == std::string::npos ? "" : s.substr(at);
}

std::string cell(const json& r, const char* k) { return escape(r.contains(k) ? csv_cell(r[k]) : ""); }

// The page head and the first paragraph: how many points ran, failed and
// made the front, and notes on plots that are missing.
void write_summary(std::ostream& h, const std::string& sweep_name, const std::vector<json>& rows,
                   const ReportFiles& out) {
  size_t okc = 0, infeasible = 0, front = 0;
  for (const auto& r : rows) {
    okc += r.value("status", "") == "ok";
    infeasible += r.value("status", "") == "infeasible";
    front += r.value("pareto", 0) == 1;
  }
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lutc explore: " << escape(sweep_name)
    << "</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
       "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
       "td.l,th.l{text-align:left}figure{margin:1.5em 0}svg{max-width:100%;height:auto}</style></head><body>\n";
  h << "<h1>lutc explore: " << escape(sweep_name) << "</h1>\n<p>" << rows.size() << " points: " << okc << " ok, "
    << infeasible << " infeasible for their arch, " << rows.size() - okc - infeasible << " with a quantization error; "
    << front
    << " on the Pareto front (quality_db up, energy per token down, tokens/s up). Data: "
       "<a href=\"results.csv\">results.csv</a>, <a href=\"results.json\">results.json</a>; columns in "
       "docs/explore.md.</p>\n";
  if (!out.note.empty()) h << "<p><em>" << escape(out.note) << "</em></p>\n";
  if (!out.failures.empty())
    h << "<p><em>" << out.failures.size() << " plot image(s) failed to render; see the .gp.log files in "
      << "<a href=\"plots/\">plots/</a>.</em></p>\n";
}

// Each plot whose SVG was written, inlined with its caption and a link to its PNG.
void write_figures(std::ostream& h, const fs::path& plots) {
  const std::pair<const char*, const char*> figs[] = {
      {"rate_distortion", "Rate-distortion per scheme: effective bpw vs SQNR of the golden decode."},
      {"energy_vs_throughput",
       "Energy per token vs tokens/s for the model's decode step; colour is quality_db, rings mark the Pareto front."},
      {"energy_breakdown", "Energy per token of the Pareto points, by unit (DRAM, SRAM, LUT, arithmetic, leakage)."}};
  for (const auto& [name, caption] : figs) {
    const std::string svg = inline_svg(plots / (std::string(name) + ".svg"));
    if (svg.empty()) continue;
    h << "<figure>" << svg << "<figcaption>" << caption << " <a href=\"plots/" << name
      << ".png\">PNG</a></figcaption></figure>\n";
  }
}

void write_pareto_table(std::ostream& h, const std::vector<json>& rows) {
  h << "<h2>Pareto points</h2>\n<table><tr><th>point</th><th class=l>scheme</th><th class=l>quant</th><th "
       "class=l>arch</th>"
       "<th>bpw</th><th>quality dB</th><th>tokens/s</th><th>uJ/token</th><th>bottleneck</th><th>LUT bits</th><th>SRAM "
       "bits</th></tr>\n";
  for (const auto& r : rows) {
    if (r.value("pareto", 0) != 1) continue;
    char uj[32];
    std::snprintf(uj, sizeof uj, "%.4g", r.value("energy_pj_per_token", 0.0) * 1e-6);
    h << "<tr><td>" << cell(r, "point") << "</td><td class=l>" << cell(r, "scheme") << "</td><td class=l>"
      << cell(r, "quant") << "</td><td class=l>" << cell(r, "arch") << " " << cell(r, "arch_overrides") << "</td><td>"
      << cell(r, "bpw") << "</td><td>" << cell(r, "quality_db") << "</td><td>" << cell(r, "tokens_per_s") << "</td><td>"
      << uj << "</td><td>" << cell(r, "bottleneck") << "</td><td>" << cell(r, "lut_bits") << "</td><td>"
      << cell(r, "sram_bits") << "</td></tr>\n";
  }
  h << "</table>\n";
}

}  // namespace

ReportFiles write_report(const std::string& out_dir, const std::string& sweep_name, const std::vector<json>& rows) {
  ReportFiles out;
  const fs::path plots = fs::path(out_dir) / "plots";
  PlotFiles rendered = render_plots(plots, rows, &out.note);
  out.plots = std::move(rendered.plots);
  out.images = std::move(rendered.images);
  out.failures = std::move(rendered.failures);
  std::ostringstream h;
  write_summary(h, sweep_name, rows, out);
  write_figures(h, plots);
  write_pareto_table(h, rows);
  h << "</body></html>\n";
  out.html = (fs::path(out_dir) / "report.html").string();
  const std::string text = h.str();
  AtomicFile f(out.html);
  f.write(text.data(), text.size());
  f.commit();
  return out;
}

}  // namespace lutc::explore
