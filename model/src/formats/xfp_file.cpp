// Quantized layer records of the .xfp container (docs/xfp-format.md §2-§5),
// the same in both versions, and the version 1 file writer kept for tests.
#include "lutc/model/xfp_file.h"

#include <cstring>
#include <filesystem>
#include <set>

#include "formats/xfp_codec.h"
#include "layer/layer_check.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"

namespace lutc::xfp_codec {
namespace {

constexpr uint64_t kMaxElements = uint64_t(1) << 48;  // matches validate()
constexpr unsigned kGroupIdBits = 5;                  // 32 library codebooks

// Sections in the only order they may appear; each at most once, omitted when empty.
// SOPD and BSCL exist only for sop layers, so every other scheme's record is
// unchanged by them.
enum Section : unsigned { kIndx, kCbks, kGids, kGscl, kGzro, kSopd, kBscl, kOutl, kSectionCount };
constexpr char kTags[kSectionCount][5] = {"INDX", "CBKS", "GIDS", "GSCL", "GZRO", "SOPD", "BSCL", "OUTL"};
constexpr const char* kSectionNames[kSectionCount] = {"indices",     "codebooks",        "group ids",    "group scales",
                                                      "group zeros", "sop scale format", "block scales", "outliers"};
constexpr uint64_t kSopdBytes = 4;  // version, mantissa bits, flags, reserved
constexpr uint8_t kSopdVersion = 1;
constexpr uint8_t kSopdSigned = 1, kSopdPaired = 2;

// Block scale codes are up to 10 bits wide, so they need a 16-bit variant of
// bitpack.h's stream (same bit order).
void pack_wide(const std::vector<uint16_t>& v, unsigned bits, uint8_t* out) {
  std::memset(out, 0, packed_bytes(v.size(), bits));
  for (size_t i = 0; i < v.size(); ++i)
    for (unsigned b = 0; b < bits; ++b) {
      const uint64_t bit = uint64_t(i) * bits + b;
      out[bit >> 3] |= uint8_t(((v[i] >> b) & 1u) << (bit & 7));
    }
}
void unpack_wide(const uint8_t* p, uint64_t count, unsigned bits, std::vector<uint16_t>& v) {
  v.assign(size_t(count), 0);
  for (size_t i = 0; i < v.size(); ++i)
    for (unsigned b = 0; b < bits; ++b) {
      const uint64_t bit = uint64_t(i) * bits + b;
      v[i] |= uint16_t(((p[bit >> 3] >> (bit & 7)) & 1u) << b);
    }
}

// Fixed header fields after the name: role, rows, cols, scheme, bits, group,
// layer_scale_exp, parameter count.
constexpr uint64_t kHeaderFixedBytes = 1 + 4 + 4 + 1 + 1 + 4 + 4 + 4;
// record length, header length, header CRC, section count.
constexpr uint64_t kRecordFramingBytes = 8 + 4 + 4 + 4;
// tag, payload length, CRC.
constexpr uint64_t kSectionFramingBytes = 4 + 8 + 4;
constexpr uint64_t kMinRecordBytes = kRecordFramingBytes + 4 + kHeaderFixedBytes;

unsigned outlier_col_bytes(uint32_t cols) { return cols <= 65536u ? 2 : 4; }

// ---------------------------------------------------------------- writing

uint64_t header_bytes(const QuantizedLayer& l) {
  return 4 + l.name.size() + kHeaderFixedBytes + strings_bytes(l.params);
}

uint64_t section_payload_bytes(const QuantizedLayer& l, Section s) {
  switch (s) {
    case kIndx: return l.indices.size();
    case kCbks: return 2 * uint64_t(l.codebooks.size());
    case kGids: return packed_bytes(l.group_ids.size(), kGroupIdBits);
    case kGscl: return 2 * uint64_t(l.group_scales.size());
    case kGzro: return 2 * uint64_t(l.group_zeros.size());
    case kSopd: return l.scheme == Scheme::kSop ? kSopdBytes : 0;
    case kBscl: return packed_bytes(l.block_scales.size(), l.sop_scale_code_bits());
    case kOutl:
      if (l.outliers.row_ptr.empty()) return 0;
      return 4 * uint64_t(l.outliers.row_ptr.size()) + uint64_t(l.outliers.col.size()) * outlier_col_bytes(l.cols) +
             2 * uint64_t(l.outliers.val.size());
    default: return 0;
  }
}

void write_payload(const QuantizedLayer& l, Section s, Sink& out) {
  switch (s) {
    case kIndx: out.bytes(l.indices.data(), l.indices.size()); break;
    case kCbks: out.halves(l.codebooks); break;
    case kGids: {
      std::vector<uint8_t> packed(packed_bytes(l.group_ids.size(), kGroupIdBits));
      pack_indices(l.group_ids.data(), l.group_ids.size(), kGroupIdBits, packed.data());
      out.bytes(packed.data(), packed.size());
      break;
    }
    case kGscl: out.halves(l.group_scales); break;
    case kGzro: out.halves(l.group_zeros); break;
    case kSopd:
      out.u8(kSopdVersion);
      out.u8(l.sop_scale_mant_bits);
      out.u8(uint8_t((l.sop_scale_signed ? kSopdSigned : 0) | (l.sop_paired ? kSopdPaired : 0)));
      out.u8(0);
      break;
    case kBscl: {
      std::vector<uint8_t> packed(packed_bytes(l.block_scales.size(), l.sop_scale_code_bits()));
      pack_wide(l.block_scales, l.sop_scale_code_bits(), packed.data());
      out.bytes(packed.data(), packed.size());
      break;
    }
    case kOutl: {
      for (uint32_t v : l.outliers.row_ptr) out.u32(v);
      const bool narrow = outlier_col_bytes(l.cols) == 2;
      // Narrow columns fit u16 because col < cols <= 65536.
      for (uint32_t c : l.outliers.col) narrow ? out.u16(uint16_t(c)) : out.u32(c);
      out.halves(l.outliers.val);
      break;
    }
    default: break;
  }
}

}  // namespace

void append_layer(const QuantizedLayer& l, std::vector<uint8_t>& buf) {
  Sink out(buf);
  const size_t start = out.size();
  out.u64(0);  // record length, patched below
  out.u32(uint32_t(header_bytes(l)));
  const size_t header_start = out.size();
  out.str(l.name);
  out.u8(uint8_t(l.role));
  out.u32(l.rows);
  out.u32(l.cols);
  out.u8(uint8_t(l.scheme));
  out.u8(l.bits);
  out.u32(l.group);
  out.i32(l.layer_scale_exp);
  out.strings(l.params);
  out.u32(crc32(out.data() + header_start, out.size() - header_start));
  unsigned sections = 0;
  for (unsigned s = 0; s < kSectionCount; ++s) sections += section_payload_bytes(l, Section(s)) > 0;
  out.u32(sections);
  for (unsigned s = 0; s < kSectionCount; ++s) {
    const uint64_t n = section_payload_bytes(l, Section(s));
    if (n == 0) continue;
    out.bytes(kTags[s], 4);
    out.u64(n);
    const size_t payload_start = out.size();
    write_payload(l, Section(s), out);
    out.u32(crc32(out.data() + payload_start, out.size() - payload_start));
  }
  out.patch(start, out.size() - start - 8, 8);
}

// ---------------------------------------------------------------- reading

namespace {

std::vector<uint16_t> read_halves(const uint8_t* p, uint64_t n) {
  std::vector<uint16_t> v(size_t(n / 2));
  for (size_t i = 0; i < v.size(); ++i) v[i] = uint16_t(p[2 * i] | (p[2 * i + 1] << 8));
  return v;
}

void read_header(Cursor& c, QuantizedLayer& l) {
  const uint64_t name_at = c.pos();
  l.name = c.str("layer name");
  if (l.name.empty()) c.fail(name_at, "empty layer name");
  c.set_layer(l.name);
  const uint64_t role_at = c.pos();
  const uint8_t role = c.u8("role");
  if (role > uint8_t(Role::kOther)) c.fail(role_at, "unknown role code " + std::to_string(role));
  l.role = Role(role);
  const uint64_t shape_at = c.pos();
  l.rows = c.u32("rows");
  l.cols = c.u32("cols");
  if (l.elements() > kMaxElements)
    c.fail(shape_at, "absurd shape " + std::to_string(l.rows) + "x" + std::to_string(l.cols));
  const uint64_t scheme_at = c.pos();
  const uint8_t scheme = c.u8("scheme");
  if (scheme < uint8_t(Scheme::kXfpV2) || scheme > uint8_t(Scheme::kFp8E4M3))
    c.fail(scheme_at, "unknown scheme code " + std::to_string(scheme));
  l.scheme = Scheme(scheme);
  l.bits = c.u8("bits");
  l.group = c.u32("group");
  l.layer_scale_exp = int32_t(c.u32("layer_scale_exp"));
  read_strings(c, l.params, "parameter");
}

// GIDS: one 5-bit library id per (row, group), zero padding bits.
void read_group_ids(Cursor& c, QuantizedLayer& l, const std::string& name, uint64_t at, const uint8_t* p, uint64_t n) {
  const uint64_t count = uint64_t(l.rows) * l.groups_per_row();
  if (n != packed_bytes(count, kGroupIdBits))
    c.fail(at, name + ": " + std::to_string(n) + " bytes, " + std::to_string(count) + " 5-bit ids need " +
                   std::to_string(packed_bytes(count, kGroupIdBits)));
  const unsigned used = unsigned((count * kGroupIdBits) % 8);
  if (used && (p[n - 1] >> used) != 0) c.fail(at, name + ": nonzero padding bits");
  l.group_ids.resize(size_t(count));
  unpack_indices(p, 0, count, kGroupIdBits, l.group_ids.data());
}

// SOPD: the SOP block-scale format (version, mantissa bits, flags).
void read_sop_format(Cursor& c, QuantizedLayer& l, const std::string& name, uint64_t at, const uint8_t* p, uint64_t n) {
  if (l.scheme != Scheme::kSop) c.fail(at, name + " in a " + scheme_name(l.scheme) + " layer");
  if (n != kSopdBytes) c.fail(at, name + ": " + std::to_string(n) + " bytes, expected 4");
  if (p[0] != kSopdVersion) c.fail(at, name + ": unsupported version " + std::to_string(p[0]));
  if (p[1] < 2 || p[1] > 4) c.fail(at, name + ": scale mantissa bits " + std::to_string(p[1]) + " not in 2..4");
  if ((p[2] & ~(kSopdSigned | kSopdPaired)) || p[3]) c.fail(at, name + ": unknown flag bits");
  l.sop_scale_mant_bits = p[1];
  l.sop_scale_signed = p[2] & kSopdSigned;
  l.sop_paired = p[2] & kSopdPaired;
}

// BSCL: one block-scale code per (row, group), as wide as SOPD says.
void read_block_scales(Cursor& c, QuantizedLayer& l, const std::string& name, uint64_t at, const uint8_t* p,
                       uint64_t n) {
  if (l.scheme != Scheme::kSop || l.sop_scale_mant_bits == 0) c.fail(at, name + " without a preceding SOPD section");
  const unsigned w = l.sop_scale_code_bits();
  const uint64_t count = uint64_t(l.rows) * l.groups_per_row();
  if (l.group == 0 || n != packed_bytes(count, w))
    c.fail(at, name + ": " + std::to_string(n) + " bytes, " + std::to_string(count) + " " + std::to_string(w) +
                   "-bit codes need " + std::to_string(packed_bytes(count, w)));
  const unsigned used = unsigned((count * w) % 8);
  if (used && (p[n - 1] >> used) != 0) c.fail(at, name + ": nonzero padding bits");
  unpack_wide(p, count, w, l.block_scales);
}

// OUTL: the outliers' CSR: rows + 1 u32 row pointers, then per entry its
// column (2 or 4 bytes, by the column count) and fp16 residual.
void read_outliers(Cursor& c, QuantizedLayer& l, const std::string& name, uint64_t at, const uint8_t* p, uint64_t n) {
  const uint64_t ptr_bytes = 4 * (uint64_t(l.rows) + 1);
  if (n < ptr_bytes)
    c.fail(at, name + ": " + std::to_string(n) + " bytes cannot hold " + std::to_string(uint64_t(l.rows) + 1) +
                   " row pointers");
  const uint64_t nnz = uint64_t(p[ptr_bytes - 4]) | uint64_t(p[ptr_bytes - 3]) << 8 | uint64_t(p[ptr_bytes - 2]) << 16 |
                       uint64_t(p[ptr_bytes - 1]) << 24;
  const unsigned cw = outlier_col_bytes(l.cols);
  if (n != ptr_bytes + nnz * (cw + 2))
    c.fail(at, name + ": " + std::to_string(n) + " bytes, but " + std::to_string(nnz) + " entries need " +
                   std::to_string(ptr_bytes + nnz * (cw + 2)));
  OutlierCsr& o = l.outliers;
  o.row_ptr.resize(size_t(l.rows) + 1);
  for (size_t i = 0; i < o.row_ptr.size(); ++i)
    o.row_ptr[i] =
        uint32_t(p[4 * i]) | uint32_t(p[4 * i + 1]) << 8 | uint32_t(p[4 * i + 2]) << 16 | uint32_t(p[4 * i + 3]) << 24;
  const uint8_t* q = p + ptr_bytes;
  o.col.resize(size_t(nnz));
  for (size_t i = 0; i < o.col.size(); ++i, q += cw)
    o.col[i] = cw == 2 ? uint32_t(q[0] | q[1] << 8)
                       : uint32_t(q[0]) | uint32_t(q[1]) << 8 | uint32_t(q[2]) << 16 | uint32_t(q[3]) << 24;
  o.val = read_halves(q, 2 * nnz);
}

void read_section(Cursor& c, QuantizedLayer& l, Section s, uint64_t at, const uint8_t* p, uint64_t n) {
  const std::string name = std::string("section ") + kTags[s] + " (" + kSectionNames[s] + ")";
  switch (s) {
    case kIndx: l.indices.assign(p, p + n); return;
    case kCbks:
    case kGscl:
    case kGzro: {
      if (n % 2) c.fail(at, name + ": odd payload length " + std::to_string(n));
      auto v = read_halves(p, n);
      (s == kCbks ? l.codebooks : s == kGscl ? l.group_scales : l.group_zeros) = std::move(v);
      return;
    }
    case kGids: read_group_ids(c, l, name, at, p, n); return;
    case kSopd: read_sop_format(c, l, name, at, p, n); return;
    case kBscl: read_block_scales(c, l, name, at, p, n); return;
    case kOutl: read_outliers(c, l, name, at, p, n); return;
    default: return;
  }
}

// The record framing and the layer header, shared by the full read and the
// version 1 index scan: returns the cursor over the record body, placed at the
// section count, with `l` holding the header fields.
Cursor open_record(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& file, const std::string& label,
                   QuantizedLayer& l) {
  const uint64_t record_at = pos;
  Cursor outer(data, pos, size, file, label);
  const uint64_t len = outer.u64("record length");
  if (len > outer.remaining())
    outer.fail(record_at, "record length " + std::to_string(len) + " runs past the end of the file (" +
                              std::to_string(outer.remaining()) + " bytes remain)");
  Cursor c(data, outer.pos(), outer.pos() + len, file, outer.layer());
  pos = outer.pos() + len;

  const uint64_t hlen_at = c.pos();
  const uint32_t hlen = c.u32("header length");
  c.need(uint64_t(hlen) + 4, "header and its CRC");
  const uint8_t* header = data + c.pos();
  const uint32_t want = crc32(header, hlen);
  const uint64_t crc_at = c.pos() + hlen;
  if (get_u32(header + hlen) != want) c.fail(crc_at, "layer header CRC mismatch");

  Cursor h(data, c.pos(), c.pos() + hlen, file, c.layer());
  read_header(h, l);
  if (h.remaining())
    h.fail(h.pos(), "layer header length " + std::to_string(hlen) + " (at offset " + std::to_string(hlen_at) +
                        ") leaves " + std::to_string(h.remaining()) + " bytes unparsed");
  c.set_layer(l.name);
  c.take(uint64_t(hlen) + 4, "header");
  return c;
}

uint32_t section_count(Cursor& c) {
  const uint64_t count_at = c.pos();
  const uint32_t sections = c.u32("section count");
  if (sections > kSectionCount)
    c.fail(count_at, "section count " + std::to_string(sections) + " exceeds the " +
                         std::to_string(unsigned(kSectionCount)) + " section kinds");
  return sections;
}

// Tag and length of the next section, checked for kind, order and fit.
struct SectionHead {
  Section s;
  std::string name;
  uint64_t at, n;
};
SectionHead section_head(Cursor& c, int& last) {
  const uint64_t at = c.pos();
  const uint8_t* tag = c.take(4, "section tag");
  int s = -1;
  for (unsigned k = 0; k < kSectionCount; ++k)
    if (std::memcmp(tag, kTags[k], 4) == 0) s = int(k);
  if (s < 0) {
    std::string t;
    for (int k = 0; k < 4; ++k) t += (tag[k] >= 32 && tag[k] < 127) ? char(tag[k]) : '?';
    c.fail(at, "unknown section tag '" + t + "'");
  }
  const std::string name = std::string("section ") + kTags[s] + " (" + kSectionNames[s] + ")";
  if (s <= last) c.fail(at, name + " repeated or out of order");
  last = s;
  const uint64_t n = c.u64("section length");
  if (n == 0) c.fail(at, name + " is empty (empty sections are omitted)");
  if (n > c.remaining() || c.remaining() - n < 4)
    c.fail(at + 4, name + " length " + std::to_string(n) + " runs past the record (" + std::to_string(c.remaining()) +
                       " bytes remain)");
  return {Section(s), name, at, n};
}

}  // namespace

uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t strings_bytes(const std::map<std::string, std::string>& kv) {
  uint64_t n = 0;
  for (const auto& e : kv) n += 8 + e.first.size() + e.second.size();
  return n;
}

void read_strings(Cursor& c, std::map<std::string, std::string>& out, const char* what) {
  const uint64_t at = c.pos();
  const uint32_t n = c.u32(what);
  if (uint64_t(n) * 8 > c.remaining())
    c.fail(at, std::string(what) + " count " + std::to_string(n) + " cannot fit in the " +
                   std::to_string(c.remaining()) + " bytes that remain");
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t key_at = c.pos();
    std::string k = c.str(what);
    std::string v = c.str(what);
    if (!out.empty() && !(out.rbegin()->first < k))
      c.fail(key_at, std::string(what) + " key '" + k + "' out of order or repeated");
    out.emplace(std::move(k), std::move(v));
  }
}

uint64_t min_layer_record_bytes() { return kMinRecordBytes; }

QuantizedLayer read_layer_record(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& file,
                                 const std::string& label) {
  const uint64_t record_at = pos;
  QuantizedLayer l;
  Cursor c = open_record(data, size, pos, file, label, l);
  const uint32_t sections = section_count(c);
  int last = -1;
  for (uint32_t i = 0; i < sections; ++i) {
    const SectionHead sh = section_head(c, last);
    const uint64_t payload_at = c.pos();
    const uint8_t* p = c.take(sh.n, "section payload");
    const uint64_t sum_at = c.pos();
    const uint32_t sum = c.u32("section CRC");
    const uint32_t computed = crc32(p, size_t(sh.n));
    if (sum != computed)
      c.fail(sum_at,
             sh.name + " CRC mismatch (stored " + std::to_string(sum) + ", computed " + std::to_string(computed) + ")");
    read_section(c, l, sh.s, payload_at, p, sh.n);
  }
  if (c.remaining()) c.fail(c.pos(), std::to_string(c.remaining()) + " bytes after the last section of the record");
  validate_at(l, file, (long long)record_at);
  return l;
}

XfpRecordInfo scan_layer_record(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& file,
                                const std::string& label) {
  const uint64_t record_at = pos;
  uint64_t outliers = 0;
  QuantizedLayer l;
  Cursor c = open_record(data, size, pos, file, label, l);
  const uint32_t sections = section_count(c);
  int last = -1;
  for (uint32_t i = 0; i < sections; ++i) {
    const SectionHead sh = section_head(c, last);
    const uint8_t* p = c.take(sh.n, "section payload");
    c.take(4, "section CRC");
    // row_ptr[N] = nnz; a bad value is caught when the layer is read.
    const uint64_t ptr_bytes = 4 * (uint64_t(l.rows) + 1);
    if (sh.s == kOutl && sh.n >= ptr_bytes) outliers = get_u32(p + ptr_bytes - 4);
  }
  if (c.remaining()) c.fail(c.pos(), std::to_string(c.remaining()) + " bytes after the last section of the record");
  XfpRecordInfo e = layer_index_entry(l);
  e.offset = record_at;
  e.length = pos - record_at;
  e.outliers = outliers;
  return e;
}

std::vector<uint8_t> file_header_v1(const std::map<std::string, std::string>& metadata, uint32_t layers) {
  std::vector<uint8_t> buf;
  Sink out(buf);
  out.bytes(kMagic, 8);
  out.u16(kVersion1);
  out.u16(0);  // flags: none defined
  out.strings(metadata);
  out.u32(layers);
  out.u32(crc32(buf.data(), buf.size()));
  return buf;
}

void write_xfp_v1(const std::string& path, const XfpFile& f) {
  if (!f.kept.empty() || !f.aliases.empty()) throw Error(ExitCode::kInternal, "version 1 .xfp files hold layers only");
  AtomicFile out(path);
  const std::vector<uint8_t> header = file_header_v1(f.metadata, uint32_t(f.layers.size()));
  out.write(header.data(), header.size());
  std::vector<uint8_t> record;
  for (const auto& l : f.layers) {
    validate(l, path);
    record.clear();
    append_layer(l, record);
    out.write(record.data(), record.size());
  }
  out.commit();
}

}  // namespace lutc::xfp_codec

namespace lutc {

std::vector<uint8_t> serialize_layer(const QuantizedLayer& layer) {
  std::vector<uint8_t> buf;
  buf.reserve(size_t(stored_bits(layer) / 8));
  xfp_codec::append_layer(layer, buf);
  return buf;
}

uint64_t stored_bits(const QuantizedLayer& l) {
  using namespace xfp_codec;
  uint64_t n = kRecordFramingBytes + header_bytes(l);
  for (unsigned s = 0; s < kSectionCount; ++s) {
    const uint64_t p = section_payload_bytes(l, Section(s));
    if (p) n += kSectionFramingBytes + p;
  }
  return 8 * n;
}

double effective_bpw(const QuantizedLayer& l) {
  return l.elements() ? double(stored_bits(l)) / double(l.elements()) : 0.0;
}

}  // namespace lutc
