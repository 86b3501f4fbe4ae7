// lm-eval's model under test on the CPU kernels (`lutc lm-eval`'s default,
// LmEval::set_projections) against the golden path, on the real stories260K
// weights with a fresh .xfp per run: xfp.v2, int4.g128, sop (a random
// format) and a mix of every scheme, the tied embedding quantized in about
// half the runs. The kernels sum in their own fp32 order, so logits agree
// within a tolerance (docs/lm-eval.md states it) and the metrics within a
// little; streaming and in-memory give the same bits on the kernel path; every
// tensor the .xfp replaces reaches the kernels, and the fp32 reference none.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "kernel_schemes.h"
#include "lutc/kernels/cpu/projections.h"
#include "lutc/model/lm_eval_run.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

// |logit_kernels - logit_golden| <= kLogitTolerance * max |logit_golden| per
// sequence. Measured: below 2e-6 on every scheme (fp32 rounding of a
// different summation order, carried through 5 layers); a wrong code, group
// or scale moves logits by 1e-2 and more.
constexpr double kLogitTolerance = 1e-4;

struct Case {
  std::string label;
  // The layer of one matrix.
  std::function<QuantizedLayer(const std::string&, const RowMatrix&, std::mt19937_64&)> quantize;
};

QuantizedLayer as_scheme(Scheme s, const std::string& name, const RowMatrix& w, std::mt19937_64& rng) {
  const uint32_t rows = uint32_t(w.rows()), cols = uint32_t(w.cols());
  if (s == Scheme::kSop) {
    const auto& f = sop_test_formats();
    return sop_layer(f[rng() % f.size()], name, w.data(), rows, cols);
  }
  if (is_baseline(s)) return quantize_baseline(s, name, Role::kOther, w.data(), rows, cols);
  XfpOptions o;
  o.mode = s;
  o.bits = 3 + unsigned(rng() % 3);
  o.group = s == Scheme::kXfpV2 && rng() % 2 ? 0 : 128;
  o.outlier_fraction = rng() % 2 ? 0.0 : 0.01;
  return quantize_xfp(name, RoleRules().classify(name), w.data(), rows, cols, o);
}

std::vector<Case> cases() {
  std::vector<Case> c;
  for (Scheme s : {Scheme::kXfpV2, Scheme::kInt4G128, Scheme::kSop})
    c.push_back({scheme_name(s), [s](const std::string& n, const RowMatrix& w, std::mt19937_64& rng) {
                   return as_scheme(s, n, w, rng);
                 }});
  c.push_back({"every scheme mixed", [](const std::string& n, const RowMatrix& w, std::mt19937_64& rng) {
                 return as_scheme(kKernelSchemes[rng() % std::size(kKernelSchemes)], n, w, rng);
               }});
  return c;
}

// Every matrix of stories260K through `c` (the embedding in about half the
// runs), written to a fresh .xfp; `names` gets what it replaces.
std::string quantized_xfp(const Case& c, std::mt19937_64& rng, std::set<std::string>* names) {
  const TensorMap t = load_tensors(*WeightFile::open(bin_path()));
  const bool embed = rng() % 2;
  XfpFile f;
  for (const auto& [name, w] : t) {
    if (w.cols() == 1 || (name == "model.embed_tokens.weight" && !embed)) continue;
    f.layers.push_back(c.quantize(name, w, rng));
    names->insert(name);
  }
  static int n = 0;
  const std::string path = temp_dir() + "/q" + std::to_string(n++) + ".xfp";
  write_xfp(path, f);
  return path;
}

std::shared_ptr<const ProjectionBackend> kernel_backend(std::mt19937_64& rng) {
  kernels::ProjectionOptions o;
  o.threads = 1 + unsigned(rng() % 3);
  if (rng() % 2) o.min_parallel_macs = 0;  // stories260K's products are small: force the pool in half the runs
  return std::make_shared<const kernels::KernelProjections>(o);
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, uint32_t vocab) {
  std::vector<int32_t> t(8 + rng() % 41);
  for (auto& v : t) v = int32_t(rng() % vocab);
  return t;
}

LmEval make_eval(const std::string& xfp, std::shared_ptr<const ProjectionBackend> backend, Residency res) {
  LmEval ev(bin_path(), xfp);
  ev.set_projections(std::move(backend));
  ev.set_residency(res);
  return ev;
}

TEST(KernelLmEval, LogitsMatchTheGoldenPathWithinTheTolerance) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.label);
    std::set<std::string> names;
    const std::string xfp = quantized_xfp(c, rng, &names);
    const LmEval golden = make_eval(xfp, nullptr, Residency::kMemory);
    const LmEval kernels = make_eval(xfp, kernel_backend(rng), Residency::kMemory);
    const auto tokens = random_tokens(rng, golden.config().vocab_size);
    const RowMatrix want = golden.logits(tokens), got = kernels.logits(tokens);
    ASSERT_EQ(got.rows(), want.rows());
    ASSERT_EQ(got.cols(), want.cols());
    ASSERT_TRUE(got.allFinite());
    const double scale = want.cwiseAbs().maxCoeff(), err = (got - want).cwiseAbs().maxCoeff();
    std::printf("%s: max |logit difference| %.3g of max |logit| %.3g (%.3g)\n", c.label.c_str(), err, scale,
                err / scale);
    EXPECT_LE(err, kLogitTolerance * scale);
    EXPECT_FALSE(got == want);  // the kernels' own summation order: not the golden bits (or the backend was bypassed)
  }
}

TEST(KernelLmEval, MetricsAreCloseToTheGoldenPaths) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const LmBenchConfig cfg{2 + uint32_t(rng() % 3), 8 + uint32_t(rng() % 17)};
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.label);
    std::set<std::string> names;
    const std::string xfp = quantized_xfp(c, rng, &names);
    const LmEvalResult g = make_eval(xfp, nullptr, Residency::kMemory).evaluate(cfg);
    const LmEvalResult k = make_eval(xfp, kernel_backend(rng), Residency::kMemory).evaluate(cfg);
    // Scored on the same fp32 text; only near-ties can flip an argmax.
    EXPECT_EQ(k.metrics.positions, g.metrics.positions);
    EXPECT_NEAR(k.metrics.kl, g.metrics.kl, 1e-4 + 1e-4 * g.metrics.kl);
    EXPECT_NEAR(k.metrics.kl_reverse, g.metrics.kl_reverse, 1e-4 + 1e-4 * g.metrics.kl_reverse);
    EXPECT_NEAR(k.metrics.top1, g.metrics.top1, 1.5 / double(g.metrics.positions));
    EXPECT_NEAR(k.metrics.ppl, g.metrics.ppl, 1e-4 * g.metrics.ppl);
    EXPECT_EQ(k.metrics.ppl_fp32, g.metrics.ppl_fp32);  // the reference is fp32 on both
    EXPECT_EQ(k.reference.sequences, g.reference.sequences);
    EXPECT_EQ(k.projections.backend, "kernels");
    EXPECT_EQ(g.projections.backend, "golden");
    EXPECT_EQ(k.projections.tensors, names.size());
    EXPECT_EQ(k.projections.fp32_bytes, g.projections.held_bytes);
    EXPECT_LT(k.projections.held_bytes, k.projections.fp32_bytes);
  }
}

TEST(KernelLmEval, StreamingAndInMemoryGiveTheSameBits) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const std::vector<Case> all = cases();
  const Case& c = all[rng() % all.size()];
  SCOPED_TRACE(c.label);
  std::set<std::string> names;
  const std::string xfp = quantized_xfp(c, rng, &names);
  const auto backend = kernel_backend(rng);
  const LmEval mem = make_eval(xfp, backend, Residency::kMemory), str = make_eval(xfp, backend, Residency::kStream);
  const auto tokens = random_tokens(rng, mem.config().vocab_size);
  EXPECT_TRUE(mem.logits(tokens) == str.logits(tokens));
  const LmBenchConfig cfg{1 + uint32_t(rng() % 3), 4 + uint32_t(rng() % 12)};
  const LmEvalResult a = mem.evaluate(cfg), b = str.evaluate(cfg);
  EXPECT_EQ(a.metrics.kl, b.metrics.kl);
  EXPECT_EQ(a.metrics.kl_reverse, b.metrics.kl_reverse);
  EXPECT_EQ(a.metrics.kl_max, b.metrics.kl_max);
  EXPECT_EQ(a.metrics.top1, b.metrics.top1);
  EXPECT_EQ(a.metrics.ppl, b.metrics.ppl);
  EXPECT_EQ(a.metrics.greedy_match, b.metrics.greedy_match);
  EXPECT_EQ(a.metrics.distinct2, b.metrics.distinct2);
  EXPECT_EQ(a.metrics.repeat4, b.metrics.repeat4);
  // Streaming holds one layer's packed tensors at a time, in memory all of them.
  EXPECT_LT(b.projections.held_bytes, a.projections.held_bytes);
}

// Forwards to the kernels and counts calls by tensor name.
class CountingKernels final : public ProjectionBackend {
 public:
  struct Calls {
    std::mutex mu;
    std::map<std::string, int> prepared, used;
  };
  explicit CountingKernels(std::shared_ptr<const ProjectionBackend> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  unsigned threads() const override { return inner_->threads(); }
  std::unique_ptr<ProjectionWeight> prepare(const std::string& name, const QuantizedLayer& layer) const override {
    {
      const std::lock_guard<std::mutex> lock(calls->mu);
      ++calls->prepared[name];
    }
    return std::make_unique<Counted>(name, inner_->prepare(name, layer), calls);
  }
  std::shared_ptr<Calls> calls = std::make_shared<Calls>();

 private:
  class Counted final : public ProjectionWeight {
   public:
    Counted(std::string name, std::unique_ptr<ProjectionWeight> w, std::shared_ptr<Calls> calls)
        : name_(std::move(name)), w_(std::move(w)), calls_(std::move(calls)) {}
    uint64_t rows() const override { return w_->rows(); }
    uint64_t cols() const override { return w_->cols(); }
    uint64_t resident_bytes() const override { return w_->resident_bytes(); }
    RowMatrix multiply(const RowMatrix& x) const override {
      use();
      return w_->multiply(x);
    }
    void decode_rows(uint64_t r0, uint64_t n, float* out) const override {
      use();
      w_->decode_rows(r0, n, out);
    }

   private:
    void use() const {
      const std::lock_guard<std::mutex> lock(calls_->mu);
      ++calls_->used[name_];
    }
    std::string name_;
    std::unique_ptr<ProjectionWeight> w_;
    std::shared_ptr<Calls> calls_;
  };
  std::shared_ptr<const ProjectionBackend> inner_;
};

TEST(KernelLmEval, EveryReplacedTensorRunsOnTheKernelsAndTheReferenceOnNone) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const std::vector<Case> all = cases();
  const Case& c = all[rng() % all.size()];
  SCOPED_TRACE(c.label);
  std::set<std::string> names;
  const std::string xfp = quantized_xfp(c, rng, &names);
  const LmBenchConfig cfg{1 + uint32_t(rng() % 2), 3 + uint32_t(rng() % 6)};
  for (Residency res : {Residency::kMemory, Residency::kStream}) {
    SCOPED_TRACE(res == Residency::kStream ? "streaming" : "in memory");
    auto counting = std::make_shared<CountingKernels>(kernel_backend(rng));
    const LmEvalResult r = make_eval(xfp, counting, res).evaluate(cfg);
    std::set<std::string> prepared, used;
    for (const auto& [name, n] : counting->calls->prepared) prepared.insert(name);
    for (const auto& [name, n] : counting->calls->used) used.insert(name);
    EXPECT_EQ(prepared, names);
    EXPECT_EQ(used, names);
    EXPECT_EQ(r.projections.tensors, names.size());
  }
  // No .xfp: the fp32 model scored against itself; nothing is quantized, so nothing reaches the kernels.
  auto counting = std::make_shared<CountingKernels>(kernel_backend(rng));
  const LmEvalResult r = make_eval("", counting, Residency::kMemory).evaluate(cfg);
  EXPECT_TRUE(counting->calls->prepared.empty());
  EXPECT_EQ(r.metrics.kl, 0.0);
  EXPECT_EQ(r.projections.backend, "kernels");
}

}  // namespace
}  // namespace lutc::testing
