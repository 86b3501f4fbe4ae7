#pragma once
// The format-specific halves of WeightFile::open. A WeightFile maps one or
// more files (the shards of a Hugging Face checkpoint); each parser reads one
// mapped file, validating everything, appends its tensors (tagged with the
// file's index) and metadata, and throws Error(kBadInput) on the first problem.
#include <cstdint>

#include "core/mapped_file.h"
#include "lutc/model/weights.h"

namespace lutc {

struct WeightFileParsers {
  static std::unique_ptr<WeightFile> make_empty() { return std::unique_ptr<WeightFile>(new WeightFile()); }
  static const MappedFile& map(const WeightFile& w, uint32_t file) { return *w.maps_.at(file); }

  // Resolves what `path` names (folder, index, single file) and opens it
  // (weight_inputs.cpp).
  static std::unique_ptr<WeightFile> open_any(const std::string& path);
  // Detects the format of mapped file `file` from its content and parses it:
  // the one place single-file formats are told apart. Returns the format.
  static const char* parse_single(WeightFile& w, uint32_t file);

  static void parse_safetensors(WeightFile& w, uint32_t file);
  static void parse_llama2c(WeightFile& w, uint32_t file);
  static void parse_gguf(WeightFile& w, uint32_t file);  // gguf_reader.cpp
  // True when the bytes form a consistent llama2.c checkpoint whose size
  // matches its header exactly; used to settle the rare file that could be
  // either format.
  static bool is_consistent_llama2c(const uint8_t* data, uint64_t size);

  // Maps `path` as the next file; returns its index.
  static uint32_t add_map(WeightFile& w, const std::string& path) {
    w.maps_.push_back(std::make_unique<MappedFile>(path));
    w.files_.push_back(path);
    return uint32_t(w.files_.size() - 1);
  }
  static void set_format(WeightFile& w, const char* f) { w.format_ = f; }
  static void set_path(WeightFile& w, const std::string& path) { w.path_ = path; }
  static void set_config(WeightFile& w, const std::string& path, std::string text) {
    w.config_path_ = path;
    w.config_text_ = std::move(text);
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
