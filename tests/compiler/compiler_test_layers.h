#pragma once
// Layers for compiler tests: random matrices of chosen shapes quantized with
// every scheme, and an arch text builder for small engines.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/program.h"
#include "lutc/model/layer.h"

namespace lutc::testing {

// LLM-like weights: Gaussian with a few large values, seeded.
std::vector<float> random_weights(uint32_t rows, uint32_t cols, std::mt19937_64& rng);
// The layer for `scheme` (xfp.v2 with group, xfp.v2a, a baseline, or sop in
// kSopTestFormat), with outliers for the XFP schemes and sop.
QuantizedLayer quantize_for_test(Scheme scheme, const std::string& name, const float* w, uint32_t rows, uint32_t cols,
                                 uint32_t v2_group = 0);
// Every SOP feature at once: a pair with the learned DD4 book (selection
// bit), a signed scale, and outliers.
inline const char kSopTestFormat[] = "pair(nf4,dd4).sue4m4.b16+o1";
QuantizedLayer quantize_sop_for_test(const std::string& format, const std::string& name, const float* w, uint32_t rows,
                                     uint32_t cols);
// default_arch() with the given "section.key=value" overrides applied.
ArchConfig arch_with(const std::vector<std::string>& overrides);
std::vector<Scheme> compiled_schemes();
// Every capacity key at the top of its documented range (docs/arch.md), with
// `overrides` on top: about 5.7 GB of engine memory if a model sized its
// memories by the arch rather than by the program.
ArchConfig arch_at_maxima(const std::vector<std::string>& overrides = {});
// The most a model of the engine needs to hold for `p` at `batch`: the weight
// SRAM no more than the DRAM image it is filled from, per vector two column
// tiles of activations and a lane per output row, each LUT bank no more than
// every LUT word, one base per record.
uint64_t program_memory_bound(const Program& p, uint32_t batch);

}  // namespace lutc::testing
