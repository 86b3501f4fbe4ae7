// lutc compile: .xfp -> .lutp per layer (docs/lutp-format.md "Files").
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/listing.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/compiler/program_folder.h"
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

// The model an .xfp holds: the "source" its quantize recorded, else its file name.
std::string model_of(const XfpReader& r, const std::string& path) {
  const auto it = r.metadata().find("source");
  return it != r.metadata().end() && !it->second.empty() ? it->second : std::filesystem::path(path).stem().string();
}

// Whether an existing -o folder may be replaced without --force: yes when it
// is absent, empty, or exactly an earlier compile of the same model (its
// programs.json lists every file in it). Programs of another model, or
// programs without a manifest, are refused (exit 3): replacing them loses
// work, keeping them beside ours would make `lutc sim DIR` sum two models.
// Any other content is left to AtomicFolder, which refuses a non-empty folder.
bool may_replace_folder(const std::string& dir, const std::string& model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || fs::is_empty(dir, ec)) return false;
  ProgramManifest m;
  const std::string hint = ": --force replaces the folder, or compile into a new one";
  if (!read_program_manifest(dir, &m)) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".lutp")
        throw Error(ExitCode::kBadInput, "-o '" + dir + "' holds programs ('" + e.path().filename().string() +
                                             "', ...) that no " + kProgramManifestName +
                                             " describes, perhaps of another model" + hint);
    return false;
  }
  if (m.model != model)
    throw Error(ExitCode::kBadInput, "-o '" + dir + "' holds the programs of model '" + m.model + "' (compiled from '" +
                                         m.xfp + "', " + kProgramManifestName + "); this .xfp is model '" + model +
                                         "'" + hint);
  std::set<std::string> ours(m.files.begin(), m.files.end());
  ours.insert(m.listings.begin(), m.listings.end());
  ours.insert(kProgramManifestName);
  for (const auto& e : fs::directory_iterator(dir))
    if (!ours.count(e.path().filename().string()))
      throw Error(ExitCode::kBadInput, "-o '" + dir + "' holds '" + e.path().filename().string() + "', which its " +
                                           kProgramManifestName + " does not list" + hint);
  return true;
}

struct CompileArgs {
  std::string in, arch_path, out, only;
  bool listing = false, json = false, force = false;
};

// The layer records to compile, in file order; `skipped` counts the kept
// tensors and aliases passed over (when compiling every layer).
std::vector<size_t> selected_layers(const XfpReader& r, const CompileArgs& a, size_t* skipped) {
  std::vector<size_t> layers;
  for (size_t i = 0; i < r.records().size(); ++i) {
    const XfpRecordInfo& e = r.records()[i];
    if (e.kind != XfpRecordKind::kLayer) {
      *skipped += a.only.empty();
      continue;
    }
    if (a.only.empty() || e.name == a.only) layers.push_back(i);
  }
  if (layers.empty())
    throw Error(ExitCode::kUsage,
                a.only.empty() ? "'" + a.in + "' has no layers" : "'" + a.in + "' has no layer named '" + a.only + "'");
  return layers;
}

// Checks every output before the first layer is compiled. Several layers go
// to a folder written beside -o and renamed onto it (returned, with its
// manifest started); one layer to the file -o (nullptr).
std::unique_ptr<AtomicFolder> prepare_outputs(const CompileArgs& a, const XfpReader& r,
                                              const std::vector<size_t>& layers, const ArchConfig& arch,
                                              ProgramManifest* manifest) {
  const std::vector<std::string> inputs{a.in, a.arch_path};
  if (layers.size() == 1) {
    check_output_file(a.out, "-o", inputs);
    if (a.listing) check_output_file(a.out + ".lst", "--listing", inputs);
    return nullptr;
  }
  check_output_folder(a.out, "-o", inputs);
  manifest->model = model_of(r, a.in);
  manifest->xfp = a.in;
  manifest->arch = arch.name;
  std::map<std::string, std::string> file_layer;
  for (size_t i : layers) {
    const std::string& name = r.records()[i].name;
    const auto [at, fresh] = file_layer.emplace(file_stem(name) + ".lutp", name);
    if (!fresh)
      fail_input(a.in, name, -1,
                 "layers '" + at->second + "' and '" + name + "' would both be written to '" + at->first +
                     "' (their names differ only in characters a file name cannot "
                     "hold); compile them one at a time with --layer");
  }
  const bool replace = a.force || may_replace_folder(a.out, manifest->model);
  if (auto parent = std::filesystem::path(a.out).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent);
  return std::make_unique<AtomicFolder>(a.out, replace);
}

// Compiles record i, writes its program (and listing), prints its table row
// and returns its --json row; the files it will leave are added to `files`.
nlohmann::json compile_one(const XfpReader& r, size_t i, const ArchConfig& arch, const CompileArgs& a,
                           AtomicFolder* folder, ProgramManifest* manifest, nlohmann::json* files) {
  const auto t0 = std::chrono::steady_clock::now();
  const QuantizedLayer l = r.read_layer(i);
  CompileReport rep;
  const Program p = compile_layer(l, arch, &rep);
  const std::string file = file_stem(l.name) + ".lutp";
  const std::string path = folder ? folder->file(file) : a.out;  // written here, renamed at the end
  const std::string final_path = folder ? (std::filesystem::path(a.out) / file).string() : a.out;
  write_lutp(path, p);
  if (folder) {
    manifest->layers.push_back(l.name);
    manifest->files.push_back(file);
    if (a.listing) manifest->listings.push_back(file + ".lst");
  }
  files->push_back(final_path);
  if (a.listing) {
    files->push_back(final_path + ".lst");
    const std::string text = program_listing(p);
    AtomicFile lf(path + ".lst");
    lf.write(text.data(), text.size());
    lf.commit();
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  char tiles[64], sq[32];
  std::snprintf(tiles, sizeof tiles, "%ux%u of %ux%u", rep.plan.row_tiles, rep.plan.col_tiles, rep.plan.tile_rows,
                rep.plan.tile_cols);
  if (rep.hif.lossless())
    std::snprintf(sq, sizeof sq, "lossless");
  else
    std::snprintf(sq, sizeof sq, "%.2f dB", rep.hif.sqnr_db);
  std::printf("%-32s %-10s %12s %10llu %12.3g %10s %9.1f\n", l.name.c_str(), scheme_name(l.scheme), tiles,
              (unsigned long long)rep.program_bytes, rep.hif.max_abs_error, sq, ms);
  return {{"name", l.name},
          {"scheme", scheme_name(l.scheme)},
          {"file", final_path},
          {"row_tiles", rep.plan.row_tiles},
          {"col_tiles", rep.plan.col_tiles},
          {"tile_rows", rep.plan.tile_rows},
          {"tile_cols", rep.plan.tile_cols},
          {"program_bytes", rep.program_bytes},
          {"hif_max_abs_error", rep.hif.max_abs_error},
          {"hif_lossless", rep.hif.lossless()},
          {"hif_sqnr_db", rep.hif.lossless() || !std::isfinite(rep.hif.sqnr_db) ? nlohmann::json(nullptr)
                                                                                : nlohmann::json(rep.hif.sqnr_db)},
          {"ms", ms}};
}

int run_compile(int argc, char** argv) {
  CompileArgs a;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&a.in)->required(), ".xfp file")(
      "arch", po::value(&a.arch_path),
      "arch config .ini (default: the built-in default arch, examples/arch/default.ini)")(
      "output,o", po::value(&a.out)->required(),
      "output .lutp (one layer) or directory (several layers: one NAME.lutp per layer)")(
      "layer", po::value(&a.only), "compile only this layer; -o is then a file")(
      "listing", po::bool_switch(&a.listing), "also write the readable listing next to each program (.lst)")(
      "json", po::bool_switch(&a.json), JsonStdout::kHelp)(
      "force", po::bool_switch(&a.force),
      "replace an -o folder that holds other programs (another model's) or other files");
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
                          "A single layer (or --layer) writes -o as a file; several write -o/NAME.lutp\n"
                          "and -o/programs.json (the model, the layers in .xfp order, the arch's name, which\n"
                          "lutc sim reads), all at once: the folder is written beside -o and renamed onto\n"
                          "it. An -o folder holding an earlier compile of the same model is replaced;\n"
                          "another model's programs need --force.\n"
                          "Layers are read, compiled and written one at a time; kept tensors and aliases\n"
                          "are skipped.\n"
                          "--json prints the table's rows as {\"arch\", \"layers\": [...], \"skipped\",\n"
                          "\"files_written\"} on stdout (docs/reports.md).",
                          opts, pos, vm))
    return 0;
  JsonStdout json_out(a.json);
  const ArchConfig arch = a.arch_path.empty() ? default_arch() : load_arch(a.arch_path);
  // Streams: the index says which layers there are; each is then read,
  // compiled, written and dropped before the next, so memory holds one layer.
  const XfpReader r(a.in);
  size_t skipped = 0;
  const std::vector<size_t> layers = selected_layers(r, a, &skipped);
  ProgramManifest manifest;
  const std::unique_ptr<AtomicFolder> folder = prepare_outputs(a, r, layers, arch, &manifest);
  std::printf("%-32s %-10s %12s %10s %12s %10s %9s\n", "layer", "scheme", "tiles", "bytes", "hif_max_err", "hif_sqnr",
              "ms");
  nlohmann::json layers_json = nlohmann::json::array(), files = nlohmann::json::array();
  for (size_t i : layers) layers_json.push_back(compile_one(r, i, arch, a, folder.get(), &manifest, &files));
  if (folder) {
    write_program_manifest(folder->file(kProgramManifestName), manifest);
    folder->commit();
    files.push_back((std::filesystem::path(a.out) / kProgramManifestName).string());
  }
  if (skipped)
    std::printf("skipped %zu kept tensors and aliases (stored in source precision, not LUT-decoded)\n", skipped);
  json_out.emit(
      {{"input", a.in}, {"arch", arch.name}, {"layers", layers_json}, {"skipped", skipped}, {"files_written", files}});
  return 0;
}

const RegisterCommand kRegister({"compile", "lower an .xfp into LUT-SRAM programs (.lutp) for an arch", run_compile});

}  // namespace
}  // namespace lutc::cli
