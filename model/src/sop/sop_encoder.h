#pragma once
// Encoding one SOP block: pick the codebook (of a pair), the sign and the
// scale code with the lowest weighted squared error, then each element's
// nearest decoded value (docs/sop.md "Encoding a block").
#include <cstdint>
#include <vector>

#include "lutc/model/sop.h"

namespace lutc::sop {

constexpr uint32_t kMaxBlock = 64;  // the largest SOP block

// A codebook ready for nearest-value search.
struct PreparedCodebook {
  std::vector<uint16_t> fp16;        // code order, as stored
  std::vector<float> sorted;         // distinct values, ascending
  std::vector<uint8_t> sorted_code;  // a code for each sorted value
  std::vector<float> mid;            // midpoints between sorted neighbours
  double pos_max = 0;                // largest positive value (0 if none)
  double neg_max = 0;                // largest |negative| value (0 if none)
  bool symmetric = false;            // negating it gives the same set: the sign bit buys nothing

  // Fast search (docs/sop.md "Implementation and speed"). The nearest sorted
  // value of t is sorted[j] with j = #{i : mid[i] < t}. Up to kCountMids
  // midpoints: t is compared with each (mid_splat). More (the 6-bit
  // codebooks): a bucket table, if one of at most 65536 buckets leaves at
  // most two compares: t maps (through an order-preserving key of its bits)
  // to bucket b = key >> bucket_shift, all of whose floats have at least
  // bucket_base[b] midpoints below them and at most bucket_base[b] +
  // bucket_span; bucket_span compares against mid_padded (mid followed by
  // +inf) finish the count. Otherwise the comparison with each midpoint.
  static constexpr size_t kCountMids = 16;
  std::vector<float> mid_splat;  // each midpoint 4 times, for the counting search
  std::vector<float> mid_padded;
  std::vector<uint8_t> bucket_base;
  unsigned bucket_shift = 0;
  unsigned bucket_span = 0;
  bool use_buckets = false;
};
PreparedCodebook prepare_codebook(const std::vector<uint16_t>& fp16);

// j[k] = #{i : mid[i] < t[k]} for t[0..n), n <= kMaxBlock, no NaN: the
// index of t's nearest sorted value (a t on a midpoint goes down).
// sop_fast_paths_test holds it to a scan over every midpoint.
void nearest_sorted(const PreparedCodebook& cb, const float* t, uint32_t n, int32_t* j);

struct BlockCode {
  uint16_t scale_code = 0;
  unsigned sel = 0;
  double error = 0;  // sum a_k (x_k - decoded_k)^2
};

class BlockEncoder {
 public:
  // b may be null (single codebook). layer_exp is the per-layer 2^e.
  BlockEncoder(const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b, int layer_exp);
  // x[0..n), n <= kMaxBlock, weights w (null: all 1); writes n codes.
  BlockCode encode(const float* x, const double* w, uint32_t n, uint8_t* codes) const;

 private:
  // One candidate: codebook, scale sign, scale magnitude code.
  struct Try {
    unsigned sel, sign, code;
  };
  // The candidates for a block spanning [xmin, xmax] in the documented
  // order; returns how many were written (at most 8).
  int list_tries(double xmax, double xmin, Try* tries) const;
  // The try's nearest sorted index j[k] and error term q[k] for every
  // element; t is scratch for n floats.
  void score_try(const Try& tr, const double* xd, const double* w, uint32_t n, float* t, int32_t* j, double* q) const;

  const SopFormat f_;
  const PreparedCodebook* cb_[2];
  int exp_;                  // in [-100, 100] (choose_layer_exp)
  double exp_scale_;         // 2^-exp
  std::vector<double> ue_;   // ue_value(code)
  std::vector<float> sv_;    // ue_value(code) * 2^exp, the decoder's scale
  std::vector<double> inv_;  // 1 / sv_
};

// The count-th largest of v (1 <= count <= v.size()), every value >= 0 (not
// NaN), so that their bits order like their values; -0 counts as +0. For
// the outlier choice: linear time, no full selection over v.
double kth_largest_nonnegative(const std::vector<double>& v, uint64_t count);

// The smallest layer exponent e with max_block_ideal_scale * 2^-e within the
// UE range, given the layer's absmax and the codebooks in play; clamped to
// the range validate() allows.
int choose_layer_exp(double amax, const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b);

}  // namespace lutc::sop
