#pragma once
// SOP (scaled outer product) block formats, docs/sop.md: blocks of B weights
// along K share one scale code; each element is a code into a 16- or
// 64-entry fp16 codebook, or into one of a pair of codebooks chosen per
// block by a selection bit in the scale code.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lutc/model/layer.h"

namespace lutc {

// ------------------------------------------------------------ codebooks

enum class SopCodebook : uint8_t { kNf4, kBof4, kSplit87, kSh4, kE2m1, kE2m3, kInt4, kInt6, kDd4 };

const char* sop_codebook_name(SopCodebook c);
bool parse_sop_codebook(const std::string& name, SopCodebook* out);
unsigned sop_codebook_bits(SopCodebook c);    // 4, or 6 for e2m3/int6
bool sop_codebook_is_dynamic(SopCodebook c);  // DD4: learned per layer
// The fixed tables as fp16 bits in code order (empty for DD4).
std::vector<uint16_t> sop_fixed_codebook(SopCodebook c);
// Every fixed 4-bit codebook, in the order the pair search tries them.
std::vector<SopCodebook> sop_fixed_4bit_codebooks();

// Weighted 1-D Lloyd on values in [-1, 1] (a histogram of 4096 bins), with
// some levels pinned. Returns `levels` ascending centroids. Used to learn
// DD4 per layer and to derive the BOF4 table (docs/sop.md).
std::vector<double> lloyd_levels(const std::vector<float>& values, const std::vector<float>& weights, unsigned levels,
                                 const std::vector<double>& init, const std::vector<double>& pinned,
                                 unsigned iterations);
// The BOF4 derivation: N(0,1) blocks of `block`, absmax-normalized, Lloyd
// weighted by absmax^2 (weight-space MSE), levels -1, 0, +1 pinned.
std::vector<double> derive_bof4(uint32_t block, uint64_t blocks, uint64_t seed);

// ------------------------------------------------------------ formats

struct SopFormat {
  SopCodebook a = SopCodebook::kE2m3;
  SopCodebook b = SopCodebook::kE2m3;  // == a unless paired
  bool paired = false;
  bool pair_search = false;      // pair(auto): the per-layer search picks a and b
  unsigned scale_mant_bits = 4;  // UE4M{2,3,4}
  bool scale_signed = false;
  uint32_t block = 16;
  double outlier_pct = 0;  // fp16 residual entries, % of elements

  std::string name() const;  // canonical, parse_sop_format(name()) == *this
  unsigned bits() const { return sop_codebook_bits(a); }
  unsigned scale_code_bits() const { return sop_scale_code_bits(scale_mant_bits, paired, scale_signed); }
  // Index bits + scale code bits / B: the bpw before codebooks, outliers and headers.
  double nominal_bpw() const { return bits() + double(scale_code_bits()) / block; }
};

// "ELEM.SCALE.bB[+oP]": ELEM = nf4|bof4|split87|sh4|e2m1|e2m3|int4|int6|dd4 or
// pair(X,Y) or pair(auto); SCALE = [s]ue4m{2,3,4}; B in {8,16,32,64}; P =
// outlier percent. Throws Error(kUsage) naming the string on anything else.
SopFormat parse_sop_format(const std::string& s);
// The documented operating points (docs/sop.md table).
std::vector<SopFormat> sop_named_points();
// Candidates the knapsack chooses from per layer (docs/sop.md).
std::vector<SopFormat> sop_knapsack_ladder();

// ------------------------------------------------------------ activation statistics

// Per-layer E[x_k^2] vectors from a safetensors file (one 1-D tensor of K
// values, or [1, K], per layer name). Values must be finite and >= 0, not all
// zero; a wrong length or a bad value is Error(kBadInput) naming file and layer.
class ActStats {
 public:
  static std::unique_ptr<ActStats> open(const std::string& path);
  ~ActStats();
  // nullptr when the file has no tensor of that name (the caller falls back
  // to plain cosine for that layer and says so).
  std::unique_ptr<std::vector<double>> find(const std::string& layer, uint32_t cols) const;
  const std::string& path() const { return path_; }

 private:
  ActStats() = default;
  std::string path_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ACos of one row: sum a w what / sqrt(sum a w^2 * sum a what^2), with a = 1
// when `a` is null (plain cosine). 1 when both are zero, 0 when one is.
double acos_row(const float* w, const float* w_hat, const double* a, uint32_t cols);

// ------------------------------------------------------------ quantizer

struct SopOptions {
  SopFormat format;
  const std::vector<double>* act = nullptr;  // E[x_k^2], length cols; null: plain cosine
  uint32_t search_rows = 256;                // rows the pair search scores candidates on (all when fewer)
};

struct SopChoice {
  SopFormat format;           // what was stored (a pair search resolves pair(auto))
  bool act_weighted = false;  // ACos with statistics, or plain cosine
  double acos_min = 1, acos_mean = 1;
  double acos_error = 0;      // sum over live rows of (1 - ACos), the selection metric
  double sel_b_fraction = 0;  // blocks that chose codebook b
  unsigned configs_tried = 0;
};

QuantizedLayer quantize_sop(const std::string& name, Role role, const float* w, uint32_t rows, uint32_t cols,
                            const SopOptions& opt, SopChoice* choice = nullptr);

// Stored bits of the layer quantize_sop would produce for `format` (exact:
// the record's size depends only on the shape, the name and the format).
uint64_t sop_stored_bits(const std::string& name, uint32_t rows, uint32_t cols, const SopFormat& f);

// ------------------------------------------------------------ knapsack

struct KnapsackItem {
  uint64_t bits = 0;
  double error = 0;
};
struct KnapsackResult {
  bool feasible = false;
  std::vector<unsigned> choice;  // one item per group
  uint64_t bits = 0;
  double error = 0;
  // error - (a lower bound on the true optimum); 0 when the DP was exact.
  double gap_bound = 0;
};
// Multiple-choice knapsack: one item per group, sum bits <= budget, minimum
// total error. Exact DP over bits discretized into at most `max_units` units
// (exact when every item's bits are multiples of the unit); docs/sop.md.
KnapsackResult solve_mckp(const std::vector<std::vector<KnapsackItem>>& groups, uint64_t budget_bits,
                          uint64_t max_units = 200000);

}  // namespace lutc
