#pragma once
// `lutc lm-eval` as a library (docs/lm-eval.md): the garbage-boundary metrics
// of a model (fp32, or with an .xfp's layers decoded into it, or multiplied
// by a projection backend) against the fp32 model on the text the fp32 model
// writes, with the weights in memory or streamed one layer at a time (the
// numbers are bit-identical either way).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/llama.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/weights.h"

namespace lutc {

struct LmEvalResult {
  LmReference reference;
  double reference_seconds = 0;  // making the reference
  LmMetrics metrics;             // of the model under test; may be non-finite (metrics.finite())
  size_t tensors_replaced = 0;   // tensors the .xfp supplied
  // How the model under test held and multiplied them (after the bench,
  // when there was one: a streamed model's peak covers every pass).
  LlamaModel::ReplacedMemory projections;
  double eval_seconds = 0;  // the reference and the metrics together
  nlohmann::json bench;     // bench_forward() of the model under test when asked for, else null
};

class LmEval {
 public:
  // Opens the model and, when `xfp_path` is set, the .xfp (its index only:
  // names and shapes are checked here, layers are decoded when fetched).
  // Without an .xfp the fp32 model is scored against itself.
  LmEval(const std::string& model_path, const std::string& xfp_path);

  const LlamaConfig& config() const { return config_; }
  // What the in-memory mode holds: one model's fp32 weights (the reference
  // and the model under test are never resident together).
  uint64_t in_memory_bytes() const { return fp32_->fp32_bytes(); }
  // kMemory (the default) or kStream, for every model made afterwards.
  void set_residency(Residency r) { streaming_ = r == Residency::kStream; }
  bool streaming() const { return streaming_; }
  // How the model under test multiplies the .xfp's layers: null (the
  // default) is the golden path, decoded to fp32 and multiplied with Eigen;
  // a backend (projection_backend.h, e.g. the CPU kernels) holds and
  // multiplies its own form of them. The fp32 reference never uses one.
  void set_projections(std::shared_ptr<const ProjectionBackend> backend) { backend_ = std::move(backend); }

  // Logits (tokens x vocab) of the model under test; row t predicts token t + 1.
  RowMatrix logits(const std::vector<int32_t>& tokens) const;
  // The fp32 reference on `cfg`, then the model under test scored on it (and
  // timed with bench_forward() when `bench`). Error(kBadInput) when the
  // reference itself is non-finite: NaN passes every gate written as a comparison.
  LmEvalResult evaluate(const LmBenchConfig& cfg, bool bench = false) const;

 private:
  std::unique_ptr<LlamaModel> make_model(const std::shared_ptr<const FileWeights>& w,
                                         const std::shared_ptr<const ProjectionBackend>& backend) const;

  std::string model_path_, xfp_path_;
  LlamaConfig config_;
  std::shared_ptr<const FileWeights> fp32_, quantized_;
  std::shared_ptr<const ProjectionBackend> backend_;
  bool streaming_ = false;
};

}  // namespace lutc
