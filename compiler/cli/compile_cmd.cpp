// lutc compile: .xfp -> .lutp per layer (docs/lutp-format.md "Files").
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli_util.h"
#include "command.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/compile_manifest.h"
#include "lutc/compiler/listing.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

// A layer name as a file name: path separators and odd characters become '_'.
std::string file_stem(const std::string& layer) {
  std::string s;
  for (char c : layer) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  if (s.empty() || s[0] == '.') s = "_" + s;
  return s;
}

int run_compile(int argc, char** argv) {
  std::string in, arch_path, out, only;
  bool listing = false, json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")(
      "arch", po::value(&arch_path), "arch config .ini (default: the built-in default arch, examples/arch/default.ini)")(
      "output,o", po::value(&out)->required(),
      "output .lutp (one layer) or directory (several layers: one NAME.lutp per layer)")(
      "layer", po::value(&only), "compile only this layer; -o is then a file")(
      "listing", po::bool_switch(&listing), "also write the readable listing next to each program (.lst)")(
      "json", po::bool_switch(&json), JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc compile X.xfp --arch A.ini -o X.lutp [--layer NAME] [--listing] [--json]\n\n"
                          "Lowers each quantized layer into a LUT-SRAM program for the arch: HIF words for\n"
                          "every codebook entry (hif.mant_bits/hif.shift_bits of A), tiles that fit its\n"
                          "SRAMs with double buffering, DRAM segments and the instruction stream. Prints\n"
                          "per layer the tiling, the program size and the error HIF adds (max |dW| and\n"
                          "the SQNR of W_hif against the golden decode; 'lossless' when none).\n"
                          "A single layer (or --layer) writes -o as a file; several write -o/NAME.lutp and\n"
                          "-o/compile.json (the layers in .xfp order and the arch's name, which lutc sim reads).\n"
                          "Layers are read, compiled and written one at a time; kept tensors and aliases\n"
                          "are skipped.\n"
                          "--json prints the table's rows as {\"arch\", \"layers\": [...], \"skipped\",\n"
                          "\"files_written\"} on stdout (docs/reports.md).",
                          opts, pos, vm))
    return 0;
  JsonStdout json_out(json);
  nlohmann::json layers_json = nlohmann::json::array(), files = nlohmann::json::array();
  const ArchConfig arch = arch_path.empty() ? default_arch() : load_arch(arch_path);
  // Streams: the index says which layers there are; each is then read,
  // compiled, written and dropped before the next, so memory holds one layer.
  const XfpReader r(in);
  std::vector<size_t> layers;
  size_t skipped = 0;
  for (size_t i = 0; i < r.records().size(); ++i) {
    const XfpRecordInfo& e = r.records()[i];
    if (e.kind != XfpRecordKind::kLayer) {
      skipped += only.empty();
      continue;
    }
    if (only.empty() || e.name == only) layers.push_back(i);
  }
  if (layers.empty())
    throw Error(ExitCode::kUsage, only.empty() ? "'" + in + "' has no layers"
                                                : "'" + in + "' has no layer named '" + only + "'");
  const bool to_dir = layers.size() > 1;
  if (to_dir) std::filesystem::create_directories(out);
  // The manifest beside the programs: the .xfp's layer order and the arch's
  // name, which the programs themselves do not carry (the embedded arch is its
  // canonical keys only); `lutc sim DIR` runs the layers in this order.
  nlohmann::json manifest = {{"source", in}, {"arch", arch.name}, {"arch_file", arch_path},
                             {"layers", nlohmann::json::array()}};
  std::printf("%-32s %-10s %12s %10s %12s %10s %9s\n", "layer", "scheme", "tiles", "bytes", "hif_max_err",
              "hif_sqnr", "ms");
  for (size_t i : layers) {
    const auto t0 = std::chrono::steady_clock::now();
    const QuantizedLayer layer = r.read_layer(i);
    const QuantizedLayer* l = &layer;
    CompileReport rep;
    const Program p = compile_layer(*l, arch, &rep);
    const std::string path = to_dir ? (std::filesystem::path(out) / (file_stem(l->name) + ".lutp")).string() : out;
    write_lutp(path, p);
    manifest["layers"].push_back({{"name", l->name}, {"file", std::filesystem::path(path).filename().string()}});
    files.push_back(path);
    if (listing) {
      files.push_back(path + ".lst");
      const std::string text = program_listing(p);
      AtomicFile lf(path + ".lst");
      lf.write(text.data(), text.size());
      lf.commit();
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    char tiles[64], sq[32];
    std::snprintf(tiles, sizeof tiles, "%ux%u of %ux%u", rep.plan.row_tiles, rep.plan.col_tiles,
                  rep.plan.tile_rows, rep.plan.tile_cols);
    if (rep.hif.lossless()) std::snprintf(sq, sizeof sq, "lossless");
    else std::snprintf(sq, sizeof sq, "%.2f dB", rep.hif.sqnr_db);
    std::printf("%-32s %-10s %12s %10llu %12.3g %10s %9.1f\n", l->name.c_str(), scheme_name(l->scheme), tiles,
                (unsigned long long)rep.program_bytes, rep.hif.max_abs_error, sq, ms);
    layers_json.push_back({{"name", l->name}, {"scheme", scheme_name(l->scheme)}, {"file", path},
                           {"row_tiles", rep.plan.row_tiles}, {"col_tiles", rep.plan.col_tiles},
                           {"tile_rows", rep.plan.tile_rows}, {"tile_cols", rep.plan.tile_cols},
                           {"program_bytes", rep.program_bytes}, {"hif_max_abs_error", rep.hif.max_abs_error},
                           {"hif_lossless", rep.hif.lossless()},
                           {"hif_sqnr_db", rep.hif.lossless() || !std::isfinite(rep.hif.sqnr_db)
                                               ? nlohmann::json(nullptr) : nlohmann::json(rep.hif.sqnr_db)},
                           {"ms", ms}});
  }
  if (to_dir) {
    const std::string manifest_path = (std::filesystem::path(out) / kCompileManifest).string();
    write_json_file(manifest_path, manifest);
    files.push_back(manifest_path);
  }
  if (skipped)
    std::printf("skipped %zu kept tensors and aliases (stored in source precision, not LUT-decoded)\n", skipped);
  json_out.emit({{"input", in}, {"arch", arch.name}, {"layers", layers_json}, {"skipped", skipped},
                 {"files_written", files}});
  return 0;
}

const RegisterCommand kRegister({"compile", "lower an .xfp into LUT-SRAM programs (.lutp) for an arch", run_compile});

}  // namespace
}  // namespace lutc::cli
