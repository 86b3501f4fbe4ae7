// The identity a sweep's quantization cache keys on: a model folder is
// identified by its files (so a changed shard invalidates the cache), and a
// path that is neither a file nor a folder is refused instead of being read
// forever.
#include "lutc/explore/quant_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include <sys/stat.h>

#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc::explore {
namespace {

void write_bytes(const std::string& path, size_t n, std::mt19937_64& rng) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (size_t i = 0; i < n; ++i) f.put(char(rng()));
}

TEST(QuantCacheIdentity, AFolderChangesIdentityWhenAShardChanges) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir() + "/model";
  std::filesystem::create_directories(dir);
  write_bytes(dir + "/model-00001-of-00002.safetensors", 100, rng);
  write_bytes(dir + "/model-00002-of-00002.safetensors", 100, rng);
  const std::string before = weights_identity(dir);
  EXPECT_EQ(before, weights_identity(dir));
  write_bytes(dir + "/model-00002-of-00002.safetensors", 101 + rng() % 50, rng);
  EXPECT_NE(before, weights_identity(dir));
}

TEST(QuantCacheIdentity, AFifoIsRefusedNotReadForever) {
  const std::string fifo = testing::temp_dir() + "/weights.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    weights_identity(fifo);
    ADD_FAILURE() << "accepted a FIFO";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lutc::explore
