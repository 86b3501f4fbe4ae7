#pragma once
// Activation statistics for ACos (docs/sop.md "ACos and activation
// statistics"): E[x_k^2] of the input of every linear projection, measured on
// the reference forward pass (llama.h) and written in the file `lutc quantize
// --act-stats` reads (one F32 vector of K values per weight tensor name).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/llama.h"

namespace lutc {

// A ProjectionObserver that sums x_k^2 per weight name in double. Weights
// that share an input (q/k/v, gate/up) each get their own copy, so every name
// the quantizer looks up is present.
class ActivationStatsCollector : public ProjectionObserver {
 public:
  struct Layer {
    std::string name;
    std::vector<double> sum_sq;  // sum over observed positions of x_k^2
    uint64_t positions = 0;      // rows observed (a MoE expert: the rows routed to it)
  };

  void on_input(const std::string& weight, const RowMatrix& x) override;

  // In the order the forward pass first reached them.
  const std::vector<Layer>& layers() const { return layers_; }
  const Layer* find(const std::string& weight) const;
  // E[x_k^2] = sum_sq / positions (empty when the weight was never reached).
  std::vector<double> mean_sq(const Layer& l) const;

  // Writes one F32 tensor of shape [K] per weight reached at least once
  // (a MoE expert no token chose has no statistics), atomically. Returns how
  // many tensors it wrote; throws Error(kBadInput) when none was reached.
  size_t write(const std::string& path, const std::map<std::string, std::string>& metadata) const;

 private:
  std::vector<Layer> layers_;
  std::map<std::string, size_t> index_;
};

// Token sequences from a text file: whitespace-separated integer token ids,
// one sequence per line; blank lines are skipped. Throws Error(kIo) when the
// file cannot be read, Error(kBadInput) naming the file, the line and the
// token for anything that is not an integer id in [0, vocab), for a line
// longer than seq_len, and when the file holds no token at all.
std::vector<std::vector<int32_t>> read_token_file(const std::string& path, uint32_t vocab, uint32_t seq_len);

// Runs forward_all() over each sequence with `collector` observing.
void collect_activation_stats(const LlamaModel& m, const std::vector<std::vector<int32_t>>& sequences,
                              ActivationStatsCollector& collector);

}  // namespace lutc
