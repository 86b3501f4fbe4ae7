#pragma once
// validate() with the byte offset of the record it came from, so a reader's
// message points into the file.
#include <string>

#include "lutc/model/layer.h"

namespace lutc {

void validate_at(const QuantizedLayer& layer, const std::string& file, long long offset);

}  // namespace lutc
