// The program cache of `lutc explore`: one compile per (layer, code key)
// whatever the number of workers asking, bounded by bytes, failures cached
// with the arch they name.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/explore/program_cache.h"
#include "lutc/model/quantize.h"

namespace lutc::explore {
namespace {

QuantizedLayer layer(const std::string& name, uint32_t rows, uint32_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> w(size_t(rows) * cols);
  for (float& v : w) v = d(rng);
  return quantize_baseline(Scheme::kInt4G128, name, Role::kOther, w.data(), rows, cols);
}

ArchConfig arch(const std::string& text, const std::string& name = "a.ini") { return parse_arch(text, name); }

TEST(ProgramCache, OneCompilePerCodeKeyWhateverTheWorkersAndTimingKeys) {
  const QuantizedLayer l = layer("blk.0.q", 32, 256, 1);
  ProgramCache cache(64 << 20);
  std::vector<ProgramCache::EntryPtr> got(8);
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i)
    workers.emplace_back([&, i] {
      // Eight archs that differ only in DRAM bandwidth and clock.
      const ArchConfig a = arch("[dram]\nbytes_per_cycle=" + std::to_string(8 + i) +
                                "\n[core]\nclock_mhz=" + std::to_string(500 + i) + "\n");
      got[i] = cache.get("q", 0, l, a, /*wait=*/true);
    });
  for (auto& t : workers) t.join();
  const auto st = cache.stats();
  EXPECT_EQ(st.compiled, 1u);
  EXPECT_EQ(st.reused, 7u);
  for (const auto& e : got) {
    ASSERT_TRUE(e && e->bytes);
    EXPECT_EQ(e->bytes, got[0]->bytes);  // the same bytes, not copies
  }
  // Re-targeted, they are what compile_layer writes for each arch.
  const ArchConfig b = arch("[dram]\nbytes_per_cycle=9.5\n");
  EXPECT_EQ(retarget_lutp(*got[3]->bytes, b, "cached"), serialize_lutp(compile_layer(l, b)));
  // Another code key, another layer index, another quantization: other entries.
  cache.get("q", 0, l, arch("[core]\nlanes=8\n"), true);
  cache.get("q", 1, l, arch(""), true);
  cache.get("q2", 0, l, arch(""), true);
  EXPECT_EQ(cache.stats().compiled, 4u);
}

TEST(ProgramCache, ANonWaitingCallerGetsNothingWhileAnotherCompiles) {
  const QuantizedLayer l = layer("blk.0.big", 512, 2048, 2);
  ProgramCache cache(256 << 20);
  std::thread t([&] { cache.get("q", 0, l, arch(""), true); });
  // Until the compile is published a non-waiting lookup either finds
  // nothing (in flight) or compiles itself (first); never a second compile.
  ProgramCache::EntryPtr e;
  while (!(e = cache.get("q", 0, l, arch("[dram]\nlatency_cycles=7\n"), false))) std::this_thread::yield();
  t.join();
  EXPECT_EQ(cache.stats().compiled, 1u);
  EXPECT_TRUE(e->bytes);
}

TEST(ProgramCache, StaysUnderItsBoundLeastRecentlyUsedFirstOut) {
  const QuantizedLayer a = layer("blk.0.a", 64, 512, 3), b = layer("blk.0.b", 64, 512, 4);
  const ArchConfig x = arch("");
  const uint64_t size = serialize_lutp(compile_layer(a, x)).size();
  ProgramCache cache(size + size / 2);  // room for one
  cache.get("q", 0, a, x, true);
  cache.get("q", 0, a, x, true);  // hit
  cache.get("q", 1, b, x, true);  // evicts a
  cache.get("q", 0, a, x, true);  // compiled again, evicts b
  auto st = cache.stats();
  EXPECT_EQ(st.compiled, 3u);
  EXPECT_EQ(st.reused, 1u);
  EXPECT_EQ(st.evicted, 2u);
  EXPECT_LE(st.peak_bytes, size + size / 2);

  ProgramCache tiny(size / 2);  // nothing fits: handed out, never kept
  EXPECT_TRUE(tiny.get("q", 0, a, x, true)->bytes);
  EXPECT_TRUE(tiny.get("q", 0, a, x, true)->bytes);
  st = tiny.stats();
  EXPECT_EQ(st.compiled, 2u);
  EXPECT_EQ(st.reused, 0u);
  EXPECT_EQ(st.peak_bytes, 0u);
  EXPECT_FALSE(ProgramCache(0).enabled());
}

TEST(ProgramCache, AFailedCompileIsReusedOnlyByArchsOfTheSameName) {
  const QuantizedLayer l = layer("blk.0.f", 16, 256, 5);
  // int4.g128 books have 16 words: an 8-word LUT bank cannot hold one.
  const std::string small = "[lut]\nbank_words=8\n";
  ProgramCache cache(64 << 20);
  const auto e1 = cache.get("q", 0, l, arch(small, "edge.ini"), true);
  ASSERT_FALSE(e1->bytes);
  EXPECT_EQ(e1->code, ExitCode::kBadInput);
  EXPECT_NE(e1->error.find("'edge'"), std::string::npos) << e1->error;
  const auto e2 = cache.get("q", 0, l, arch(small + "[dram]\nbytes_per_cycle=3\n", "edge.ini"), true);
  EXPECT_EQ(e2, e1);
  const auto e3 = cache.get("q", 0, l, arch(small, "tiny.ini"), true);
  EXPECT_NE(e3->error.find("'tiny'"), std::string::npos) << e3->error;
  try {
    compile_layer(l, arch(small, "tiny.ini"));
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(e3->error, err.what());
  }
  const auto st = cache.stats();
  EXPECT_EQ(st.compiled, 1u);
  EXPECT_EQ(st.reused, 1u);
}

}  // namespace
}  // namespace lutc::explore
