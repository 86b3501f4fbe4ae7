// What a program costs in memory is what it addresses: the .lutp header's
// shape must be the one its code stores and reads (a crafted rows = 2^28
// would otherwise allocate gigabytes), and the executor sizes its memories
// by the program's footprint, not by the arch's capacity.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/compiler/memory_footprint.h"
#include "lutc/model/error.h"
#include "lutc/spec/meta_record.h"
#include "lutc/spec/outlier_record.h"
#include "parity_check.h"
#include "test_data.h"

namespace lutc {
namespace {

using testing::arch_with;
using testing::compiled_schemes;
using testing::quantize_for_test;
using testing::random_weights;

QuantizedLayer random_layer(std::mt19937_64& rng, Scheme s, uint32_t rows, uint32_t cols) {
  const std::vector<float> w = random_weights(rows, cols, rng);
  return quantize_for_test(s, "blk.0.rand", w.data(), rows, cols, 64);
}

void expect_refused(const Program& crafted, const std::vector<std::string>& needles) {
  const std::vector<uint8_t> b = serialize_lutp(crafted);
  try {
    parse_lutp(b.data(), b.size(), "crafted.lutp");
    FAIL() << "a program whose header disagrees with its code was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(ProgramMemory, HeaderRowsPastWhatTheCodeStoresAreRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 1 + rng() % 70, cols = 1 + rng() % 300;
  const Program p = compile_layer(random_layer(rng, Scheme::kInt4G128, rows, cols), default_arch());
  Program crafted = p;
  crafted.meta.rows = 1u << 28;  // 1.4 GB of outputs and row flags for a small layer
  expect_refused(crafted, {"crafted.lutp", "rows = 268435456", "[0, " + std::to_string(rows) + ")"});
  crafted.meta.rows = rows + 1;  // one row no STORE writes
  expect_refused(crafted, {"rows = " + std::to_string(rows + 1), "[0, " + std::to_string(rows) + ")"});
}

TEST(ProgramMemory, HeaderColsPastWhatTheCodeReadsAreRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 1 + rng() % 70, cols = 1 + rng() % 300;
  Program crafted = compile_layer(random_layer(rng, Scheme::kInt4G128, rows, cols), default_arch());
  crafted.meta.cols = 1u << 30;
  expect_refused(crafted, {"cols = 1073741824", "[0, " + std::to_string(cols) + ")"});
}

TEST(ProgramMemory, CompiledProgramsStillVerifyForEveryScheme) {
  std::mt19937_64 rng(testing::fresh_seed());
  const ArchConfig small =
      arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "sram.weight_kib=1", "sram.act_kib=1"});
  for (Scheme s : compiled_schemes()) {
    for (const ArchConfig& arch : {default_arch(), small}) {
      const uint32_t rows = 1 + rng() % 70, cols = 1 + rng() % 400;
      const std::vector<float> w = random_weights(rows, cols, rng);
      const QuantizedLayer l =
          s == Scheme::kSop ? testing::quantize_sop_for_test(testing::kSopTestFormat, "rand", w.data(), rows, cols)
                            : quantize_for_test(s, "rand", w.data(), rows, cols, 64);
      const std::vector<uint8_t> b = serialize_lutp(compile_layer(l, arch));
      EXPECT_NO_THROW(parse_lutp(b.data(), b.size(), "legal.lutp")) << scheme_name(s) << " " << rows << "x" << cols;
    }
  }
}

TEST(ProgramMemory, ExecutorAllocatesWhatTheProgramTouchesNotTheArch) {
  std::mt19937_64 rng(testing::fresh_seed());
  // One tile at the maxima; with 4 lanes many double-buffered tiles, whose
  // second buffers sit at half of each memory's capacity.
  for (const ArchConfig& arch : {testing::arch_at_maxima(), testing::arch_at_maxima({"core.lanes=4"})}) {
    const uint64_t capacity = arch.weight_sram_bytes() + arch.act_sram_bytes() + 4 * arch.lut_words();
    for (Scheme s : {Scheme::kXfpV2, Scheme::kInt4G128}) {
      const QuantizedLayer l = random_layer(rng, s, 64, 64);
      const uint32_t batch = 1 + rng() % 4;
      testing::expect_parity(l, arch, batch, rng);  // still bit-identical to the golden GEMV
      const Program p = compile_layer(l, arch);
      const std::vector<float> x = testing::random_x(batch, l.cols, rng);
      std::vector<float> y(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
      ExecStats st;
      execute(p, x.data(), batch, y.data(), &st);
      SCOPED_TRACE(std::string(scheme_name(s)) + " with " + std::to_string(arch.lanes) + " lanes, batch " +
                   std::to_string(batch));
      EXPECT_GT(st.memory_bytes, 0u);
      EXPECT_LE(st.memory_bytes, testing::program_memory_bound(p, batch));
      EXPECT_LT(st.memory_bytes, capacity / 1000) << "the arch holds " << capacity << " B";
    }
  }
}

TEST(ProgramMemory, FootprintPacksBothBuffersOfADoubleBufferedProgram) {
  std::mt19937_64 rng(testing::fresh_seed());
  const ArchConfig arch = testing::arch_at_maxima({"core.lanes=4"});
  const uint32_t rows = 9 + rng() % 40, cols = 1 + rng() % 500;
  const Program p = compile_layer(random_layer(rng, Scheme::kXfpV2, rows, cols), arch);
  const MemoryFootprint f = memory_footprint(p);
  // The second buffer lies at half the capacity; only what is used is held.
  ASSERT_GE(f.weight_sram.ranges().size(), 2u);
  EXPECT_LT(f.weight_sram.ranges().front().second, arch.weight_sram_bytes() / 2);
  EXPECT_GE(f.weight_sram.ranges().back().first, arch.weight_sram_bytes() / 2);
  EXPECT_LT(f.weight_sram.size(), 1u << 20);
  EXPECT_LE(f.act_sram.size(), 2ull * cols * (arch.act_bits / 8));
  EXPECT_EQ(f.lanes, 4u);
  EXPECT_LE(f.lut_slots.size(), p.lut_image.size());
  // Every static range of the code is one span of the packed layout.
  for (const auto& [lo, hi] : f.weight_sram.ranges()) {
    EXPECT_NE(f.weight_sram.find(lo, hi - lo), AddressMap::kUnmapped);
    EXPECT_EQ(f.weight_sram.find(hi, 1), AddressMap::kUnmapped);
  }
}

// The footprint comes from the verifier's checks (verify_and_map_program); it
// must be the ranges docs/isa.md gives each instruction, recomputed here from
// the operands: DMA_IN's destination, a tile's indices, metadata and
// activations, OUTLIER's records; the lanes of tiles and STOREs; the LUT
// words and base registers of the image.
MemoryFootprint footprint_from_the_isa_doc(const Program& p) {
  namespace F = isa::fields;
  MemoryFootprint f;
  for (const LutRecord& r : p.lut_image) {
    f.lut_banks = std::max(f.lut_banks, r.bank + 1);
    f.lut_words.add(r.addr, r.words.size());
    f.lut_slots.add(uint64_t(r.addr / p.entries()) * p.arch.lut_banks + r.bank, 1);
  }
  uint32_t meta_format = 0;
  for (const isa::Instruction& in : p.code) {
    const auto& a = in.f;
    if (in.op == isa::Op::CFG && a[F::CFG::reg] == uint32_t(isa::CfgReg::META)) meta_format = a[F::CFG::value];
    if (in.op == isa::Op::DMA_IN)
      (a[F::DMA_IN::seg] == uint32_t(isa::Segment::ACT) ? f.act_sram : f.weight_sram)
          .add(a[F::DMA_IN::dst], a[F::DMA_IN::bytes]);
    if (in.op == isa::Op::DECODE_MAC) {
      using D = F::DECODE_MAC;
      const uint64_t rows = a[D::rows], cols = a[D::cols], k0 = a[D::k0], g = p.meta.group;
      const uint64_t groups = (k0 + cols - 1) / g - k0 / g + 1;  // groups the chunk [k0, k0+cols) touches
      f.weight_sram.add(a[D::idx], (rows * cols * p.meta.bits + 7) / 8);
      f.weight_sram.add(a[D::meta], rows * groups * meta_record_bytes(meta_format));
      f.act_sram.add(a[D::act], cols * (p.arch.act_bits / 8));
      f.lanes = std::max(f.lanes, uint32_t(rows));
    }
    if (in.op == isa::Op::OUTLIER)
      f.weight_sram.add(a[F::OUTLIER::addr], uint64_t(a[F::OUTLIER::count]) * kOutlierRecordBytes);
    if (in.op == isa::Op::STORE) f.lanes = std::max(f.lanes, a[F::STORE::rows]);
  }
  return f;
}

TEST(ProgramMemory, FootprintIsEachInstructionsDocumentedRanges) {
  std::mt19937_64 rng(testing::fresh_seed());
  const ArchConfig small =
      arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "sram.weight_kib=1", "sram.act_kib=1"});
  for (Scheme s : compiled_schemes()) {
    for (const ArchConfig& arch : {default_arch(), small, testing::arch_at_maxima({"core.lanes=4"})}) {
      const uint32_t rows = 1 + rng() % 70, cols = 1 + rng() % 400;
      const std::vector<float> w = random_weights(rows, cols, rng);
      const QuantizedLayer l =
          s == Scheme::kSop ? testing::quantize_sop_for_test(testing::kSopTestFormat, "rand", w.data(), rows, cols)
                            : quantize_for_test(s, "rand", w.data(), rows, cols, 64);
      const Program p = compile_layer(l, arch);
      SCOPED_TRACE(std::string(scheme_name(s)) + " " + std::to_string(rows) + "x" + std::to_string(cols));
      const MemoryFootprint got = memory_footprint(p), want = footprint_from_the_isa_doc(p);
      EXPECT_EQ(got.weight_sram.ranges(), want.weight_sram.ranges());
      EXPECT_EQ(got.act_sram.ranges(), want.act_sram.ranges());
      EXPECT_EQ(got.lut_words.ranges(), want.lut_words.ranges());
      EXPECT_EQ(got.lut_slots.ranges(), want.lut_slots.ranges());
      EXPECT_EQ(got.lut_banks, want.lut_banks);
      EXPECT_EQ(got.lanes, want.lanes);
    }
  }
}

// The footprint is read off the verifier, so a program the verifier refuses
// has none: a tile reading past the weight SRAM is refused, not mapped.
TEST(ProgramMemory, FootprintOfAnUnverifiableProgramIsRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  Program p = compile_layer(random_layer(rng, Scheme::kXfpV2, 8 + rng() % 20, 64 + rng() % 200), default_arch());
  for (isa::Instruction& in : p.code)
    if (in.op == isa::Op::DECODE_MAC) in.f[isa::fields::DECODE_MAC::idx] = uint32_t(p.arch.weight_sram_bytes());
  try {
    memory_footprint(p);
    FAIL() << "a tile past the weight SRAM was mapped";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("indices"), std::string::npos) << e.what();
  }
}

TEST(ProgramMemory, AddressMapMergesAndPacksRanges) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint64_t base = rng() % 1000;
  AddressMap m;
  m.add(base + 100, 10);
  m.add(base, 5);
  m.add(base + 105, 20);  // overlaps the first: [100, 125)
  m.add(base + 5, 3);     // touches [0, 5): [0, 8)
  m.add(base + 200, 0);   // nothing
  ASSERT_EQ(m.ranges().size(), 2u);
  EXPECT_EQ(m.size(), 8u + 25u);
  EXPECT_EQ(m.find(base, 8), 0u);
  EXPECT_EQ(m.find(base + 100, 25), 8u);
  EXPECT_EQ(m.find(base + 110, 1), 18u);
  EXPECT_EQ(m.find(base + 6, 3), AddressMap::kUnmapped);  // runs past [0, 8)
  EXPECT_EQ(m.find(base + 50, 1), AddressMap::kUnmapped);
  PackedMemory<uint8_t> mem(2);
  AddressMap first;
  first.add(base + 100, 25);
  mem.cover(first);
  mem.span(1, base + 110, 1)[0] = 7;
  mem.cover(m);  // grows in front of it: the byte moves with its address
  EXPECT_EQ(mem.at(1, base + 110), 7);
  EXPECT_EQ(mem.at(0, base + 110), 0);
  EXPECT_EQ(mem.at(1, base + 50), 0);  // never mapped: zero
  EXPECT_EQ(mem.allocated_bytes(), 2 * m.size());
}

}  // namespace
}  // namespace lutc
