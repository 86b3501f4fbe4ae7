#pragma once
// Byte-level pieces of the .xfp container shared by the record codec, the
// writer and the reader (docs/xfp-format.md). Every multi-byte field is written
// and read one byte at a time in little-endian order, so the format does not
// depend on the host.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/byte_io.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

namespace lutc::xfp_codec {

constexpr uint8_t kMagic[8] = {'L', 'U', 'T', 'C', 'X', 'F', 'P', '\0'};
constexpr uint8_t kTrailerMagic[8] = {'X', 'F', 'P', 'I', 'N', 'D', 'E', 'X'};
constexpr uint8_t kIndexTag[4] = {'X', 'I', 'D', 'X'};
constexpr uint16_t kVersion1 = 1, kVersion2 = 2;
// Trailer: footer offset (u64), CRC of those 8 bytes (u32), magic (8).
constexpr uint64_t kTrailerBytes = 8 + 4 + 8;

// The .xfp writer: ByteWriter plus the container's strings and fp16 arrays.
class Sink : public ByteWriter {
 public:
  using ByteWriter::ByteWriter;
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    bytes(s.data(), s.size());
  }
  void strings(const std::map<std::string, std::string>& kv) {
    u32(uint32_t(kv.size()));
    for (const auto& e : kv) {
      str(e.first);
      str(e.second);
    }
  }
  void halves(const std::vector<uint16_t>& v) {
    for (uint16_t h : v) u16(h);
  }
};

// A bounds-checked view of the mapped file (ByteReader) plus the container's
// length-prefixed strings.
class Cursor : public ByteReader {
 public:
  using ByteReader::ByteReader;
  std::string str(const char* what) {
    const uint32_t n = u32(what);
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
};

uint32_t get_u32(const uint8_t* p);
// Keys strictly increasing; the count is capped by what remains.
void read_strings(Cursor& c, std::map<std::string, std::string>& out, const char* what);
uint64_t strings_bytes(const std::map<std::string, std::string>& kv);

// The index entry of a layer from its header fields (outliers left to the caller:
// the writer counts them, a version 1 scan reads them from the CSR).
inline XfpRecordInfo layer_index_entry(const QuantizedLayer& l) {
  XfpRecordInfo e;
  e.kind = XfpRecordKind::kLayer;
  e.name = l.name;
  e.role = l.role;
  e.rows = l.rows;
  e.cols = l.cols;
  e.scheme = l.scheme;
  e.bits = l.bits;
  e.group = l.group;
  e.shape = {l.rows, l.cols};
  return e;
}

// ---- quantized layer records (xfp_file.cpp); identical in both versions.
void append_layer(const QuantizedLayer& layer, std::vector<uint8_t>& buf);
// Parses the record at `pos` (its u64 length first) and advances pos past it.
// `label` names the record in errors until its name is known.
QuantizedLayer read_layer_record(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& file,
                                 const std::string& label);
// The index entry of the layer record at `pos`, from its header and section
// framing only (payloads are skipped, except the 4 bytes that give the
// outlier count); advances pos past the record. Used to index version 1 files.
XfpRecordInfo scan_layer_record(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& file,
                                const std::string& label);
// Smallest possible layer record, to cap a version 1 layer count.
uint64_t min_layer_record_bytes();

// ---- kept tensors and aliases (xfp_records.cpp), version 2 only.
bool kept_dtype_ok(DType d);
void append_kept_record(const KeptTensor& t, std::vector<uint8_t>& buf);
KeptTensor read_kept_record(const uint8_t* data, uint64_t size, uint64_t pos, const std::string& file,
                            const std::string& label);
void append_alias(const XfpAlias& a, std::vector<uint8_t>& buf);
XfpAlias read_alias_record(const uint8_t* data, uint64_t size, uint64_t pos, const std::string& file,
                           const std::string& label);
// Checks a kept tensor's dtype, rank, dims and byte count; `what` prefixes the message.
void check_kept(const KeptTensor& t, const std::string& file, long long offset);

// ---- version 2 header, index footer and trailer (xfp_records.cpp).
std::vector<uint8_t> file_header_v2(const std::map<std::string, std::string>& metadata);
void append_index_entry(const XfpRecordInfo& e, std::vector<uint8_t>& buf);
// Smallest index entry (kind, a 1-byte name, offset, length), to cap the entry count.
constexpr uint64_t kMinIndexEntryBytes = 1 + 4 + 1 + 8 + 8;
// One entry at the cursor; codes, rank and dims are checked, offsets are not.
XfpRecordInfo read_index_entry(Cursor& c);
std::vector<uint8_t> trailer(uint64_t footer_offset);

// ---- version 1, kept so old files stay readable and testable.
std::vector<uint8_t> file_header_v1(const std::map<std::string, std::string>& metadata, uint32_t layers);
// Writes `file` (layers only) exactly as the version 1 writer did.
void write_xfp_v1(const std::string& path, const XfpFile& file);

}  // namespace lutc::xfp_codec
