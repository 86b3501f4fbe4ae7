#pragma once
// Weight files built byte by byte, without the library's own writer or any
// JSON library, so reader tests compare against an independent encoding.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace lutc::testing {

struct RawTensor {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "F64" or anything, for bad-input tests
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
  std::vector<float> expected;  // what a reader must return, element by element
};

inline void append_le(std::vector<uint8_t>& out, uint64_t v, int nbytes) {
  for (int i = 0; i < nbytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

inline float float_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// binary16 value by its definition, independent of the library's converter.
inline float half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1, exp = (h >> 10) & 31, man = h & 1023;
  const double v = exp == 0 ? std::ldexp(double(man), -24) : std::ldexp(double(1024 + man), exp - 25);
  return float(sign * v);
}

// A tensor of random finite values of the given dtype.
inline RawTensor random_tensor(std::mt19937_64& rng, const std::string& name, const std::string& dtype,
                               std::vector<uint64_t> shape) {
  RawTensor t{name, dtype, std::move(shape), {}, {}};
  uint64_t n = 1;
  for (uint64_t d : t.shape) n *= d;
  for (uint64_t i = 0; i < n; ++i) {
    if (dtype == "F32") {
      // Sign, an exponent around 2^-27..2^22 and any mantissa: finite values only.
      const uint32_t bits = uint32_t(rng() & 0x807fffffu) | uint32_t(100 + rng() % 50) << 23;
      append_le(t.bytes, bits, 4);
      t.expected.push_back(float_from_bits(bits));
    } else if (dtype == "F16") {
      uint16_t h;
      do h = uint16_t(rng());
      while (((h >> 10) & 31) == 31);
      append_le(t.bytes, h, 2);
      t.expected.push_back(half_value(h));
    } else if (dtype == "F64") {
      // A float's value, plus (half the time) low mantissa bits a float cannot
      // hold, which the reader must round away like a plain cast.
      const uint32_t fbits = uint32_t(rng() & 0x807fffffu) | uint32_t(100 + rng() % 50) << 23;
      double d = double(float_from_bits(fbits));
      uint64_t u;
      std::memcpy(&u, &d, 8);
      if (rng() & 1) u |= rng() & ((uint64_t(1) << 29) - 1);
      std::memcpy(&d, &u, 8);
      append_le(t.bytes, u, 8);
      t.expected.push_back(float(d));
    } else {  // BF16 (and unknown dtypes, which readers must refuse anyway)
      uint16_t b;
      do b = uint16_t(rng());
      while (((b >> 7) & 255) == 255);
      append_le(t.bytes, b, 2);
      t.expected.push_back(float_from_bits(uint32_t(b) << 16));
    }
  }
  return t;
}

inline std::string json_shape(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

struct SafetensorsParts {
  std::string header;
  std::vector<uint8_t> data;
};

// Header text and data section; data is laid out in `data_order` (indices
// into tensors), which may differ from the header's order.
inline SafetensorsParts safetensors_parts(const std::vector<RawTensor>& tensors, const std::vector<size_t>& data_order,
                                          const std::map<std::string, std::string>& metadata = {}) {
  std::vector<uint64_t> begin(tensors.size());
  SafetensorsParts p;
  for (size_t i : data_order) {
    begin[i] = p.data.size();
    p.data.insert(p.data.end(), tensors[i].bytes.begin(), tensors[i].bytes.end());
  }
  p.header = "{";
  if (!metadata.empty()) {
    p.header += "\"__metadata__\": {";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      p.header += (first ? "" : ", ") + ("\"" + k + "\": \"" + v + "\"");
      first = false;
    }
    p.header += "}";
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const RawTensor& t = tensors[i];
    if (p.header.size() > 1) p.header += ", ";
    p.header += "\"" + t.name + "\": {\"dtype\": \"" + t.dtype + "\", \"shape\": " + json_shape(t.shape) +
                ", \"data_offsets\": [" + std::to_string(begin[i]) + ", " + std::to_string(begin[i] + t.bytes.size()) +
                "]}";
  }
  p.header += "}";
  return p;
}

// The whole file; header_len overrides the declared header length.
inline std::vector<uint8_t> safetensors_bytes(const SafetensorsParts& p, int64_t header_len = -1) {
  std::vector<uint8_t> out;
  append_le(out, header_len >= 0 ? uint64_t(header_len) : p.header.size(), 8);
  out.insert(out.end(), p.header.begin(), p.header.end());
  out.insert(out.end(), p.data.begin(), p.data.end());
  return out;
}

inline std::vector<uint8_t> safetensors_bytes(const std::vector<RawTensor>& tensors) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return safetensors_bytes(safetensors_parts(tensors, order));
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline std::vector<uint8_t> llama2c_header(int32_t dim, int32_t hidden, int32_t layers, int32_t heads, int32_t kv_heads,
                                           int32_t vocab, int32_t seq_len) {
  std::vector<uint8_t> out;
  for (int32_t v : {dim, hidden, layers, heads, kv_heads, vocab, seq_len}) append_le(out, uint32_t(v), 4);
  return out;
}

}  // namespace lutc::testing
