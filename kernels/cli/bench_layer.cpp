#include "bench_layer.h"

#include <sstream>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
#include "lutc/model/synth.h"

namespace lutc::cli {

void parse_bench_shape(const std::string& s, uint32_t* rows, uint32_t* cols) {
  char x = 0;
  std::istringstream in(s);
  unsigned long r = 0, c = 0;
  if (!(in >> r >> x >> c) || (x != 'x' && x != 'X') || !in.eof() || r == 0 || c == 0 || r > (1u << 24) ||
      c > (1u << 24))
    throw Error(ExitCode::kUsage, "--synthetic: expected NxK (e.g. 11008x4096), got '" + s + "'");
  *rows = uint32_t(r), *cols = uint32_t(c);
}

QuantizedLayer synthetic_bench_layer(const std::string& shape, Scheme scheme, unsigned bits, uint32_t group,
                                     const std::string& sop_format) {
  SynthSpec spec;
  parse_bench_shape(shape, &spec.rows, &spec.cols);
  const std::vector<float> w = synth_matrix(spec);
  const std::string name = "synth." + std::to_string(spec.rows) + "x" + std::to_string(spec.cols);
  if (is_baseline(scheme)) return quantize_baseline(scheme, name, Role::kOther, w.data(), spec.rows, spec.cols);
  if (scheme == Scheme::kSop) {
    if (sop_format.empty()) throw Error(ExitCode::kUsage, "--scheme sop needs --sop-format F (e.g. e2m1.ue4m3.b16)");
    SopOptions so;
    so.format = parse_sop_format(sop_format);
    return quantize_sop(name, Role::kOther, w.data(), spec.rows, spec.cols, so);
  }
  if (!is_xfp(scheme))
    throw Error(ExitCode::kUsage,
                std::string("--scheme ") + scheme_name(scheme) + " is not supported by the benchmarks");
  XfpOptions o;
  o.mode = scheme;
  o.bits = bits;
  o.group = group;
  o.outlier_fraction = 0;
  return quantize_xfp(name, Role::kOther, w.data(), spec.rows, spec.cols, o);
}

}  // namespace lutc::cli
