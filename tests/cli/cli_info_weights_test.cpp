// `lutc info` on a weight file: a GGUF written byte by byte lists its
// metadata and every tensor, quantized ones marked as not read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "../model/gguf_builder.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

TEST(CliInfo, ListsTheTensorsOfAGguf) {
  std::mt19937_64 rng(fresh_seed());
  const uint64_t rows = 1 + rng() % 5, cols = 1 + rng() % 9, q_rows = 1 + rng() % 3;
  GgufSpec spec;
  const std::string arch = "arch" + std::to_string(rng() % 100);
  spec.add_string("general.architecture", arch);
  const RawTensor emb = random_tensor(rng, "token_embd.weight", "F32", {rows, cols});
  spec.tensors.push_back({emb.name, kGgmlF32, {cols, rows}, emb.bytes});
  spec.tensors.push_back({"blk.0.attn_q.weight", kGgmlQ4_K, {256, q_rows}, std::vector<uint8_t>(q_rows * 144)});
  const std::string path = temp_dir() + "/m.gguf";
  write_file(path, gguf_bytes(spec));

  RunResult r = run_lutc({"info", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["metadata"]["general.architecture"], arch);
  ASSERT_EQ(j["tensors"].size(), 2u);
  EXPECT_EQ(j["tensors"][0]["name"], emb.name);
  EXPECT_EQ(j["tensors"][0]["type"], "F32");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({rows, cols}));
  EXPECT_EQ(j["tensors"][0]["readable"], true);
  EXPECT_EQ(j["tensors"][1]["type"], "Q4_K");
  EXPECT_EQ(j["tensors"][1]["bytes"], q_rows * 144);
  EXPECT_EQ(j["tensors"][1]["readable"], false);

  r = run_lutc({"info", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gguf, 2 tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q4_K"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(not read)"), std::string::npos) << r.out;
}

// A GGUF tensor name and string that are not UTF-8 (the text listing shows
// them): `info --json` exited 70 "internal error" from the JSON writer; now
// the bytes are written as U+FFFD.
TEST(CliInfo, JsonOfAGgufWithNonUtf8NamesIsWritten) {
  std::mt19937_64 rng(fresh_seed());
  const char bad = char(0x80 + rng() % 0x80);
  GgufSpec spec;
  spec.add_string("general.architecture", std::string("llama") + bad);
  const RawTensor t = random_tensor(rng, std::string("w") + bad + ".weight", "F32", {2, 1 + rng() % 4});
  spec.tensors.push_back({t.name, kGgmlF32, {t.shape[1], t.shape[0]}, t.bytes});
  const std::string path = temp_dir() + "/bad-utf8.gguf";
  write_file(path, gguf_bytes(spec));

  const RunResult r = run_lutc({"info", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metadata"]["general.architecture"], "llama\xEF\xBF\xBD");
  ASSERT_EQ(j["tensors"].size(), 1u);
  EXPECT_EQ(j["tensors"][0]["name"], "w\xEF\xBF\xBD.weight");
}

}  // namespace
}  // namespace lutc::testing
