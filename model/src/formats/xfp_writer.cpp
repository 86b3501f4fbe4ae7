// XfpWriter: the version 2 .xfp written as records arrive (docs/xfp-format.md
// §8). Only the current record and the index entries are held in memory.
#include <set>

#include "formats/xfp_codec.h"
#include "layer/layer_check.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

using namespace xfp_codec;

struct XfpWriter::State {
  explicit State(const std::string& p) : path(p), out(p) {}
  std::string path;
  AtomicFile out;
  std::set<std::string> names, targets;  // every record; layers and kept tensors
  std::vector<XfpRecordInfo> index;
  std::vector<uint8_t> buf;
  bool committed = false;

  void check_open() const {
    if (committed) throw Error(ExitCode::kInternal, "'" + path + "': record appended after commit()");
  }
  void claim(const std::string& name) {
    if (name.empty()) fail_input(path, name, (long long)out.bytes_written(), "empty record name");
    if (!names.insert(name).second)
      fail_input(path, name, (long long)out.bytes_written(), "duplicate record name '" + name + "'");
  }
  void emit(XfpRecordInfo e) {
    e.offset = out.bytes_written();
    e.length = buf.size();
    out.write(buf.data(), buf.size());
    index.push_back(std::move(e));
    buf.clear();
    // Give back a large record's buffer so the writer's memory follows the
    // current record, not the largest one seen.
    if (buf.capacity() > (size_t(1) << 24)) std::vector<uint8_t>().swap(buf);
  }
};

XfpWriter::XfpWriter(const std::string& path, const std::map<std::string, std::string>& metadata)
    : s_(std::make_unique<State>(path)) {
  const std::vector<uint8_t> header = file_header_v2(metadata);
  s_->out.write(header.data(), header.size());
}

XfpWriter::~XfpWriter() = default;  // AtomicFile removes the temp file unless committed

const std::string& XfpWriter::path() const { return s_->path; }
size_t XfpWriter::records() const { return s_->index.size(); }
uint64_t XfpWriter::bytes_written() const { return s_->out.bytes_written(); }

void XfpWriter::append(const QuantizedLayer& l) {
  s_->check_open();
  validate(l, s_->path);
  s_->claim(l.name);
  s_->targets.insert(l.name);
  append_layer(l, s_->buf);
  XfpRecordInfo e = layer_index_entry(l);
  e.outliers = l.outliers.count();
  s_->emit(std::move(e));
}

void XfpWriter::append_kept(const KeptTensor& t) {
  s_->check_open();
  check_kept(t, s_->path, (long long)s_->out.bytes_written());
  s_->claim(t.name);
  s_->targets.insert(t.name);
  append_kept_record(t, s_->buf);
  XfpRecordInfo e;
  e.kind = XfpRecordKind::kKept;
  e.name = t.name;
  e.dtype = t.dtype;
  e.shape = t.shape;
  s_->emit(std::move(e));
}

void XfpWriter::append_alias(const XfpAlias& a) {
  s_->check_open();
  if (!s_->targets.count(a.target))
    fail_input(s_->path, a.name, (long long)s_->out.bytes_written(),
               "alias target '" + a.target + "' is not an earlier layer or kept tensor");
  s_->claim(a.name);
  xfp_codec::append_alias(a, s_->buf);
  XfpRecordInfo e;
  e.kind = XfpRecordKind::kAlias;
  e.name = a.name;
  e.target = a.target;
  s_->emit(std::move(e));
}

void XfpWriter::finish() {
  if (s_->committed) return;
  const uint64_t footer_at = s_->out.bytes_written();
  std::vector<uint8_t>& f = s_->buf;
  // assign, not clear() + insert: GCC 12 sees the emptied vector's size-0
  // buffer and warns (-Wstringop-overflow) about the insert that regrows it.
  f.assign(kIndexTag, kIndexTag + 4);
  Sink out(f);
  out.u32(uint32_t(s_->index.size()));
  for (const auto& e : s_->index) append_index_entry(e, f);
  out.u32(crc32(f.data(), f.size()));
  const std::vector<uint8_t> t = trailer(footer_at);
  f.insert(f.end(), t.begin(), t.end());
  s_->out.write(f.data(), f.size());
  s_->committed = true;
  s_->out.finish();
}

const std::string& XfpWriter::temp_path() const { return s_->out.temp_path(); }

void XfpWriter::commit() {
  finish();
  s_->out.commit();
}

void write_xfp(const std::string& path, const XfpFile& f) {
  XfpWriter w(path, f.metadata);
  for (const auto& l : f.layers) w.append(l);
  for (const auto& t : f.kept) w.append_kept(t);
  for (const auto& a : f.aliases) w.append_alias(a);
  w.commit();
}

uint64_t file_header_bytes(const XfpFile& f) {
  uint64_t n = 8 + 2 + 2 + 4 + strings_bytes(f.metadata) + 4;  // header
  n += 4 + 4 + 4 + kTrailerBytes;                              // index framing, trailer
  std::vector<uint8_t> buf;
  auto entry = [&](const XfpRecordInfo& e) {
    buf.clear();
    append_index_entry(e, buf);
    n += buf.size();
  };
  XfpRecordInfo e;
  for (const auto& l : f.layers) {
    e.kind = XfpRecordKind::kLayer;
    e.name = l.name;
    entry(e);
  }
  for (const auto& t : f.kept) {
    e.kind = XfpRecordKind::kKept;
    e.name = t.name;
    e.shape = t.shape;
    entry(e);
  }
  for (const auto& a : f.aliases) {
    e.kind = XfpRecordKind::kAlias;
    e.name = a.name;
    e.target = a.target;
    entry(e);
    n += 8 + 4 + a.name.size() + 4 + a.target.size() + 4;  // the alias record
  }
  return n;
}

}  // namespace lutc
