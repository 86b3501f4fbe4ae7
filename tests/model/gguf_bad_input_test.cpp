// Every malformed GGUF is refused with Error(kBadInput) naming the file (and
// the tensor where there is one); none crashes or allocates what it claims.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>

#include "bad_input_checks.h"
#include "gguf_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::vector<uint8_t> u64_bytes(uint64_t v) {
  std::vector<uint8_t> b;
  append_le(b, v, 8);
  return b;
}

class GgufBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_.seed(fresh_seed());
    name_ = "blk." + std::to_string(rng_() % 100) + ".attn_q.weight";
    spec_.add_string("general.architecture", "llama");
    std::vector<uint8_t> arr;
    append_le(arr, kGvU32, 4);
    append_le(arr, 2, 8);
    append_le(arr, rng_() % 1000, 4);
    append_le(arr, rng_() % 1000, 4);
    spec_.add_kv("test.array", kGvArray, arr);
    const RawTensor a = random_tensor(rng_, "first.weight", "F32", {3, 2});
    const RawTensor b = random_tensor(rng_, name_, "F16", {4, 8});
    spec_.tensors.push_back({a.name, kGgmlF32, {2, 3}, a.bytes});
    spec_.tensors.push_back({b.name, kGgmlF16, {8, 4}, b.bytes});
  }
  std::string write(const std::vector<uint8_t>& bytes) {
    const std::string path = temp_dir() + "/bad.gguf";
    write_file(path, bytes);
    return path;
  }
  std::string write() { return write(gguf_bytes(spec_)); }

  std::mt19937_64 rng_;
  std::string name_;
  GgufSpec spec_;
};

TEST_F(GgufBadInput, TheBaseFileIsGood) {
  auto w = WeightFile::open(write());
  ASSERT_EQ(w->tensors().size(), 2u);
  for (const TensorInfo& t : w->tensors()) EXPECT_NO_THROW(w->read_all(t));
}

TEST_F(GgufBadInput, TruncatedAtEveryByte) {
  const std::vector<uint8_t> bytes = gguf_bytes(spec_);
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE("kept " + std::to_string(n) + " of " + std::to_string(bytes.size()) + " bytes");
    expect_bad_weight_file(write(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n))), {});
  }
}

TEST_F(GgufBadInput, AbsurdTensorCount) {
  spec_.n_tensors_override = int64_t(1) << 60;
  expect_bad_weight_file(write(), {"tensor count"});
}

TEST_F(GgufBadInput, AbsurdKeyValueCount) {
  spec_.n_kv = (uint64_t(1) << 62) + rng_() % 1000;
  expect_bad_weight_file(write(), {"key/value count"});
}

TEST_F(GgufBadInput, AbsurdKeyLength) {
  std::vector<uint8_t> kv = u64_bytes(uint64_t(1) << 62);
  kv.insert(kv.end(), {'a', 'b', 'c'});
  spec_.kv.insert(spec_.kv.begin(), kv.begin(), kv.end());
  ++spec_.n_kv;
  expect_bad_weight_file(write(), {"length"});
}

TEST_F(GgufBadInput, AbsurdStringValueLength) {
  spec_.add_kv("general.name", kGvString, u64_bytes((uint64_t(1) << 62) + rng_() % 1000));
  expect_bad_weight_file(write(), {"general.name", "length"});
}

TEST_F(GgufBadInput, AbsurdArrayCount) {
  for (uint32_t elem : {uint32_t(kGvU8), uint32_t(kGvString), uint32_t(kGvArray)}) {
    GgufSpec s = spec_;
    std::vector<uint8_t> arr;
    append_le(arr, elem, 4);
    append_le(arr, (uint64_t(1) << 61) + rng_() % 1000, 8);
    s.add_kv("tokenizer.ggml.tokens", kGvArray, arr);
    expect_bad_weight_file(write(gguf_bytes(s)), {"tokenizer.ggml.tokens", "element count"});
  }
}

TEST_F(GgufBadInput, AbsurdTensorNameLength) {
  std::vector<uint8_t> bytes = gguf_bytes(spec_);
  const std::string first = "first.weight";
  const auto at = std::search(bytes.begin(), bytes.end(), first.begin(), first.end()) - bytes.begin();
  const std::vector<uint8_t> huge = u64_bytes(uint64_t(1) << 62);
  std::copy(huge.begin(), huge.end(), bytes.begin() + at - 8);
  expect_bad_weight_file(write(bytes), {"tensor info 0 name length"});
}

TEST_F(GgufBadInput, ArraysNestedTooDeep) {
  std::vector<uint8_t> arr;
  for (int i = 0; i < 40; ++i) {
    append_le(arr, kGvArray, 4);
    append_le(arr, 1, 8);
  }
  append_le(arr, kGvU8, 4);
  append_le(arr, 0, 8);
  spec_.add_kv("deep", kGvArray, arr);
  expect_bad_weight_file(write(), {"deep", "nests"});
}

TEST_F(GgufBadInput, NDimsZeroOrFive) {
  spec_.tensors[1].ne = {};
  expect_bad_weight_file(write(), {name_, "n_dims 0"});
  spec_.tensors[1].ne = {1, 1, 1, 1, 64};
  expect_bad_weight_file(write(), {name_, "n_dims 5"});
}

TEST_F(GgufBadInput, MisalignedOffset) {
  spec_.tensors[1].offset = 32 + 1 + int64_t(rng_() % 31);
  expect_bad_weight_file(write(), {name_, "not a multiple of the alignment 32"});
}

TEST_F(GgufBadInput, OverlappingData) {
  spec_.tensors[1].offset = 0;  // aligned, but where the first tensor lies
  expect_bad_weight_file(write(), {name_, "overlaps", "first.weight"});
}

TEST_F(GgufBadInput, DataPastTheEnd) {
  // Patched into the tensor info after layout, so the file stays small.
  std::vector<uint8_t> bytes = gguf_bytes(spec_);
  const auto at = std::search(bytes.begin(), bytes.end(), name_.begin(), name_.end()) - bytes.begin();
  const size_t offset_at = size_t(at) + name_.size() + 4 + 8 * spec_.tensors[1].ne.size() + 4;
  const std::vector<uint8_t> far = u64_bytes(uint64_t(32) << (10 + rng_() % 50));
  std::copy(far.begin(), far.end(), bytes.begin() + long(offset_at));
  expect_bad_weight_file(write(bytes), {name_, "past the end"});
}

TEST_F(GgufBadInput, AlignmentNotAPowerOfTwo) {
  for (uint32_t a : {0u, 3u, 48u, 96u}) {
    GgufSpec s = spec_;
    s.add_u32("general.alignment", a);
    expect_bad_weight_file(write(gguf_bytes(s)), {"general.alignment " + std::to_string(a), "power of two"});
  }
  spec_.add_string("general.alignment", "32");
  expect_bad_weight_file(write(), {"general.alignment", "UINT32"});
}

TEST_F(GgufBadInput, ShapeOverflow) {
  spec_.tensors[1].ne = {uint64_t(1) << 32, uint64_t(1) << 32, 2};
  expect_bad_weight_file(write(), {name_, "overflow"});
  spec_.tensors[1].ne = {8, uint64_t(1) << 63};
  expect_bad_weight_file(write(), {name_, "negative"});
}

TEST_F(GgufBadInput, UnknownTensorType) {
  for (uint32_t id : {4u, 5u, 42u + uint32_t(rng_() % 1000)}) {
    spec_.tensors[1].type = id;
    expect_bad_weight_file(write(), {name_, "unknown GGUF tensor type id " + std::to_string(id)});
  }
}

TEST_F(GgufBadInput, QuantizedRowNotAWholeNumberOfBlocks) {
  spec_.tensors[1].type = kGgmlQ4_K;
  spec_.tensors[1].ne = {256 + 32 * (1 + rng_() % 7), 1};
  expect_bad_weight_file(write(), {name_, "Q4_K block of 256"});
}

TEST_F(GgufBadInput, BigEndianFile) {
  spec_.version = __builtin_bswap32(2 + uint32_t(rng_() % 2));
  expect_bad_weight_file(write(), {"big-endian"});
}

TEST_F(GgufBadInput, UnsupportedVersion) {
  for (uint32_t v : {0u, 1u, 4u}) {
    spec_.version = v;
    expect_bad_weight_file(write(), {"GGUF version " + std::to_string(v)});
  }
}

TEST_F(GgufBadInput, BadMetadataValues) {
  GgufSpec s = spec_;
  s.add_kv("flag", kGvBool, {uint8_t(2 + rng_() % 250)});
  expect_bad_weight_file(write(gguf_bytes(s)), {"flag", "BOOL"});
  s = spec_;
  s.add_kv("odd", 13 + uint32_t(rng_() % 100), {0, 0, 0, 0});
  expect_bad_weight_file(write(gguf_bytes(s)), {"odd", "unknown value type"});
  s = spec_;
  s.add_string("general.architecture", "again");
  expect_bad_weight_file(write(gguf_bytes(s)), {"general.architecture", "twice"});
}

TEST_F(GgufBadInput, RepeatedTensorName) {
  spec_.tensors[1].name = spec_.tensors[0].name;
  expect_bad_weight_file(write(), {"first.weight", "twice"});
}

// GGUF strings should be UTF-8. A string array holding bytes that are not
// (found by fuzz/: the listing threw nlohmann's type_error out of open())
// opens and lists them as U+FFFD, as scalar strings are shown.
TEST_F(GgufBadInput, NonUtf8StringInAnArrayIsListedNotThrown) {
  const std::string bad = {'t', 'o', char(0x80 + rng_() % 0x80)};  // a lead or continuation byte left alone
  std::vector<uint8_t> arr;
  append_le(arr, kGvString, 4);
  append_le(arr, 1, 8);
  const std::vector<uint8_t> str = gguf_string(bad);
  arr.insert(arr.end(), str.begin(), str.end());
  spec_.add_kv("test.strings", kGvArray, arr);
  std::unique_ptr<WeightFile> w;
  ASSERT_NO_THROW(w = WeightFile::open(write()));
  const auto it = w->metadata().find("test.strings");
  ASSERT_NE(it, w->metadata().end());
  EXPECT_EQ(it->second, "[\"to\xEF\xBF\xBD\"]");
  EXPECT_EQ(w->tensors().size(), 2u);
}

}  // namespace
}  // namespace lutc
