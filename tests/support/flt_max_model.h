#pragma once
// A model whose metrics cannot be numbers, for the tests that lm-eval refuses
// one: a copy of a safetensors model with every weight of one random layer
// matrix set to FLT_MAX.
#include <random>
#include <string>

namespace lutc::testing {

// Writes the copy of `src` to `path`; returns the name of the matrix set to
// FLT_MAX. Each weight is finite, but any product with them overflows, and
// sums of +inf and -inf make NaN wherever in the model the matrix sits. (One
// FLT_MAX alone may survive, e.g. behind a SiLU that sends it to 0.)
std::string write_with_flt_max(const std::string& src, const std::string& path, std::mt19937_64& rng);

}  // namespace lutc::testing
