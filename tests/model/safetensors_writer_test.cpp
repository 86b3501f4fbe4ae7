// SafetensorsStreamWriter: tensors written one at a time land where the header
// says, in their dtype; a short or missing tensor leaves no file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "lutc/model/error.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

TEST(SafetensorsStreamWriter, TensorsOfEachDtypeReadBackByteForByte) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string path = testing::temp_dir() + "/s.safetensors";
  std::vector<SafetensorsStreamWriter::Entry> entries;
  std::vector<std::vector<uint8_t>> data;
  for (DType d : {DType::kF32, DType::kBF16, DType::kF16, DType::kF32}) {
    SafetensorsStreamWriter::Entry e{"t" + std::to_string(entries.size()), d, {1 + rng() % 7, 1 + rng() % 9}};
    std::vector<uint8_t> bytes(size_t(e.shape[0] * e.shape[1] * dtype_size(d)));
    // Finite values only: the reader rejects NaN/Inf, so draw small halves/floats from a float.
    std::normal_distribution<float> g;
    for (size_t i = 0; i < bytes.size() / dtype_size(d); ++i) {
      const float v = g(rng);
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      if (d == DType::kF32) std::memcpy(&bytes[4 * i], &bits, 4);
      if (d == DType::kBF16) bytes[2 * i] = uint8_t(bits >> 16), bytes[2 * i + 1] = uint8_t(bits >> 24);
      if (d == DType::kF16) bytes[2 * i] = uint8_t(rng()), bytes[2 * i + 1] = uint8_t(rng() % 0x78);
    }
    entries.push_back(e);
    data.push_back(bytes);
  }
  {
    SafetensorsStreamWriter w(path, entries, {{"k", "v"}});
    for (const auto& b : data) w.write_next(b.data(), b.size());
    w.commit();
  }
  auto f = WeightFile::open(path);
  EXPECT_EQ(f->metadata().at("k"), "v");
  std::ifstream in(path, std::ios::binary);
  for (size_t i = 0; i < entries.size(); ++i) {
    const TensorInfo* t = f->find(entries[i].name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, entries[i].dtype);
    EXPECT_EQ(t->shape, entries[i].shape);
    std::vector<uint8_t> got(size_t(t->nbytes));
    in.seekg(std::streamoff(t->offset));
    in.read(reinterpret_cast<char*>(got.data()), std::streamsize(got.size()));
    EXPECT_EQ(got, data[i]) << entries[i].name;
  }
}

TEST(SafetensorsStreamWriter, WrongSizeOrMissingTensorLeavesNoFile) {
  const std::string dir = testing::temp_dir();
  const std::vector<SafetensorsStreamWriter::Entry> entries = {{"a", DType::kF32, {2, 3}}, {"b", DType::kBF16, {4}}};
  const std::vector<uint8_t> a(24), b(8);
  try {
    SafetensorsStreamWriter w(dir + "/x.safetensors", entries);
    w.write_next(a.data(), a.size() - 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInternal);
  }
  try {
    SafetensorsStreamWriter w(dir + "/x.safetensors", entries);
    w.write_next(a.data(), a.size());
    w.commit();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 tensors not written"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_THROW(SafetensorsStreamWriter(dir + "/y.safetensors", {{"a", DType::kF32, {1}}, {"a", DType::kF32, {1}}}),
               Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
}  // namespace lutc
