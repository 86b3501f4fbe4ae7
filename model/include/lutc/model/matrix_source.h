#pragma once
// Where the matrices to quantize come from: a weight file (safetensors or
// llama2.c) or the built-in synthetic generator, named by one input spec:
//   path/to/model.safetensors | path/to/model.bin
//   synth:default              the seeded LLM-shaped set (4096x4096, 11008x4096)
//   synth:NxK[,NxK...][@SEED]  synthetic matrices of the given shapes
// Only 2-D tensors of a float dtype are weight matrices; the rest are listed as skipped.
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace lutc {

class WeightFile;

struct MatrixEntry {
  std::string name;
  uint32_t rows = 0, cols = 0;
};

class MatrixSource {
 public:
  // Throws Error(kUsage) for a malformed synth spec, Error(kBadInput/kIo) for a bad file.
  static std::unique_ptr<MatrixSource> open(const std::string& spec);
  ~MatrixSource();

  const std::string& spec() const { return spec_; }
  const std::vector<MatrixEntry>& matrices() const { return matrices_; }
  const std::vector<std::string>& skipped() const { return skipped_; }  // non-2-D or non-float tensors
  // Keeps only matrices whose name matches (std::regex_search).
  void filter(const std::regex& re);
  std::vector<float> load(const MatrixEntry& m) const;  // row-major fp32, NaN/Inf rejected
  const MatrixEntry* find(const std::string& name) const;

 private:
  MatrixSource() = default;
  std::string spec_;
  std::unique_ptr<WeightFile> file_;
  std::vector<MatrixEntry> matrices_;
  std::vector<std::string> skipped_;
  std::vector<uint64_t> synth_seeds_;  // parallel to matrices_ for synthetic sources
};

}  // namespace lutc
