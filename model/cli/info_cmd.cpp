// lutc info: what an .xfp holds, with sizes and effective bpw, from its header
// and index only (XfpReader), so it lists a file of any size at once; or, for
// a weight file (safetensors, GGUF, llama2.c), its tensors and metadata.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

// An .xfp by name or by magic; a file that cannot be read also goes to
// read_xfp, which names the problem.
bool looks_like_xfp(const std::string& path) {
  const std::string ext = ".xfp";
  if (path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) return true;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return false;  // a Hugging Face model folder
  char magic[8] = {};
  std::ifstream f(path, std::ios::binary);
  return !f.read(magic, 8) || std::memcmp(magic, "LUTCXFP", 8) == 0;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s;
  for (uint64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

int weight_file_info(const std::string& in, bool json) {
  const auto w = WeightFile::open(in);
  if (json) {
    nlohmann::json j = {{"file", in}, {"format", w->format()}, {"metadata", w->metadata()}};
    j["tensors"] = nlohmann::json::array();
    for (const TensorInfo& t : w->tensors()) {
      j["tensors"].push_back({{"name", t.name},
                              {"type", t.type_name()},
                              {"shape", t.shape},
                              {"offset", t.offset},
                              {"bytes", t.nbytes},
                              {"readable", dtype_is_weight(t.dtype)}});
    }
    std::cout << json_text(j);
    return 0;
  }
  std::printf("%s: %s, %zu tensors\n", in.c_str(), w->format().c_str(), w->tensors().size());
  for (const auto& [k, v] : w->metadata()) {
    // Chat templates and the like run to kilobytes; the head is enough here.
    const std::string shown = v.size() <= 80 ? v : v.substr(0, 80) + "... (" + std::to_string(v.size()) + " chars)";
    std::printf("  %s = %s\n", k.c_str(), shown.c_str());
  }
  std::printf("%-48s %-8s %-20s %12s\n", "tensor", "type", "shape", "bytes");
  for (const TensorInfo& t : w->tensors()) {
    std::printf("%-48s %-8s %-20s %12llu%s\n", t.name.c_str(), t.type_name(), shape_text(t.shape).c_str(),
                static_cast<unsigned long long>(t.nbytes), dtype_is_weight(t.dtype) ? "" : "  (not read)");
  }
  return 0;
}

// An .xfp's records from its index: report rows for the layers, the kept
// tensors and the aliases, in file order.
struct XfpListing {
  std::vector<LayerReport> rows;
  std::vector<const XfpRecordInfo*> kept, aliases;
};

XfpListing list_records(const XfpReader& r, bool no_verify) {
  XfpListing l;
  for (const auto& e : r.records()) {
    if (e.kind == XfpRecordKind::kLayer) l.rows.push_back(describe_record(e));
    if (e.kind == XfpRecordKind::kKept) l.kept.push_back(&e);
    if (e.kind == XfpRecordKind::kAlias) l.aliases.push_back(&e);
  }
  if (!no_verify) {
    // Verifying reads every record anyway: a layer's recorded floor and
    // cos_min (its params) come with it.
    size_t layer = 0;
    for (size_t i = 0; i < r.records().size(); ++i) {
      switch (r.records()[i].kind) {
        case XfpRecordKind::kLayer: add_recorded_facts(l.rows[layer++], r.read_layer(i)); break;
        case XfpRecordKind::kKept: r.read_kept(i); break;
        case XfpRecordKind::kAlias: r.read_alias(i); break;
      }
    }
  }
  return l;
}

nlohmann::json listing_json(const std::string& in, const XfpReader& r, const XfpListing& l, const ReportTotals& t) {
  nlohmann::json j = report_json(l.rows, t);
  j["file"] = in;
  j["version"] = r.version();
  j["metadata"] = r.metadata();
  j["kept"] = nlohmann::json::array();
  for (const auto* e : l.kept)
    j["kept"].push_back(
        {{"name", e->name}, {"dtype", dtype_name(e->dtype)}, {"shape", e->shape}, {"stored_bits", e->stored_bits()}});
  j["aliases"] = nlohmann::json::array();
  for (const auto* e : l.aliases) j["aliases"].push_back({{"name", e->name}, {"target", e->target}});
  return j;
}

void print_listing(const std::string& in, const XfpReader& r, const XfpListing& l, const ReportTotals& t,
                   bool no_verify) {
  std::printf("%s: %zu layers, %zu kept tensors, %zu aliases (format version %u)\n", in.c_str(), l.rows.size(),
              l.kept.size(), l.aliases.size(), unsigned(r.version()));
  for (const auto& [k, v] : r.metadata()) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  print_report_table(stdout, l.rows, t);
  if (!l.rows.empty())
    std::printf("%s\n", no_verify ? "(-: --no-verify reads no record, so nothing the quantizer recorded is shown; "
                                    "SQNR and cos need the original weights: lutc eval FILE --ref WEIGHTS)"
                                  : "(cos min and floor: as the quantizer recorded them, - where it recorded none "
                                    "(fixed-width XFP, SOP, baselines); SQNR and cos mean need the original weights: "
                                    "lutc eval FILE --ref WEIGHTS)");
  if (!l.kept.empty()) std::printf("kept tensors (source precision, not LUT-decoded):\n");
  for (const auto* e : l.kept)
    std::printf("  %-40s %-5s %-16s %llu bytes stored\n", e->name.c_str(), dtype_name(e->dtype),
                shape_text(e->shape).c_str(), (unsigned long long)e->length);
  if (!l.aliases.empty()) std::printf("aliases (stored once, under the target):\n");
  for (const auto* e : l.aliases) std::printf("  %s -> %s\n", e->name.c_str(), e->target.c_str());
}

int xfp_info(const std::string& in, bool json, bool no_verify) {
  const XfpReader r(in);
  const XfpListing l = list_records(r, no_verify);
  const ReportTotals t = total_of(l.rows, 8 * r.overhead_bytes());
  if (json)
    std::cout << json_text(listing_json(in, r, l, t));
  else
    print_listing(in, r, l, t, no_verify);
  return 0;
}

int run_info(int argc, char** argv) {
  std::string in;
  bool json = false, no_verify = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp or weight file")("json", po::bool_switch(&json),
                                                                                 "print JSON instead of a table")(
      "no-verify", po::bool_switch(&no_verify), "list from the index alone, without checking every record's CRCs");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(
          argc, argv,
          "usage: lutc info FILE [--json] [--no-verify]\n\nLists the records of an .xfp container from its "
          "index. Every record is then read once, one at a time, to check its CRCs and contents "
          "(memory holds one record; --no-verify skips this). Per layer: role, shape, scheme, "
          "bits, outliers, stored bits and effective bpw (header, index and aliases amortized), and the floor and "
          "worst-row cosine "
          "the quantizer recorded (not with --no-verify); kept tensors (dtype, shape, bytes) "
          "and aliases (name -> target) after the table.\n"
          "For a weight file (safetensors, GGUF, llama2.c, a Hugging Face folder) lists its metadata and tensors: "
          "name, type,\n"
          "shape and bytes; types lutc cannot read (quantized GGUF, integers) are marked.",
          opts, pos, vm))
    return 0;
  return looks_like_xfp(in) ? xfp_info(in, json, no_verify) : weight_file_info(in, json);
}

const RegisterCommand kRegister({"info", "list the records of an .xfp (or the tensors of a weight file)", run_info});

}  // namespace
}  // namespace lutc::cli
