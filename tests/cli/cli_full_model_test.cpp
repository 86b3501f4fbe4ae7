// lutc quantize on whole models: the same .xfp bytes whether the model comes as
// a sharded Hugging Face folder or one file, and for any thread count; every
// tensor's fate in the report, including a stacked 3-D expert tensor, an F64
// matrix and an int8 tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "hf_folder_builder.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

std::vector<uint8_t> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

TEST(CliFullModel, FolderAndSingleFileGiveTheSameXfpBytesForAnyThreadCount) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  auto src = WeightFile::open(bin);
  const LlamaConfig cfg = llama_config_from(*src);
  // Both named stories260K: the .xfp records the model's name, not the path.
  std::filesystem::create_directories(temp_dir() + "/a/stories260K");
  const HfFolder folder = write_hf_folder(temp_dir() + "/a/stories260K", *src, cfg, 2);
  auto hf = WeightFile::open(folder.dir);
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  data.reserve(hf->tensors().size());
  for (const TensorInfo& t : hf->tensors()) {
    data.push_back(hf->read_all(t));
    tensors.push_back({t.name, t.shape, data.back().data()});
  }
  const std::string single = temp_dir() + "/b/stories260K.safetensors";
  std::filesystem::create_directories(temp_dir() + "/b");
  write_safetensors(single, tensors);

  std::mt19937_64 rng(fresh_seed());
  const std::vector<std::string> schemes[] = {
      {"--scheme", "xfp"}, {"--scheme", "int4.g128"}, {"--scheme", "sop", "--budget-bpw", "5"}};
  const auto& scheme = schemes[rng() % 3];
  auto quantize = [&](const std::string& in, const std::string& out, const char* threads) {
    std::vector<std::string> a = {"quantize", in, "-o", out, "-q", "--threads", threads};
    a.insert(a.end(), scheme.begin(), scheme.end());
    const RunResult r = run_lutc(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  const std::string x1 = temp_dir() + "/folder-1.xfp", x2 = temp_dir() + "/folder-2.xfp",
                    x3 = temp_dir() + "/single-2.xfp", x4 = temp_dir() + "/index-3.xfp";
  quantize(folder.dir, x1, "1");
  quantize(folder.dir, x2, "2");
  quantize(single, x3, "2");
  quantize(folder.index, x4, "3");
  SCOPED_TRACE(scheme[1]);
  const auto b1 = bytes_of(x1);
  ASSERT_GT(b1.size(), 1000u);
  EXPECT_TRUE(b1 == bytes_of(x2)) << "1 and 2 threads differ";
  EXPECT_TRUE(b1 == bytes_of(x3)) << "folder and single file differ";
  EXPECT_TRUE(b1 == bytes_of(x4)) << "folder and its index differ";

  // The whole model is in the file: every matrix but the embedding as a layer,
  // the embedding table and every norm kept.
  const XfpFile f = read_xfp(x1);
  size_t vectors = 0, matrices = 0;
  for (const TensorInfo& t : hf->tensors()) (t.shape.size() == 1 ? vectors : matrices)++;
  EXPECT_EQ(f.layers.size(), matrices - 1);
  EXPECT_EQ(f.kept.size(), vectors + 1);
  EXPECT_EQ(f.metadata.at("source"), "stories260K");
}

void add_f64(std::vector<uint8_t>& out, double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  for (int i = 0; i < 8; ++i) out.push_back(uint8_t(b >> (8 * i)));
}

TEST(CliFullModel, StackedExpertsF64AndInt8TensorsAppearWithTheirFates) {
  std::mt19937_64 rng(fresh_seed());
  std::normal_distribution<float> g(0, 0.02f);
  const uint64_t e = 2 + rng() % 3, n = 16 + rng() % 16, k = 32;
  // A safetensors file written by hand: F32 experts [e, n, k], an F64 matrix,
  // an I8 matrix, a norm vector and a tied lm_head.
  struct T {
    std::string name, dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<T> ts;
  auto f32 = [&](const std::string& name, std::vector<uint64_t> shape, std::vector<uint8_t>* same = nullptr) {
    T t{name, "F32", shape, {}};
    uint64_t count = 1;
    for (auto d : shape) count *= d;
    for (uint64_t i = 0; i < count; ++i) {
      const float v = g(rng);
      uint32_t b;
      std::memcpy(&b, &v, 4);
      for (int j = 0; j < 4; ++j) t.bytes.push_back(uint8_t(b >> (8 * j)));
    }
    if (same) t.bytes = *same;
    ts.push_back(t);
  };
  f32("model.embed_tokens.weight", {n, k});
  f32("lm_head.weight", {n, k}, &ts[0].bytes);
  f32("model.layers.0.mlp.experts.down_proj", {e, n, k});
  T f64{"model.layers.0.self_attn.o_proj.weight", "F64", {n, k}, {}};
  for (uint64_t i = 0; i < n * k; ++i) add_f64(f64.bytes, g(rng));
  ts.push_back(f64);
  T i8{"model.layers.0.self_attn.q_proj.qweight", "I8", {n, k}, {}};
  for (uint64_t i = 0; i < n * k; ++i) i8.bytes.push_back(uint8_t(rng()));
  ts.push_back(i8);
  f32("model.norm.weight", {k});
  nlohmann::ordered_json header;
  std::vector<uint8_t> data;
  for (const T& t : ts) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  const std::string text = header.dump();
  std::vector<uint8_t> file;
  for (int i = 0; i < 8; ++i) file.push_back(uint8_t(uint64_t(text.size()) >> (8 * i)));
  file.insert(file.end(), text.begin(), text.end());
  file.insert(file.end(), data.begin(), data.end());
  const std::string in = temp_dir() + "/moe.safetensors", out = temp_dir() + "/moe.xfp", rep = temp_dir() + "/r.json";
  std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(file.data()), std::streamsize(file.size()));

  const RunResult r = run_lutc({"quantize", in, "--scheme", "int4.g128", "-o", out, "--report", rep, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = read_json(rep);
  ASSERT_TRUE(report["tensors"].is_array()) << report.dump().substr(0, 2000);
  std::map<std::string, nlohmann::json> fate;
  for (const auto& t : report["tensors"]) fate[t["name"].get<std::string>()] = t;
  for (uint64_t x = 0; x < e; ++x) {
    const auto& s = fate["model.layers.0.mlp.experts.down_proj." + std::to_string(x)];
    EXPECT_EQ(s["fate"], "quantized");
    EXPECT_EQ(s["expert"], x);
    EXPECT_EQ(s["source"], "model.layers.0.mlp.experts.down_proj");
  }
  EXPECT_EQ(fate["model.layers.0.self_attn.o_proj.weight"]["fate"], "quantized");
  EXPECT_EQ(fate["model.layers.0.self_attn.o_proj.weight"]["dtype"], "F64");
  EXPECT_EQ(fate["model.layers.0.self_attn.q_proj.qweight"]["fate"], "refused");
  EXPECT_NE(fate["model.layers.0.self_attn.q_proj.qweight"]["reason"].get<std::string>().find("I8"), std::string::npos);
  EXPECT_EQ(fate["lm_head.weight"]["fate"], "alias");
  EXPECT_EQ(fate["lm_head.weight"]["alias_of"], "model.embed_tokens.weight");
  EXPECT_EQ(fate["model.embed_tokens.weight"]["fate"], "kept");
  EXPECT_EQ(fate["model.norm.weight"]["fate"], "kept");
  // The table names them too.
  EXPECT_NE(r.out.find("model.layers.0.self_attn.q_proj.qweight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refused"), std::string::npos);

  // Experts slices get the routed-expert role; the routed experts are in the file.
  const XfpFile x = read_xfp(out);
  size_t experts = 0;
  for (const auto& l : x.layers) experts += l.role == Role::kRoutedExpert;
  EXPECT_EQ(experts, e);
  ASSERT_EQ(x.aliases.size(), 1u);
  EXPECT_EQ(x.aliases[0].target, "model.embed_tokens.weight");
}

}  // namespace
}  // namespace lutc::testing
