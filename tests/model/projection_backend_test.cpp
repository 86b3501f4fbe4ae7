// The forward pass's projection-backend injection point (projection_backend.h)
// with a backend written here: it golden-decodes each layer it is given and
// multiplies with the same Eigen expression the golden path uses, counting
// every call by tensor name. So the logits must equal the golden path's bit
// for bit (anything else means a product was routed wrongly or an operand
// changed), every tensor the .xfp replaces must reach prepare() and then be
// used, and nothing else may reach it. stories260K with a fresh random .xfp
// (random schemes, a random subset of matrices, the tied embedding sometimes).
#include "lutc/model/projection_backend.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <set>

#include "lutc/model/golden.h"
#include "lutc/model/llama.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/sop.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

struct Calls {
  std::mutex mu;
  std::map<std::string, int> prepared, multiplied, decoded;
  void add(std::map<std::string, int>& m, const std::string& name) {
    const std::lock_guard<std::mutex> lock(mu);
    ++m[name];
  }
};

class CountingWeight final : public ProjectionWeight {
 public:
  CountingWeight(std::string name, RowMatrix w, std::shared_ptr<Calls> calls)
      : name_(std::move(name)), w_(std::move(w)), calls_(std::move(calls)) {}
  uint64_t rows() const override { return uint64_t(w_.rows()); }
  uint64_t cols() const override { return uint64_t(w_.cols()); }
  RowMatrix multiply(const RowMatrix& x) const override {
    calls_->add(calls_->multiplied, name_);
    return x * w_.transpose();  // the golden path's expression
  }
  void decode_rows(uint64_t r0, uint64_t n, float* out) const override {
    calls_->add(calls_->decoded, name_);
    std::copy(w_.data() + r0 * cols(), w_.data() + (r0 + n) * cols(), out);
  }
  // Not the fp32 size, so that a report that ignored the backend would show.
  uint64_t resident_bytes() const override { return uint64_t(w_.size()) + 7; }

 private:
  std::string name_;
  RowMatrix w_;
  std::shared_ptr<Calls> calls_;
};

class CountingGolden final : public ProjectionBackend {
 public:
  std::string name() const override { return "counting-golden"; }
  unsigned threads() const override { return 3; }
  std::unique_ptr<ProjectionWeight> prepare(const std::string& name, const QuantizedLayer& layer) const override {
    calls->add(calls->prepared, name);
    RowMatrix w(Eigen::Index(layer.rows), Eigen::Index(layer.cols));
    golden_decode(layer, w.data());
    return std::make_unique<CountingWeight>(name, std::move(w), calls);
  }
  std::shared_ptr<Calls> calls = std::make_shared<Calls>();
};

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

// A random half (at least one) of the model's matrices, each in a random
// scheme; the tied embedding (the classifier too) in about half the runs.
XfpFile random_xfp(std::mt19937_64& rng, std::set<std::string>* names) {
  const TensorMap t = load_tensors(*WeightFile::open(bin_path()));
  const RoleRules rules;
  XfpFile f;
  for (const auto& [name, w] : t) {
    if (w.cols() == 1 || (rng() % 2 && !f.layers.empty())) continue;
    const uint32_t rows = uint32_t(w.rows()), cols = uint32_t(w.cols());
    switch (rng() % 4) {
      case 0: f.layers.push_back(quantize_baseline(Scheme::kInt4G128, name, Role::kOther, w.data(), rows, cols)); break;
      case 1: f.layers.push_back(quantize_baseline(Scheme::kNf4B64, name, Role::kOther, w.data(), rows, cols)); break;
      case 2: {
        SopOptions o;
        o.format = parse_sop_format("e2m1.ue4m3.b16");
        f.layers.push_back(quantize_sop(name, Role::kOther, w.data(), rows, cols, o));
        break;
      }
      default: {
        XfpOptions o;
        o.bits = 2 + unsigned(rng() % 3);
        f.layers.push_back(quantize_xfp(name, rules.classify(name), w.data(), rows, cols, o));
      }
    }
    names->insert(name);
  }
  return f;
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, uint32_t vocab, size_t n) {
  std::vector<int32_t> t(n);
  for (auto& v : t) v = int32_t(rng() % vocab);
  return t;
}

struct Fixture {
  LlamaConfig cfg;
  std::shared_ptr<const WeightFile> file;
  XfpFile xfp;
  std::set<std::string> replaced;
  std::unique_ptr<LlamaModel> golden;  // the golden path as the TensorMap constructor builds it
};

Fixture make_setup(std::mt19937_64& rng) {
  Fixture s;
  s.file = WeightFile::open(bin_path());
  s.cfg = llama_config_from(*s.file);
  s.xfp = random_xfp(rng, &s.replaced);
  TensorMap t = load_tensors(*s.file);
  apply_xfp(t, s.xfp);
  s.golden = std::make_unique<LlamaModel>(s.cfg, std::move(t));
  return s;
}

TEST(ProjectionBackend, EveryReplacedMatrixGoesThroughTheBackendAndTheLogitsStayGolden) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const Fixture s = make_setup(rng);
  const auto tokens = random_tokens(rng, s.cfg.vocab_size, 4 + rng() % 20);
  const RowMatrix want = s.golden->forward_all(tokens);
  for (Residency res : {Residency::kMemory, Residency::kStream}) {
    SCOPED_TRACE(res == Residency::kStream ? "streaming" : "in memory");
    auto backend = std::make_shared<CountingGolden>();
    const LlamaModel m(s.cfg, std::make_shared<const FileWeights>(s.file, &s.xfp), res, backend);
    EXPECT_EQ(m.forward_all(tokens), want);
    const Calls& c = *backend->calls;
    std::set<std::string> prepared, used;
    for (const auto& [name, n] : c.prepared) {
      prepared.insert(name);
      // One pass: in memory each is prepared once at construction; streaming once for the pass.
      EXPECT_EQ(n, 1) << name;
    }
    for (const auto& [name, n] : c.multiplied) used.insert(name);
    for (const auto& [name, n] : c.decoded) used.insert(name);
    EXPECT_EQ(prepared, s.replaced);
    EXPECT_EQ(used, s.replaced);
    // The embedding is a lookup: read through the backend exactly when the .xfp replaces it.
    const bool embed = s.replaced.count("model.embed_tokens.weight") != 0;
    EXPECT_EQ(c.decoded.count("model.embed_tokens.weight"), size_t(embed));
    if (embed) {
      EXPECT_EQ(c.decoded.at("model.embed_tokens.weight"), int(tokens.size()));  // one row per position
      EXPECT_EQ(c.multiplied.at("model.embed_tokens.weight"), 1);                // and one classifier product (tied)
    }
    EXPECT_TRUE(m.prepared().empty() == (res == Residency::kStream));
  }
}

TEST(ProjectionBackend, StepAndBatchedStepThroughTheBackendAreGolden) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const Fixture s = make_setup(rng);
  const auto prompts = bench_prompts(1 + uint32_t(rng() % 3), s.cfg.vocab_size);
  const uint32_t steps = 2 + uint32_t(rng() % 6);
  const auto want = greedy_generate_batch(*s.golden, prompts, steps);
  for (Residency res : {Residency::kMemory, Residency::kStream}) {
    auto backend = std::make_shared<CountingGolden>();
    const LlamaModel m(s.cfg, std::make_shared<const FileWeights>(s.file, &s.xfp), res, backend);
    EXPECT_EQ(greedy_generate_batch(m, prompts, steps), want);
    KvCache a = s.golden->new_cache(), b = m.new_cache();
    for (int32_t tok : random_tokens(rng, s.cfg.vocab_size, 5)) EXPECT_EQ(m.step(tok, b), s.golden->step(tok, a));
    for (const std::string& name : s.replaced) EXPECT_GT(backend->calls->prepared[name], 0) << name;
  }
}

TEST(ProjectionBackend, ReplacedMemoryReportsTheBackendsForm) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const Fixture s = make_setup(rng);
  uint64_t fp32 = 0, held = 0;
  for (const std::string& name : s.replaced) {
    const auto& shape = s.golden->shapes().at(name);
    fp32 += shape.first * shape.second * 4;
    held += shape.first * shape.second + 7;  // CountingWeight::resident_bytes
  }
  const auto weights = std::make_shared<const FileWeights>(s.file, &s.xfp);
  {
    const LlamaModel m(s.cfg, weights, Residency::kMemory, std::make_shared<CountingGolden>());
    const LlamaModel::ReplacedMemory r = m.replaced_memory();
    EXPECT_EQ(r.backend, "counting-golden");
    EXPECT_EQ(r.threads, 3u);
    EXPECT_EQ(r.tensors, s.replaced.size());
    EXPECT_EQ(r.held_bytes, held);
    EXPECT_EQ(r.fp32_bytes, fp32);
    EXPECT_EQ(m.prepared().size(), s.replaced.size());
    for (const std::string& name : s.replaced) EXPECT_EQ(m.tensors().count(name), 0u) << name << " held as fp32 too";
  }
  {
    const LlamaModel m(s.cfg, weights, Residency::kMemory, nullptr);
    const LlamaModel::ReplacedMemory r = m.replaced_memory();
    EXPECT_EQ(r.backend, "golden");
    EXPECT_EQ(r.tensors, s.replaced.size());
    EXPECT_EQ(r.held_bytes, fp32);
    EXPECT_EQ(r.fp32_bytes, fp32);
  }
  {
    // Streaming: the peak is one layer's replaced tensors (plus the tied
    // classifier when replaced), at most the whole set.
    const LlamaModel m(s.cfg, weights, Residency::kStream, std::make_shared<CountingGolden>());
    EXPECT_EQ(m.replaced_memory().held_bytes, 0u);  // nothing fetched yet
    m.forward_all(random_tokens(rng, s.cfg.vocab_size, 3));
    const LlamaModel::ReplacedMemory r = m.replaced_memory();
    EXPECT_EQ(r.tensors, s.replaced.size());
    EXPECT_GT(r.held_bytes, 0u);
    EXPECT_LE(r.held_bytes, held);
    EXPECT_LE(r.fp32_bytes, fp32);
    EXPECT_LT(r.held_bytes, r.fp32_bytes);  // the form's bytes, not fp32 ones
  }
}

}  // namespace
}  // namespace lutc
