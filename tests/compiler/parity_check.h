#pragma once
// The executor-versus-golden check shared by the parity tests: compile,
// round-trip the program through bytes (the reader is part of the path), run
// into NaN-poisoned outputs, and compare bit for bit with
// golden_gemv_weights(hif_weights(layer)) — and, for lossless HIF, with
// golden_gemv(layer) itself.
#include <cstdint>
#include <random>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/model/layer.h"

namespace lutc::testing {

// Gaussian activations with one exact zero.
std::vector<float> random_x(uint32_t batch, uint32_t cols, std::mt19937_64& rng);
uint32_t bits_of(float f);
// Fails the calling test (gtest assertions) on the first differing element.
void expect_parity(const QuantizedLayer& l, const ArchConfig& arch, uint32_t batch, std::mt19937_64& rng);

}  // namespace lutc::testing
