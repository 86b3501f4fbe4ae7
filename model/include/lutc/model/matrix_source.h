#pragma once
// Where the matrices to quantize come from: a weight file (safetensors or
// llama2.c) or the built-in synthetic generator, named by one input spec:
//   path/to/model.safetensors | path/to/model.bin
//   synth:default              the seeded LLM-shaped set (4096x4096, 11008x4096)
//   synth:NxK[,NxK...][@SEED]  synthetic matrices of the given shapes
// or, through from_arrays, matrices the caller holds in memory (the Python
// package's arrays), quantized exactly as a file's matrices are.
// A file's tensors get their fates from plan_tensors() (tensor_fates.h): the
// matrices to quantize (3-D stacked experts split per expert), and the rest.
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "lutc/model/tensor_fates.h"

namespace lutc {

class WeightFile;

struct MatrixEntry {
  std::string name;
  uint32_t rows = 0, cols = 0;
  std::string source;          // tensor name in the file (differs for expert slices)
  int64_t expert = -1;         // slice of a 3-D stacked expert tensor, or -1
  bool routed_expert = false;  // such a slice: it gets the routed-expert role
};

// A caller's matrix: row-major fp32, rows x cols, valid while the source is.
struct ArrayMatrix {
  std::string name;
  uint32_t rows = 0, cols = 0;
  const float* data = nullptr;
};

class MatrixSource {
 public:
  // Throws Error(kUsage) for a malformed synth spec, Error(kBadInput/kIo) for a bad file.
  static std::unique_ptr<MatrixSource> open(const std::string& spec, const FateOptions& fates = {});
  // `spec` names the set in messages and in the .xfp metadata. Throws
  // Error(kUsage) for an empty set, an empty matrix or a repeated name.
  static std::unique_ptr<MatrixSource> from_arrays(const std::string& spec, std::vector<ArrayMatrix> arrays);
  ~MatrixSource();

  const std::string& spec() const { return spec_; }
  const std::vector<MatrixEntry>& matrices() const { return matrices_; }
  const std::vector<std::string>& skipped() const { return skipped_; }  // tensors not quantized
  // Every input tensor's fate (empty for synthetic sources).
  const std::vector<TensorPlan>& plan() const { return plan_; }
  const WeightFile* file() const { return file_.get(); }
  // Keeps only matrices whose name matches (std::regex_search).
  void filter(const std::regex& re);
  std::vector<float> load(const MatrixEntry& m) const;  // row-major fp32, NaN/Inf rejected (files and arrays)
  // The same into a buffer the caller reuses: a whole model's tensors through
  // one buffer per thread fault its pages in once, not once per tensor.
  void load_into(const MatrixEntry& m, std::vector<float>* w) const;
  const MatrixEntry* find(const std::string& name) const;

 private:
  MatrixSource() = default;
  std::string spec_;
  std::unique_ptr<WeightFile> file_;
  std::vector<MatrixEntry> matrices_;
  std::vector<std::string> skipped_;
  std::vector<TensorPlan> plan_;
  std::vector<uint64_t> synth_seeds_;  // parallel to matrices_ for synthetic sources
  std::vector<const float*> arrays_;   // parallel to matrices_ for from_arrays sources
};

}  // namespace lutc
