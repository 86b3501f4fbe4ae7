// write_synth_checkpoint: a Hugging Face folder with the shape table's exact
// tensors, readable as one model, the same bytes for any thread count.
#include "lutc/model/synth_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;

ModelShape tiny_shape(std::mt19937_64& rng, bool moe) {
  const uint32_t heads = 2 + uint32_t(rng() % 3), head_dim = 2 * (2 + uint32_t(rng() % 4));
  ModelShape s{"tiny",
               moe ? "mixtral" : "llama",
               heads * head_dim,
               8 + uint32_t(rng() % 40),
               2 + uint32_t(rng() % 3),
               heads,
               1,
               16 + uint32_t(rng() % 40),
               256,
               1e4,
               1e-5,
               rng() % 2 == 0};
  if (moe) s.experts = 2 + uint32_t(rng() % 3), s.experts_per_tok = 1;
  return s;
}

std::vector<uint8_t> folder_bytes(const std::string& dir) {
  std::vector<uint8_t> all;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto b = testing::read_file(f.string());
    const std::string name = f.filename().string();
    all.insert(all.end(), name.begin(), name.end());
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

TEST(SynthCheckpoint, FolderHasTheShapeTableTensorsAndIsThreadCountIndependent) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  for (bool moe : {false, true}) {
    const ModelShape shape = tiny_shape(rng, moe);
    SynthCheckpointOptions o;
    o.shape = &shape;
    o.shards = 1 + uint32_t(rng() % 3);
    o.seed = rng();
    o.dir = testing::temp_dir() + "/synth-a-" + std::to_string(moe);
    o.threads = 1;
    const uint64_t n = write_synth_checkpoint(o);
    EXPECT_EQ(n, model_weights(shape));
    o.dir = testing::temp_dir() + "/synth-b-" + std::to_string(moe);
    o.threads = 3;
    write_synth_checkpoint(o);
    SCOPED_TRACE("seed " + std::to_string(seed) + " moe " + std::to_string(moe));
    EXPECT_EQ(folder_bytes(testing::temp_dir() + "/synth-a-" + std::to_string(moe)), folder_bytes(o.dir));

    const auto file = WeightFile::open(o.dir);
    const auto expected = model_tensors(shape);
    ASSERT_EQ(file->tensors().size(), expected.size());
    for (const auto& t : expected) {
      const TensorInfo* got = file->find(t.name);
      ASSERT_NE(got, nullptr) << t.name;
      EXPECT_EQ(got->shape, t.shape) << t.name;
      EXPECT_EQ(got->dtype, DType::kBF16);
      const std::vector<float> v = file->read_all(*got);
      double sum2 = 0;
      for (float x : v) sum2 += double(x) * x;
      EXPECT_GT(sum2, 0) << t.name << " is all zero";
    }
    const nlohmann::json cfg = nlohmann::json::parse(testing::read_file(o.dir + "/config.json"));
    EXPECT_EQ(cfg["hidden_size"], shape.hidden);
    EXPECT_EQ(cfg["num_hidden_layers"], shape.layers);
    EXPECT_EQ(cfg["tie_word_embeddings"], shape.tied);
    EXPECT_EQ(fs::exists(o.dir + "/model.safetensors.index.json"), o.shards > 1);
  }
}

TEST(SynthCheckpoint, AnExistingFolderIsRefusedAndAFailureLeavesNothing) {
  std::mt19937_64 rng(testing::fresh_seed());
  const ModelShape shape = tiny_shape(rng, false);
  SynthCheckpointOptions o;
  o.shape = &shape;
  o.dir = testing::temp_dir() + "/synth-exists";
  fs::create_directories(o.dir);
  EXPECT_THROW(write_synth_checkpoint(o), Error);
  o.dir = testing::temp_dir() + "/synth-bad-dtype";
  o.dtype = DType::kI8;
  EXPECT_THROW(write_synth_checkpoint(o), Error);
  for (const auto& e : fs::directory_iterator(testing::temp_dir()))
    EXPECT_EQ(e.path().filename().string().find("synth-bad-dtype"), std::string::npos) << e.path();
}

TEST(SynthCheckpoint, ShapeTableCountsMatchPublishedSizes) {
  // Parameter counts published for these models (billions), as a check on the
  // table's rows: a wrong hidden or intermediate size moves them by far more.
  EXPECT_NEAR(double(model_weights(find_model_shape("llama-2-7b"))) / 1e9, 6.74, 0.01);
  EXPECT_NEAR(double(model_weights(find_model_shape("llama-2-70b"))) / 1e9, 68.98, 0.05);
  EXPECT_NEAR(double(model_weights(find_model_shape("mixtral-8x7b"))) / 1e9, 46.70, 0.05);
  EXPECT_NEAR(double(model_weights(find_model_shape("mixtral-8x22b"))) / 1e9, 140.6, 0.2);
  EXPECT_THROW(find_model_shape("llama-9b"), Error);
}

}  // namespace
}  // namespace lutc
