// .npy: a 10-byte preamble (magic, version, header length), a Python-dict
// header padded to 64 bytes, then the raw array. The header is parsed strictly
// for the three keys NumPy writes; anything unexpected is an error rather than
// a guess.
#include "lutc/model/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

namespace lutc {
namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr uint64_t kMaxElements = uint64_t(1) << 34;

std::vector<uint8_t> header_bytes(const std::string& descr, const std::vector<uint64_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  if (shape.size() == 1) dict += std::to_string(shape[0]) + ",";
  else dict += std::to_string(shape[0]) + ", " + std::to_string(shape[1]);
  dict += "), }";
  // Pad with spaces so that data starts at a multiple of 64, newline last.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + 6);
  out.push_back(1);
  out.push_back(0);
  out.push_back(uint8_t(dict.size() & 0xff));
  out.push_back(uint8_t(dict.size() >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  return out;
}

void write_any(const std::string& path, const std::string& descr, const std::vector<uint64_t>& shape,
               const void* data, size_t elem_bytes) {
  if (shape.empty() || shape.size() > 2) throw Error(ExitCode::kBadInput, "write_npy '" + path + "': 1-D or 2-D only");
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  const std::vector<uint8_t> h = header_bytes(descr, shape);
  AtomicFile f(path);
  f.write(h.data(), h.size());
  f.write(data, size_t(n * elem_bytes));
  f.commit();
}

}  // namespace

NpyArray parse_npy(const uint8_t* b, size_t n, const std::string& origin) {
  auto fail = [&](long long off, const std::string& what) { fail_input(origin, "", off, what); };
  if (n < 10) fail(0, "truncated .npy preamble (" + std::to_string(n) + " bytes)");
  if (std::memcmp(b, kMagic, 6)) fail(0, "not a .npy file (bad magic)");
  const unsigned major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = size_t(b[8]) | size_t(b[9]) << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) fail(8, "truncated .npy preamble");
    hlen = size_t(b[8]) | size_t(b[9]) << 8 | size_t(b[10]) << 16 | size_t(b[11]) << 24;
    hstart = 12;
  } else {
    fail(6, "unsupported .npy version " + std::to_string(major));
  }
  if (hlen > n - hstart) fail(8, "header length " + std::to_string(hlen) + " runs past the end of the file");
  const std::string h(reinterpret_cast<const char*>(b + hstart), hlen);
  static const std::regex kDict(
      R"(^\{\s*'descr'\s*:\s*'([^']*)'\s*,\s*'fortran_order'\s*:\s*(True|False)\s*,\s*'shape'\s*:\s*\(([^)]*)\)\s*,?\s*\}\s*$)");
  std::smatch mt;
  if (!std::regex_match(h, mt, kDict))
    fail(long(hstart), "header is not {'descr': ..., 'fortran_order': ..., 'shape': (...)}");
  NpyArray a;
  const std::string descr = mt[1];
  if (descr == "<f4") a.from_bf16 = false;
  else if (descr == "<u2") a.from_bf16 = true;
  else fail(long(hstart), "dtype '" + descr + "' not supported (float32 '<f4' or bf16 as '<u2')");
  if (mt[2] == "True") fail(long(hstart), "fortran_order arrays are not supported");
  const std::string dims = mt[3];
  static const std::regex kDims(R"(^\s*(\d+\s*,\s*)*(\d+\s*,?)?\s*$)");
  if (!std::regex_match(dims, kDims)) fail(long(hstart), "shape (" + dims + ") is not a tuple of integers");
  static const std::regex kDim(R"(\s*(\d+)\s*(,|$))");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), kDim); it != std::sregex_iterator(); ++it) {
    const std::string d = (*it)[1];
    if (d.size() > 12) fail(long(hstart), "dimension " + d + " too large");
    a.shape.push_back(std::stoull(d));
  }
  if (a.shape.empty() || a.shape.size() > 2)
    fail(long(hstart), "shape (" + dims + ") is not 1-D or 2-D");
  uint64_t count = 1;
  for (uint64_t d : a.shape) {
    if (d == 0) fail(long(hstart), "shape (" + dims + ") has a zero dimension");
    if (d > kMaxElements || count * d > kMaxElements) fail(long(hstart), "array too large");
    count *= d;
  }
  const size_t data_at = hstart + hlen;
  const uint64_t esize = a.from_bf16 ? 2 : 4;
  if (n - data_at != count * esize)
    fail(long(data_at), "data has " + std::to_string(n - data_at) + " bytes, shape needs " +
                            std::to_string(count * esize));
  a.data.resize(size_t(count));
  const uint8_t* d = b + data_at;
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (a.from_bf16) {
      a.data[i] = bf16_to_float(uint16_t(d[2 * i] | d[2 * i + 1] << 8));
    } else {
      uint32_t u = uint32_t(d[4 * i]) | uint32_t(d[4 * i + 1]) << 8 | uint32_t(d[4 * i + 2]) << 16 |
                   uint32_t(d[4 * i + 3]) << 24;
      std::memcpy(&a.data[i], &u, 4);
    }
  }
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ExitCode::kIo, "cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ExitCode::kIo, "cannot read '" + path + "'");
  return parse_npy(bytes.data(), bytes.size(), path);
}

void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const float* data) {
  static_assert(sizeof(float) == 4, "fp32");
  write_any(path, "<f4", shape, data, 4);  // little-endian hosts only (x86-64, aarch64)
}

void write_npy_bf16(const std::string& path, const std::vector<uint64_t>& shape, const uint16_t* data) {
  write_any(path, "<u2", shape, data, 2);
}

}  // namespace lutc
