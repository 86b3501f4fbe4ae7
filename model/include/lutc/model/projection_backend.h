#pragma once
// How the forward pass multiplies the weights an .xfp replaces (docs/lm-eval.md,
// "Projection backends"). model/ itself decodes them to fp32 and multiplies
// with Eigen: the golden path, which needs no backend. A ProjectionBackend is
// the injection point for a faster form: the model hands it each quantized
// layer that replaces a matrix it multiplies, keeps what it returns instead of
// the fp32 tensor, and calls it for every product with that tensor. The
// kernels (kernels/cpu, a layer above model/) supply one; model/ never names
// them.
#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>

namespace lutc {

struct QuantizedLayer;

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One quantized weight matrix (rows x cols) in a backend's form.
class ProjectionWeight {
 public:
  virtual ~ProjectionWeight() = default;
  virtual uint64_t rows() const = 0;
  virtual uint64_t cols() const = 0;
  // x (M x cols, M >= 1) times the weight's transpose: M x rows. The values
  // may differ from the golden path's in rounding (a backend sums in its own
  // order); docs/lm-eval.md states the tolerance the tests hold.
  virtual RowMatrix multiply(const RowMatrix& x) const = 0;
  // Rows [r0, r0 + n) as fp32 into `out` (n x cols), bit-identical to the
  // golden decode: an embedding lookup must see the values the golden path
  // sees.
  virtual void decode_rows(uint64_t r0, uint64_t n, float* out) const = 0;
  // Bytes this form holds in memory.
  virtual uint64_t resident_bytes() const = 0;
};

class ProjectionBackend {
 public:
  virtual ~ProjectionBackend() = default;
  // The name reports give it ("kernels", ...).
  virtual std::string name() const = 0;
  // Worker threads its products use (1: the calling thread alone).
  virtual unsigned threads() const = 0;
  // `layer` (the quantized layer that supplies model tensor `name`; for an
  // alias, the layer it points to) in this backend's form. Called once per
  // tensor for a model held in memory, once per pass for a streamed one.
  virtual std::unique_ptr<ProjectionWeight> prepare(const std::string& name, const QuantizedLayer& layer) const = 0;
};

}  // namespace lutc
