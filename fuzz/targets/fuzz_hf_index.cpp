// libFuzzer: a Hugging Face folder whose model.safetensors.index.json is the
// input, beside two fixed valid shards. WeightFile::open(folder) must either
// return a WeightFile that reads (weight_file_checks.h) or throw lutc::Error.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input_file.h"
#include "lutc/model/error.h"
#include "lutc/model/weights.h"
#include "weight_file_checks.h"

namespace {

// The shards the seed indexes (fuzz/corpus/hf_index/) name.
void write_shards(const std::string& dir) {
  const std::vector<float> a(4 * 3, 0.25f), b(5, -1.5f), c(2 * 2, 3.0f);
  lutc::write_safetensors(dir + "/model-00001-of-00002.safetensors",
                          {{"model.embed_tokens.weight", {4, 3}, a.data()}, {"model.norm.weight", {5}, b.data()}});
  lutc::write_safetensors(dir + "/model-00002-of-00002.safetensors", {{"lm_head.weight", {2, 2}, c.data()}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = lutc_fuzz::process_dir("hf_index");
    write_shards(d);
    return d;
  }();
  if (!lutc_fuzz::write_input(dir + "/model.safetensors.index.json", data, size)) return 0;
  try {
    lutc_fuzz::exercise(*lutc::WeightFile::open(dir));
  } catch (const lutc::Error&) {
  }
  return 0;
}
