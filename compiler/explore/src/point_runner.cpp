#include "lutc/explore/point_runner.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/explore/results.h"
#include "lutc/explore/subprocess.h"
#include "lutc/model/error.h"
#include "lutc/model/exit_class.h"

namespace lutc::explore {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string hex16(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)v);
  return b;
}

// The columns every row has, whatever happened to the point.
json base_row(const Sweep& s, size_t index, const std::string& key, const std::string& engine) {
  const ArchPoint& ap = s.arch_of(index);
  const ArchConfig& a = ap.arch;
  const QuantConfig& q = s.quant_of(index);
  json r;
  r["key"] = key;
  r["scheme"] = q.scheme();
  r["quant"] = q.text();
  r["arch"] = ap.base;
  r["arch_overrides"] = ap.overrides;
  r["arch_hash"] = hex16(arch_hash(a));
  // Each arch key with a results column (arch_keys.def), as the integer or
  // the real number it is.
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  const std::vector<double> values = arch_values(a);
  for (size_t i = 0; i < keys.size(); ++i)
    if (!keys[i].column.empty()) r[keys[i].column] = keys[i].integer ? json(uint64_t(values[i])) : json(values[i]);
  // Area proxies: bits of LUT SRAM (HIF words) and of weight + activation SRAM.
  r["lut_bits"] = a.lut_words() * a.hif_word_bits();
  r["sram_bits"] = (a.weight_sram_bytes() + a.act_sram_bytes()) * 8;
  r["blocks"] = s.blocks;
  r["batch"] = s.batch;
  r["engine_command"] = engine;
  return r;
}

double nmse_of_db(const json& v) { return v.is_number() ? std::pow(10.0, -v.get<double>() / 10.0) : 0.0; }

EngineStats parse_stats(const json& j, const QuantizedLayer& layer, const std::string& engine,
                        const std::string& report) {
  EngineStats st;
  try {
    st = stats_from_json(j);
  } catch (const std::exception& e) {
    throw Error(ExitCode::kInternal, "lutc " + engine + " report '" + report + "': " + e.what());
  }
  if (st.layer != layer.name || st.rows != layer.rows || st.cols != layer.cols)
    throw Error(ExitCode::kInternal, "lutc " + engine + " report '" + report + "' has layer '" + st.layer + "' " +
                                         std::to_string(st.rows) + "x" + std::to_string(st.cols) + " where '" +
                                         layer.name + "' was expected");
  return st;
}

json read_report(const std::string& path, const std::string& engine) {
  std::ifstream f(path);
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw Error(ExitCode::kInternal, "lutc " + engine + " report '" + path + "' is not JSON: " + e.what());
  }
}

// The decode step in one engine process: every program, timing-only, in
// file order; the report's "layers" array holds each layer's stats.
std::vector<EngineStats> run_whole_step(const Sweep& s, const QuantEntry& quant, const EngineOptions& engine,
                                        const std::vector<std::string>& lutps, const fs::path& dir) {
  const std::string report = (dir / "step.json").string(), log = (dir / "step.log").string();
  std::vector<std::string> argv{engine.exe, engine.command};
  argv.insert(argv.end(), lutps.begin(), lutps.end());
  for (const std::string& a : {std::string("--batch"), std::to_string(s.batch), std::string("--report"), report})
    argv.push_back(a);
  const int rc = run_process(argv, log);
  if (rc != 0)
    throw Error(exit_code_of_child(rc), "lutc " + engine.command + " on " + std::to_string(lutps.size()) +
                                            " layers exited " + std::to_string(rc) + ": " + log_tail(log));
  const json j = read_report(report, engine.command);
  const auto& layers = quant.file->layers;
  std::vector<EngineStats> out;
  if (layers.size() == 1) {
    out.push_back(parse_stats(j, layers[0], engine.command, report));
    return out;
  }
  if (!j.contains("layers") || j["layers"].size() != layers.size())
    throw Error(ExitCode::kInternal, "lutc " + engine.command + " report '" + report + "' does not list " +
                                         std::to_string(layers.size()) + " layers");
  for (size_t i = 0; i < layers.size(); ++i)
    out.push_back(parse_stats(j["layers"][i], layers[i], engine.command, report));
  return out;
}

// One engine process per layer, functional (with activations): the form
// every engine supports, `lutc rtl` included.
std::vector<EngineStats> run_per_layer(const Sweep& s, const QuantEntry& quant, const EngineOptions& engine,
                                       ActivationStore& acts, const std::vector<std::string>& lutps,
                                       const fs::path& dir) {
  std::vector<EngineStats> out;
  for (size_t li = 0; li < lutps.size(); ++li) {
    const QuantizedLayer& layer = quant.file->layers[li];
    const std::string report = (dir / ("layer" + std::to_string(li) + ".json")).string(),
                      log = (dir / ("layer" + std::to_string(li) + ".log")).string();
    const std::string x = acts.path_for(layer.cols, s.batch, s.seed);
    const int rc = run_process({engine.exe, engine.command, lutps[li], "--x", x, "--report", report}, log);
    if (rc != 0)
      throw Error(exit_code_of_child(rc), "lutc " + engine.command + " on layer '" + layer.name + "' exited " +
                                              std::to_string(rc) + ": " + log_tail(log));
    out.push_back(parse_stats(read_report(report, engine.command), layer, engine.command, report));
  }
  return out;
}

}  // namespace

std::string point_key(const Sweep& s, size_t index, const std::string& quant_key, const std::string& engine) {
  const std::string text = "quant=" + quant_key + "\narch=" + canonical_arch_text(s.arch_of(index).arch) +
                           "engine=" + engine + "\nbatch=" + std::to_string(s.batch) +
                           "\nseed=" + std::to_string(s.seed) + "\nblocks=" + std::to_string(s.blocks) + "\n";
  return hex16(fnv1a64(text.data(), text.size()));
}

HifErrorReport HifErrorCache::get(const std::string& quant_key, size_t layer_index, const QuantizedLayer& layer,
                                  const HifFormat& hif) {
  const std::string key = quant_key + "/" + std::to_string(layer_index) + "/" + std::to_string(hif.mant_bits) + "/" +
                          std::to_string(hif.shift_bits);
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = done_.find(key);
    if (it != done_.end()) return it->second;
  }
  // Two workers may measure the same key at once; both get the same answer.
  const HifErrorReport r = measure_hif_error(layer, lower_layer_luts(layer, hif), hif);
  std::lock_guard<std::mutex> g(mu_);
  return done_.emplace(key, r).first->second;
}

namespace {

// The programs one point's engine runs, in file order, or why the arch cannot
// hold a layer (LUT too small, accumulator too narrow, ...): a result, not a
// failure.
struct PointPrograms {
  std::vector<std::string> lutps;
  std::vector<CompileReport> reps;
  std::string infeasible;
};

// Lowers every layer of `quant` for `arch` into `dir`: compiled afresh, or
// re-targeted from the program cache when it is enabled.
PointPrograms lower_point(const QuantEntry& quant, const ArchConfig& arch, HifErrorCache& hif_errors,
                          ProgramCache& programs, const fs::path& dir) {
  const size_t n = quant.file->layers.size();
  PointPrograms out;
  out.lutps.resize(n);
  out.reps.resize(n);
  // A scratch file the engine reads once: no fsync/rename as for user outputs.
  auto write_program = [&](size_t li, const uint8_t* head, size_t head_n, const uint8_t* tail, size_t tail_n) {
    char stem[32];
    std::snprintf(stem, sizeof stem, "layer%05zu.lutp", li);  // the engine's layer order is the file order
    out.lutps[li] = (dir / stem).string();
    out.reps[li].program_bytes = head_n + tail_n;
    out.reps[li].hif =
        hif_errors.get(quant.key, li, quant.file->layers[li], HifFormat{arch.hif_mant_bits, arch.hif_shift_bits});
    std::ofstream f(out.lutps[li], std::ios::binary);
    f.write(reinterpret_cast<const char*>(head), std::streamsize(head_n));
    f.write(reinterpret_cast<const char*>(tail), std::streamsize(tail_n));
    if (!f.flush()) throw Error(ExitCode::kIo, "cannot write '" + out.lutps[li] + "'");
  };
  if (!programs.enabled()) {
    for (size_t li = 0; li < n; ++li) {
      std::vector<uint8_t> bytes;
      try {
        // No CompileReport: its HIF error comes from the cache, its size from our serialization.
        bytes = serialize_lutp(compile_layer(quant.file->layers[li], arch, nullptr));
      } catch (const Error& e) {
        out.infeasible = e.what();
        return out;
      }
      write_program(li, bytes.data(), bytes.size(), nullptr, 0);
    }
    return out;
  }
  // First every layer nobody else is compiling (so workers on points of one
  // code key split its layers), then wait for the others. Past a layer that
  // cannot be lowered nothing matters: the first such layer in file order
  // is the point's answer, as with one compile_layer per layer.
  std::vector<ProgramCache::EntryPtr> got(n);
  size_t first_bad = n;
  for (size_t li = 0; li < n && li <= first_bad; ++li) {
    got[li] = programs.get(quant.key, li, quant.file->layers[li], arch, /*wait=*/false);
    if (got[li] && !got[li]->bytes) first_bad = li;
  }
  for (size_t li = 0; li < n && li <= first_bad; ++li) {
    if (!got[li]) got[li] = programs.get(quant.key, li, quant.file->layers[li], arch, /*wait=*/true);
    if (!got[li]->bytes) first_bad = li;
  }
  for (size_t li = 0; li < n; ++li) {
    if (!got[li]->bytes) {
      out.infeasible = got[li]->error;
      return out;
    }
    const std::vector<uint8_t>& bytes = *got[li]->bytes;
    LutpRetarget r;
    try {
      r = retarget_lutp_head(bytes.data(), bytes.size(), arch, "program cache");
    } catch (const Error& e) {
      if (e.code() != ExitCode::kBadInput) throw;
      out.infeasible = e.what();  // the accumulator check compile_layer makes, same words
      return out;
    }
    write_program(li, r.head.data(), r.head.size(), bytes.data() + r.tail, bytes.size() - r.tail);
  }
  return out;
}

// Each layer's engine stats as a "layers" entry, and the decode step's totals
// per token (times `blocks`, over `batch`) into `row`.
json summarize_step(const Sweep& s, const ArchConfig& arch, const QuantEntry& quant, uint64_t elements,
                    const std::vector<EngineStats>& stats, const std::vector<CompileReport>& reps, json& row) {
  json layers = json::array();
  uint64_t cycles = 0, dram_bytes = 0, program_bytes = 0;
  double seconds = 0, energy = 0, hif_min = std::numeric_limits<double>::infinity();
  std::map<std::string, double> parts;
  std::map<std::string, uint64_t> busy;
  std::string engine_name;
  for (size_t li = 0; li < stats.size(); ++li) {
    const QuantizedLayer& layer = quant.file->layers[li];
    const EngineStats& st = stats[li];
    const CompileReport& rep = reps[li];
    engine_name = st.engine;
    cycles += st.cycles;
    seconds += st.seconds;
    energy += st.energy.total_pj;
    dram_bytes += st.actions.dram_bytes;
    program_bytes += rep.program_bytes;
    for (const auto& [k, v] : st.energy.pj) parts[k] += v;
    for (const auto& [u, t] : st.units) busy[u] += t.busy_cycles;
    const bool exact = rep.hif.lossless() || !std::isfinite(rep.hif.sqnr_db);
    if (!exact) hif_min = std::min(hif_min, rep.hif.sqnr_db);
    layers.push_back({{"name", layer.name},
                      {"rows", layer.rows},
                      {"cols", layer.cols},
                      {"cycles", st.cycles},
                      {"seconds", st.seconds},
                      {"energy_pj", st.energy.total_pj},
                      {"bottleneck", st.bottleneck},
                      {"hif_sqnr_db", exact ? json() : json(rep.hif.sqnr_db)},
                      {"program_bytes", rep.program_bytes}});
  }
  const double b = s.blocks;
  row["status"] = "ok";
  row["detail"] = "";
  row["engine"] = engine_name;
  row["hif_sqnr_db_min"] = std::isfinite(hif_min) ? json(hif_min) : json();
  // Quantization NMSE plus the worst layer's HIF NMSE: a conservative bound
  // on the error the hardware adds to the weights.
  const double nmse = nmse_of_db(row["sqnr_db"]) + nmse_of_db(row["hif_sqnr_db_min"]);
  row["quality_db"] = nmse > 0 ? json(-10 * std::log10(nmse)) : json();
  row["cycles_per_token"] = double(cycles) * b / s.batch;
  row["seconds_per_token"] = seconds * b / s.batch;
  row["tokens_per_s"] = s.batch / (seconds * b);
  row["energy_pj_per_token"] = energy * b / s.batch;
  row["pj_per_weight"] = energy / double(elements) / s.batch;
  for (const char* part : kEnergyParts) row[energy_column(part)] = parts[part] * b / s.batch;
  row["dram_bw_fraction"] = dram_bw_fraction(arch, double(dram_bytes), seconds);
  row["bottleneck"] = bottleneck_of([&](const char* u) { return busy[u]; });
  row["program_bytes"] = program_bytes;
  return layers;
}

}  // namespace

json run_point(const Sweep& s, size_t index, const QuantEntry& quant, const EngineOptions& engine,
               ActivationStore& acts, HifErrorCache& hif_errors, ProgramCache& programs, const std::string& work_dir) {
  const std::string key = point_key(s, index, quant.key, engine.mode());
  json row = base_row(s, index, key, engine.mode());
  if (!quant.ok) {
    row["status"] = "quant_error";
    row["detail"] = quant.error;
    return json{{"row", row}, {"layers", json::array()}};
  }
  const json& total = quant.report.at("total");
  const ArchConfig& arch = s.arch_of(index).arch;
  uint64_t elements = 0;
  for (const auto& l : quant.file->layers) elements += uint64_t(l.rows) * l.cols;
  row["layers"] = quant.file->layers.size() * s.blocks;
  row["params"] = elements * s.blocks;
  row["bpw"] = total.at("bpw");
  row["sqnr_db"] = total.value("sqnr_db", json());
  row["cos_min"] = total.value("cos_min", json());

  const fs::path dir = fs::path(work_dir) / key;
  fs::remove_all(dir);
  fs::create_directories(dir);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const PointPrograms progs = lower_point(quant, arch, hif_errors, programs, dir);
  if (!progs.infeasible.empty()) {
    fs::remove_all(dir);
    row["status"] = "infeasible";
    row["detail"] = progs.infeasible;
    return json{{"row", row}, {"layers", json::array()}};
  }
  const auto t1 = clock::now();
  const std::vector<EngineStats> stats = engine.per_layer ? run_per_layer(s, quant, engine, acts, progs.lutps, dir)
                                                          : run_whole_step(s, quant, engine, progs.lutps, dir);
  const double compile_s = std::chrono::duration<double>(t1 - t0).count();
  const double engine_s = std::chrono::duration<double>(clock::now() - t1).count();
  const json layers = summarize_step(s, arch, quant, elements, stats, progs.reps, row);
  fs::remove_all(dir);
  // Wall times stay out of the row: results must not depend on the machine.
  return json{{"row", row}, {"layers", layers}, {"timing", {{"compile_s", compile_s}, {"engine_s", engine_s}}}};
}

}  // namespace lutc::explore
