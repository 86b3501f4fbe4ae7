// What a program costs in memory is what it addresses: the .lutp header's
// shape must be the one its code stores and reads (a crafted rows = 2^28
// would otherwise allocate gigabytes).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"
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
  const ArchConfig small = arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "sram.weight_kib=1",
                                      "sram.act_kib=1"});
  for (Scheme s : compiled_schemes()) {
    for (const ArchConfig& arch : {default_arch(), small}) {
      const uint32_t rows = 1 + rng() % 70, cols = 1 + rng() % 400;
      const std::vector<float> w = random_weights(rows, cols, rng);
      const QuantizedLayer l = s == Scheme::kSop
                                   ? testing::quantize_sop_for_test(testing::kSopTestFormat, "rand", w.data(), rows, cols)
                                   : quantize_for_test(s, "rand", w.data(), rows, cols, 64);
      const std::vector<uint8_t> b = serialize_lutp(compile_layer(l, arch));
      EXPECT_NO_THROW(parse_lutp(b.data(), b.size(), "legal.lutp")) << scheme_name(s) << " " << rows << "x" << cols;
    }
  }
}

}  // namespace
}  // namespace lutc
