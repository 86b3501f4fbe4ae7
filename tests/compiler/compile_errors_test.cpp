// Layers that cannot be lowered for an arch fail with the layer and the constraint named.
#include <gtest/gtest.h>

#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/model/error.h"
#include "lutc/model/npy.h"
#include "test_data.h"

namespace lutc {
namespace {

void expect_compile_error(const QuantizedLayer& l, const ArchConfig& a, const std::string& needle) {
  try {
    compile_layer(l, a);
    FAIL() << "compiled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("'" + l.name + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(CompileErrors, CodebookLargerThanALutBank) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = testing::random_weights(4, 64, rng);
  const QuantizedLayer l = testing::quantize_for_test(Scheme::kFp8E4M3, "blk.0.fp8", w.data(), 4, 64);
  expect_compile_error(l, testing::arch_with({"lut.bank_words=128"}), "larger than a LUT bank");
}

TEST(CompileErrors, LibraryLargerThanTheLut) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = testing::random_weights(4, 256, rng);
  const QuantizedLayer l = testing::quantize_for_test(Scheme::kXfpV2a, "blk.3.v2a", w.data(), 4, 256);
  expect_compile_error(l, testing::arch_with({"lut.banks=1", "lut.bank_words=64"}), "codebooks of 16 entries");
}

TEST(CompileErrors, AccumulatorTooNarrow) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = testing::random_weights(4, 4096, rng);
  const QuantizedLayer l = testing::quantize_for_test(Scheme::kXfpV2, "blk.1.wide", w.data(), 4, 4096);
  expect_compile_error(l, testing::arch_with({"core.acc_bits=32"}), "core.acc_bits");
}

TEST(CompileErrors, PerRowCodebooksThatFitNoLutBuffer) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = testing::random_weights(2, 64, rng);
  QuantizedLayer l = testing::quantize_for_test(Scheme::kXfpV2, "blk.2.v2", w.data(), 2, 64);
  // 64 KiB-entry codebooks cannot exist (8-bit codes give 256), so force a
  // per-group LUT too small for even one row's book: 256 entries, 1 bank of 256
  // words holds exactly one book; double buffering needs two.
  l.bits = 8;
  l.codebooks.assign(size_t(2) * 256, 0);
  l.indices.assign(2 * 64, 0);
  expect_compile_error(l, testing::arch_with({"lut.banks=1", "lut.bank_words=256"}), "codebooks in the LUT");
}

TEST(Npy, RoundTripAndStrictErrors) {
  const std::string dir = testing::temp_dir();
  const float v[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
  write_npy(dir + "/a.npy", {2, 3}, v);
  const NpyArray a = read_npy(dir + "/a.npy");
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(a.data, std::vector<float>(v, v + 6));
  write_npy(dir + "/b.npy", {6}, v);
  EXPECT_EQ(read_npy(dir + "/b.npy").shape, (std::vector<uint64_t>{6}));
  const uint16_t h[2] = {0x3f80, 0xc000};  // bf16 1.0, -2.0
  write_npy_bf16(dir + "/c.npy", {2}, h);
  const NpyArray c = read_npy(dir + "/c.npy");
  EXPECT_TRUE(c.from_bf16);
  EXPECT_EQ(c.data, (std::vector<float>{1.0f, -2.0f}));
  // Truncated at every offset: always kBadInput naming the file.
  std::FILE* f = std::fopen((dir + "/a.npy").c_str(), "rb");
  std::vector<uint8_t> bytes(4096);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f));
  std::fclose(f);
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      parse_npy(bytes.data(), n, "t.npy");
      FAIL() << "accepted a cut at " << n;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ExitCode::kBadInput);
      ASSERT_NE(std::string(e.what()).find("t.npy"), std::string::npos);
    }
  }
  std::string hdr(bytes.begin(), bytes.end());
  const size_t at = hdr.find("<f4");
  std::vector<uint8_t> f8 = bytes;
  f8[at + 2] = '8';
  EXPECT_THROW(parse_npy(f8.data(), f8.size(), "t.npy"), Error);
}

}  // namespace
}  // namespace lutc
