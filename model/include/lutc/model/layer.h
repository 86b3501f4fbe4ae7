#pragma once
// The quantized layer: what every scheme stores, in memory. One struct for all
// schemes so that the container, the golden reference, the compiler and the
// kernels read one shape; which fields a scheme uses is stated per field and
// checked by validate().
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/roles.h"
#include "lutc/model/scheme.h"
#include "lutc/model/sop_scale.h"

namespace lutc {

const char* scheme_name(Scheme s);
bool parse_scheme(const std::string& name, Scheme* out);
// All names parse_scheme accepts, for --help and error messages.
std::string scheme_names();

// Sparse fp16 residual, CSR by row, added to the dense decode.
struct OutlierCsr {
  std::vector<uint32_t> row_ptr;  // rows + 1 entries; empty means no outliers
  std::vector<uint32_t> col;      // column of each entry, strictly increasing within a row
  std::vector<uint16_t> val;      // fp16 bits of the residual
  size_t count() const { return col.size(); }
};

struct QuantizedLayer {
  std::string name;
  Role role = Role::kOther;
  uint32_t rows = 0;  // N, output channels
  uint32_t cols = 0;  // K, inputs
  Scheme scheme = Scheme::kXfpV2;
  uint8_t bits = 4;    // index width b in {2,3,4,5,6,8}
  uint32_t group = 0;  // elements per (row, group) along K; the last group of a row may be short

  // Packed b-bit code indices, row-major over all rows*cols, little-endian bit
  // stream (see bitpack.h). Every scheme has them.
  std::vector<uint8_t> indices;

  // fp16 codebook entries.
  //   xfp.v2 : [rows][groups_per_row][2^b]
  //   xfp.v2a: [32][2^b] (the layer's library)
  //   nf4.b64: [16] (the NF4 table rounded to fp16)
  //   int4.g128, fp8.e4m3: empty (the grid is implicit)
  std::vector<uint16_t> codebooks;

  // Per-(row, group) metadata, [rows][groups_per_row].
  //   xfp.v2a: library id 0..31 (5 bits each on disk)
  std::vector<uint8_t> group_ids;
  //   int4.g128: fp16 scale; nf4.b64: fp16 absmax
  std::vector<uint16_t> group_scales;
  //   int4.g128: fp16 zero point (an integer value 0..15)
  std::vector<uint16_t> group_zeros;

  // fp8.e4m3, sop: the layer's power-of-two scale exponent.
  int32_t layer_scale_exp = 0;

  // sop only (docs/sop.md, docs/numerics.md §3.1). group is the block size B
  // in {8,16,32,64}; codebooks is [paired ? 2 : 1][2^b]. Each (row, block)
  // has one scale code of sop_scale_code_bits() bits, [rows][groups_per_row],
  // laid out LSB first: mantissa (sop_scale_mant_bits), exponent (4), then
  // the selection bit when sop_paired, then the sign bit when sop_scale_signed.
  uint8_t sop_scale_mant_bits = 0;  // M in {2,3,4}; 0 for every other scheme
  bool sop_scale_signed = false;    // sign bit negates the block's codebook
  bool sop_paired = false;          // selection bit picks codebook 0 or 1
  std::vector<uint16_t> block_scales;
  unsigned sop_scale_code_bits() const {
    return sop_scale_mant_bits ? lutc::sop_scale_code_bits(sop_scale_mant_bits, sop_paired, sop_scale_signed) : 0u;
  }

  OutlierCsr outliers;

  // Free-form provenance (floors, search choices); stored in the container.
  std::map<std::string, std::string> params;

  // In 64 bits: cols + group - 1 wraps in 32 for cols near 2^32.
  uint32_t groups_per_row() const { return group ? uint32_t((uint64_t(cols) + group - 1) / group) : 0; }
  uint64_t elements() const { return uint64_t(rows) * cols; }
};

constexpr uint32_t kV2aLibrarySize = 32;
constexpr uint32_t kV2aGroup = uint32_t(find_scheme_traits(Scheme::kXfpV2a)->fixed_group);

bool valid_index_bits(unsigned b);  // b in {2,3,4,5,6,8}

// Checks every size and range invariant above; throws lutc::Error naming the
// layer (and `file` when given) on the first violation.
void validate(const QuantizedLayer& layer, const std::string& file = "");

}  // namespace lutc
