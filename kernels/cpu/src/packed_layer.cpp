#include "lutc/kernels/cpu/packed_layer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <sys/mman.h>

#include "group_table.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "row_kernels.h"
#include "sop_tables.h"

namespace lutc::kernels {

AlignedBytes::AlignedBytes(size_t n) : n_(n) {
  // Large arrays on 2 MiB boundaries, advised as huge pages: the kernels
  // read several rows' streams at once, and with 4 KiB pages each stream
  // crosses a page (a TLB walk, a restart of the hardware prefetcher) every
  // few rows.
  const size_t huge = size_t(2) << 20;
  const size_t align = n >= huge ? huge : 64;
  const size_t rounded = (n + 64 + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
  if (align == huge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
  std::memset(p, 0, rounded);
  p_.reset(static_cast<uint8_t*>(p));
}

void AlignedBytes::Free::operator()(uint8_t* p) const { std::free(p); }

size_t PackedLayer::streamed_bytes() const {
  return indices.size() + group_half.size() * 2 + sop_code8.size() + group_ids.size() + shared.size() * 4 +
         sop_scale.size() * 4 + sop_book.size() + out_row_ptr.size() * 4 + out_col.size() * 8;  // column + residual
}

size_t PackedLayer::i8_streamed_bytes() const {
  if (group_i8.empty()) return streamed_bytes();
  return streamed_bytes() - group_half.size() * 2 + group_i8.size() + group_i8_scale.size() * 4;
}

size_t PackedLayer::memory_bytes() const {
  return indices.size() + group_half.size() * 2 + sop_code8.size() + group_ids.size() + shared.size() * 4 +
         sop_scale.size() * 4 + sop_book.size() + shared_i8.size() + shared_i8_scale.size() * 4 + group_i8.size() +
         group_i8_scale.size() * 4 + out_row_ptr.size() * 4 + out_col.size() * 16;
}

namespace {

// 4-bit block layout: byte j = code j | code (j+16) << 4.
void put_nibble_blocks(const uint8_t* codes, uint32_t n, uint8_t* out) {
  for (uint32_t b = 0; b < n; b += kBlock)
    for (uint32_t j = 0; j < kBlock / 2; ++j) out[b / 2 + j] = uint8_t(codes[b + j] | codes[b + j + kBlock / 2] << 4);
}

}  // namespace

void group_codes(const PackedLayer& p, uint32_t r, uint32_t g, uint8_t* codes) {
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  const uint32_t e0 = g * p.group_padded;
  if (p.bits == 4) {
    for (uint32_t j = 0; j < p.group_padded; ++j) codes[j] = uint8_t(packed_code_at(p, r, e0 + j));
  } else if (p.bits == 8) {
    std::memcpy(codes, row + e0, p.group_padded);
  } else {
    unpack_indices(row, e0, p.group_padded, p.bits, codes);
  }
}

bool dense_layout(const QuantizedLayer& l) { return l.scheme == Scheme::kSop && (l.group == 8 || l.group == 16); }

PackedLayer copy_packed(const PackedLayer& p) {
  PackedLayer c;
  c.scheme = p.scheme;
  c.rows = p.rows;
  c.cols = p.cols;
  c.bits = p.bits;
  c.group = p.group;
  c.groups_per_row = p.groups_per_row;
  c.group_padded = p.group_padded;
  c.group_bytes = p.group_bytes;
  c.row_bytes = p.row_bytes;
  c.indices = AlignedBytes(p.indices.size());
  std::memcpy(c.indices.data(), p.indices.data(), p.indices.size());
  c.group_half = p.group_half;
  c.sop_code8 = p.sop_code8;
  c.group_ids = p.group_ids;
  c.shared = p.shared;
  c.sop_scale = p.sop_scale;
  c.sop_book = p.sop_book;
  c.sop_sel_mask = p.sop_sel_mask;
  c.shared_i8 = p.shared_i8;
  c.shared_i8_scale = p.shared_i8_scale;
  c.group_i8 = p.group_i8;
  c.group_i8_scale = p.group_i8_scale;
  c.out_row_ptr = p.out_row_ptr;
  c.out_col = p.out_col;
  c.out_residual = p.out_residual;
  c.out_exact = p.out_exact;
  c.out_dense = p.out_dense;
  c.layer_scale_exp = p.layer_scale_exp;
  c.weight_exp = p.weight_exp;
  c.dense_abs_max = p.dense_abs_max;
  return c;
}

namespace {

// Shape and layout: group sizes, padding and the (zeroed) index bytes.
void set_layout(const QuantizedLayer& l, PackedLayer* p) {
  p->scheme = l.scheme;
  p->rows = l.rows;
  p->cols = l.cols;
  p->bits = l.bits;
  p->layer_scale_exp = l.layer_scale_exp;
  const bool one_group = l.scheme == Scheme::kFp8E4M3;
  p->group = one_group ? l.cols : l.group;
  p->groups_per_row = one_group ? 1 : l.groups_per_row();
  p->group_padded = dense_layout(l) ? p->group : (p->group + kBlock - 1) / kBlock * kBlock;
  p->group_bytes = size_t(p->group_padded) * p->bits / 8;
  p->row_bytes = size_t(p->padded_cols()) * p->bits / 8;
  p->indices = AlignedBytes(p->row_bytes * p->rows);
}

// The table sources of each scheme (see PackedLayer).
void pack_tables(const QuantizedLayer& l, PackedLayer* p) {
  switch (l.scheme) {
    case Scheme::kXfpV2: p->group_half = l.codebooks; break;
    case Scheme::kXfpV2a:
      p->group_ids = l.group_ids;
      for (uint16_t h : l.codebooks) p->shared.push_back(half_to_float(h));
      break;
    case Scheme::kInt4G128:
      p->group_half.resize(l.group_scales.size() * 2);
      for (size_t i = 0; i < l.group_scales.size(); ++i) {
        p->group_half[2 * i] = l.group_scales[i];
        p->group_half[2 * i + 1] = l.group_zeros[i];
      }
      break;
    case Scheme::kNf4B64:
      p->group_half = l.group_scales;
      for (unsigned i = 0; i < 16; ++i) p->shared.push_back(half_to_float(l.codebooks[i]));
      break;
    case Scheme::kFp8E4M3:
      for (unsigned i = 0; i < 256; ++i) p->shared.push_back(std::ldexp(e4m3_to_float(uint8_t(i)), l.layer_scale_exp));
      break;
    case Scheme::kSop: pack_sop_tables(l, *p); break;
    default: break;
  }
  if (p->bits == 4 && (l.scheme == Scheme::kNf4B64 || l.scheme == Scheme::kXfpV2a || l.scheme == Scheme::kSop)) {
    const size_t tables = p->shared.size() / 16;
    p->shared_i8.resize(tables * 16);
    for (size_t t = 0; t < tables; ++t)
      p->shared_i8_scale.push_back(table_to_i8(p->shared.data() + 16 * t, 16, p->shared_i8.data() + 16 * t));
  }
  if (p->bits == 4 && l.scheme == Scheme::kXfpV2) {
    const size_t groups = p->group_half.size() / 16;
    p->group_i8.resize(groups * 16);
    p->group_i8_scale.resize(groups);
    float t[16];
    for (size_t gi = 0; gi < groups; ++gi) {
      for (unsigned j = 0; j < 16; ++j) t[j] = half_to_float(p->group_half[gi * 16 + j]);
      p->group_i8_scale[gi] = table_to_i8(t, 16, p->group_i8.data() + gi * 16);
    }
  }
}

// The outliers' CSR index; their values are filled in row by row.
void size_outliers(const OutlierCsr& o, PackedLayer* p) {
  if (o.row_ptr.empty()) return;
  p->out_row_ptr = o.row_ptr;
  p->out_col = o.col;
  p->out_residual.resize(o.count());
  p->out_exact.resize(o.count());
  p->out_dense.resize(o.count());
}

// Row r's codes into p's index bytes, in padded coordinates (padding code 0).
void lay_out_row(const std::vector<uint8_t>& row_codes, uint32_t r, std::vector<uint8_t>& padded, PackedLayer* p) {
  std::fill(padded.begin(), padded.end(), 0);
  for (uint32_t g = 0; g < p->groups_per_row; ++g) {
    const uint32_t k0 = g * p->group;
    std::memcpy(padded.data() + size_t(g) * p->group_padded, row_codes.data() + k0, std::min(p->group, p->cols - k0));
  }
  uint8_t* dst = p->indices.data() + size_t(r) * p->row_bytes;
  if (p->bits == 4)
    put_nibble_blocks(padded.data(), p->padded_cols(), dst);
  else
    pack_indices(padded.data(), p->padded_cols(), p->bits, dst);
}

void add_weight(const QuantizedLayer& l, float w, uint32_t r, uint32_t k, WeightExponent* ew) {
  if (!std::isfinite(w))
    throw Error(ExitCode::kBadInput, "layer '" + l.name + "': decoded weight at row " + std::to_string(r) +
                                         ", column " + std::to_string(k) + " is not finite");
  ew->add(w);
}

// Row r's decoded values: the largest dense magnitude, each outlier's dense,
// residual and exact value, and into ew the values the golden GEMV's weight
// exponent is taken over (codes in use, outlier sums). table and used are
// scratch of 2^bits entries.
void scan_row(const QuantizedLayer& l, const std::vector<uint8_t>& row_codes, uint32_t r, std::vector<float>& table,
              std::vector<uint8_t>& used, PackedLayer* p, WeightExponent* ew) {
  const OutlierCsr& o = l.outliers;
  const bool has_out = !o.row_ptr.empty();
  const unsigned entries = 1u << p->bits;
  uint32_t oi = has_out ? o.row_ptr[r] : 0;
  const uint32_t oend = has_out ? o.row_ptr[r + 1] : 0;
  for (uint32_t g = 0; g < p->groups_per_row; ++g) {
    const uint32_t k0 = g * p->group;
    const uint32_t n = std::min(p->group, l.cols - k0);
    group_table(*p, r, g, table.data());
    std::fill(used.begin(), used.end(), 0);
    for (uint32_t k = k0; k < k0 + n; ++k) {
      p->dense_abs_max = std::max(p->dense_abs_max, std::fabs(table[row_codes[k]]));
      if (oi < oend && o.col[oi] == k) {
        const float dense = table[row_codes[k]];
        const float res = half_to_float(o.val[oi]);
        p->out_residual[oi] = res;
        p->out_dense[oi] = dense;
        p->out_exact[oi] = dense + res;  // the golden decode's one rounding
        add_weight(l, p->out_exact[oi], r, k, ew);
        ++oi;
      } else {
        used[row_codes[k]] = 1;
      }
    }
    for (unsigned j = 0; j < entries; ++j)
      if (used[j]) add_weight(l, table[j], r, k0, ew);
  }
}

}  // namespace

PackedLayer pack_layer(const QuantizedLayer& l) {
  validate(l);
  PackedLayer p;
  set_layout(l, &p);
  pack_tables(l, &p);
  size_outliers(l.outliers, &p);

  // One pass over the codes: lay each row out and scan its decoded values.
  const unsigned entries = 1u << p.bits;
  std::vector<uint8_t> row_codes(l.cols), padded(p.padded_cols()), used(entries);
  std::vector<float> table(entries);
  WeightExponent ew;
  for (uint32_t r = 0; r < l.rows; ++r) {
    unpack_indices(l.indices.data(), uint64_t(r) * l.cols, l.cols, l.bits, row_codes.data());
    lay_out_row(row_codes, r, padded, &p);
    scan_row(l, row_codes, r, table, used, &p, &ew);
  }
  p.weight_exp = ew.ew();
  return p;
}

}  // namespace lutc::kernels
