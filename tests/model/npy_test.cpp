// .npy reading: the header dict NumPy writes in any legal spelling (keys in
// any order, padding of any length), float64 arrays (NumPy's default), and
// refusals that name the problem without crashing or wrapping a size.
#include "lutc/model/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

// A version-1 (or, past 65535 header bytes, version-2) .npy of `dict` padded
// with `pad` spaces, then `data`.
std::vector<uint8_t> npy_bytes(const std::string& dict, size_t pad, const std::vector<uint8_t>& data) {
  std::string h = dict + std::string(pad, ' ') + "\n";
  const bool v2 = h.size() > 65535;
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(v2 ? 2 : 1), 0};
  const size_t lanes = v2 ? 4 : 2;
  for (size_t i = 0; i < lanes; ++i) b.push_back(uint8_t(h.size() >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

template <class T>
std::vector<uint8_t> raw(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Npy, LongPaddedHeaderAndAnyKeyOrderParse) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(6);
  for (float& f : x) f = nd(rng);
  // Tens of KB of padding crashed a regex-based reader (stack overflow); a
  // header past 64 KiB needs the version-2 preamble.
  for (size_t pad : {size_t(0), size_t(40000), size_t(70000)}) {
    for (const char* dict : {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                             "{'shape':(2,3),'fortran_order':False,'descr':'<f4'}"}) {
      const auto b = npy_bytes(dict, pad, raw(x));
      const NpyArray a = parse_npy(b.data(), b.size(), "x.npy");
      ASSERT_EQ(a.shape, (std::vector<uint64_t>{2, 3})) << dict << " pad " << pad;
      ASSERT_EQ(a.data, x);
    }
  }
}

TEST(Npy, Float64ArraysConvertToFloat) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::normal_distribution<double> nd(0, 1);
  std::vector<double> x(5);
  for (double& d : x) d = nd(rng);
  const auto b = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", 3, raw(x));
  const NpyArray a = parse_npy(b.data(), b.size(), "x.npy");
  ASSERT_EQ(a.data.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(a.data[i], float(x[i]));
  // A double past the float range is refused with the element named.
  x[3] = 1e300;
  const auto big = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", 3, raw(x));
  try {
    parse_npy(big.data(), big.size(), "big.npy");
    ADD_FAILURE() << "accepted a float64 beyond the float range";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("element 3"), std::string::npos) << e.what();
  }
}

TEST(Npy, MalformedHeadersAreRefusedByName) {
  const std::vector<uint8_t> data(16, 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '<f4', 'fortran_order': False}", "header is not"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,)}", "fortran_order"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}", "unexpected key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", "repeated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}", "tuple of integers"},
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}", "not supported"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "larger than"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} x", "after the header"},
  };
  for (const auto& [dict, want] : cases) {
    const auto b = npy_bytes(dict, 5, data);
    try {
      parse_npy(b.data(), b.size(), "bad.npy");
      ADD_FAILURE() << "accepted " << dict;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << dict;
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << dict << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.npy"), std::string::npos) << e.what();
    }
  }
}

// Refusal of b as origin "x.npy": its message, after checking the exit class and the file name.
std::string refusal(const std::vector<uint8_t>& b) {
  try {
    parse_npy(b.data(), b.size(), "x.npy");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST(Npy, TruncatedDataNamesTheOffsetsAndTheShape) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint64_t rows = 1 + rng() % 5, cols = 1 + rng() % 50;
  const std::vector<float> x(rows * cols, 1.5f);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                           std::to_string(cols) + "), }";
  const std::vector<uint8_t> whole = npy_bytes(dict, 7, raw(x));
  const size_t data_at = whole.size() - 4 * x.size();
  const size_t cut = 1 + rng() % (4 * x.size());  // bytes missing
  const std::vector<uint8_t> b(whole.begin(), whole.end() - long(cut));
  const std::string m = refusal(b);
  EXPECT_NE(m.find("offset " + std::to_string(b.size())), std::string::npos) << m;  // where the file ends
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  EXPECT_NE(m.find("from offset " + std::to_string(data_at)), std::string::npos) << m;
  EXPECT_NE(m.find("(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"), std::string::npos) << m;
  EXPECT_NE(m.find("needs " + std::to_string(4 * x.size())), std::string::npos) << m;
  // Bytes past the data are named at the offset where they start.
  std::vector<uint8_t> longer = whole;
  longer.insert(longer.end(), cut, 0);
  const std::string t = refusal(longer);
  EXPECT_NE(t.find("offset " + std::to_string(whole.size())), std::string::npos) << t;
  EXPECT_NE(t.find(std::to_string(cut) + " bytes after the data"), std::string::npos) << t;
}

TEST(Npy, HeaderLengthPastTheEndNamesItsField) {
  std::vector<uint8_t> b =
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 3, raw(std::vector<float>{1, 2}));
  b[8] = 0xff, b[9] = 0x7f;  // header length 32767
  const std::string m = refusal(b);
  EXPECT_NE(m.find("offset 8"), std::string::npos) << m;
  EXPECT_NE(m.find("header length 32767"), std::string::npos) << m;
}

TEST(Npy, ElementOffsetsAreWhereTheBytesAre) {
  std::mt19937_64 rng(testing::fresh_seed());
  const size_t n = 2 + rng() % 30, i = rng() % n;
  std::vector<uint16_t> h(n, 0x3f80);  // bf16 1.0
  h[i] = 0x4000;                       // bf16 2.0
  const std::vector<uint8_t> b =
      npy_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (" + std::to_string(n) + ",), }", rng() % 9, raw(h));
  const NpyArray a = parse_npy(b.data(), b.size(), "x.npy");
  EXPECT_EQ(a.elem_bytes, 2u);
  EXPECT_EQ(a.offset_of(n), b.size());
  EXPECT_EQ(b[a.offset_of(i) + 1], 0x40);
  EXPECT_EQ(a.data[i], 2.0f);
  EXPECT_EQ(a.shape_text(), "(" + std::to_string(n) + ",)");
}

}  // namespace
}  // namespace lutc
