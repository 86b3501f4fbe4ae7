#pragma once
// The sop parts of the packed form: block scale codes (one byte each where
// the format's code fits, else 16 bits), the codebooks widened once, and one
// fp32 scale per possible scale code.
#include "lutc/kernels/cpu/packed_layer.h"

namespace lutc::kernels {

void pack_sop_tables(const QuantizedLayer& l, PackedLayer& p);

}  // namespace lutc::kernels
