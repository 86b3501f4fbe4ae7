#pragma once
// The ggml side of scripts/bench-vs-ggml, driven through ggml's public API
// only: ggml_quantize_chunk to quantize, the type traits' to_float to
// dequantize, and the CPU backend's mul_mat (with ggml's own threads) for the
// GEMV. Nothing here re-implements a ggml format or a quality metric: the
// dequantized weights go to a safetensors file that `lutc eval --decoded`
// scores with lutc's metric code.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ggml.h"

namespace vs_ggml {

// What reaches the user: a message and the exit code lutc's CLI uses for the
// same kind of failure (2 bad arguments, 3 bad input file, 4 I/O, 70 a
// result that cannot be right).
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};
[[noreturn]] void usage_error(const std::string& msg);

struct TypeInfo {
  ggml_type type = GGML_TYPE_COUNT;
  std::string name;           // ggml's spelling: q4_0, q4_K, iq4_nl, mxfp4, ...
  int64_t block = 0;          // weights per block
  size_t block_bytes = 0;     // bytes per block: everything stored (scales included)
  double bpw = 0;             // block_bytes * 8 / block
  bool has_cpu_gemv = false;  // the CPU backend has a vec_dot for it
};
// ggml's type name, case-insensitive; a usage error for anything that is not
// a quantized type with a dequantizer.
TypeInfo find_type(const std::string& name);
nlohmann::json type_json(const TypeInfo& t);

// "NxK" (N rows = outputs, K inputs), as lutc bench --synthetic reads it.
void parse_shape(const std::string& s, uint32_t* rows, uint32_t* cols);
// "1,2": thread counts in 1..256.
std::vector<unsigned> parse_threads(const std::string& s);

// rows x cols row-major fp32 into ggml blocks (ggml_quantize_chunk, no
// importance matrix), the rows split over `jobs` threads.
std::vector<uint8_t> quantize_matrix(const TypeInfo& t, const float* w, uint32_t rows, uint32_t cols, unsigned jobs);

// Float tensors of a safetensors file (F32, F16, BF16), read as fp32.
struct StTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // absolute byte range in the file
};
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const StTensor* find(const std::string& name) const;
  std::vector<float> read_f32(const StTensor& t) const;

 private:
  std::string path_;
  uint64_t file_size_ = 0;
  std::vector<StTensor> tensors_;
};
struct F32Matrix {
  std::string name;
  uint32_t rows = 0, cols = 0;
  std::vector<float> data;
};
// Written to a temporary file beside `path`, then renamed over it: a failed
// run leaves no half-written file.
void write_safetensors_f32(const std::string& path, const std::vector<F32Matrix>& tensors,
                           const nlohmann::json& metadata);

int run_info(int argc, char** argv);
int run_speed(int argc, char** argv);
int run_quality(int argc, char** argv);

}  // namespace vs_ggml
