#pragma once
// The .lutp file (docs/lutp-format.md): magic, version, then four sections
// (META, LUTI, SEGS, INST), each with its length and a CRC-32. The reader is
// strict: structure, checksums, then every instruction and record is verified
// against the embedded arch (verify_program), so the executor never sees an
// address outside an SRAM.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/program.h"

namespace lutc {

constexpr char kLutpMagic[8] = {'L', 'U', 'T', 'P', 'R', 'O', 'G', '\n'};
constexpr uint32_t kLutpVersion = 1;

std::vector<uint8_t> serialize_lutp(const Program& p);
// `origin` names the source in errors ("file 'x.lutp', offset N: ...").
Program parse_lutp(const uint8_t* data, size_t n, const std::string& origin);

// A serialized program re-targeted to `arch` (same arch_code_key, see
// compile_layer.h `retarget`) without parsing more than META: the result is
// `head` (magic, version, count and a new META section: arch hash, text, CRC)
// followed by bytes [tail, n) of the input (LUTI, SEGS and INST, unchanged).
// Equal to serialize_lutp(retarget(parse_lutp(data), arch)) byte for byte.
// Throws Error(kBadInput) for a malformed header or META, and retarget's errors.
struct LutpRetarget {
  std::vector<uint8_t> head;
  size_t tail = 0;
};
LutpRetarget retarget_lutp_head(const uint8_t* data, size_t n, const ArchConfig& arch, const std::string& origin);
std::vector<uint8_t> retarget_lutp(const std::vector<uint8_t>& lutp, const ArchConfig& arch, const std::string& origin);

void write_lutp(const std::string& path, const Program& p);  // atomic
Program read_lutp(const std::string& path);
// Also rejects a program compiled for another arch (hash mismatch).
Program read_lutp(const std::string& path, const ArchConfig& expected);

}  // namespace lutc
