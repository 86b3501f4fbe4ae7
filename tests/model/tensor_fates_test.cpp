// plan_tensors: every tensor of a file gets a fate with a reason; stacked
// expert tensors split per expert; a tied classifier becomes an alias only when
// its values really equal the embedding table.
#include "lutc/model/tensor_fates.h"

#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "lutc/model/error.h"
#include "lutc/model/matrix_source.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

using testing::RawTensor;

RawTensor f64_tensor(std::mt19937_64& rng, const std::string& name, std::vector<uint64_t> shape) {
  RawTensor t{name, "F64", std::move(shape), {}, {}};
  uint64_t n = 1;
  for (auto d : t.shape) n *= d;
  std::normal_distribution<double> g(0, 0.02);
  for (uint64_t i = 0; i < n; ++i) {
    const double v = g(rng);
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    testing::append_le(t.bytes, bits, 8);
    t.expected.push_back(float(v));
  }
  return t;
}

const TensorPlan& row(const std::vector<TensorPlan>& plan, const std::string& name) {
  for (const auto& p : plan)
    if (p.name == name) return p;
  throw std::runtime_error("no plan row " + name);
}

struct Fixture {
  std::string path;
  std::vector<RawTensor> tensors;
};

Fixture write_model(uint64_t seed, bool tie_exactly) {
  std::mt19937_64 rng(seed);
  const uint64_t d = 8 + rng() % 24, v = 16 + rng() % 32, e = 2 + rng() % 5, h = 4 + rng() % 20;
  Fixture f;
  f.tensors.push_back(testing::random_tensor(rng, "model.embed_tokens.weight", "F32", {v, d}));
  RawTensor head = f.tensors[0];
  head.name = "lm_head.weight";
  if (!tie_exactly) {  // one element differs by one ulp
    const size_t at = 4 * (rng() % (v * d));
    head.bytes[at] ^= 1;
    uint32_t bits;
    std::memcpy(&bits, &head.bytes[at], 4);
    head.expected[at / 4] = testing::float_from_bits(bits);
  }
  f.tensors.push_back(head);
  f.tensors.push_back(testing::random_tensor(rng, "model.norm.weight", "F32", {d}));
  f.tensors.push_back(testing::random_tensor(rng, "model.layers.0.self_attn.q_proj.weight", "BF16", {d, d}));
  f.tensors.push_back(f64_tensor(rng, "model.layers.0.self_attn.o_proj.weight", {d, d}));
  RawTensor i8{"model.layers.0.mlp.down_proj.qweight", "I8", {d, h}, {}, {}};
  for (uint64_t i = 0; i < d * h; ++i) i8.bytes.push_back(uint8_t(rng()));
  f.tensors.push_back(i8);
  f.tensors.push_back(testing::random_tensor(rng, "model.layers.0.mlp.experts.gate_up_proj", "F32", {e, h, d}));
  f.tensors.push_back(testing::random_tensor(rng, "model.layers.0.conv.weight", "F32", {2, 2, 2, 2}));
  f.path = testing::temp_dir() + "/fates-" + std::to_string(seed) + ".safetensors";
  testing::write_file(f.path, testing::safetensors_bytes(f.tensors));
  return f;
}

TEST(TensorFates, EveryTensorHasAFateAndAReason) {
  const uint64_t seed = testing::fresh_seed();
  const Fixture fx = write_model(seed, true);
  const auto file = WeightFile::open(fx.path);
  const std::regex keep("q_proj");
  FateOptions o;
  o.keep = &keep;
  o.keep_embeddings = true;
  const auto plan = plan_tensors(*file, o);
  SCOPED_TRACE("seed " + std::to_string(seed));

  EXPECT_EQ(row(plan, "model.embed_tokens.weight").fate, TensorFate::kKeep);
  const TensorPlan& head = row(plan, "lm_head.weight");
  EXPECT_EQ(head.fate, TensorFate::kAlias);
  EXPECT_EQ(head.alias_of, "model.embed_tokens.weight");
  EXPECT_EQ(row(plan, "model.norm.weight").fate, TensorFate::kKeep);
  EXPECT_EQ(row(plan, "model.layers.0.self_attn.q_proj.weight").fate, TensorFate::kKeep);
  EXPECT_EQ(row(plan, "model.layers.0.self_attn.q_proj.weight").reason, "matches --keep");
  EXPECT_EQ(row(plan, "model.layers.0.self_attn.o_proj.weight").fate, TensorFate::kQuantize);  // F64 is read
  const TensorPlan& i8 = row(plan, "model.layers.0.mlp.down_proj.qweight");
  EXPECT_EQ(i8.fate, TensorFate::kRefuse);
  EXPECT_NE(i8.reason.find("I8"), std::string::npos) << i8.reason;
  EXPECT_EQ(row(plan, "model.layers.0.conv.weight").fate, TensorFate::kKeep);

  const RawTensor& stacked = fx.tensors[6];
  const uint64_t experts = stacked.shape[0];
  size_t slices = 0;
  for (const auto& p : plan) {
    if (p.source != stacked.name) continue;
    EXPECT_EQ(p.fate, TensorFate::kQuantize);
    EXPECT_TRUE(p.routed_expert);
    EXPECT_EQ(p.name, stacked.name + "." + std::to_string(p.expert));
    EXPECT_EQ(p.shape, (std::vector<uint64_t>{stacked.shape[1], stacked.shape[2]}));
    ++slices;
  }
  EXPECT_EQ(slices, experts);
  for (const auto& p : plan) EXPECT_FALSE(p.reason.empty()) << p.name;
}

TEST(TensorFates, ANearCopyOfTheEmbeddingIsNotTied) {
  const uint64_t seed = testing::fresh_seed();
  const Fixture fx = write_model(seed, false);
  const auto plan = plan_tensors(*WeightFile::open(fx.path), {});
  EXPECT_EQ(row(plan, "lm_head.weight").fate, TensorFate::kQuantize) << "seed " << seed;
  // Without keep_embeddings the table is quantized too (the evaluation default).
  EXPECT_EQ(row(plan, "model.embed_tokens.weight").fate, TensorFate::kQuantize);
}

TEST(TensorFates, ExpertSlicesLoadTheirOwnRows) {
  const uint64_t seed = testing::fresh_seed();
  const Fixture fx = write_model(seed, true);
  const auto src = MatrixSource::open(fx.path);
  const RawTensor& stacked = fx.tensors[6];
  const uint64_t per = stacked.shape[1] * stacked.shape[2];
  size_t checked = 0;
  for (const auto& m : src->matrices()) {
    if (m.source != stacked.name) continue;
    const std::vector<float> w = src->load(m);
    ASSERT_EQ(w.size(), per);
    for (uint64_t i = 0; i < per; ++i)
      ASSERT_EQ(w[i], stacked.expected[uint64_t(m.expert) * per + i]) << m.name << " element " << i;
    ++checked;
  }
  EXPECT_EQ(checked, stacked.shape[0]) << "seed " << seed;
}

TEST(TensorFates, TensorsRegexExcludesTheRest) {
  const Fixture fx = write_model(testing::fresh_seed(), true);
  const std::regex only("o_proj");
  FateOptions o;
  o.only = &only;
  const auto plan = plan_tensors(*WeightFile::open(fx.path), o);
  for (const auto& p : plan) {
    if (p.name.find("o_proj") != std::string::npos)
      EXPECT_EQ(p.fate, TensorFate::kQuantize);
    else
      EXPECT_EQ(p.fate, TensorFate::kExcluded) << p.name;
  }
  EXPECT_NE(fate_summary(plan).find("1 quantized"), std::string::npos) << fate_summary(plan);
}

TEST(TensorFates, ASliceNameThatCollidesIsRefusedByName) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::vector<RawTensor> t = {testing::random_tensor(rng, "a.experts.w", "F32", {2, 3, 4}),
                              testing::random_tensor(rng, "a.experts.w.1", "F32", {3, 4})};
  const std::string path = testing::temp_dir() + "/collide.safetensors";
  testing::write_file(path, testing::safetensors_bytes(t));
  try {
    plan_tensors(*WeightFile::open(path), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("a.experts.w.1"), std::string::npos) << e.what();
  }
}

TEST(TensorFates, ExpertSliceNamesKeepWeightLast) {
  EXPECT_EQ(expert_slice_name("blk.3.ffn_up_exps.weight", 7), "blk.3.ffn_up_exps.7.weight");
  EXPECT_EQ(expert_slice_name("m.experts.down_proj", 0), "m.experts.down_proj.0");
}

}  // namespace
}  // namespace lutc
