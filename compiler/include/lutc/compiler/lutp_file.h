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

void write_lutp(const std::string& path, const Program& p);  // atomic
Program read_lutp(const std::string& path);
// Also rejects a program compiled for another arch (hash mismatch).
Program read_lutp(const std::string& path, const ArchConfig& expected);

}  // namespace lutc
