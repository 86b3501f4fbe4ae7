#pragma once
// The .xfp container (docs/xfp-format.md). Version 2: file header (magic,
// version, metadata), then records appended one at a time — quantized layers,
// kept tensors (source precision) and aliases — then an index footer and a
// fixed-size trailer, so a writer streams and a reader lists the records
// without loading them. Version 1 files (header with a layer count, layer
// records back to back, no index) are still read.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lutc/model/layer.h"
#include "lutc/model/weights.h"

namespace lutc {

// A tensor stored in its source precision (norms, biases, embeddings kept at
// 16 bits), so an .xfp can hold a whole model.
struct KeptTensor {
  std::string name;
  DType dtype = DType::kF32;    // kF32, kF16, kBF16 or kF64
  std::vector<uint64_t> shape;  // rank 1..4, every dim >= 1
  std::vector<uint8_t> bytes;   // raw little-endian elements, elements() * dtype_size(dtype) bytes
  uint64_t elements() const;
};

// `name` is stored as the earlier record `target` (a layer or a kept tensor),
// e.g. lm_head.weight tied to model.embed_tokens.weight.
struct XfpAlias {
  std::string name, target;
};

struct XfpFile {
  std::map<std::string, std::string> metadata;  // e.g. source file, tool version, options
  std::vector<QuantizedLayer> layers;
  std::vector<KeptTensor> kept;
  std::vector<XfpAlias> aliases;  // written after layers and kept tensors
};

enum class XfpRecordKind : uint8_t { kLayer = 1, kKept = 2, kAlias = 3 };
const char* record_kind_name(XfpRecordKind k);  // "layer", "kept", "alias"

// One index entry: what a reader knows about a record without loading it.
struct XfpRecordInfo {
  XfpRecordKind kind = XfpRecordKind::kLayer;
  std::string name;
  uint64_t offset = 0, length = 0;  // the record's bytes in the file
  // kLayer
  Role role = Role::kOther;
  uint32_t rows = 0, cols = 0;
  Scheme scheme = Scheme::kXfpV2;
  uint8_t bits = 0;
  uint32_t group = 0;
  uint64_t outliers = 0;
  // kKept
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;  // kLayer: {rows, cols}
  // kAlias
  std::string target;
  uint64_t stored_bits() const { return 8 * length; }
};

// Appends records to `path` as they come: memory holds one record and the
// (small) index, never the whole model. Writes a temp file beside `path`
// (AtomicFile); commit() writes the index and trailer, fsyncs and renames.
// Destroyed without commit() — an exception, a failed check — it removes the
// temp file, so `path` is the complete new file or whatever was there before.
// Every record is checked as it is appended (validate(), names unique across
// all records, alias targets earlier non-alias records): Error(kBadInput).
class XfpWriter {
 public:
  XfpWriter(const std::string& path, const std::map<std::string, std::string>& metadata);
  ~XfpWriter();
  XfpWriter(const XfpWriter&) = delete;
  XfpWriter& operator=(const XfpWriter&) = delete;

  void append(const QuantizedLayer& layer);
  void append_kept(const KeptTensor& tensor);
  void append_alias(const XfpAlias& alias);
  // Index, trailer, fsync: the file is complete under temp_path() but not yet
  // at path(), so a caller can publish it together with other outputs
  // (AtomicFile::finish). Appending after it is Error(kInternal).
  void finish();
  const std::string& temp_path() const;
  void commit();  // finish() if not yet, then rename onto path(); throws Error(kIo)

  const std::string& path() const;
  size_t records() const;
  uint64_t bytes_written() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Opens an .xfp of either version, reading the header and the index and
// nothing else (version 1: one scan of the record headers, payloads
// skipped). Records are then loaded one at a time, each CRC-checked; pages of
// the file are released after each read, so memory does not grow with the
// file. Every error is Error(kBadInput) naming the file, the record and the
// byte offset; a version 2 file without its trailer is refused as
// "no index: the writer was interrupted?". A missing file is Error(kIo).
class XfpReader {
 public:
  explicit XfpReader(const std::string& path);
  ~XfpReader();
  XfpReader(XfpReader&&) noexcept;
  XfpReader& operator=(XfpReader&&) noexcept;

  const std::string& path() const;
  uint16_t version() const;
  uint64_t file_size() const;
  const std::map<std::string, std::string>& metadata() const;
  const std::vector<XfpRecordInfo>& records() const;
  size_t layer_count() const;
  // Index of the record named `name`, or records().size() when there is none.
  size_t find(const std::string& name) const;
  // Bytes of the file outside layer and kept records (header, aliases, index, trailer).
  uint64_t overhead_bytes() const;

  // Load record i; each throws Error(kInternal) when record i is of another kind.
  QuantizedLayer read_layer(size_t i) const;
  KeptTensor read_kept(size_t i) const;
  XfpAlias read_alias(size_t i) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Whole-file conveniences on top of XfpWriter / XfpReader (version 2 out,
// either version in). read_xfp loads every record.
void write_xfp(const std::string& path, const XfpFile& file);
XfpFile read_xfp(const std::string& path);

// The bytes of one layer record exactly as the writer lays them out.
std::vector<uint8_t> serialize_layer(const QuantizedLayer& layer);
// Bits the layer's record occupies in the container (header, every section,
// lengths and checksums). Effective bpw = stored_bits / elements.
uint64_t stored_bits(const QuantizedLayer& layer);
double effective_bpw(const QuantizedLayer& layer);
// Bytes of write_xfp(file) outside its layer and kept records: file header,
// alias records, index and trailer. Amortized over layers by their element
// share in whole-file reports (the name predates the index).
uint64_t file_header_bytes(const XfpFile& file);

uint32_t crc32(const void* data, size_t n, uint32_t seed = 0);

}  // namespace lutc
