#pragma once
// Shared checks for the XFP quantizer tests.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "lutc/model/golden.h"
#include "lutc/model/layer.h"
#include "lutc/model/metrics.h"
#include "lutc/model/synth.h"
#include "xfp/xfp_encode.h"

namespace lutc::xfp_test {

inline std::vector<float> llm_like(uint32_t rows, uint32_t cols, uint64_t seed, double dead_frac = 0.0) {
  SynthSpec s;
  s.rows = rows;
  s.cols = cols;
  s.seed = seed;
  s.dead_row_frac = dead_frac;
  return synth_matrix(s);
}

// The golden decode, checked bit for bit against the quantizer's own
// reconstruction (the one it verifies floors with).
inline std::vector<float> decode_checked(const QuantizedLayer& l) {
  std::vector<float> gold(l.elements()), mine(l.elements());
  golden_decode(l, gold.data());
  xfp::xfp_reconstruct_rows(l, 0, l.rows, mine.data());
  EXPECT_EQ(0, std::memcmp(gold.data(), mine.data(), gold.size() * sizeof(float)))
      << "quantizer reconstruction differs from golden_decode";
  return gold;
}

inline void expect_csr_valid(const QuantizedLayer& l) {
  const OutlierCsr& o = l.outliers;
  if (o.row_ptr.empty()) {
    EXPECT_EQ(o.count(), 0u);
    return;
  }
  ASSERT_EQ(o.row_ptr.size(), size_t(l.rows) + 1);
  ASSERT_EQ(o.col.size(), o.val.size());
  EXPECT_EQ(o.row_ptr[0], 0u);
  EXPECT_EQ(o.row_ptr[l.rows], o.col.size());
  for (uint32_t r = 0; r < l.rows; ++r) {
    ASSERT_LE(o.row_ptr[r], o.row_ptr[r + 1]);
    for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i) {
      EXPECT_LT(o.col[i], l.cols);
      if (i > o.row_ptr[r]) {
        EXPECT_LT(o.col[i - 1], o.col[i]) << "row " << r;
      }
    }
  }
}

}  // namespace lutc::xfp_test
