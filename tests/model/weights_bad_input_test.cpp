// Every malformed weight file is refused with Error(kBadInput) and a message
// naming the file (and the tensor, where there is one); none crashes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "bad_input_checks.h"
#include "lutc/model/error.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/weights.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

using namespace lutc::testing;

class WeightsBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_.seed(fresh_seed());
    name_ = "layers." + std::to_string(rng_() % 100) + ".w";
    tensors_ = {random_tensor(rng_, "first", "F32", {3, 5}), random_tensor(rng_, name_, "F16", {4, 6})};
    order_ = {0, 1};
  }
  std::string write(const std::vector<uint8_t>& bytes) {
    const std::string path = temp_dir() + "/bad.safetensors";
    write_file(path, bytes);
    return path;
  }
  SafetensorsParts parts() const { return safetensors_parts(tensors_, order_); }

  std::mt19937_64 rng_;
  std::string name_;
  std::vector<RawTensor> tensors_;
  std::vector<size_t> order_;
};

// JSON lets an object repeat a key and the parser keeps the last: the
// first tensor of that name would vanish without a word.
TEST_F(WeightsBadInput, TensorNamedTwice) {
  tensors_.push_back(random_tensor(rng_, name_, "F32", {2, 3}));
  order_.push_back(2);
  expect_bad_weight_file(write(safetensors_bytes(parts())), {name_, "more than once"});
}

// A shape whose byte count overflows 64 bits for an 8-byte dtype (but not
// for a 4-byte one) is refused as too large, not wrapped into a small size.
TEST_F(WeightsBadInput, EightByteShapeThatOverflowsSixtyFourBits) {
  tensors_[1] = random_tensor(rng_, name_, "F64", {1, 1});
  SafetensorsParts p = parts();
  const std::string huge = "[" + std::to_string(uint64_t(1) << 31) + ", " + std::to_string(uint64_t(1) << 31) + "]";
  const size_t at = p.header.find("[1,1]");
  ASSERT_NE(at, std::string::npos);
  p.header.replace(at, 5, huge);
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "too large"});
}

// A number too large for any type (found by fuzz/) made nlohmann throw
// out_of_range, not parse_error, and it escaped WeightFile::open.
TEST_F(WeightsBadInput, NumberTooLargeForAnyType) {
  SafetensorsParts p = parts();
  const size_t at = p.header.find("[3,5]");
  ASSERT_NE(at, std::string::npos);
  p.header.replace(at, 5, "[1" + std::string(rng_() % 30, '8') + "e" + std::to_string(400 + rng_() % 2000) + ",5]");
  expect_bad_weight_file(write(safetensors_bytes(p)), {"not valid JSON", "overflow"});
}

TEST_F(WeightsBadInput, HeaderLengthShorterThanHeader) {
  const SafetensorsParts p = parts();
  expect_bad_weight_file(write(safetensors_bytes(p, int64_t(p.header.size() - 1 - rng_() % 10))), {"JSON"});
}

TEST_F(WeightsBadInput, HeaderLengthLongerThanHeader) {
  const SafetensorsParts p = parts();
  expect_bad_weight_file(write(safetensors_bytes(p, int64_t(p.header.size() + 1 + rng_() % 8))), {});
}

TEST_F(WeightsBadInput, HeaderLengthPastEndOfFile) {
  const SafetensorsParts p = parts();
  const int64_t past = int64_t(p.header.size() + p.data.size() + 1 + rng_() % 1000);
  expect_bad_weight_file(write(safetensors_bytes(p, past)), {"header length", "past the end"});
}

TEST_F(WeightsBadInput, AbsurdHeaderLength) {
  expect_bad_weight_file(write(safetensors_bytes(parts(), int64_t(1) << 62)), {"header length"});
}

TEST_F(WeightsBadInput, TruncatedData) {
  std::vector<uint8_t> bytes = safetensors_bytes(parts());
  bytes.resize(bytes.size() - 1 - rng_() % 10);
  expect_bad_weight_file(write(bytes), {name_, "past the end"});
}

TEST_F(WeightsBadInput, OffsetsPastEndOfData) {
  SafetensorsParts p = parts();
  const std::string end = std::to_string(p.data.size()) + "]";
  const std::string past = std::to_string(p.data.size() + 2 * (1 + rng_() % 10)) + "]";
  p.header.replace(p.header.rfind(end), end.size(), past);
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "past the end"});
}

TEST_F(WeightsBadInput, OffsetBeginAfterEnd) {
  SafetensorsParts p = parts();
  const std::string offsets =
      "[" + std::to_string(tensors_[0].bytes.size()) + ", " + std::to_string(p.data.size()) + "]";
  p.header.replace(p.header.find(offsets), offsets.size(), "[" + std::to_string(p.data.size()) + ", 0]");
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "begin"});
}

TEST_F(WeightsBadInput, UnknownDtype) {
  const char* dtypes[] = {"Q7", "F12", "complex64", "f32"};
  const std::string dtype = dtypes[rng_() % 4];
  tensors_[1].dtype = dtype;
  expect_bad_weight_file(write(safetensors_bytes(parts())), {name_, "'" + dtype + "'"});
}

// Real checkpoints carry integer buffers (BERT's int64 position_ids): the file
// opens, the tensor is listed with its dtype, quantize skips it, and reading
// it as weights is refused by name.
TEST_F(WeightsBadInput, NonFloatTensorsAreListedButNotWeights) {
  RawTensor ids{"embeddings.position_ids", "I64", {1, 8}, {}, {}};
  for (uint64_t i = 0; i < 8; ++i) append_le(ids.bytes, i, 8);
  tensors_.push_back(ids);
  order_.push_back(2);
  const std::string path = write(safetensors_bytes(parts()));
  auto w = WeightFile::open(path);
  const TensorInfo* t = w->find("embeddings.position_ids");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::kI64);
  EXPECT_FALSE(dtype_is_weight(t->dtype));
  try {
    w->read_all(*t);
    ADD_FAILURE() << "read an I64 tensor as weights";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("embeddings.position_ids"), std::string::npos) << e.what();
  }
  auto src = MatrixSource::open(path);
  EXPECT_EQ(src->find("embeddings.position_ids"), nullptr);
  EXPECT_NE(src->find(name_), nullptr);
  EXPECT_NE(std::find(src->skipped().begin(), src->skipped().end(), "embeddings.position_ids"), src->skipped().end());
}

TEST_F(WeightsBadInput, ShapeDoesNotMatchByteCount) {
  tensors_[1].shape = {4, 6 + 1 + rng_() % 3};
  expect_bad_weight_file(write(safetensors_bytes(parts())), {name_, "shape"});
}

TEST_F(WeightsBadInput, NegativeShape) {
  SafetensorsParts p = parts();
  p.header.replace(p.header.find("[4,6]"), 5, "[-4,-6]");
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "shape"});
}

TEST_F(WeightsBadInput, NonIntegerShape) {
  SafetensorsParts p = parts();
  p.header.replace(p.header.find("[4,6]"), 5, "[4.0,6]");
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "shape"});
}

TEST_F(WeightsBadInput, OverlappingTensors) {
  // The second tensor claims bytes that start inside the first.
  tensors_[1] = random_tensor(rng_, name_, "F32", {3, 5});
  SafetensorsParts p = parts();
  const size_t size = tensors_[0].bytes.size();
  const size_t shift = 4 * (1 + rng_() % 14);
  const std::string offsets = "[" + std::to_string(size) + ", " + std::to_string(2 * size) + "]";
  p.header.replace(p.header.find(offsets), offsets.size(),
                   "[" + std::to_string(size - shift) + ", " + std::to_string(2 * size - shift) + "]");
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_, "overlaps", "first"});
}

TEST_F(WeightsBadInput, InvalidJson) {
  SafetensorsParts p = parts();
  p.header[rng_() % 2 ? p.header.size() - 1 : p.header.find(':')] = '#';
  expect_bad_weight_file(write(safetensors_bytes(p)), {"JSON", "offset"});
}

TEST_F(WeightsBadInput, TensorEntryIsNotAnObject) {
  SafetensorsParts p = parts();
  p.header = "{" + std::string("\"") + name_ + "\": [1, 2]}";
  expect_bad_weight_file(write(safetensors_bytes(p)), {name_});
}

TEST_F(WeightsBadInput, MetadataValueNotAString) {
  SafetensorsParts p = parts();
  p.header.insert(1, "\"__metadata__\": {\"dim\": 64}, ");
  expect_bad_weight_file(write(safetensors_bytes(p)), {"__metadata__", "dim"});
}

TEST_F(WeightsBadInput, EmptyFile) { expect_bad_weight_file(write({}), {"empty"}); }

TEST_F(WeightsBadInput, NanWeight) {
  const uint64_t row = rng_() % 4, col = rng_() % 6;
  const uint16_t nan = 0x7e00 | uint16_t(rng_() % 0x100);
  std::memcpy(tensors_[1].bytes.data() + 2 * (row * 6 + col), &nan, 2);
  expect_bad_weight_file(write(safetensors_bytes(parts())),
                         {name_, "NaN", "row " + std::to_string(row) + ", col " + std::to_string(col)});
}

TEST_F(WeightsBadInput, InfWeight) {
  const uint64_t row = rng_() % 3, col = rng_() % 5;
  const uint32_t inf = rng_() % 2 ? 0x7f800000u : 0xff800000u;
  std::memcpy(tensors_[0].bytes.data() + 4 * (row * 5 + col), &inf, 4);
  expect_bad_weight_file(write(safetensors_bytes(parts())),
                         {"first", "Inf", "row " + std::to_string(row) + ", col " + std::to_string(col)});
}

TEST_F(WeightsBadInput, InfWeightBf16) {
  tensors_[1] = random_tensor(rng_, name_, "BF16", {4, 6});
  const uint64_t row = rng_() % 4, col = rng_() % 6;
  const uint16_t inf = 0x7f80;
  std::memcpy(tensors_[1].bytes.data() + 2 * (row * 6 + col), &inf, 2);
  expect_bad_weight_file(write(safetensors_bytes(parts())), {name_, "Inf", "row " + std::to_string(row)});
}

// An F64 weight that no float can hold, or NaN/Inf, is refused with its row,
// column and byte offset.
TEST_F(WeightsBadInput, F64OutsideFloatRangeOrNotFinite) {
  const double bad[] = {1e300 * (rng_() % 2 ? 1 : -1), 3.5e38, std::nan(""), -HUGE_VAL};
  const char* words[] = {"outside the float range", "outside the float range", "NaN", "Inf"};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(words[i]);
    tensors_[1] = random_tensor(rng_, name_, "F64", {4, 6});
    const uint64_t row = rng_() % 4, col = rng_() % 6;
    std::memcpy(tensors_[1].bytes.data() + 8 * (row * 6 + col), &bad[i], 8);
    const SafetensorsParts p = parts();
    const uint64_t offset = 8 + p.header.size() + tensors_[0].bytes.size() + 8 * (row * 6 + col);
    expect_bad_weight_file(write(safetensors_bytes(p)),
                           {name_, words[i], "offset " + std::to_string(offset),
                            "row " + std::to_string(row) + ", col " + std::to_string(col)});
  }
}

TEST_F(WeightsBadInput, TruncatedLlama2c) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  std::vector<uint8_t> bytes = read_file(bin);
  bytes.resize(28 + rng_() % (bytes.size() - 28));
  expect_bad_weight_file(write(bytes), {"truncated", "llama2.c"});
}

TEST_F(WeightsBadInput, Llama2cWithTrailingBytes) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  std::vector<uint8_t> bytes = read_file(bin);
  bytes.resize(bytes.size() + 1 + rng_() % 64, 0);
  expect_bad_weight_file(write(bytes), {"trailing"});
}

TEST_F(WeightsBadInput, TooShortForLlama2cHeader) {
  std::vector<uint8_t> bytes = llama2c_header(64, 172, 5, 8, 4, 512, 512);
  bytes.resize(1 + rng_() % 27);
  expect_bad_weight_file(write(bytes), {"llama2.c"});
}

TEST_F(WeightsBadInput, AbsurdLlama2cHeader) {
  const int32_t huge = int32_t(1 << 30) + int32_t(rng_() % 1000);
  std::vector<uint8_t> bytes = llama2c_header(huge, 172, 5, 8, 4, 512, 512);
  bytes.resize(4096, 0);
  expect_bad_weight_file(write(bytes), {"dim"});
}

TEST_F(WeightsBadInput, NegativeLlama2cField) {
  std::vector<uint8_t> bytes = llama2c_header(64, -172, 5, 8, 4, 512, 512);
  bytes.resize(4096, 0);
  expect_bad_weight_file(write(bytes), {"hidden_dim"});
}

TEST_F(WeightsBadInput, Llama2cMoreKvHeadsThanHeads) {
  std::vector<uint8_t> bytes = llama2c_header(64, 172, 5, 4, 8, 512, 512);
  bytes.resize(4096, 0);
  expect_bad_weight_file(write(bytes), {"n_kv_heads"});
}

TEST_F(WeightsBadInput, Llama2cDimNotMultipleOfHeads) {
  std::vector<uint8_t> bytes = llama2c_header(66, 172, 5, 8, 4, 512, 512);
  bytes.resize(4096, 0);
  expect_bad_weight_file(write(bytes), {"n_heads"});
}

}  // namespace
}  // namespace lutc
