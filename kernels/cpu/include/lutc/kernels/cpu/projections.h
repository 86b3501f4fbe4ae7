#pragma once
// The CPU kernels as the forward pass's projection backend (model/'s
// lutc/model/projection_backend.h; docs/lm-eval.md "Projection backends"):
// each quantized layer packed once (pack_layer), every product on the f32
// fast path (gemv_fast: the golden decode's values, summed in the kernel's
// own order), rows spread over one thread pool that every layer shares, a
// batch of M >= 1 rows per call. Embedding rows come from decode_exact, so a
// lookup sees the golden decode bit for bit.
#include <cstdint>
#include <memory>
#include <string>

#include "lutc/kernels/cpu/isa.h"
#include "lutc/model/projection_backend.h"

namespace lutc::kernels {

struct ProjectionOptions {
  unsigned threads = 0;  // threads in all, the caller's included; 0: every core
  Isa isa = best_isa();
  // A product of fewer multiply-adds runs on the calling thread alone: waking
  // the pool costs microseconds, more than a small matrix takes (stories260K's
  // 64 x 64 GEMV is well under one).
  uint64_t min_parallel_macs = uint64_t(1) << 18;
};

class KernelProjections final : public ProjectionBackend {
 public:
  explicit KernelProjections(const ProjectionOptions& opt = {});
  ~KernelProjections() override;
  KernelProjections(const KernelProjections&) = delete;
  KernelProjections& operator=(const KernelProjections&) = delete;

  std::string name() const override { return "kernels"; }
  unsigned threads() const override;
  // pack_layer(layer); its errors (a layer validate() rejects, a decoded
  // weight that is not finite) name the layer.
  std::unique_ptr<ProjectionWeight> prepare(const std::string& name, const QuantizedLayer& layer) const override;

  struct Shared;  // the pool, the options, and the lock that gives the pool to one product at a time

 private:
  std::shared_ptr<Shared> shared_;  // every prepared weight keeps it alive
};

}  // namespace lutc::kernels
