// .npy: a 10-byte preamble (magic, version, header length), a Python-dict
// header padded to 64 bytes, then the raw array. The header is parsed strictly
// for the three keys NumPy writes; anything unexpected is an error rather than
// a guess.
#include "lutc/model/npy.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

namespace lutc {
namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr uint64_t kMaxElements = uint64_t(1) << 34;

std::vector<uint8_t> header_bytes(const std::string& descr, const std::vector<uint64_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  if (shape.size() == 1)
    dict += std::to_string(shape[0]) + ",";
  else
    dict += std::to_string(shape[0]) + ", " + std::to_string(shape[1]);
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

void write_any(const std::string& path, const std::string& descr, const std::vector<uint64_t>& shape, const void* data,
               size_t elem_bytes) {
  if (shape.empty() || shape.size() > 2) throw Error(ExitCode::kBadInput, "write_npy '" + path + "': 1-D or 2-D only");
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  const std::vector<uint8_t> h = header_bytes(descr, shape);
  AtomicFile f(path);
  f.write(h.data(), h.size());
  f.write(data, size_t(n * elem_bytes));
  f.commit();
}

// The header dict, read by hand: a regex engine recurses per character and
// overflows the stack on a legal header padded to tens of KB. The grammar is
// the subset NumPy writes: {'key': value, ...} with string, True/False and
// integer-tuple values, keys in any order, an optional trailing comma.
struct HeaderDict {
  std::string descr;
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  std::vector<uint64_t> shape;
};

class HeaderParser {
 public:
  explicit HeaderParser(const std::string& h) : h_(h) {}
  // Empty on success, else what is wrong.
  std::string parse(HeaderDict* d) {
    skip();
    if (!eat('{')) return "header does not start with '{'";
    for (;;) {
      skip();
      if (eat('}')) break;
      std::string key;
      if (!string(&key)) return "expected a quoted key at header byte " + std::to_string(i_);
      skip();
      if (!eat(':')) return "expected ':' after '" + key + "'";
      skip();
      if (key == "descr") {
        if (d->have_descr || !string(&d->descr)) return "bad or repeated 'descr'";
        d->have_descr = true;
      } else if (key == "fortran_order") {
        if (d->have_order) return "repeated 'fortran_order'";
        if (word("True"))
          d->fortran = true;
        else if (!word("False"))
          return "'fortran_order' is not True or False";
        d->have_order = true;
      } else if (key == "shape") {
        if (d->have_shape) return "repeated 'shape'";
        std::string why = tuple(&d->shape);
        if (!why.empty()) return why;
        d->have_shape = true;
      } else {
        return "unexpected key '" + key + "'";
      }
      skip();
      if (eat(',')) continue;
      skip();
      if (eat('}')) break;
      return "expected ',' or '}' at header byte " + std::to_string(i_);
    }
    skip();
    if (i_ != h_.size()) return "bytes after the header dict";
    if (!d->have_descr || !d->have_order || !d->have_shape)
      return "header is not {'descr': ..., 'fortran_order': ..., 'shape': (...)}";
    return "";
  }

 private:
  void skip() {
    while (i_ < h_.size() && std::isspace(static_cast<unsigned char>(h_[i_]))) ++i_;
  }
  bool eat(char c) {
    if (i_ < h_.size() && h_[i_] == c) return ++i_, true;
    return false;
  }
  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (h_.compare(i_, n, w) != 0) return false;
    i_ += n;
    return true;
  }
  bool string(std::string* out) {
    if (!eat('\'')) return false;
    const size_t end = h_.find('\'', i_);
    if (end == std::string::npos) return false;
    *out = h_.substr(i_, end - i_);
    i_ = end + 1;
    return true;
  }
  std::string tuple(std::vector<uint64_t>* dims) {
    if (!eat('(')) return "'shape' is not a tuple";
    for (;;) {
      skip();
      if (eat(')')) return "";
      size_t digits = 0;
      uint64_t v = 0;
      while (i_ < h_.size() && std::isdigit(static_cast<unsigned char>(h_[i_]))) {
        if (++digits > 12) return "a 'shape' dimension has more than 12 digits";
        v = v * 10 + uint64_t(h_[i_++] - '0');
      }
      if (!digits) return "'shape' is not a tuple of integers";
      dims->push_back(v);
      skip();
      if (eat(',')) continue;
      skip();
      if (eat(')')) return "";
      return "'shape' is not a tuple of integers";
    }
  }
  const std::string& h_;
  size_t i_ = 0;
};

[[noreturn]] void fail_at(const std::string& origin, long long off, const std::string& what) {
  fail_input(origin, "", off, what);
}

// The preamble: magic, version, and where the header starts and how long it is.
void read_preamble(const uint8_t* b, size_t n, const std::string& origin, size_t* hstart, size_t* hlen) {
  if (n < 10) fail_at(origin, 0, "truncated .npy preamble (" + std::to_string(n) + " bytes)");
  if (std::memcmp(b, kMagic, 6) != 0) fail_at(origin, 0, "not a .npy file (bad magic)");
  const unsigned major = b[6];
  if (major == 1) {
    *hlen = size_t(b[8]) | size_t(b[9]) << 8;
    *hstart = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) fail_at(origin, 8, "truncated .npy preamble");
    *hlen = size_t(b[8]) | size_t(b[9]) << 8 | size_t(b[10]) << 16 | size_t(b[11]) << 24;
    *hstart = 12;
  } else {
    fail_at(origin, 6, "unsupported .npy version " + std::to_string(major));
  }
  if (*hlen > n - *hstart)
    fail_at(origin, 8, "header length " + std::to_string(*hlen) + " runs past the end of the file");
}

// Bytes per stored element of the header's dtype; bf16 (as '<u2') sets a->from_bf16.
uint64_t element_size(const HeaderDict& hd, const std::string& origin, size_t hstart, NpyArray* a) {
  const std::string& descr = hd.descr;
  int esize_in = 4;
  if (descr == "<f4")
    a->from_bf16 = false;
  else if (descr == "<u2")
    a->from_bf16 = true, esize_in = 2;
  else if (descr == "<f8")
    esize_in = 8;  // numpy's default float
  else
    fail_at(origin, long(hstart),
            "dtype '" + descr + "' not supported (float32 '<f4', float64 '<f8', or bf16 as '<u2')");
  if (hd.fortran) fail_at(origin, long(hstart), "fortran_order arrays are not supported");
  return uint64_t(esize_in);
}

// The element count of a 1-D or 2-D shape without zero dimensions, at most 2^34.
uint64_t element_count(const NpyArray& a, const std::string& origin, size_t hstart) {
  const std::string dims = a.shape_text();
  if (a.shape.empty() || a.shape.size() > 2) fail_at(origin, long(hstart), "shape " + dims + " is not 1-D or 2-D");
  uint64_t count = 1;
  for (uint64_t d : a.shape) {
    if (d == 0) fail_at(origin, long(hstart), "shape " + dims + " has a zero dimension");
    // Checked as a quotient: a product of two file-given dimensions can wrap.
    if (d > kMaxElements / count) fail_at(origin, long(hstart), "shape " + dims + " is larger than 2^34 elements");
    count *= d;
  }
  return count;
}

// The data section must hold exactly count elements of esize bytes.
void check_data_size(size_t n, size_t data_at, uint64_t count, uint64_t esize, const std::string& dims,
                     const std::string& origin) {
  if (n - data_at < count * esize)
    fail_at(origin, long(n),
            "truncated: shape " + dims + " needs " + std::to_string(count * esize) + " data bytes from offset " +
                std::to_string(data_at) + ", the file ends after " + std::to_string(n - data_at));
  if (n - data_at > count * esize)
    fail_at(origin, long(data_at + count * esize),
            std::to_string(n - data_at - count * esize) + " bytes after the data that shape " + dims + " holds");
}

// a->data.size() little-endian elements of esize bytes from d (file offset data_at) as float.
void read_elements(const uint8_t* d, uint64_t esize, size_t data_at, const std::string& origin, NpyArray* a) {
  for (size_t i = 0; i < a->data.size(); ++i) {
    if (esize == 2) {
      a->data[i] = bf16_to_float(uint16_t(d[2 * i] | d[2 * i + 1] << 8));
    } else if (esize == 4) {
      uint32_t u = uint32_t(d[4 * i]) | uint32_t(d[4 * i + 1]) << 8 | uint32_t(d[4 * i + 2]) << 16 |
                   uint32_t(d[4 * i + 3]) << 24;
      std::memcpy(&a->data[i], &u, 4);
    } else {
      uint64_t u = 0;
      for (int k = 7; k >= 0; --k) u = u << 8 | d[8 * i + size_t(k)];
      double v;
      std::memcpy(&v, &u, 8);
      // Beyond the float range the conversion would be undefined: an error
      // naming the element (NaN stays NaN for the callers' own checks).
      if (std::isfinite(v) && std::fabs(v) > double(std::numeric_limits<float>::max()))
        fail_at(origin, long(data_at + 8 * i),
                "float64 element " + std::to_string(i) + " is outside the float32 range");
      a->data[i] = float(v);
    }
  }
}

}  // namespace

NpyArray parse_npy(const uint8_t* b, size_t n, const std::string& origin) {
  size_t hlen = 0, hstart = 0;
  read_preamble(b, n, origin, &hstart, &hlen);
  const std::string h(reinterpret_cast<const char*>(b + hstart), hlen);
  HeaderDict hd;
  const std::string why = HeaderParser(h).parse(&hd);
  if (!why.empty()) fail_at(origin, long(hstart), why);
  NpyArray a;
  const uint64_t esize = element_size(hd, origin, hstart, &a);
  a.shape = hd.shape;
  const uint64_t count = element_count(a, origin, hstart);
  const size_t data_at = hstart + hlen;
  check_data_size(n, data_at, count, esize, a.shape_text(), origin);
  a.data_offset = data_at;
  a.elem_bytes = uint32_t(esize);
  a.data.resize(size_t(count));
  read_elements(b + data_at, esize, data_at, origin, &a);
  return a;
}

std::string NpyArray::shape_text() const {
  std::string t = "(";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + (shape.size() == 1 ? ",)" : ")");
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
