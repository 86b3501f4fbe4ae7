// .lutp bytes (docs/lutp-format.md). The reader trusts nothing: every length
// is checked against what is left before it is used, every section's CRC is
// checked before its payload is parsed, and the result is verified against
// its embedded arch before anyone can run it.
#include "lutc/compiler/lutp_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/verify_program.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/byte_io.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

namespace lutc {
namespace {

constexpr uint32_t tag(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
constexpr uint32_t kTagMeta = tag("META"), kTagLut = tag("LUTI"), kTagSegs = tag("SEGS"), kTagCode = tag("INST");
constexpr uint32_t kSectionOrder[] = {kTagMeta, kTagLut, kTagSegs, kTagCode};
constexpr uint32_t kMaxNameBytes = 4096;
constexpr uint32_t kMaxArchTextBytes = 1 << 16;

// Sections are read with absolute offsets (ByteReader over the whole file),
// so every error names where in the file it is.
using Reader = ByteReader;

std::vector<uint8_t> meta_payload(const Program& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u64(p.arch_hash);
  w.u32(uint32_t(p.arch_text.size()));
  w.bytes(p.arch_text.data(), p.arch_text.size());
  w.u32(uint32_t(p.meta.layer.size()));
  w.bytes(p.meta.layer.data(), p.meta.layer.size());
  w.u8(uint8_t(p.meta.scheme));
  w.u8(uint8_t(p.meta.bits));
  w.u16(0);
  w.u32(p.meta.rows);
  w.u32(p.meta.cols);
  w.u32(p.meta.group);
  w.u32(uint32_t(p.meta.weight_exp));
  w.u32(p.meta.tile_rows);
  w.u32(p.meta.tile_cols);
  w.u32(p.meta.acc_bits_needed);
  return out;
}

std::vector<uint8_t> lut_payload(const Program& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u32(uint32_t(p.lut_image.size()));
  w.u32(p.entries());
  for (const auto& r : p.lut_image) {
    w.u32(r.bank);
    w.u32(r.addr);
    w.u32(uint32_t(r.base));
    for (uint32_t word : r.words) w.u32(word);
  }
  return out;
}

std::vector<uint8_t> segs_payload(const Program& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u32(isa::kSegmentCount);
  for (uint32_t s = 0; s < isa::kSegmentCount; ++s) {
    w.u32(s);
    w.u64(p.segments[s].size());
    w.bytes(p.segments[s].data(), p.segments[s].size());
  }
  return out;
}

std::vector<uint8_t> code_payload(const Program& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u32(uint32_t(p.code.size()));
  uint8_t buf[isa::kInsnBytes];
  for (const auto& i : p.code) {
    isa::encode(i, buf);
    w.bytes(buf, sizeof buf);
  }
  return out;
}

void parse_meta(Reader& r, Program& p) {
  p.arch_hash = r.u64("arch hash");
  const uint32_t tl = r.u32("arch text length");
  if (tl > kMaxArchTextBytes) r.fail("arch text length " + std::to_string(tl) + " too large");
  const size_t text_at = r.pos();
  const uint8_t* t = r.take(tl, "arch text");
  p.arch_text.assign(reinterpret_cast<const char*>(t), tl);
  const uint32_t nl = r.u32("layer name length");
  if (nl > kMaxNameBytes) r.fail("layer name length " + std::to_string(nl) + " too large");
  const uint8_t* nm = r.take(nl, "layer name");
  p.meta.layer.assign(reinterpret_cast<const char*>(nm), nl);
  const uint8_t scheme = r.u8("scheme");
  if (!find_scheme_traits(Scheme(scheme))) r.fail("unknown scheme tag " + std::to_string(scheme));
  p.meta.scheme = Scheme(scheme);
  p.meta.bits = r.u8("bits");
  if (r.u16("reserved")) r.fail("reserved field is not zero");
  p.meta.rows = r.u32("rows");
  p.meta.cols = r.u32("cols");
  p.meta.group = r.u32("group");
  p.meta.weight_exp = int32_t(r.u32("weight exponent"));
  p.meta.tile_rows = r.u32("tile rows");
  p.meta.tile_cols = r.u32("tile cols");
  p.meta.acc_bits_needed = r.u32("accumulator bits");
  r.done("META");
  // The arch must be exactly what the compiler wrote: canonical and hashed.
  try {
    p.arch = parse_arch(p.arch_text, "embedded arch");
  } catch (const Error& e) {
    fail_input("", "", (long long)text_at, e.what());
  }
  if (canonical_arch_text(p.arch) != p.arch_text)
    fail_input("", "", (long long)text_at, "embedded arch text is not in canonical form");
  if (arch_hash(p.arch) != p.arch_hash)
    fail_input("", "", (long long)text_at, "arch hash does not match the embedded arch text");
  // A program stores the arch's keys, not its name (two files describing the
  // same hardware hash alike), so a program read back is named by its hash
  // until a caller knows better (an --arch file, a compile's programs.json).
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)p.arch_hash);
  p.arch.name = std::string("arch ") + hex;
  if (!valid_index_bits(p.meta.bits)) r.fail("invalid index width " + std::to_string(p.meta.bits));
}

void parse_lut(Reader& r, Program& p) {
  const uint32_t n = r.u32("LUT record count");
  const uint32_t entries = r.u32("LUT entries per record");
  if (entries != p.entries())
    r.fail("LUT records of " + std::to_string(entries) + " words, expected " + std::to_string(p.entries()));
  const uint64_t rec_bytes = 12 + 4ull * entries;
  if (uint64_t(n) * rec_bytes > r.remaining()) r.need(uint64_t(n) * rec_bytes, "LUT records");
  p.lut_image.resize(n);
  for (auto& rec : p.lut_image) {
    rec.bank = r.u32("LUT bank");
    rec.addr = r.u32("LUT address");
    rec.base = int32_t(r.u32("LUT base"));
    rec.words.resize(entries);
    for (auto& w : rec.words) w = r.u32("LUT word");
  }
  r.done("LUTI");
}

void parse_segs(Reader& r, Program& p) {
  const uint32_t n = r.u32("segment count");
  if (n != isa::kSegmentCount)
    r.fail("segment count " + std::to_string(n) + ", expected " + std::to_string(isa::kSegmentCount));
  for (uint32_t s = 0; s < n; ++s) {
    const uint32_t code = r.u32("segment code");
    if (code != s) r.fail("segment " + std::to_string(s) + " has code " + std::to_string(code));
    const uint64_t len = r.u64("segment length");
    if (len > UINT32_MAX) r.fail("segment length " + std::to_string(len) + " exceeds 32-bit addressing");
    const uint8_t* d = r.take(len, "segment data");
    if (s == uint32_t(isa::Segment::ACT) && len) r.fail("the ACT segment belongs to the host and must be empty");
    p.segments[s].assign(d, d + len);
  }
  r.done("SEGS");
}

void parse_code(Reader& r, Program& p) {
  const uint32_t n = r.u32("instruction count");
  if (uint64_t(n) * isa::kInsnBytes != r.remaining())
    r.fail(std::to_string(n) + " instructions need " + std::to_string(uint64_t(n) * isa::kInsnBytes) +
           " bytes, section has " + std::to_string(r.remaining()));
  p.code.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t at = r.pos();
    const uint8_t* b = r.take(isa::kInsnBytes, "instruction");
    std::string why;
    if (!isa::decode(b, &p.code[i], &why))
      fail_input("", "", (long long)at, "instruction " + std::to_string(i) + ": " + why);
  }
}

}  // namespace

std::vector<uint8_t> serialize_lutp(const Program& p) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.bytes(kLutpMagic, sizeof kLutpMagic);
  w.u32(kLutpVersion);
  w.u32(4);
  const std::vector<uint8_t> payloads[] = {meta_payload(p), lut_payload(p), segs_payload(p), code_payload(p)};
  for (int i = 0; i < 4; ++i) {
    w.u32(kSectionOrder[i]);
    w.u64(payloads[i].size());
    w.bytes(payloads[i].data(), payloads[i].size());
    w.u32(crc32(payloads[i].data(), payloads[i].size()));
  }
  return out;
}

Program parse_lutp(const uint8_t* data, size_t n, const std::string& origin) {
  Program p;
  try {
    Reader r(data, 0, n, origin);
    const uint8_t* magic = r.take(sizeof kLutpMagic, "magic");
    if (std::memcmp(magic, kLutpMagic, sizeof kLutpMagic) != 0)
      fail_input(origin, "", 0, "not a .lutp file (bad magic)");
    const uint32_t version = r.u32("version");
    if (version != kLutpVersion)
      r.fail("unsupported .lutp version " + std::to_string(version) + " (this build reads " +
             std::to_string(kLutpVersion) + ")");
    const uint32_t sections = r.u32("section count");
    if (sections != 4) r.fail("section count " + std::to_string(sections) + ", expected 4");
    for (int i = 0; i < 4; ++i) {
      const uint32_t t = r.u32("section tag");
      if (t != kSectionOrder[i]) r.fail("section " + std::to_string(i) + " has the wrong tag");
      const uint64_t len = r.u64("section length");
      const size_t at = r.pos();
      const uint8_t* payload = r.take(len, "section payload");
      const uint32_t crc = r.u32("section CRC");
      if (crc != crc32(payload, size_t(len))) fail_input(origin, "", (long long)at, "section CRC mismatch");
      Reader s(data, at, at + len, origin);
      if (i == 0) parse_meta(s, p);
      if (i == 1) parse_lut(s, p);
      if (i == 2) parse_segs(s, p);
      if (i == 3) parse_code(s, p);
    }
    r.done("file");
  } catch (const Error& e) {
    // Sub-parsers that cannot know the file name report it empty: add it.
    const std::string msg = e.what();
    if (msg.rfind("file '", 0) == 0) throw;
    throw Error(e.code(), "file '" + origin + "', " + msg);
  }
  verify_program(p, origin);
  return p;
}

LutpRetarget retarget_lutp_head(const uint8_t* data, size_t n, const ArchConfig& arch, const std::string& origin) {
  LutpRetarget out;
  Program p;
  try {
    Reader r(data, 0, n, origin);
    const uint8_t* magic = r.take(sizeof kLutpMagic, "magic");
    if (std::memcmp(magic, kLutpMagic, sizeof kLutpMagic) != 0)
      fail_input(origin, "", 0, "not a .lutp file (bad magic)");
    if (r.u32("version") != kLutpVersion) r.fail("unsupported .lutp version");
    if (r.u32("section count") != 4) r.fail("section count is not 4");
    if (r.u32("section tag") != kTagMeta) r.fail("the first section is not META");
    const uint64_t len = r.u64("section length");
    const size_t at = r.pos();
    const uint8_t* payload = r.take(len, "section payload");
    if (r.u32("section CRC") != crc32(payload, size_t(len)))
      fail_input(origin, "", (long long)at, "section CRC mismatch");
    Reader s(data, at, at + len, origin);
    parse_meta(s, p);
    out.tail = r.pos();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind("file '", 0) == 0) throw;
    throw Error(e.code(), "file '" + origin + "', " + msg);
  }
  // Outside the try: the accumulator error is compile_layer's, word for word.
  check_retarget(p.arch, p.meta, arch);
  p.arch = arch;
  p.arch_text = canonical_arch_text(arch);
  p.arch_hash = arch_hash(arch);
  const std::vector<uint8_t> meta = meta_payload(p);
  std::vector<uint8_t> bytes_out;
  ByteWriter w(bytes_out);
  w.bytes(data, 16);  // magic, version, section count
  w.u32(kTagMeta);
  w.u64(meta.size());
  w.bytes(meta.data(), meta.size());
  w.u32(crc32(meta.data(), meta.size()));
  out.head = std::move(bytes_out);
  return out;
}

std::vector<uint8_t> retarget_lutp(const std::vector<uint8_t>& lutp, const ArchConfig& arch,
                                   const std::string& origin) {
  LutpRetarget r = retarget_lutp_head(lutp.data(), lutp.size(), arch, origin);
  r.head.insert(r.head.end(), lutp.begin() + std::ptrdiff_t(r.tail), lutp.end());
  return std::move(r.head);
}

void write_lutp(const std::string& path, const Program& p) {
  const std::vector<uint8_t> bytes = serialize_lutp(p);
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

Program read_lutp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ExitCode::kIo, "cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ExitCode::kIo, "cannot read '" + path + "'");
  return parse_lutp(bytes.data(), bytes.size(), path);
}

Program read_lutp(const std::string& path, const ArchConfig& expected) {
  Program p = read_lutp(path);
  if (p.arch_hash != arch_hash(expected)) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "compiled for arch hash 0x%016llx, but arch '%s' has 0x%016llx",
                  (unsigned long long)p.arch_hash, expected.name.c_str(), (unsigned long long)arch_hash(expected));
    fail_input(path, p.meta.layer, -1, std::string(buf) + "; recompile with lutc compile --arch");
  }
  return p;
}

}  // namespace lutc
