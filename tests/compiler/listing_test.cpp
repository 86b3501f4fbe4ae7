// Golden listings of small layers, derived by hand from docs/hif.md and
// docs/isa.md (see the comments for each line), and a hand-computed y.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/listing.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/fp16.h"

namespace lutc {
namespace {

// xfp.v2, 2 x 4, 2-bit codes, one codebook per row.
QuantizedLayer tiny_v2() {
  QuantizedLayer l;
  l.name = "tiny";
  l.rows = 2;
  l.cols = 4;
  l.scheme = Scheme::kXfpV2;
  l.bits = 2;
  l.group = 4;
  const float books[8] = {-0.5f, 0.0f, 0.25f, 1.0f, 0.125f, -0.375f, 0.5f, 2.0f};
  for (float v : books) l.codebooks.push_back(float_to_half(v));
  const uint8_t codes[8] = {0, 1, 2, 3, 3, 2, 1, 0};
  l.indices.resize(packed_bytes(8, 2));
  pack_indices(codes, 8, 2, l.indices.data());
  return l;
}

std::string hash_text(const ArchConfig& a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", (unsigned long long)arch_hash(a));
  return buf;
}

TEST(Listing, TinyXfpV2) {
  const ArchConfig arch = testing::arch_with({"core.lanes=2", "lut.banks=2", "lut.bank_words=8"});
  const Program p = compile_layer(tiny_v2(), arch);
  // Row 0 book {-0.5, 0, 0.25, 1}: largest msb 0 -> base 0 - 10 = -10; each
  // entry takes the largest shift with mant < 2^11. Row 1 {0.125, -0.375,
  // 0.5, 2}: msb 1 -> base -9. Weights: min lsb -3 (0.125, 0.375), so Ew = -3;
  // |w_int| sums 14 and 24, 24 * 32767 needs 20 bits + sign = 21.
  // Indices: row 0 codes 0,1,2,3 -> byte 0xe4, row 1 codes 3,2,1,0 -> 0x1b.
  const std::string want =
      "; lutp version 1, layer 'tiny', xfp.v2, 2 x 4, 2-bit codes, group 4\n"
      "; arch " +
      hash_text(arch) +
      ": 2 lanes, LUT 2 x 8 words, HIF mant 11 shift 5, act 16 bits, acc 96 bits\n"
      "; tiles of 2 x 4, weight_exp -3, accumulator needs 21 bits\n"
      "; segments: INDICES 2, META 0, OUTLIERS 0 bytes\n"
      "lut image (2 records; word = sign mant >> shift, value = mant * 2^(base - shift))\n"
      "     0  bank 0 addr 0 base -10: -1024>>1 +0>>0 +1024>>2 +1024>>0\n"
      "     1  bank 1 addr 0 base -9: +1024>>4 -1536>>3 +1024>>2 +1024>>0\n"
      "code (13 instructions)\n"
      "     0  CFG        SCHEME = 1\n"
      "     1  CFG        BITS = 2\n"
      "     2  CFG        GROUP = 4\n"
      "     3  CFG        BOOK_SELECT = 1\n"
      "     4  CFG        META = 0\n"
      "     5  CFG        WEIGHT_EXP = -3\n"
      "     6  DMA_IN     seg=INDICES src=0 dst=0 bytes=2\n"
      "     7  DMA_IN     seg=ACT src=0 dst=0 bytes=8\n"
      "     8  LUT_LOAD   first=0 count=2\n"
      "     9  SYNC       mask=3\n"
      "    10  DECODE_MAC rows=2 cols=4 k0=0 idx=0 meta=8 slot0=0 act=0\n"
      "    11  STORE      row0=0 rows=2\n"
      "    12  END\n";
  EXPECT_EQ(program_listing(p), want);
  EXPECT_EQ(p.segments[1], (std::vector<uint8_t>{0xe4, 0x1b}));
}

TEST(Listing, TinyXfpV2ComputesTheHandResult) {
  const Program p = compile_layer(tiny_v2(), testing::arch_with({"core.lanes=2", "lut.banks=2", "lut.bank_words=8"}));
  // W = [[-0.5, 0, 0.25, 1], [2, 0.5, -0.375, 0.125]], x = [1, 2, 3, 4] (exact in bf16 and at ea = -12).
  const float x[4] = {1, 2, 3, 4};
  float y[2] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::quiet_NaN()};
  execute(p, x, 1, y);
  EXPECT_EQ(y[0], 4.25f);
  EXPECT_EQ(y[1], 2.375f);
}

TEST(Listing, TwoTilesDoubleBufferedNf4) {
  // nf4.b64, 2 x 3 with 1 lane: two row tiles, so tile 1's DMA goes to the
  // second weight-SRAM half (256 KiB / 2 = 131072) before tile 0 runs. The NF4
  // table is loaded once into slot 0. Metadata: one fp16 absmax per row.
  QuantizedLayer l;
  l.name = "n";
  l.rows = 2;
  l.cols = 3;
  l.scheme = Scheme::kNf4B64;
  l.bits = 4;
  l.group = 64;
  for (unsigned i = 0; i < 16; ++i) l.codebooks.push_back(nf4_level_fp16(i));
  l.group_scales = {float_to_half(1.0f), float_to_half(0.5f)};
  const uint8_t codes[6] = {15, 7, 0, 8, 9, 10};
  l.indices.resize(packed_bytes(6, 4));
  pack_indices(codes, 6, 4, l.indices.data());
  const Program p = compile_layer(l, testing::arch_with({"core.lanes=1"}));
  std::string code;
  for (size_t i = 0; i < p.code.size(); ++i) code += instruction_text(p.code[i]) + "\n";
  EXPECT_EQ(code,
            "CFG        SCHEME = 5\n"
            "CFG        BITS = 4\n"
            "CFG        GROUP = 64\n"
            "CFG        BOOK_SELECT = 0\n"
            "CFG        META = 2\n"
            "CFG        WEIGHT_EXP = " +
                std::to_string(p.meta.weight_exp) +
                "\n"
                "LUT_LOAD   first=0 count=1\n"
                "DMA_IN     seg=INDICES src=0 dst=0 bytes=2\n"  // 3 codes x 4 bits
                "DMA_IN     seg=META src=0 dst=8 bytes=2\n"     // one fp16 scale after 8-aligned indices
                "DMA_IN     seg=ACT src=0 dst=0 bytes=6\n"      // 3 x 16-bit activations, once
                "SYNC       mask=3\n"
                "DMA_IN     seg=INDICES src=2 dst=131072 bytes=2\n"
                "DMA_IN     seg=META src=2 dst=131080 bytes=2\n"
                "DECODE_MAC rows=1 cols=3 k0=0 idx=0 meta=8 slot0=0 act=0\n"
                "STORE      row0=0 rows=1\n"
                "SYNC       mask=3\n"
                "DECODE_MAC rows=1 cols=3 k0=0 idx=131072 meta=131080 slot0=0 act=0\n"
                "STORE      row0=1 rows=1\n"
                "END\n");
}

}  // namespace
}  // namespace lutc
