#pragma once
// The .xfp container (docs/xfp-format.md): magic, version, file metadata, then
// one record per layer — header (name, role, shape, scheme, params) and
// length-prefixed sections, each with a CRC-32.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/layer.h"

namespace lutc {

struct XfpFile {
  std::map<std::string, std::string> metadata;  // e.g. source file, tool version, options
  std::vector<QuantizedLayer> layers;
};

// Atomic: writes path via a temp file and rename.
void write_xfp(const std::string& path, const XfpFile& file);
// Rejects anything malformed with Error(kBadInput) naming file, layer, offset.
XfpFile read_xfp(const std::string& path);

// The bytes of one layer record exactly as write_xfp lays them out.
std::vector<uint8_t> serialize_layer(const QuantizedLayer& layer);
// Bits the layer's record occupies in the container (header, every section,
// lengths and checksums). Effective bpw = stored_bits / elements.
uint64_t stored_bits(const QuantizedLayer& layer);
double effective_bpw(const QuantizedLayer& layer);
// Bytes of the file header for `file` (magic, version, metadata, layer count),
// amortized over layers by their element share in whole-file reports.
uint64_t file_header_bytes(const XfpFile& file);

uint32_t crc32(const void* data, size_t n, uint32_t seed = 0);

}  // namespace lutc
