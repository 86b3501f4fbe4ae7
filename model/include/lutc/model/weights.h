#pragma once
// Read-only access to real weight files without loading them whole: the files
// are memory-mapped and tensors are converted to fp32 a row range at a time.
// Formats: safetensors (F32, F16, BF16, F64), a Hugging Face folder of
// safetensors shards with model.safetensors.index.json, GGUF v2/v3 (the same
// float types; block-quantized tensors are listed but not read) and llama2.c
// legacy checkpoints.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lutc {

// F32/F16/BF16/F64 are weight dtypes. The other safetensors dtypes are accepted
// in a file (real checkpoints carry int64 position ids, bool masks, fp8 scales)
// and listed, but they are not weight matrices: read_rows refuses them.
// kOpaque is a source type with no per-element size (a GGUF block-quantized
// type such as Q4_K); TensorInfo::source_type names it.
enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI64,
  kI32,
  kI16,
  kI8,
  kU64,
  kU32,
  kU16,
  kU8,
  kBool,
  kF8E4M3,
  kF8E5M2,
  kOpaque
};
const char* dtype_name(DType d);
size_t dtype_size(DType d);  // 0 for kOpaque
bool dtype_is_weight(DType d);
bool parse_dtype(const std::string& name, DType* out);  // safetensors spelling

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  uint64_t offset = 0;  // absolute byte offset of the data in its file
  uint64_t nbytes = 0;
  uint32_t file = 0;        // index into WeightFile::files(): the shard holding the data
  std::string source_type;  // the file's own type name when dtype is kOpaque (GGUF "Q4_K")
  // source_type when set, else dtype_name(dtype): what listings show.
  const char* type_name() const;
  bool is_matrix() const { return shape.size() == 2; }
  uint64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  uint64_t cols() const;  // product of the remaining dims (1 for a vector)
  uint64_t elements() const;
};

class MappedFile;

class WeightFile {
 public:
  // `path` is one of: a folder holding model.safetensors.index.json (shards)
  // or model.safetensors; a *.safetensors.index.json file; a single
  // .safetensors; a GGUF file; a llama2.c .bin. A single file's format is
  // detected from its content (the GGUF magic, safetensors header JSON or
  // llama2.c int32 header). Throws
  // Error(kBadInput) naming the file, the tensor and the offset on anything
  // malformed: header length past the end, offsets outside the data, unknown
  // dtype, shape/byte-count mismatch, overlapping tensors, an index whose
  // weight_map disagrees with its shards. Throws Error(kUsage) for one shard
  // of a sharded checkpoint passed alone, naming the folder to pass instead.
  static std::unique_ptr<WeightFile> open(const std::string& path);
  ~WeightFile();

  const std::string& path() const { return path_; }      // as given: a file or a folder
  const std::string& format() const { return format_; }  // "safetensors" | "gguf" | "llama2c"
  // The mapped files: one, or the shards in index order.
  const std::vector<std::string>& files() const { return files_; }
  const std::string& file_of(const TensorInfo& t) const { return files_.at(t.file); }
  // config.json beside the weights (Hugging Face), read but not parsed; empty
  // when there is none. llama_config_from() prefers it to the metadata.
  const std::string& config_path() const { return config_path_; }
  const std::string& config_text() const { return config_text_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  // safetensors __metadata__ (merged over shards, the first shard's value wins),
  // the GGUF key/value pairs (plus the llama-family hyper-parameters under the
  // llama2.c names), or the llama2.c header fields (dim, n_layers, ...)
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Rows [r0, r0+n) of tensor t (treated as rows x cols) to fp32. Throws
  // Error(kBadInput) naming the tensor, row and column of the first NaN/Inf
  // (or F64 value outside the float range), and for a non-weight dtype.
  void read_rows(const TensorInfo& t, uint64_t r0, uint64_t n, float* out) const;
  std::vector<float> read_all(const TensorInfo& t) const;
  // The tensor's bytes exactly as stored (little-endian, source dtype).
  std::vector<uint8_t> read_raw(const TensorInfo& t) const;

 private:
  WeightFile() = default;
  std::string path_, format_, config_path_, config_text_;
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<MappedFile>> maps_;  // parallel to files_
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  friend struct WeightFileParsers;
};

struct NamedMatrix {
  std::string name;
  std::vector<uint64_t> shape;
  const float* data = nullptr;  // row-major, product(shape) floats
};

// Writes fp32 tensors as safetensors (atomically), with optional __metadata__.
void write_safetensors(const std::string& path, const std::vector<NamedMatrix>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Safetensors written one tensor at a time: the header (names, dtypes, shapes
// and so offsets) is fixed when constructed, then each tensor's bytes follow
// in the same order, so only the tensor in hand is in memory. Atomic like
// write_safetensors: destroyed without commit() it leaves no file.
class SafetensorsStreamWriter {
 public:
  struct Entry {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<uint64_t> shape;
  };
  // Throws Error(kUsage) for an empty, reserved or repeated name or an absurd shape.
  SafetensorsStreamWriter(const std::string& path, const std::vector<Entry>& tensors,
                          const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsStreamWriter();
  SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
  SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

  // The next tensor's little-endian bytes, exactly its size (Error(kInternal) otherwise).
  void write_next(const void* data, uint64_t nbytes);
  void commit();  // every tensor written, then as AtomicFile::commit

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace lutc
