// verify_program (verify_program.h) on its own: every compiled program of
// random layers passes, and a program with one field made wrong is refused
// with Error(kBadInput) naming the origin, whatever the field.
#include "lutc/compiler/verify_program.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

std::string refusal(const Program& p) {
  try {
    verify_program(p, "mutant.lutp");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    return e.what();
  }
  return "";
}

// The index of the first instruction with opcode `op`, or -1.
int find_op(const Program& p, isa::Op op) {
  for (size_t i = 0; i < p.code.size(); ++i)
    if (p.code[i].op == op) return int(i);
  return -1;
}

TEST(VerifyProgram, CompiledProgramsPassAndEachMutationIsRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  namespace F = isa::fields;
  // Each mutation breaks one rule of docs/isa.md; `needle` is in its message.
  struct Mutation {
    const char* what;
    const char* needle;
    std::function<bool(Program&)> apply;  // false: not applicable to this program
  };
  const std::vector<Mutation> mutations = {
      {"END removed", "END",
       [](Program& p) {
         p.code.pop_back();
         return true;
       }},
      {"an instruction after END", "after END",
       [](Program& p) {
         p.code.push_back(p.code.back());
         return true;
       }},
      {"BOOK_SELECT 3", "BOOK_SELECT",
       [](Program& p) {
         for (auto& in : p.code)
           if (in.op == isa::Op::CFG && in.f[F::CFG::reg] == uint32_t(isa::CfgReg::BOOK_SELECT)) {
             in.f[F::CFG::value] = 3;
             return true;
           }
         return false;
       }},
      {"SYNC with an unknown unit", "SYNC mask",
       [](Program& p) {
         const int i = find_op(p, isa::Op::SYNC);
         if (i < 0) return false;
         p.code[i].f[F::SYNC::mask] |= 8;
         return true;
       }},
      {"DMA_IN past its segment", "",
       [](Program& p) {
         const int i = find_op(p, isa::Op::DMA_IN);
         if (i < 0) return false;
         p.code[i].f[F::DMA_IN::src] = 0xfffffff0u;
         return true;
       }},
      {"LUT_LOAD past the LUT image", "",
       [](Program& p) {
         const int i = find_op(p, isa::Op::LUT_LOAD);
         if (i < 0) return false;
         p.code[i].f[F::LUT_LOAD::count] = uint32_t(p.lut_image.size()) + 1;
         return true;
       }},
      {"a LUT record outside the banks", "lut.banks",
       [](Program& p) {
         if (p.lut_image.empty()) return false;
         p.lut_image[0].bank = p.arch.lut_banks;
         return true;
       }},
      {"a header wider than the accumulator", "accumulator",
       [](Program& p) {
         p.meta.acc_bits_needed = p.arch.acc_bits + 1;
         return true;
       }},
  };
  size_t applied = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const std::vector<Scheme> schemes = testing::compiled_schemes();
    const Scheme s = schemes[rng() % schemes.size()];
    const uint32_t rows = 1 + uint32_t(rng() % 40), cols = 16 + uint32_t(rng() % 300);
    const std::vector<float> w = testing::random_weights(rows, cols, rng);
    const QuantizedLayer l = testing::quantize_for_test(s, "blk.0.v", w.data(), rows, cols, 0);
    const Program p = compile_layer(l, testing::arch_with({"core.lanes=8", "sram.weight_kib=4"}));
    ASSERT_EQ(refusal(p), "") << scheme_name(s);
    for (const Mutation& m : mutations) {
      Program bad = p;
      if (!m.apply(bad)) continue;
      ++applied;
      const std::string why = refusal(bad);
      EXPECT_NE(why, "") << scheme_name(s) << ": accepted " << m.what;
      EXPECT_NE(why.find("mutant.lutp"), std::string::npos) << m.what << ": " << why;
      EXPECT_NE(why.find(m.needle), std::string::npos) << m.what << ": " << why;
    }
  }
  EXPECT_GE(applied, 8u * 5);
}

}  // namespace
}  // namespace lutc
