// A model's declared seq_len is a limit, not an allocation: the KV cache
// holds the positions evaluated, so a file declaring the largest seq_len
// allowed evaluates a few tokens with a few rows of cache and the same logits;
// one declaring more than 2^24 positions is refused naming the file and key.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string st_path() { return shared_data("stories260K/stories260K.safetensors"); }

// stories260K with its metadata's seq_len replaced.
std::string with_seq_len(const std::string& dir, const std::string& seq_len) {
  const auto src = WeightFile::open(st_path());
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  for (const TensorInfo& t : src->tensors()) data.push_back(src->read_all(t));
  for (size_t i = 0; i < data.size(); ++i)
    tensors.push_back({src->tensors()[i].name, src->tensors()[i].shape, data[i].data()});
  std::map<std::string, std::string> md(src->metadata().begin(), src->metadata().end());
  md["seq_len"] = seq_len;
  const std::string path = dir + "/seq" + seq_len + ".safetensors";
  write_safetensors(path, tensors, md);
  return path;
}

TEST(LlamaSeqLen, TheLargestSeqLenEvaluatesWithACacheOfTheTokensSeen) {
  if (!require_file(st_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string path = with_seq_len(temp_dir(), std::to_string(kMaxSeqLen));
  const auto big = LlamaModel::open(path);
  const auto ref = LlamaModel::open(st_path());
  ASSERT_EQ(big->config().seq_len, kMaxSeqLen);
  KvCache a = big->new_cache(), b = ref->new_cache();
  const size_t steps = 2 + rng() % 6;
  for (size_t t = 0; t < steps; ++t) {
    const int32_t token = t == 0 ? 1 : int32_t(3 + rng() % 509);
    const Eigen::VectorXf la = big->step(token, a), lb = ref->step(token, b);
    ASSERT_EQ(la, lb) << "position " << t << ": seq_len changes no logit";
  }
  // The cache holds rows for the positions seen (it starts at 64 and doubles),
  // never seq_len's 2^24 x kv_dim floats per layer.
  ASSERT_EQ(a.k.size(), big->config().n_layers);
  for (size_t l = 0; l < a.k.size(); ++l) {
    EXPECT_GE(a.k[l].rows(), Eigen::Index(steps));
    EXPECT_LE(a.k[l].rows(), 64);
    EXPECT_LE(a.v[l].rows(), 64);
  }
  const RowMatrix all = big->forward_all({1, 5, 9});
  EXPECT_EQ(all, ref->forward_all({1, 5, 9}));
}

TEST(LlamaSeqLen, MoreThan2To24PositionsIsRefusedNamingTheFileAndKey) {
  if (!require_file(st_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const uint32_t bad = kMaxSeqLen + 1 + uint32_t(rng() % ((1u << 30) - kMaxSeqLen));
  const std::string path = with_seq_len(temp_dir(), std::to_string(bad));
  try {
    LlamaModel::open(path);
    FAIL() << "seq_len " << bad << " accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("'seq_len' = " + std::to_string(bad)), std::string::npos) << m;
    EXPECT_NE(m.find("2^24"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace lutc
