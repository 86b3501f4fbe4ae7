#pragma once
// The H-Process (docs/hprocess.md): find the operating point where a model
// just fits a memory budget and still generates sensibly. It starts at the
// operator's cosine floors, relaxes them (lazy first, then strict, down a
// documented ladder, bisecting at the edge) while the quantized model plus the
// measured peak working set of quantize-on-load exceeds the budget; when the
// start already fits but generates garbage it raises them instead, while the
// model still fits. It runs the generation bench at every candidate and stops
// at the tightest-fitting candidate on the sensible side of the garbage boundary.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lutc/model/layer.h"
#include "lutc/model/llama.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

struct HprocessOptions {
  uint64_t budget_bytes = 0;
  // 0: the quantize-on-load working set counts against budget_bytes (one memory).
  // Else the model bytes must fit budget_bytes and the working set this (a
  // separate loader memory, e.g. host RAM while the device holds the model).
  uint64_t loader_budget_bytes = 0;
  double floor_strict = 0.999, floor_lazy = 0.995;  // the operator's floors (start)
  double floor_min = 0.5;                           // neither floor is relaxed below this
  double lazy_min = 0.9;                            // lazy relaxes alone down to here, then strict moves
  unsigned bisect_steps = 3;                        // bisections between the last miss and the first fit
  GarbageRule garbage{0.1, 0};                      // kl_max 0.1 nats unless the operator says otherwise
  LmBenchConfig bench;
  bool auto_mode = true;  // XFP v2|v2a per layer; false = v2 only
  unsigned max_bits = 8;
  unsigned threads = 1;
  // The fp32 models (reference and candidates) in memory, or streamed one
  // layer at a time from the weight file (candidates: the cached quantized
  // layers decoded per fetch); kAuto streams when the in-memory mode's three
  // fp32 copies would exceed max_memory_bytes (0: default_memory_budget()).
  StreamChoice stream = StreamChoice::kAuto;
  uint64_t max_memory_bytes = 0;
  // How candidates multiply their quantized layers: null is the golden path
  // (decoded to fp32, Eigen); a backend (projection_backend.h, e.g. the CPU
  // kernels) holds and multiplies its own form. The reference never uses one.
  std::shared_ptr<const ProjectionBackend> projections;
};

// One tensor's quantization at one floor, kept across candidates.
struct CachedLayer {
  QuantizedLayer layer;
  uint64_t stored_bytes = 0;     // stored_bits / 8, rounded up
  uint64_t transient_bytes = 0;  // measured heap peak above the start while loading + quantizing it
  double cos_floor = 0;
  bool floor_met = true;
};

struct HprocessPoint {
  // start | relax-lazy | relax-strict | raise-strict | raise-lazy | bisect-lazy | bisect-strict
  std::string step;
  double floor_strict = 0, floor_lazy = 0;
  uint64_t model_bytes = 0;     // quantized layers + .xfp header + unquantized tensors (fp32)
  uint64_t peak_transient = 0;  // largest per-tensor working set of quantize-on-load
  uint64_t need_bytes = 0;      // model_bytes + peak_transient: what must fit
  double bpw = 0;               // effective bits per quantized weight
  bool fits = false;
  bool garbage = false;
  LmMetrics lm;
  uint32_t quantized = 0, cache_hits = 0;  // tensors quantized fresh / reused
  double seconds = 0;
};

struct RoleSummary {
  std::string role;
  double floor = 0;
  uint32_t tensors = 0;
  uint64_t elements = 0;
  double bpw = 0;
};

struct HprocessResult {
  std::string model;
  uint64_t fp16_bytes = 0;  // every parameter at 2 bytes: the size budgets are quoted against
  LmReference reference;
  std::vector<HprocessPoint> trajectory;
  int chosen = -1;  // index into trajectory; -1 when no fitting point is sensible
  std::string verdict;
  std::vector<RoleSummary> chosen_roles;
  XfpFile chosen_file;  // the chosen point's layers
  double seconds = 0;
};

// Observer for progress lines; may be empty.
using HprocessLog = std::function<void(const HprocessPoint&)>;

class Hprocess {
 public:
  Hprocess(const std::string& model_path, const HprocessOptions& opt);
  ~Hprocess();
  HprocessResult run(const HprocessLog& log = {});
  // Quantizes (or reuses) every matrix at the given floors and scores it; public
  // so that tests and tables can probe single points.
  HprocessPoint evaluate(double floor_strict, double floor_lazy, const std::string& step);
  const HprocessOptions& options() const { return opt_; }
  void set_budget(uint64_t bytes) { opt_.budget_bytes = bytes; }
  const LmReference& reference() const { return ref_; }
  uint64_t fp16_bytes() const;
  bool streaming() const { return streaming_; }
  // What the in-memory mode holds: the fp32 tensors, the reference model's
  // copy and one candidate's copy.
  uint64_t in_memory_bytes() const { return in_memory_bytes_; }

 private:
  const CachedLayer& layer_at(size_t i, double floor, uint32_t* fresh);
  XfpFile file_at(double floor_strict, double floor_lazy);

  HprocessOptions opt_;
  std::shared_ptr<WeightFile> file_;
  bool streaming_ = false;
  uint64_t in_memory_bytes_ = 0;
  LlamaConfig cfg_;
  TensorMap fp32_;
  std::unique_ptr<LlamaModel> fp32_model_;
  LmReference ref_;
  std::vector<std::string> matrices_;  // 2-D tensors, file order
  std::vector<Role> roles_;
  uint64_t other_bytes_ = 0;  // unquantized tensors at fp32
  std::map<std::pair<size_t, double>, CachedLayer> cache_;
};

// Heap bytes in use (glibc mallinfo2: arena + mmapped chunks; ASan's allocator count in an ASan build).
uint64_t heap_in_use();

// Peak heap in use above the level at construction, sampled by a background
// thread every ~50 us until stop(); the sample at stop() is included.
class HeapPeakMeter {
 public:
  HeapPeakMeter();
  ~HeapPeakMeter();
  uint64_t stop();
  // The peak above the start seen so far, while the meter runs.
  uint64_t peak_so_far() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The relaxation ladder (docs/hprocess.md): the largest ladder floor strictly
// below f, or `lowest` when none is above it.
double next_lower_floor(double f, double lowest);
// The smallest ladder floor strictly above f, or f itself above the ladder's top.
double next_higher_floor(double f);
// Midpoint of two floors in the -log10(1 - f) scale, rounded to 6 decimals.
double floor_midpoint(double a, double b);

// Writes a seeded synthetic Qwen-MoE-shaped model (routed experts, a shared
// expert with its gate, router, attention, norms, tied embedding) as
// safetensors with the hyper-parameters in __metadata__.
struct MoeSynthSpec {
  uint32_t dim = 64, n_layers = 2, n_heads = 4, n_kv_heads = 2, vocab = 256, seq_len = 128;
  uint32_t n_experts = 8, top_k = 2, moe_hidden = 128, shared_hidden = 128;
  uint64_t seed = 1;
};
void write_moe_synth(const std::string& path, const MoeSynthSpec& spec);

// Gnuplot SVG of bytes and KL against the trajectory's floors. Returns false
// (and writes nothing) when gnuplot is not installed.
bool plot_trajectory_svg(const HprocessResult& r, uint64_t budget_bytes, const std::string& svg_path);

}  // namespace lutc
