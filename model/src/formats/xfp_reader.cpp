// XfpReader: the header and the index of an .xfp, then one record at a time
// (docs/xfp-format.md §6-§9). Version 2 files carry their index in a footer
// found through the trailer; version 1 files are indexed by one scan of the
// record headers.
#include <cstring>
#include <filesystem>
#include <set>

#include "core/mapped_file.h"
#include "formats/xfp_codec.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

using namespace xfp_codec;

struct XfpReader::State {
  std::string path;
  std::unique_ptr<MappedFile> map;
  uint16_t version = 0;
  std::map<std::string, std::string> metadata;
  std::vector<XfpRecordInfo> records;
  std::map<std::string, size_t> by_name;
  size_t layers = 0;
  uint64_t overhead = 0;

  const uint8_t* data() const { return map->data(); }
  uint64_t size() const { return map->size(); }
  [[noreturn]] void fail(const std::string& record, uint64_t at, const std::string& what) const {
    fail_input(path, record, (long long)at, what);
  }
  void add(XfpRecordInfo e, uint64_t at) {
    if (!by_name.emplace(e.name, records.size()).second) fail(e.name, at, "duplicate record name '" + e.name + "'");
    if (e.kind == XfpRecordKind::kAlias) {
      const auto t = by_name.find(e.target);
      if (t == by_name.end() || t->second >= records.size() || records[t->second].kind == XfpRecordKind::kAlias)
        fail(e.name, at, "alias target '" + e.target + "' is not an earlier layer or kept tensor");
    }
    layers += e.kind == XfpRecordKind::kLayer;
    records.push_back(std::move(e));
  }
  // A shape in the index must fit the record it describes, so that a lister
  // (lutc info, decode's output header) never trusts an absurd size.
  void check_entry_size(const XfpRecordInfo& e, uint64_t at) const {
    if (e.kind == XfpRecordKind::kLayer &&
        (e.rows == 0 || e.cols == 0 || uint64_t(e.rows) * e.cols > (uint64_t(1) << 48)))
      fail(e.name, at, "absurd layer shape " + std::to_string(e.rows) + "x" + std::to_string(e.cols) + " in the index");
    if (e.kind != XfpRecordKind::kKept) return;
    uint64_t n = dtype_size(e.dtype);
    for (uint64_t d : e.shape) {
      if (d == 0 || d > e.length / n)
        fail(e.name, at,
             "kept tensor shape in the index cannot fit in its record of " + std::to_string(e.length) + " bytes");
      n *= d;
    }
  }
  void open_v1(Cursor& c);
  void open_v2();
  const XfpRecordInfo& entry(size_t i, XfpRecordKind kind) const;
};

// Version 1: a layer count in the header, records back to back, nothing after.
void XfpReader::State::open_v1(Cursor& c) {
  read_strings(c, metadata, "metadata");
  const uint64_t count_at = c.pos();
  const uint32_t count = c.u32("layer count");
  const uint64_t crc_at = c.pos();
  if (c.u32("file header CRC") != crc32(data(), size_t(crc_at))) c.fail(crc_at, "file header CRC mismatch");
  if (uint64_t(count) * min_layer_record_bytes() > c.remaining())
    c.fail(count_at, "layer count " + std::to_string(count) + " cannot fit in the " + std::to_string(c.remaining()) +
                         " bytes that remain");
  overhead = c.pos();
  uint64_t pos = c.pos();
  records.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = pos;
    add(scan_layer_record(data(), size(), pos, path, "#" + std::to_string(i)), at);
  }
  if (pos != size()) fail("", pos, std::to_string(size() - pos) + " bytes of trailing data after the last layer");
}

// Version 2: trailer -> footer (index) -> header; the records must tile the
// bytes between the header and the footer exactly.
void XfpReader::State::open_v2() {
  const uint64_t min_header = 8 + 2 + 2 + 4 + 4;
  const uint64_t min_footer = 4 + 4 + 4;
  if (size() < min_header + min_footer + kTrailerBytes || std::memcmp(data() + size() - 8, kTrailerMagic, 8) != 0)
    fail("", size() >= 8 ? size() - 8 : 0,
         "no index: the writer was interrupted? (a version 2 file must end with the index trailer)");
  const uint64_t trailer_at = size() - kTrailerBytes;
  Cursor t(data(), trailer_at, size(), path, "");
  const uint64_t footer_at = t.u64("footer offset");
  if (t.u32("trailer CRC") != crc32(data() + trailer_at, 8)) t.fail(trailer_at + 8, "index trailer CRC mismatch");
  if (footer_at < min_header || footer_at > trailer_at - min_footer)
    t.fail(trailer_at, "footer offset " + std::to_string(footer_at) + " is outside the file's body");

  Cursor h(data(), 12, footer_at, path, "");
  read_strings(h, metadata, "metadata");
  const uint64_t crc_at = h.pos();
  if (h.u32("file header CRC") != crc32(data(), size_t(crc_at))) h.fail(crc_at, "file header CRC mismatch");
  const uint64_t header_end = h.pos();

  Cursor f(data(), footer_at, trailer_at, path, "index");
  const uint64_t footer_crc_at = trailer_at - 4;
  if (get_u32(data() + footer_crc_at) != crc32(data() + footer_at, size_t(footer_crc_at - footer_at)))
    f.fail(footer_crc_at, "index CRC mismatch");
  if (std::memcmp(f.take(4, "index tag"), kIndexTag, 4) != 0) f.fail(footer_at, "bad index tag");
  const uint64_t count_at = f.pos();
  const uint32_t count = f.u32("index entry count");
  if (uint64_t(count) * kMinIndexEntryBytes > f.remaining())
    f.fail(count_at, "index entry count " + std::to_string(count) + " cannot fit in the " +
                         std::to_string(f.remaining()) + " bytes of the index");
  Cursor entries(data(), f.pos(), footer_crc_at, path, "index");
  records.reserve(count);
  uint64_t expect = header_end;
  uint64_t in_records = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = entries.pos();
    entries.set_layer("index entry #" + std::to_string(i));
    XfpRecordInfo e = read_index_entry(entries);
    if (e.offset != expect || e.length < 8 || e.length > footer_at - e.offset)
      fail(e.name, at,
           "index entry places the record at [" + std::to_string(e.offset) + ", +" + std::to_string(e.length) +
               "), but records tile [" + std::to_string(expect) + ", " + std::to_string(footer_at) + ")");
    check_entry_size(e, at);
    expect += e.length;
    if (e.kind != XfpRecordKind::kAlias) in_records += e.length;
    add(std::move(e), at);
  }
  if (entries.remaining())
    entries.fail(entries.pos(), std::to_string(entries.remaining()) + " bytes after the last index entry");
  if (expect != footer_at)
    fail("", expect,
         "records end at " + std::to_string(expect) + " but the index starts at " + std::to_string(footer_at));
  overhead = size() - in_records;
}

const XfpRecordInfo& XfpReader::State::entry(size_t i, XfpRecordKind kind) const {
  if (i >= records.size() || records[i].kind != kind)
    throw Error(ExitCode::kInternal,
                "'" + path + "': record " + std::to_string(i) + " is not a " + record_kind_name(kind) + " record");
  return records[i];
}

XfpReader::XfpReader(const std::string& path) : s_(std::make_unique<State>()) {
  s_->path = path;
  std::error_code ec;
  const auto fsize = std::filesystem::file_size(path, ec);
  if (!ec && fsize == 0) fail_input(path, "", 0, "truncated: empty file");
  s_->map = std::make_unique<MappedFile>(path);
  Cursor c(s_->data(), 0, s_->size(), path, "");
  if (std::memcmp(c.take(8, "magic"), kMagic, 8) != 0) c.fail(0, "bad magic: not an .xfp file");
  s_->version = c.u16("version");
  if (s_->version != kVersion1 && s_->version != kVersion2)
    c.fail(8, "unsupported version " + std::to_string(s_->version) + " (this reader reads 1 and 2)");
  const uint16_t flags = c.u16("flags");
  if (flags != 0) c.fail(10, "unsupported flags " + std::to_string(flags));
  if (s_->version == kVersion1)
    s_->open_v1(c);
  else
    s_->open_v2();
  s_->map->release(0, s_->size());
}

XfpReader::~XfpReader() = default;
XfpReader::XfpReader(XfpReader&&) noexcept = default;
XfpReader& XfpReader::operator=(XfpReader&&) noexcept = default;

const std::string& XfpReader::path() const { return s_->path; }
uint16_t XfpReader::version() const { return s_->version; }
uint64_t XfpReader::file_size() const { return s_->size(); }
const std::map<std::string, std::string>& XfpReader::metadata() const { return s_->metadata; }
const std::vector<XfpRecordInfo>& XfpReader::records() const { return s_->records; }
size_t XfpReader::layer_count() const { return s_->layers; }
uint64_t XfpReader::overhead_bytes() const { return s_->overhead; }

size_t XfpReader::find(const std::string& name) const {
  const auto it = s_->by_name.find(name);
  return it == s_->by_name.end() ? s_->records.size() : it->second;
}

namespace {

// Drops the record's pages when the read ends, however it ends.
struct Release {
  const MappedFile& map;
  const XfpRecordInfo& e;
  ~Release() { map.release(e.offset, e.length); }
};

}  // namespace

QuantizedLayer XfpReader::read_layer(size_t i) const {
  const XfpRecordInfo& e = s_->entry(i, XfpRecordKind::kLayer);
  Release release{*s_->map, e};
  uint64_t pos = e.offset;
  // The index bounds the record: it cannot reach into the next one.
  QuantizedLayer l = read_layer_record(s_->data(), e.offset + e.length, pos, s_->path, e.name);
  if (pos != e.offset + e.length)
    s_->fail(e.name, e.offset,
             "record is " + std::to_string(pos - e.offset) + " bytes, the index says " + std::to_string(e.length));
  if (l.name != e.name || l.role != e.role || l.rows != e.rows || l.cols != e.cols || l.scheme != e.scheme ||
      l.bits != e.bits || l.group != e.group || l.outliers.count() != e.outliers)
    s_->fail(e.name, e.offset, "layer record '" + l.name + "' disagrees with its index entry");
  return l;
}

KeptTensor XfpReader::read_kept(size_t i) const {
  const XfpRecordInfo& e = s_->entry(i, XfpRecordKind::kKept);
  Release release{*s_->map, e};
  KeptTensor t = read_kept_record(s_->data(), e.offset + e.length, e.offset, s_->path, e.name);
  if (t.name != e.name || t.dtype != e.dtype || t.shape != e.shape)
    s_->fail(e.name, e.offset, "kept tensor record '" + t.name + "' disagrees with its index entry");
  return t;
}

XfpAlias XfpReader::read_alias(size_t i) const {
  const XfpRecordInfo& e = s_->entry(i, XfpRecordKind::kAlias);
  Release release{*s_->map, e};
  XfpAlias a = read_alias_record(s_->data(), e.offset + e.length, e.offset, s_->path, e.name);
  if (a.name != e.name || a.target != e.target)
    s_->fail(e.name, e.offset, "alias record '" + a.name + "' disagrees with its index entry");
  return a;
}

XfpFile read_xfp(const std::string& path) {
  const XfpReader r(path);
  XfpFile f;
  f.metadata = r.metadata();
  for (size_t i = 0; i < r.records().size(); ++i) {
    switch (r.records()[i].kind) {
      case XfpRecordKind::kLayer: f.layers.push_back(r.read_layer(i)); break;
      case XfpRecordKind::kKept: f.kept.push_back(r.read_kept(i)); break;
      case XfpRecordKind::kAlias: f.aliases.push_back(r.read_alias(i)); break;
    }
  }
  return f;
}

}  // namespace lutc
