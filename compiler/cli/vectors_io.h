#pragma once
// Activation and output vectors for run / gemv: .npy in, .npy out, with the
// shape checks the commands share.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/model/npy.h"

namespace lutc::cli {

// x as batch x cols; a 1-D file is one vector. Throws Error(kBadInput) when
// its last dimension is not `cols`.
NpyArray read_activations(const std::string& path, uint32_t cols, const std::string& layer);
// y as batch x rows, 1-D when x was 1-D.
void write_outputs(const std::string& path, const NpyArray& x, uint32_t rows, const std::vector<float>& y);

}  // namespace lutc::cli
