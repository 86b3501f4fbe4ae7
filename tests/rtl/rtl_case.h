#pragma once
// One self-checking RTL regression case: a layer (scheme, shape, index width,
// outliers), an arch inside the verilated configuration and a batch. The
// layer is compiled, round-tripped through .lutp bytes, run on the RTL, the
// executor and the golden GEMV; all three y must agree bit for bit.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lutc/compiler/program.h"
#include "lutc/model/layer.h"
#include "lutc/rtl/rtl_engine.h"

namespace lutc::testing {

enum class Values { kRandom, kOutlierHeavy, kMaxMagnitude, kTiny };

struct RtlCase {
  RtlCase(std::string name_ = "", Scheme scheme_ = Scheme::kXfpV2, unsigned bits_ = 4, uint32_t rows_ = 8,
          uint32_t cols_ = 64, uint32_t group_ = 0, std::vector<std::string> arch_ = {}, uint32_t batch_ = 1,
          Values values_ = Values::kRandom)
      : name(std::move(name_)),
        scheme(scheme_),
        bits(bits_),
        rows(rows_),
        cols(cols_),
        group(group_),
        arch(std::move(arch_)),
        batch(batch_),
        values(values_) {}
  std::string name;
  Scheme scheme;
  unsigned bits;                  // xfp schemes only
  uint32_t rows, cols, group;     // group: xfp.v2's along K (0 = whole row)
  std::vector<std::string> arch;  // overrides on top of rtl_base_arch()
  uint32_t batch;
  Values values;
};

// An arch inside the verilated engine (edge structure, roomy buffers).
std::vector<std::string> rtl_base_arch();
ArchConfig case_arch(const RtlCase& c);
QuantizedLayer case_layer(const RtlCase& c, std::mt19937_64& rng);
Program case_program(const RtlCase& c, std::mt19937_64& rng);

// The directed regression programs (rtl_regression_test, rtl_calibration_test).
std::vector<RtlCase> directed_cases();

// A random program (scheme, shape, index width, arch inside the engine) from a seed.
RtlCase random_case(uint64_t seed);

// Compiles `l` for `arch`, round-trips the program through .lutp bytes and
// runs it on the RTL, the executor and the golden GEMV; *report is the first
// mismatch (empty when all agree bit for bit).
rtl::RtlResult check_layer(const QuantizedLayer& l, const ArchConfig& arch, const std::vector<float>& x, uint32_t batch,
                           std::string* report);

// Runs the case; returns the RTL result and sets *report to the first
// mismatch (empty when RTL, executor and golden agree everywhere).
rtl::RtlResult run_case(const RtlCase& c, uint64_t seed, std::string* report);

}  // namespace lutc::testing
