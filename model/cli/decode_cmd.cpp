// lutc decode: the golden decode of every layer, as fp32 safetensors under the
// original tensor names, so any tool can evaluate the quantized weights. Kept
// tensors are copied in their stored dtype and aliases written as copies of
// their target, so a whole-model .xfp decodes to a whole model. Streams: one
// record is read, decoded and written at a time.
#include <cstdio>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/golden.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

// Writes record i (a layer or a kept tensor) as the next tensor.
void write_record(const XfpReader& r, size_t i, SafetensorsStreamWriter& w) {
  if (r.records()[i].kind == XfpRecordKind::kLayer) {
    const QuantizedLayer l = r.read_layer(i);
    std::vector<float> data(size_t(l.elements()));
    golden_decode(l, data.data());
    w.write_next(data.data(), data.size() * sizeof(float));
  } else {
    const KeptTensor t = r.read_kept(i);
    w.write_next(t.bytes.data(), t.bytes.size());
  }
}

int run_decode(int argc, char** argv) {
  std::string in, out;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")("output,o", po::value(&out)->required(),
                                                                       "output .safetensors (written atomically)")(
      "json", po::bool_switch(&json), JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(
          argc, argv,
          "usage: lutc decode X.xfp -o Y.safetensors [--json]\n\nWrites the golden decode (docs/numerics.md) "
          "of every layer as fp32, kept tensors in their stored dtype and each alias as a copy of "
          "its target, one record at a time.\n--json prints {input, tensors: [{name, dtype, shape, "
          "from}], files_written} on stdout (docs/reports.md).",
          opts, pos, vm))
    return 0;
  check_output_file(out, "-o", {in});
  JsonStdout json_out(json);
  const XfpReader r(in);
  const auto& recs = r.records();
  // The record each output tensor comes from: itself, or an alias's target.
  std::vector<size_t> source(recs.size());
  std::vector<SafetensorsStreamWriter::Entry> entries;
  for (size_t i = 0; i < recs.size(); ++i) {
    source[i] = recs[i].kind == XfpRecordKind::kAlias ? r.find(recs[i].target) : i;
    const XfpRecordInfo& s = recs[source[i]];
    entries.push_back({recs[i].name, s.kind == XfpRecordKind::kLayer ? DType::kF32 : s.dtype, s.shape});
  }
  SafetensorsStreamWriter w(out, entries, {{"decoded_from", in}});
  for (size_t i = 0; i < recs.size(); ++i) write_record(r, source[i], w);
  w.commit();
  std::printf("wrote %zu tensors to %s\n", entries.size(), out.c_str());
  nlohmann::json tensors = nlohmann::json::array();
  for (size_t i = 0; i < recs.size(); ++i) {
    const XfpRecordKind k = recs[i].kind;
    tensors.push_back({{"name", entries[i].name},
                       {"dtype", dtype_name(entries[i].dtype)},
                       {"shape", entries[i].shape},
                       {"from", k == XfpRecordKind::kLayer  ? "decoded"
                                : k == XfpRecordKind::kKept ? "kept"
                                                            : "alias"}});
  }
  json_out.emit({{"input", in}, {"tensors", tensors}, {"files_written", nlohmann::json::array({out})}});
  return 0;
}

const RegisterCommand kRegister({"decode", "golden-decode an .xfp to fp32 safetensors", run_decode});

}  // namespace
}  // namespace lutc::cli
