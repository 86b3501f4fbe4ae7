#pragma once
// The format-specific halves of WeightFile::open. Each parser fills the
// WeightFile's tensor list and metadata from its mapped bytes, validating
// everything, and throws Error(kBadInput) on the first problem.
#include <cstdint>

#include "lutc/model/weights.h"
#include "mapped_file.h"

namespace lutc {

struct WeightFileParsers {
  static std::unique_ptr<WeightFile> make_empty() { return std::unique_ptr<WeightFile>(new WeightFile()); }
  static const MappedFile& map(const WeightFile& w) { return *w.map_; }

  static void parse_safetensors(WeightFile& w);
  static void parse_llama2c(WeightFile& w);
  static void parse_gguf(WeightFile& w);  // gguf_reader.cpp
  // True when the bytes form a consistent llama2.c checkpoint whose size
  // matches its header exactly; used to settle the rare file that could be
  // either format.
  static bool is_consistent_llama2c(const uint8_t* data, uint64_t size);

  static void set_format(WeightFile& w, const char* f) { w.format_ = f; }
  static void set_map(WeightFile& w, std::unique_ptr<MappedFile> m, const std::string& path) {
    w.map_ = std::move(m);
    w.path_ = path;
  }
  static std::vector<TensorInfo>& tensors(WeightFile& w) { return w.tensors_; }
  static std::map<std::string, std::string>& metadata(WeightFile& w) { return w.metadata_; }
};

// Little-endian loads from possibly unaligned bytes.
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline int32_t load_le32s(const uint8_t* p) {
  const uint32_t u = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return int32_t(u);
}

}  // namespace lutc
