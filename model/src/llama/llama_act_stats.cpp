// Activation statistics from the reference forward pass (docs/sop.md "ACos
// and activation statistics"): E[x_k^2] per projection input, accumulated in
// double, written as the safetensors file `lutc quantize --act-stats` reads.
#include "lutc/model/llama_act_stats.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lutc/model/error.h"
#include "lutc/model/weights.h"

namespace lutc {

void ActivationStatsCollector::on_input(const std::string& weight, const RowMatrix& x) {
  auto it = index_.find(weight);
  if (it == index_.end()) {
    it = index_.emplace(weight, layers_.size()).first;
    layers_.push_back({weight, std::vector<double>(size_t(x.cols()), 0.0), 0});
  }
  Layer& l = layers_[it->second];
  if (l.sum_sq.size() != size_t(x.cols()))
    throw Error(ExitCode::kInternal, "projection '" + weight + "' observed with " + std::to_string(x.cols()) +
                                         " inputs after " + std::to_string(l.sum_sq.size()));
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float* row = x.row(r).data();
    for (size_t k = 0; k < l.sum_sq.size(); ++k) l.sum_sq[k] += double(row[k]) * double(row[k]);
  }
  l.positions += uint64_t(x.rows());
}

const ActivationStatsCollector::Layer* ActivationStatsCollector::find(const std::string& weight) const {
  auto it = index_.find(weight);
  return it == index_.end() ? nullptr : &layers_[it->second];
}

std::vector<double> ActivationStatsCollector::mean_sq(const Layer& l) const {
  if (l.positions == 0) return {};
  std::vector<double> m(l.sum_sq.size());
  for (size_t k = 0; k < m.size(); ++k) m[k] = l.sum_sq[k] / double(l.positions);
  return m;
}

size_t ActivationStatsCollector::write(const std::string& path,
                                       const std::map<std::string, std::string>& metadata) const {
  std::vector<std::vector<float>> values;
  std::vector<NamedMatrix> tensors;
  values.reserve(layers_.size());
  for (const Layer& l : layers_) {
    if (l.positions == 0) continue;
    const std::vector<double> m = mean_sq(l);
    values.emplace_back(m.begin(), m.end());
  }
  size_t v = 0;
  for (const Layer& l : layers_) {
    if (l.positions == 0) continue;
    tensors.push_back({l.name, {uint64_t(l.sum_sq.size())}, values[v++].data()});
  }
  if (tensors.empty())
    throw Error(ExitCode::kBadInput, "no projection was observed: nothing to write to '" + path + "'");
  write_safetensors(path, tensors, metadata);
  return tensors.size();
}

std::vector<std::vector<int32_t>> read_token_file(const std::string& path, uint32_t vocab, uint32_t seq_len) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ExitCode::kIo, "cannot read tokens file '" + path + "': " + std::strerror(errno));
  std::vector<std::vector<int32_t>> seqs;
  std::string line;
  long long line_no = 0;
  const auto where = [&](const std::string& token) {
    return "tokens file '" + path + "', line " + std::to_string(line_no) +
           (token.empty() ? "" : ", token '" + token + "'");
  };
  while (std::getline(f, line)) {
    ++line_no;
    std::istringstream words(line);
    std::vector<int32_t> seq;
    std::string w;
    while (words >> w) {
      errno = 0;
      char* end = nullptr;
      const long long id = std::strtoll(w.c_str(), &end, 10);
      if (end == w.c_str() || *end != '\0' || errno == ERANGE)
        throw Error(ExitCode::kBadInput, where(w) + ": not an integer token id");
      if (id < 0 || id >= (long long)vocab)
        throw Error(ExitCode::kBadInput,
                    where(w) + ": token id outside the model's vocabulary [0, " + std::to_string(vocab) + ")");
      seq.push_back(int32_t(id));
    }
    if (seq.empty()) continue;
    if (seq.size() > seq_len)
      throw Error(ExitCode::kBadInput, where("") + ": " + std::to_string(seq.size()) +
                                           " tokens, more than the model's seq_len " + std::to_string(seq_len) +
                                           " (split it over several lines)");
    seqs.push_back(std::move(seq));
  }
  if (f.bad()) throw Error(ExitCode::kIo, "cannot read tokens file '" + path + "': " + std::strerror(errno));
  if (seqs.empty()) throw Error(ExitCode::kBadInput, "tokens file '" + path + "' holds no token id");
  return seqs;
}

void collect_activation_stats(const LlamaModel& m, const std::vector<std::vector<int32_t>>& sequences,
                              ActivationStatsCollector& collector) {
  for (const auto& s : sequences) m.forward_all(s, &collector);
}

}  // namespace lutc
