#pragma once
// Encoding one SOP block: pick the codebook (of a pair), the sign and the
// scale code with the lowest weighted squared error, then each element's
// nearest decoded value (docs/sop.md "Encoding a block").
#include <cstdint>
#include <vector>

#include "lutc/model/sop.h"

namespace lutc::sop {

// A codebook ready for nearest-value search.
struct PreparedCodebook {
  std::vector<uint16_t> fp16;         // code order, as stored
  std::vector<float> sorted;          // distinct values, ascending
  std::vector<uint8_t> sorted_code;   // a code for each sorted value
  std::vector<float> mid;             // midpoints between sorted neighbours
  double pos_max = 0;                 // largest positive value (0 if none)
  double neg_max = 0;                 // largest |negative| value (0 if none)
  bool symmetric = false;             // negating it gives the same set: the sign bit buys nothing
};
PreparedCodebook prepare_codebook(const std::vector<uint16_t>& fp16);

struct BlockCode {
  uint16_t scale_code = 0;
  unsigned sel = 0;
  double error = 0;  // sum a_k (x_k - decoded_k)^2
};

class BlockEncoder {
 public:
  // b may be null (single codebook). layer_exp is the per-layer 2^e.
  BlockEncoder(const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b, int layer_exp);
  // x[0..n), weights w (null: all 1); writes n codes.
  BlockCode encode(const float* x, const double* w, uint32_t n, uint8_t* codes) const;

 private:
  double try_scale(const float* x, const double* w, uint32_t n, const PreparedCodebook& cb, float sv,
                   uint8_t* codes) const;
  const SopFormat f_;
  const PreparedCodebook* cb_[2];
  int exp_;
};

// The smallest layer exponent e with max_block_ideal_scale * 2^-e within the
// UE range, given the layer's absmax and the codebooks in play; clamped to
// the range validate() allows.
int choose_layer_exp(double amax, const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b);

}  // namespace lutc::sop
