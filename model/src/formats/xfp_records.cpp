// Version 2 pieces of the .xfp container (docs/xfp-format.md §1, §6-§8): the
// file header, kept tensor and alias records, index entries and the trailer.
#include <cstring>

#include "formats/xfp_codec.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

const char* record_kind_name(XfpRecordKind k) {
  switch (k) {
    case XfpRecordKind::kLayer: return "layer";
    case XfpRecordKind::kKept: return "kept";
    case XfpRecordKind::kAlias: return "alias";
  }
  return "?";
}

uint64_t KeptTensor::elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

namespace xfp_codec {
namespace {

// On-disk dtype codes; the same numbers as lutc::DType for these four, but
// spelled out so a change to the enum cannot change the format.
struct KeptDType {
  DType dtype;
  uint8_t code;
};
constexpr KeptDType kKeptDTypes[] = {{DType::kF32, 0}, {DType::kF16, 1}, {DType::kBF16, 2}, {DType::kF64, 3}};
constexpr unsigned kMaxRank = 4;

uint8_t dtype_code(DType d) {
  for (const auto& k : kKeptDTypes)
    if (k.dtype == d) return k.code;
  return 0xff;
}

}  // namespace

bool kept_dtype_ok(DType d) { return dtype_code(d) != 0xff; }

void check_kept(const KeptTensor& t, const std::string& file, long long offset) {
  if (t.name.empty()) fail_input(file, t.name, offset, "empty tensor name");
  if (!kept_dtype_ok(t.dtype))
    fail_input(file, t.name, offset,
               std::string("dtype ") + dtype_name(t.dtype) + " cannot be kept (F32, F16, BF16 or F64)");
  if (t.shape.empty() || t.shape.size() > kMaxRank)
    fail_input(file, t.name, offset, "rank " + std::to_string(t.shape.size()) + " is not 1..4");
  // Overflow-safe: every dim >= 1 and the product is capped before it is formed.
  uint64_t n = dtype_size(t.dtype);
  for (uint64_t d : t.shape) {
    if (d == 0) fail_input(file, t.name, offset, "a dimension is 0");
    if (d > (uint64_t(1) << 62) / n)
      fail_input(file, t.name, offset, "absurd shape: the tensor would exceed 2^62 bytes");
    n *= d;
  }
  if (t.bytes.size() != n)
    fail_input(file, t.name, offset,
               std::to_string(t.bytes.size()) + " data bytes, the shape and dtype need " + std::to_string(n));
}

void append_kept_record(const KeptTensor& t, std::vector<uint8_t>& buf) {
  Sink out(buf);
  const size_t start = out.size();
  out.u64(0);  // record length, patched below
  out.u32(uint32_t(4 + t.name.size() + 2 + 8 * t.shape.size()));
  const size_t header_start = out.size();
  out.str(t.name);
  out.u8(dtype_code(t.dtype));
  out.u8(uint8_t(t.shape.size()));
  for (uint64_t d : t.shape) out.u64(d);
  out.u32(crc32(out.data() + header_start, out.size() - header_start));
  out.u64(t.bytes.size());
  out.bytes(t.bytes.data(), t.bytes.size());
  out.u32(crc32(t.bytes.data(), t.bytes.size()));
  out.patch(start, out.size() - start - 8, 8);
}

namespace {

// The u64 record length at `pos`, checked against the file; returns the body cursor.
Cursor record_body(const uint8_t* data, uint64_t size, uint64_t pos, const std::string& file,
                   const std::string& label) {
  Cursor outer(data, pos, size, file, label);
  const uint64_t len = outer.u64("record length");
  if (len > outer.remaining())
    outer.fail(pos, "record length " + std::to_string(len) + " runs past the end of the file (" +
                        std::to_string(outer.remaining()) + " bytes remain)");
  return Cursor(data, outer.pos(), outer.pos() + len, file, label);
}

}  // namespace

KeptTensor read_kept_record(const uint8_t* data, uint64_t size, uint64_t pos, const std::string& file,
                            const std::string& label) {
  Cursor c = record_body(data, size, pos, file, label);
  const uint64_t hlen_at = c.pos();
  const uint32_t hlen = c.u32("header length");
  c.need(uint64_t(hlen) + 4, "kept tensor header and its CRC");
  const uint8_t* header = data + c.pos();
  if (get_u32(header + hlen) != crc32(header, hlen)) c.fail(c.pos() + hlen, "kept tensor header CRC mismatch");

  KeptTensor t;
  Cursor h(data, c.pos(), c.pos() + hlen, file, label);
  const uint64_t name_at = h.pos();
  t.name = h.str("tensor name");
  if (t.name.empty()) h.fail(name_at, "empty tensor name");
  h.set_layer(t.name);
  c.set_layer(t.name);
  const uint64_t dtype_at = h.pos();
  const uint8_t code = h.u8("dtype");
  bool known = false;
  for (const auto& k : kKeptDTypes)
    if (k.code == code) t.dtype = k.dtype, known = true;
  if (!known) h.fail(dtype_at, "unknown kept dtype code " + std::to_string(code));
  const uint64_t rank_at = h.pos();
  const uint8_t rank = h.u8("rank");
  if (rank < 1 || rank > kMaxRank) h.fail(rank_at, "rank " + std::to_string(rank) + " is not 1..4");
  for (unsigned i = 0; i < rank; ++i) t.shape.push_back(h.u64("dimension"));
  if (h.remaining())
    h.fail(h.pos(), "kept tensor header length " + std::to_string(hlen) + " (at offset " + std::to_string(hlen_at) +
                        ") leaves " + std::to_string(h.remaining()) + " bytes unparsed");
  c.take(uint64_t(hlen) + 4, "header");

  const uint64_t n_at = c.pos();
  const uint64_t n = c.u64("data length");
  // The shape must ask for exactly n bytes; checked before anything is allocated.
  uint64_t want = dtype_size(t.dtype);
  for (uint64_t d : t.shape) {
    if (d == 0 || d > c.remaining() / want) c.fail(rank_at + 1, "shape does not fit in the record");
    want *= d;
  }
  if (n != want)
    c.fail(n_at, "data length " + std::to_string(n) + ", the shape and dtype need " + std::to_string(want));
  if (n > c.remaining() || c.remaining() - n != 4)
    c.fail(n_at, "data length " + std::to_string(n) + " does not end 4 bytes before the record end (" +
                     std::to_string(c.remaining()) + " bytes remain)");
  const uint8_t* p = c.take(n, "data");
  const uint64_t sum_at = c.pos();
  if (c.u32("data CRC") != crc32(p, size_t(n))) c.fail(sum_at, "kept tensor data CRC mismatch");
  t.bytes.assign(p, p + n);
  return t;
}

void append_alias(const XfpAlias& a, std::vector<uint8_t>& buf) {
  Sink out(buf);
  const size_t start = out.size();
  out.u64(0);
  out.str(a.name);
  out.str(a.target);
  out.u32(crc32(out.data() + start + 8, out.size() - start - 8));
  out.patch(start, out.size() - start - 8, 8);
}

XfpAlias read_alias_record(const uint8_t* data, uint64_t size, uint64_t pos, const std::string& file,
                           const std::string& label) {
  Cursor c = record_body(data, size, pos, file, label);
  const uint64_t body_at = c.pos();
  XfpAlias a;
  a.name = c.str("alias name");
  c.set_layer(a.name.empty() ? label : a.name);
  a.target = c.str("alias target");
  const uint64_t sum_at = c.pos();
  if (c.u32("alias CRC") != crc32(data + body_at, size_t(sum_at - body_at))) c.fail(sum_at, "alias CRC mismatch");
  if (c.remaining()) c.fail(c.pos(), std::to_string(c.remaining()) + " bytes after the alias CRC");
  if (a.name.empty() || a.target.empty()) c.fail(body_at, "empty alias name or target");
  return a;
}

std::vector<uint8_t> file_header_v2(const std::map<std::string, std::string>& metadata) {
  std::vector<uint8_t> buf;
  Sink out(buf);
  out.bytes(kMagic, 8);
  out.u16(kVersion2);
  out.u16(0);  // flags: none defined
  out.strings(metadata);
  out.u32(crc32(buf.data(), buf.size()));
  return buf;
}

void append_index_entry(const XfpRecordInfo& e, std::vector<uint8_t>& buf) {
  Sink out(buf);
  out.u8(uint8_t(e.kind));
  out.str(e.name);
  out.u64(e.offset);
  out.u64(e.length);
  switch (e.kind) {
    case XfpRecordKind::kLayer:
      out.u8(uint8_t(e.role));
      out.u32(e.rows);
      out.u32(e.cols);
      out.u8(uint8_t(e.scheme));
      out.u8(e.bits);
      out.u32(e.group);
      out.u64(e.outliers);
      break;
    case XfpRecordKind::kKept:
      out.u8(dtype_code(e.dtype));
      out.u8(uint8_t(e.shape.size()));
      for (uint64_t d : e.shape) out.u64(d);
      break;
    case XfpRecordKind::kAlias: out.str(e.target); break;
  }
}

XfpRecordInfo read_index_entry(Cursor& c) {
  XfpRecordInfo e;
  const uint64_t at = c.pos();
  const uint8_t kind = c.u8("index entry kind");
  if (kind < uint8_t(XfpRecordKind::kLayer) || kind > uint8_t(XfpRecordKind::kAlias))
    c.fail(at, "unknown record kind " + std::to_string(kind) + " in the index");
  e.kind = XfpRecordKind(kind);
  const uint64_t name_at = c.pos();
  e.name = c.str("index entry name");
  if (e.name.empty()) c.fail(name_at, "empty record name in the index");
  c.set_layer(e.name);
  e.offset = c.u64("record offset");
  e.length = c.u64("record length");
  switch (e.kind) {
    case XfpRecordKind::kLayer: {
      const uint64_t role_at = c.pos();
      const uint8_t role = c.u8("role");
      if (role > uint8_t(Role::kOther)) c.fail(role_at, "unknown role code " + std::to_string(role));
      e.role = Role(role);
      e.rows = c.u32("rows");
      e.cols = c.u32("cols");
      const uint64_t scheme_at = c.pos();
      const uint8_t scheme = c.u8("scheme");
      if (scheme < uint8_t(Scheme::kXfpV2) || scheme > uint8_t(Scheme::kFp8E4M3))
        c.fail(scheme_at, "unknown scheme code " + std::to_string(scheme));
      e.scheme = Scheme(scheme);
      e.bits = c.u8("bits");
      e.group = c.u32("group");
      e.outliers = c.u64("outlier count");
      e.shape = {e.rows, e.cols};
      break;
    }
    case XfpRecordKind::kKept: {
      const uint64_t dtype_at = c.pos();
      const uint8_t code = c.u8("dtype");
      bool known = false;
      for (const auto& k : kKeptDTypes)
        if (k.code == code) e.dtype = k.dtype, known = true;
      if (!known) c.fail(dtype_at, "unknown kept dtype code " + std::to_string(code));
      const uint64_t rank_at = c.pos();
      const uint8_t rank = c.u8("rank");
      if (rank < 1 || rank > kMaxRank) c.fail(rank_at, "rank " + std::to_string(rank) + " is not 1..4");
      for (unsigned i = 0; i < rank; ++i) e.shape.push_back(c.u64("dimension"));
      break;
    }
    case XfpRecordKind::kAlias: e.target = c.str("alias target"); break;
  }
  return e;
}

std::vector<uint8_t> trailer(uint64_t footer_offset) {
  std::vector<uint8_t> buf;
  Sink out(buf);
  out.u64(footer_offset);
  out.u32(crc32(buf.data(), 8));
  out.bytes(kTrailerMagic, 8);
  return buf;
}

}  // namespace xfp_codec
}  // namespace lutc
