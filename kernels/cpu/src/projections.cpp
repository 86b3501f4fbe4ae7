// The kernels behind the forward pass's ProjectionBackend interface: a
// PackedLayer per tensor, gemv_fast(kF32) per product.
#include "lutc/kernels/cpu/projections.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "lutc/kernels/cpu/gemv.h"
#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/kernels/cpu/thread_pool.h"
#include "lutc/model/error.h"
#include "lutc/model/layer.h"

namespace lutc::kernels {

struct KernelProjections::Shared {
  ProjectionOptions opt;
  std::unique_ptr<ThreadPool> pool;  // null with one thread
  // The pool runs one task set at a time; two forward passes on two threads
  // take turns for it.
  std::mutex mu;
};

namespace {

class PackedProjection final : public ProjectionWeight {
 public:
  PackedProjection(PackedLayer p, std::shared_ptr<KernelProjections::Shared> s) : p_(std::move(p)), s_(std::move(s)) {}

  uint64_t rows() const override { return p_.rows; }
  uint64_t cols() const override { return p_.cols; }
  uint64_t resident_bytes() const override { return p_.memory_bytes(); }

  RowMatrix multiply(const RowMatrix& x) const override {
    if (uint64_t(x.cols()) != p_.cols)
      throw Error(ExitCode::kInternal, "kernel projection: input of " + std::to_string(x.cols()) +
                                           " columns for a layer of " + std::to_string(p_.cols));
    RowMatrix y(x.rows(), Eigen::Index(p_.rows));
    if (x.rows() == 0) return y;
    // The kernels refuse non-finite activations. A model whose weights
    // overflow float arithmetic still has to give its (non-finite) logits,
    // as the golden path does, so such a product takes the golden decode
    // and Eigen.
    if (!x.allFinite()) return times_decoded(x);
    const uint64_t macs = uint64_t(x.rows()) * p_.rows * p_.cols;
    RunOptions o;
    o.isa = s_->opt.isa;
    if (s_->pool && macs >= s_->opt.min_parallel_macs) {
      o.pool = s_->pool.get();
      const std::lock_guard<std::mutex> lock(s_->mu);
      gemv_fast(Path::kF32, p_, x.data(), uint32_t(x.rows()), y.data(), o);
    } else {
      gemv_fast(Path::kF32, p_, x.data(), uint32_t(x.rows()), y.data(), o);
    }
    return y;
  }

  void decode_rows(uint64_t r0, uint64_t n, float* out) const override {
    if (r0 + n > p_.rows)
      throw Error(ExitCode::kInternal, "kernel projection: rows " + std::to_string(r0) + "+" + std::to_string(n) +
                                           " of a layer of " + std::to_string(p_.rows));
    RunOptions o;
    o.isa = s_->opt.isa;
    decode_exact(p_, uint32_t(r0), uint32_t(n), out, o);
  }

 private:
  RowMatrix times_decoded(const RowMatrix& x) const {
    RowMatrix w(Eigen::Index(p_.rows), Eigen::Index(p_.cols));
    decode_rows(0, p_.rows, w.data());
    return x * w.transpose();
  }

  PackedLayer p_;
  std::shared_ptr<KernelProjections::Shared> s_;
};

}  // namespace

KernelProjections::KernelProjections(const ProjectionOptions& opt) : shared_(std::make_shared<Shared>()) {
  shared_->opt = opt;
  if (!isa_available(opt.isa))
    throw Error(ExitCode::kUsage,
                std::string("instruction set ") + isa_name(opt.isa) + " is not available on this CPU");
  unsigned n = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  shared_->opt.threads = n;
  if (n > 1) shared_->pool = std::make_unique<ThreadPool>(n);
}

KernelProjections::~KernelProjections() = default;

unsigned KernelProjections::threads() const { return shared_->opt.threads; }

std::unique_ptr<ProjectionWeight> KernelProjections::prepare(const std::string& /*name*/,
                                                             const QuantizedLayer& layer) const {
  return std::make_unique<PackedProjection>(pack_layer(layer), shared_);
}

}  // namespace lutc::kernels
