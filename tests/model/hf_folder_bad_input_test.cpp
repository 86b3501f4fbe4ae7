// Hugging Face folders that are broken, or passed wrongly, are refused with a
// message naming the file and the problem: bad weight_map entries, missing or
// duplicated tensors, malformed config.json, unsupported families and rope
// scaling, and one shard passed alone.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <random>

#include "hf_folder_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;
using nlohmann::json;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

// Opening `input` (and reading its config) must fail with `code` and a
// message holding every string of `must`.
void expect_refused(const std::string& input, ExitCode code, const std::vector<std::string>& must) {
  try {
    auto w = WeightFile::open(input);
    for (const TensorInfo& t : w->tensors()) w->read_all(t);
    LlamaModel(llama_config_from(*w), load_tensors(*w));
    ADD_FAILURE() << "accepted " << input;
  } catch (const Error& e) {
    EXPECT_EQ(int(e.code()), int(code)) << e.what();
    for (const std::string& s : must)
      EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << "lacks '" << s << "': " << e.what();
  }
}

class HfFolderBad : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!require_file(bin_path())) GTEST_SKIP();
    rng_.seed(fresh_seed());
    bin_ = WeightFile::open(bin_path());
    cfg_ = llama_config_from(*bin_);
    f_ = write_hf_folder(temp_dir() + "/hf", *bin_, cfg_, 2);
    index_ = read_json(f_.index);
  }
  void write_index() { write_text(f_.index, index_.dump()); }
  // A tensor name drawn at random from the weight_map, in shard `shard` (0-based) when >= 0.
  std::string some_tensor(int shard = -1) {
    std::vector<std::string> names;
    for (auto& [n, s] : f_.weight_map)
      if (shard < 0 || f_.dir + "/" + s == f_.shards[size_t(shard)]) names.push_back(n);
    return names[rng_() % names.size()];
  }

  std::mt19937_64 rng_;
  std::unique_ptr<WeightFile> bin_;
  LlamaConfig cfg_;
  HfFolder f_;
  json index_;
};

TEST_F(HfFolderBad, MissingShard) {
  std::remove(f_.shards[1].c_str());
  expect_refused(f_.dir, ExitCode::kBadInput, {f_.index, "model-00002-of-00002.safetensors", "does not exist"});
}

TEST_F(HfFolderBad, ShardNameThatLeavesTheFolder) {
  for (const char* bad : {"../model-00001-of-00002.safetensors", "sub/x.safetensors", "..", "/etc/passwd", ""}) {
    index_["weight_map"][some_tensor()] = bad;
    write_index();
    expect_refused(f_.dir, ExitCode::kBadInput, {f_.index, "not a plain file name"});
  }
}

TEST_F(HfFolderBad, TensorMissingFromItsShard) {
  index_["weight_map"]["model.layers.0.self_attn.extra.weight"] = "model-00001-of-00002.safetensors";
  write_index();
  expect_refused(f_.dir, ExitCode::kBadInput,
                 {"model.layers.0.self_attn.extra.weight", "model-00001-of-00002", "does not hold it"});
  // Mapped to the wrong shard: names both.
  index_ = read_json(f_.index);
  index_["weight_map"].erase("model.layers.0.self_attn.extra.weight");
  const std::string t = some_tensor(0);
  index_["weight_map"][t] = "model-00002-of-00002.safetensors";
  write_index();
  expect_refused(f_.dir, ExitCode::kBadInput, {t, "model-00002-of-00002", "model-00001-of-00002"});
}

TEST_F(HfFolderBad, TensorInTwoShardsOrNotInTheMap) {
  // Rewrite shard 2 with one of shard 1's tensors added.
  const std::string dup = some_tensor(0);
  std::vector<std::string> names;
  std::vector<std::vector<float>> data;
  for (const auto& [n, s] : f_.weight_map)
    if (f_.dir + "/" + s == f_.shards[1] || n == dup) names.push_back(n), data.push_back(hf_tensor(*bin_, cfg_, n));
  std::vector<NamedMatrix> mats;
  for (size_t i = 0; i < names.size(); ++i) mats.push_back({names[i], bin_->find(names[i])->shape, data[i].data()});
  write_safetensors(f_.shards[1], mats);
  expect_refused(f_.dir, ExitCode::kBadInput, {dup, "two shards", "model-00001-of-00002", "model-00002-of-00002"});

  f_ = write_hf_folder(temp_dir() + "/hf_b", *bin_, cfg_, 2);
  index_ = read_json(f_.index);
  const std::string gone = some_tensor();
  index_["weight_map"].erase(gone);
  write_index();
  expect_refused(f_.dir, ExitCode::kBadInput, {gone, "not in the weight_map"});
}

TEST_F(HfFolderBad, MalformedOrHugeIndex) {
  for (const std::string& text :
       {std::string("{\"weight_map\": {"), std::string("[]"), std::string("{}"), std::string("{\"weight_map\": []}"),
        std::string("{\"weight_map\": {}}"), std::string("{\"weight_map\": {\"a\": 3}}")}) {
    SCOPED_TRACE(text);
    write_text(f_.index, text);
    expect_refused(f_.dir, ExitCode::kBadInput, {f_.index});
  }
  // A sparse file over the cap is refused before it is read.
  write_text(f_.index, "{}");
  ASSERT_EQ(::truncate(f_.index.c_str(), (65ll << 20) + long(rng_() % 1000)), 0);
  expect_refused(f_.dir, ExitCode::kBadInput, {f_.index, "more than"});
}

// A number too large for any type (found by fuzz/) made nlohmann throw
// out_of_range, not parse_error: it escaped WeightFile::open and
// llama_config_from_hf instead of naming the file.
TEST_F(HfFolderBad, NumberTooLargeForAnyTypeInIndexOrConfig) {
  const std::string huge = "1" + std::string(rng_() % 30, '8') + "e" + std::to_string(400 + rng_() % 2000);
  std::string text = index_.dump();
  text.insert(1, "\"total\": " + huge + ", ");
  write_text(f_.index, text);
  expect_refused(f_.dir, ExitCode::kBadInput, {f_.index, "not valid JSON", "overflow"});

  json j = llama_config_json(cfg_);
  std::string config = j.dump();
  config.insert(1, "\"rope_theta\": " + huge + ", ");
  try {
    llama_config_from_hf(config, "cfg/config.json", false);
    ADD_FAILURE() << "accepted " << config;
  } catch (const Error& e) {
    EXPECT_EQ(int(e.code()), int(ExitCode::kBadInput)) << e.what();
    EXPECT_NE(std::string(e.what()).find("cfg/config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
}

TEST_F(HfFolderBad, ShardPassedAloneNamesTheFolder) {
  expect_refused(f_.shards[0], ExitCode::kUsage,
                 {f_.shards[0], "shard 1 of 2", "pass the folder " + f_.dir, "model.safetensors.index.json"});
  expect_refused(f_.shards[1], ExitCode::kUsage, {"shard 2 of 2"});
  // Listed by an index though not named like a shard.
  const std::string renamed = f_.dir + "/part-b.safetensors";
  ASSERT_EQ(std::rename(f_.shards[1].c_str(), renamed.c_str()), 0);
  json& wm = index_["weight_map"];
  for (auto it = wm.begin(); it != wm.end(); ++it)
    if (*it == "model-00002-of-00002.safetensors") *it = "part-b.safetensors";
  write_index();
  expect_refused(renamed, ExitCode::kUsage, {"shard 2 of 2", f_.dir});
  // Named like a shard with no index beside it.
  std::remove(f_.index.c_str());
  expect_refused(f_.shards[0], ExitCode::kUsage, {"shard 1 of 2"});
}

TEST_F(HfFolderBad, FolderWithoutSafetensors) {
  const std::string dir = temp_dir() + "/pt";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  write_text(dir + "/pytorch_model.bin", "not a pickle");
  write_text(dir + "/config.json", llama_config_json(cfg_).dump());
  expect_refused(dir, ExitCode::kBadInput, {dir, "pytorch_model.bin", "convert it to safetensors"});
  const std::string empty = temp_dir() + "/empty";
  ASSERT_EQ(::mkdir(empty.c_str(), 0755), 0);
  expect_refused(empty, ExitCode::kUsage, {empty, "model.safetensors"});
}

// Each config.json key with a wrong value is refused naming the key.
TEST_F(HfFolderBad, MalformedConfigNamesTheKey) {
  const json good = llama_config_json(cfg_);
  struct Case {
    const char* key;
    json value;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"hidden_size", "64", "hidden_size"},
      {"hidden_size", 0, "hidden_size"},
      {"hidden_size", -64, "hidden_size"},
      {"hidden_size", 64.5, "hidden_size"},
      {"intermediate_size", "x", "intermediate_size"},
      {"intermediate_size", 0, "intermediate_size"},
      {"num_hidden_layers", true, "num_hidden_layers"},
      {"num_hidden_layers", 0, "num_hidden_layers"},
      {"num_attention_heads", json::array(), "num_attention_heads"},
      {"num_attention_heads", 7, "multiple"},
      {"num_key_value_heads", 3, "multiple"},
      {"num_key_value_heads", "4", "num_key_value_heads"},
      {"vocab_size", 0, "vocab_size"},
      {"vocab_size", 1ll << 40, "vocab_size"},
      {"max_position_embeddings", json::object(), "max_position_embeddings"},
      {"max_position_embeddings", (1 << 24) + 1, "'max_position_embeddings' = 16777217 is more than 16777216"},
      {"rms_norm_eps", "1e-5", "rms_norm_eps"},
      {"rms_norm_eps", 0, "rms_norm_eps"},
      {"rope_theta", -1, "rope_theta"},
      {"tie_word_embeddings", "true", "tie_word_embeddings"},
      {"head_dim", 0, "head_dim"},
      {"head_dim", 7, "odd"},
      {"model_type", "gpt2", "qwen3_moe"},
      {"model_type", 3, "model_type"},
      {"rope_scaling", "linear", "rope_scaling"},
      {"rope_scaling", json{{"rope_type", "yarn"}, {"factor", 4}}, "'yarn' is not supported"},
      {"rope_scaling", json{{"type", "dynamic"}, {"factor", 2}}, "'dynamic' is not supported"},
      {"rope_scaling", json{{"rope_type", "linear"}}, "factor"},
      {"rope_scaling", json{{"rope_type", "llama3"}, {"factor", 8}}, "low_freq_factor"},
  };
  for (const Case& c : cases) {
    json j = good;
    j[c.key] = c.value;
    SCOPED_TRACE(std::string(c.key) + " = " + c.value.dump());
    write_text(f_.config, j.dump());
    expect_refused(f_.dir, ExitCode::kBadInput, {f_.config, c.says});
  }
  json j = good;
  j.erase("hidden_size");
  write_text(f_.config, j.dump());
  expect_refused(f_.dir, ExitCode::kBadInput, {"hidden_size", "missing"});
  write_text(f_.config, "{\"model_type\": \"llama\",");
  expect_refused(f_.dir, ExitCode::kBadInput, {f_.config, "not valid JSON"});
  write_text(f_.config, "[1, 2]");
  expect_refused(f_.dir, ExitCode::kBadInput, {f_.config, "not a JSON object"});
}

TEST_F(HfFolderBad, UnsupportedArchitecturesAreNamed) {
  // Parses, but the forward pass names what it cannot run.
  json j = llama_config_json(cfg_);
  j["model_type"] = "deepseek_v2";
  j["kv_lora_rank"] = 512;
  write_text(f_.config, j.dump());
  const LlamaConfig c = llama_config_from(*WeightFile::open(f_.dir));
  EXPECT_EQ(c.model_type, "deepseek_v2");
  expect_refused(f_.dir, ExitCode::kBadInput, {"deepseek_v2", "MLA"});
  j = llama_config_json(cfg_);
  j["model_type"] = "deepseek";
  j["n_routed_experts"] = 4;
  j["num_experts_per_tok"] = 2;
  j["moe_intermediate_size"] = 32;
  j["n_shared_experts"] = 2;
  j["first_k_dense_replace"] = 1;
  write_text(f_.config, j.dump());
  const LlamaConfig d = llama_config_from(*WeightFile::open(f_.dir));
  EXPECT_EQ(d.n_experts, 4u);
  EXPECT_EQ(d.n_shared_experts, 2u);
  EXPECT_EQ(d.first_k_dense, 1u);
  EXPECT_EQ(d.moe_hidden_dim, 32u);
  expect_refused(f_.dir, ExitCode::kBadInput, {"DeepSeek MoE"});
}

TEST_F(HfFolderBad, ConfigFamiliesSetWhatTheForwardNeeds) {
  json j = llama_config_json(cfg_);
  j["model_type"] = "qwen2";
  LlamaConfig c = llama_config_from_hf(j.dump(), "config.json", false);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  j["model_type"] = "qwen3";
  j["head_dim"] = 16;
  c = llama_config_from_hf(j.dump(), "config.json", false);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_EQ(c.q_dim(), 16u * cfg_.n_heads);
  j["model_type"] = "mixtral";
  j["num_local_experts"] = 8;
  j["num_experts_per_tok"] = 2;
  j["sliding_window"] = 100;
  c = llama_config_from_hf(j.dump(), "config.json", false);
  EXPECT_EQ(c.moe_names, MoeNames::kMixtral);
  EXPECT_EQ(c.moe_hidden_dim, cfg_.hidden_dim);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_EQ(c.seq_len, 100u);
  j = llama_config_json(cfg_);
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  c = llama_config_from_hf(j.dump(), "config.json", false);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::kLlama3);
  EXPECT_EQ(c.rope_scaling.original_max_pos, 8192u);
  j.erase("num_key_value_heads");
  c = llama_config_from_hf(j.dump(), "config.json", false);
  EXPECT_EQ(c.n_kv_heads, c.n_heads);
}

}  // namespace
}  // namespace lutc
