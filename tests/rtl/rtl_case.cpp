#include "rtl_case.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/golden.h"
#include "lutc/model/quantize.h"

namespace lutc::testing {

std::vector<std::string> rtl_base_arch() {
  return {"core.lanes=8",
          "lut.banks=4",
          "lut.ports=1",
          "lut.bank_words=2048",
          "sram.weight_kib=32",
          "sram.act_kib=16",
          "dram.bytes_per_cycle=8",
          "dram.latency_cycles=40",
          "core.clock_mhz=500"};
}

ArchConfig case_arch(const RtlCase& c) {
  std::vector<std::string> o = rtl_base_arch();
  o.insert(o.end(), c.arch.begin(), c.arch.end());
  // Later keys win: drop earlier duplicates so the .ini parser sees each once.
  std::vector<std::string> unique;
  for (size_t i = 0; i < o.size(); ++i) {
    const std::string key = o[i].substr(0, o[i].find('='));
    bool later = false;
    for (size_t j = i + 1; j < o.size(); ++j) later |= o[j].substr(0, o[j].find('=')) == key;
    if (!later) unique.push_back(o[i]);
  }
  return arch_with(unique);
}

namespace {
// xfp.v2, b = 2, one book {65504, -65504, 2^-24, -2^-24} per row: Ew = -24,
// so +-65504 becomes a 40-bit integer and a row of K such weights times
// full-scale activations sums to ~2^(55 + log2 K): far past 64 bits.
QuantizedLayer max_magnitude_layer(const RtlCase& c, std::mt19937_64& rng) {
  QuantizedLayer l;
  l.name = c.name;
  l.rows = c.rows;
  l.cols = c.cols;
  l.scheme = Scheme::kXfpV2;
  l.bits = 2;
  l.group = c.cols;
  for (uint32_t r = 0; r < c.rows; ++r) l.codebooks.insert(l.codebooks.end(), {0x7BFF, 0xFBFF, 0x0001, 0x8001});
  std::vector<uint8_t> codes(size_t(c.rows) * c.cols);
  for (uint32_t r = 0; r < c.rows; ++r)
    for (uint32_t k = 0; k < c.cols; ++k)
      // Rows of all +max, all -max, all tiny, then random mixes.
      codes[size_t(r) * c.cols + k] = uint8_t(r < 3 ? (r == 2 ? 2 : r) : rng() % 4);
  l.indices.assign(packed_bytes(codes.size(), 2), 0);
  pack_indices(codes.data(), codes.size(), 2, l.indices.data());
  return l;
}
}  // namespace

QuantizedLayer case_layer(const RtlCase& c, std::mt19937_64& rng) {
  if (c.values == Values::kMaxMagnitude && c.scheme == Scheme::kXfpV2) return max_magnitude_layer(c, rng);
  std::vector<float> w = random_weights(c.rows, c.cols, rng);
  if (c.values == Values::kMaxMagnitude)
    // fp16's largest magnitudes with both signs: products and sums at the top
    // of the accumulator, outputs beyond fp32 become +-Inf.
    // A few fp16 subnormals pull the weight exponent Ew down to 2^-24, so the
    // large weights become ~2^40 integers and the sums approach 2^62+.
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = i % 11 == 5 ? std::ldexp(float(1 + i % 3), -24)
                         : (i % 3 == 0 ? -65504.0f : 65504.0f) * (i % 7 == 0 ? 0.5f : 1.0f);
  if (c.values == Values::kTiny)
    for (auto& v : w) v = std::ldexp(v, -18);  // codebook entries near fp16 subnormals
  if (c.scheme == Scheme::kXfpV2 || c.scheme == Scheme::kXfpV2a) {
    XfpOptions o;
    o.mode = c.scheme;
    o.bits = c.bits;
    o.group = c.scheme == Scheme::kXfpV2 ? c.group : 0;
    o.outlier_fraction = c.values == Values::kOutlierHeavy ? 0.25 : 0.01;
    return quantize_xfp(c.name, Role::kOther, w.data(), c.rows, c.cols, o);
  }
  return quantize_for_test(c.scheme, c.name, w.data(), c.rows, c.cols, c.group);
}

Program case_program(const RtlCase& c, std::mt19937_64& rng) {
  const Program compiled = compile_layer(case_layer(c, rng), case_arch(c));
  const std::vector<uint8_t> bytes = serialize_lutp(compiled);
  return parse_lutp(bytes.data(), bytes.size(), c.name + ".lutp");
}

namespace {
std::vector<float> case_x(const RtlCase& c, uint32_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(c.batch) * cols);
  for (auto& v : x) v = n(rng);
  if (c.values == Values::kMaxMagnitude)
    // bf16's largest finite magnitude: a = +-(2^(act_bits-1) - 1) after quantization.
    for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 5 == 0 ? -3.3895e38f : 3.3895e38f);
  if (c.values == Values::kTiny)
    for (auto& v : x) v = std::ldexp(v, -120);
  if (!x.empty()) x[0] = 0;
  return x;
}
}  // namespace

namespace {
std::string id(std::string s) {
  for (char& ch : s)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

}  // namespace

std::vector<RtlCase> directed_cases() {
  std::vector<RtlCase> v;
  auto add = [&](RtlCase c) { v.push_back(std::move(c)); };
  // Every scheme on a shape with a short last group and a partial lane tile.
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3, Scheme::kSop})
    for (uint32_t rows : {1u, 5u, 8u, 13u})
      add({id(std::string(scheme_name(s)) + "_rows" + std::to_string(rows)), s, 4, rows, 200, 64});
  // Every index width, xfp.v2 per-row books and xfp.v2a library ids.
  for (unsigned b : {2u, 3u, 4u, 5u, 6u, 8u}) {
    add({"v2_b" + std::to_string(b), Scheme::kXfpV2, b, 6, 77, 0});
    add({"v2_b" + std::to_string(b) + "_g32", Scheme::kXfpV2, b, 3, 100, 32});
    add({"v2a_b" + std::to_string(b), Scheme::kXfpV2a, b, 7, 300, 0});
  }
  // N or K = 1, and both.
  for (Scheme s : {Scheme::kXfpV2, Scheme::kInt4G128, Scheme::kFp8E4M3}) {
    add({id(std::string(scheme_name(s)) + "_n1"), s, 4, 1, 150, 0});
    add({id(std::string(scheme_name(s)) + "_k1"), s, 4, 9, 1, 0});
    add({id(std::string(scheme_name(s)) + "_n1k1"), s, 4, 1, 1, 0});
  }
  // Bank conflicts: books per (row, group) spread over the 4 banks by
  // slot = slot0 + row x groups + group: 1 group -> 2 lanes per bank, 4 groups
  // -> all 8 lanes in one bank; fixed books (nf4, fp8) put every lane in one
  // bank; 1, 2 and 3 lanes change the pattern again.
  for (uint32_t g : {128u, 64u, 32u, 16u})
    add({"conflict_v2_groups" + std::to_string(128 / g), Scheme::kXfpV2, 4, 8, 128, g});
  for (uint32_t lanes : {1u, 2u, 3u})
    add({"conflict_lanes" + std::to_string(lanes),
         Scheme::kXfpV2,
         4,
         7,
         96,
         32,
         {"core.lanes=" + std::to_string(lanes)}});
  add({"conflict_nf4_fixed_book", Scheme::kNf4B64, 4, 8, 128, 0});
  add({"conflict_v2a_ids", Scheme::kXfpV2a, 3, 8, 384, 0});
  // Short final groups and chunks that start inside a group.
  add({"short_group_v2", Scheme::kXfpV2, 4, 4, 130, 64});
  add({"short_group_int4", Scheme::kInt4G128, 4, 4, 129, 0});
  add({"short_group_nf4", Scheme::kNf4B64, 4, 3, 65, 0});
  add({"chunk_inside_group",
       Scheme::kXfpV2,
       4,
       5,
       600,
       128,
       {"sram.weight_kib=1", "sram.act_kib=1", "lut.bank_words=64"}});
  // Outlier-heavy rows (a quarter of the elements carry an fp16 residual).
  for (unsigned b : {2u, 4u, 8u}) {
    add({"outliers_v2_b" + std::to_string(b), Scheme::kXfpV2, b, 8, 90, 0, {}, 1, Values::kOutlierHeavy});
    add({"outliers_v2a_b" + std::to_string(b), Scheme::kXfpV2a, b, 5, 130, 0, {}, 1, Values::kOutlierHeavy});
  }
  // Extremes: fp16-max weights beside fp16 subnormals and bf16-max
  // activations (sums near 2^100, outputs beyond fp32 -> Inf), and tiny
  // values whose outputs are fp32 subnormals.
  add({"xfp_v2_maxmag_acc", Scheme::kXfpV2, 2, 8, 4096, 0, {"core.acc_bits=96"}, 1, Values::kMaxMagnitude});
  add({"xfp_v2_maxmag_k1", Scheme::kXfpV2, 2, 5, 1, 0, {}, 1, Values::kMaxMagnitude});
  for (Scheme s : {Scheme::kXfpV2, Scheme::kInt4G128, Scheme::kNf4B64}) {
    if (s != Scheme::kXfpV2)
      add({id(std::string(scheme_name(s)) + "_maxmag"),
           s,
           4,
           6,
           257,
           0,
           {"core.acc_bits=64"},
           1,
           Values::kMaxMagnitude});
    add({id(std::string(scheme_name(s)) + "_tiny"), s, 4, 6, 100, 0, {}, 1, Values::kTiny});
  }
  // Lossy HIF and 8-bit activations (the edge arch's datapath widths).
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3}) {
    add({id(std::string(scheme_name(s)) + "_hif9_4_act8"),
         s,
         4,
         8,
         180,
         64,
         {"hif.mant_bits=9", "hif.shift_bits=4", "act.bits=8", "core.acc_bits=64"}});
    add({id(std::string(scheme_name(s)) + "_hif3_2"), s, 4, 5, 70, 0, {"hif.mant_bits=3", "hif.shift_bits=2"}});
  }
  // Many double-buffered tiles: tiny SRAMs and LUT, prefetch overlapping compute.
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kFp8E4M3})
    add({id(std::string(scheme_name(s)) + "_many_tiles"),
         s,
         4,
         21,
         700,
         128,
         {"sram.weight_kib=1", "sram.act_kib=1", "lut.bank_words=256", "core.lanes=4"}});
  // Issue order: tiles so short that the controller's in-order accept
  // decides the cycles. Once 5 % (DMA_IN behind outlier-heavy tiles) and
  // 3 % (a SYNC on every tile) apart in SystemC and RTL cycles.
  add({"issue_order_outlier_tiles",
       Scheme::kXfpV2a,
       3,
       22,
       169,
       0,
       {"core.lanes=2", "hif.mant_bits=8", "hif.shift_bits=5", "act.bits=16", "sram.weight_kib=1", "sram.act_kib=1",
        "lut.bank_words=256", "dram.latency_cycles=7", "dram.bytes_per_cycle=64"},
       1,
       Values::kOutlierHeavy});
  add({"issue_order_sync_tiles",
       Scheme::kXfpV2a,
       5,
       20,
       20,
       0,
       {"core.lanes=1", "hif.mant_bits=4", "hif.shift_bits=3", "act.bits=16", "sram.act_kib=1",
        "dram.latency_cycles=48", "dram.bytes_per_cycle=64"}});
  // A batch runs the program once per vector.
  add({"batch3_v2", Scheme::kXfpV2, 4, 8, 64, 0, {}, 3});
  add({"batch2_fp8_act8", Scheme::kFp8E4M3, 8, 5, 40, 0, {"act.bits=8"}, 2});
  return v;
}

RtlCase random_case(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](auto list) { return list[rng() % list.size()]; };
  const std::vector<Scheme> schemes = {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64,
                                       Scheme::kFp8E4M3};
  RtlCase c;
  c.scheme = pick(schemes);
  c.name = "random_" + std::to_string(seed);
  c.bits = pick(std::vector<unsigned>{2, 3, 4, 5, 6, 8});
  c.rows = 1 + uint32_t(rng() % 24);
  c.cols = 1 + uint32_t(rng() % 400);
  c.group = pick(std::vector<uint32_t>{0, 16, 32, 64, 128});
  c.batch = 1 + uint32_t(rng() % 2);
  c.values = pick(std::vector<Values>{Values::kRandom, Values::kRandom, Values::kOutlierHeavy});
  c.arch = {"core.lanes=" + std::to_string(1 + rng() % 8),
            "hif.mant_bits=" + std::to_string(4 + rng() % 10),
            "hif.shift_bits=" + std::to_string(2 + rng() % 5),
            pick(std::vector<std::string>{"act.bits=8", "act.bits=16"}),
            pick(std::vector<std::string>{"sram.weight_kib=1", "sram.weight_kib=2", "sram.weight_kib=32"}),
            pick(std::vector<std::string>{"sram.act_kib=1", "sram.act_kib=16"}),
            pick(std::vector<std::string>{"lut.bank_words=256", "lut.bank_words=2048"}),
            "dram.latency_cycles=" + std::to_string(rng() % 100),
            pick(std::vector<std::string>{"dram.bytes_per_cycle=2", "dram.bytes_per_cycle=8",
                                          "dram.bytes_per_cycle=0.5", "dram.bytes_per_cycle=64"}),
            pick(std::vector<std::string>{"dram.refresh_overhead=0", "dram.refresh_overhead=0.05",
                                          "dram.refresh_overhead=0.3"})};
  return c;
}

rtl::RtlResult check_layer(const QuantizedLayer& l, const ArchConfig& arch, const std::vector<float>& x, uint32_t batch,
                           std::string* report) {
  const Program compiled = compile_layer(l, arch);
  const std::vector<uint8_t> bytes = serialize_lutp(compiled);
  const Program p = parse_lutp(bytes.data(), bytes.size(), l.name + ".lutp");
  const size_t n = size_t(batch) * p.meta.rows;
  const float poison = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> got(n, poison), exec(n, poison), golden(n, poison);
  const rtl::RtlResult r = rtl::run_rtl(p, x.data(), batch, got.data());
  execute(p, x.data(), batch, exec.data());
  // The golden GEMV of the layer's HIF weights (the layer itself with lossless HIF).
  const std::vector<float> w = hif_weights(l, p.hif());
  GemvConfig cfg;
  cfg.act_bits = p.arch.act_bits;
  golden_gemv_weights(w.data(), l.rows, l.cols, x.data(), batch, cfg, golden.data());
  std::string why = rtl::first_mismatch(p, r, got.data(), golden.data(), batch);
  if (!why.empty()) why = "RTL vs golden GEMV: " + why;
  if (why.empty()) {
    why = rtl::first_mismatch(p, r, got.data(), exec.data(), batch);
    if (!why.empty()) why = "RTL vs executor: " + why;
  }
  *report = why;
  return r;
}

rtl::RtlResult run_case(const RtlCase& c, uint64_t seed, std::string* report) {
  std::mt19937_64 rng(seed);
  const QuantizedLayer l = case_layer(c, rng);
  const std::vector<float> x = case_x(c, l.cols, rng);
  return check_layer(l, case_arch(c), x, c.batch, report);
}

}  // namespace lutc::testing
