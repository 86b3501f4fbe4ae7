#pragma once
// fp16 codebooks against sorted runs: rounding fitted centers, scoring a run
// against a codebook from prefix sums, and assigning codes (nearest entry,
// ties to the lower index) — one rule shared by the fit, the estimate and
// the encoder so that estimates and stored codes agree.
#include <cstdint>
#include <vector>

#include "core/kmeans1d.h"

namespace lutc::xfp {

// Rounds ascending centers to fp16 (saturating at +-65504); stays ascending.
void round_codebook(const double* centers, unsigned k, uint16_t* out);
void codebook_values(const uint16_t* cb, unsigned k, double* out);

struct Score {
  double sse = 0;  // sum (v - entry)^2
  double dot = 0;  // sum v * entry
  double hh = 0;   // sum entry^2
};
// Values [lo, hi) of the run against ascending entries e[0..k).
Score score_range(const Run& r, uint32_t lo, uint32_t hi, const double* e, unsigned k);

// Code of every value of the run: codes[perm[i] - col0] = nearest entry.
void assign_codes(const Run& r, const uint32_t* perm, const double* e, unsigned k, uint8_t* row_codes);

// The same codes from the values themselves, in column order (no sorted run
// or permutation needed): code = how many of the k - 1 midpoints lie below the
// value. Worth it for small k, where the compares vectorize.
void assign_codes_by_value(const float* x, uint32_t n, const double* e, unsigned k, uint8_t* codes);

}  // namespace lutc::xfp
