// lm-eval's run: the fp32 reference first, then (in the in-memory mode, after
// the reference model is dropped) the model under test scored on its text.
#include "lutc/model/lm_eval_run.h"

#include <chrono>
#include <cmath>

#include "lutc/model/error.h"
#include "lutc/model/lm_forward_bench.h"

namespace lutc {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

LmEval::LmEval(const std::string& model_path, const std::string& xfp_path)
    : model_path_(model_path), xfp_path_(xfp_path) {
  const std::shared_ptr<const WeightFile> file = WeightFile::open(model_path);
  config_ = llama_config_from(*file);
  fp32_ = std::make_shared<const FileWeights>(file);
  quantized_ = xfp_path.empty() ? fp32_ : std::make_shared<const FileWeights>(file, xfp_path);
}

std::unique_ptr<LlamaModel> LmEval::make_model(const std::shared_ptr<const FileWeights>& w,
                                               const std::shared_ptr<const ProjectionBackend>& backend) const {
  return std::make_unique<LlamaModel>(config_, w, streaming_ ? Residency::kStream : Residency::kMemory, backend);
}

RowMatrix LmEval::logits(const std::vector<int32_t>& tokens) const {
  return make_model(quantized_, backend_)->forward_all(tokens);
}

LmEvalResult LmEval::evaluate(const LmBenchConfig& cfg, bool bench) const {
  const auto t0 = Clock::now();
  LmEvalResult r;
  std::unique_ptr<LlamaModel> ref_model = make_model(fp32_, nullptr);
  r.reference = make_reference(*ref_model, cfg);
  r.reference_seconds = since(t0);
  // NaN compares false against every gate, so a broken reference would
  // score as a pass; it is refused before the model under test is run.
  if (!std::isfinite(r.reference.self_ppl) || !std::isfinite(r.reference.self_top_prob))
    throw Error(ExitCode::kBadInput,
                "model '" + model_path_ +
                    "': the fp32 forward pass gives non-finite logits (a weight "
                    "that is inf or NaN, or large enough to overflow float32 arithmetic, e.g. FLT_MAX); "
                    "no metric can be computed against it");
  std::unique_ptr<LlamaModel> q_model;
  if (!xfp_path_.empty()) {
    ref_model.reset();  // the in-memory mode holds one fp32 model at a time
    q_model = make_model(quantized_, backend_);
  }
  const LlamaModel& q = xfp_path_.empty() ? *ref_model : *q_model;
  r.tensors_replaced = quantized_->replaced();
  r.metrics = evaluate_lm(q, r.reference);
  r.eval_seconds = since(t0);
  if (bench) r.bench = bench_forward(q, cfg.prompts, cfg.steps);
  r.projections = q.replaced_memory();
  if (xfp_path_.empty() && backend_) {
    // Nothing is quantized, so nothing reaches the backend; say which was asked for.
    r.projections.backend = backend_->name();
    r.projections.threads = backend_->threads();
  }
  return r;
}

}  // namespace lutc
