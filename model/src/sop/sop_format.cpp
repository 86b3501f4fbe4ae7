// SOP format strings (docs/sop.md "Format strings"): parsing, canonical names
// and the documented operating points.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "lutc/model/error.h"
#include "lutc/model/sop.h"
#include "lutc/model/sop_scale.h"
#include "lutc/model/suggest.h"

namespace lutc {
namespace {

[[noreturn]] void bad(const std::string& s, const std::string& why) {
  throw Error(ExitCode::kUsage, "--sop-format '" + s + "': " + why +
                                    " (expected ELEM.SCALE.bB[+oP], e.g. e2m3.ue4m4.b16, "
                                    "pair(nf4,dd4).ue4m3.b16, pair(auto).sue4m3.b16+o0.5; see docs/sop.md)");
}

SopCodebook codebook_or_fail(const std::string& s, const std::string& name) {
  SopCodebook c;
  if (!parse_sop_codebook(name, &c)) {
    std::string known;
    for (const auto& n : sop_codebook_names()) known += (known.empty() ? "" : ", ") + n;
    bad(s, "unknown element codebook '" + name + "'" + did_you_mean(name, sop_codebook_names()) + " (" + known + ")");
  }
  return c;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  int depth = 0;  // dots never appear inside pair(...), but commas do
  for (char ch : s) {
    if (ch == '(') ++depth;
    if (ch == ')') --depth;
    if (ch == sep && depth == 0)
      out.emplace_back();
    else
      out.back() += ch;
  }
  return out;
}

}  // namespace

std::string SopFormat::name() const {
  std::string elem = sop_codebook_name(a);
  if (pair_search)
    elem = "pair(auto)";
  else if (paired)
    elem = std::string("pair(") + sop_codebook_name(a) + "," + sop_codebook_name(b) + ")";
  std::string s =
      elem + "." + (scale_signed ? "s" : "") + "ue4m" + std::to_string(scale_mant_bits) + ".b" + std::to_string(block);
  if (outlier_pct > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+o%g", outlier_pct);
    s += buf;
  }
  return s;
}

SopFormat parse_sop_format(const std::string& s) {
  SopFormat f;
  std::string base = s;
  const size_t plus = s.find('+');
  if (plus != std::string::npos) {
    base = s.substr(0, plus);
    const std::string o = s.substr(plus + 1);
    char* end = nullptr;
    if (o.size() < 2 || o[0] != 'o') bad(s, "suffix '+" + o + "' is not +oP (outlier percent)");
    f.outlier_pct = std::strtod(o.c_str() + 1, &end);
    if (*end || !(f.outlier_pct >= 0 && f.outlier_pct <= 10))
      bad(s, "outlier percent '" + o.substr(1) + "' is not a number in [0, 10]");
  }
  const auto parts = split(base, '.');
  if (parts.size() != 3) bad(s, "needs three dot-separated parts");
  const std::string& elem = parts[0];
  if (elem.rfind("pair(", 0) == 0) {
    if (elem.back() != ')') bad(s, "unclosed pair(");
    const std::string inner = elem.substr(5, elem.size() - 6);
    if (inner == "auto") {
      f.paired = f.pair_search = true;
      f.a = SopCodebook::kNf4;
      f.b = SopCodebook::kDd4;
    } else {
      const auto ab = split(inner, ',');
      if (ab.size() != 2) bad(s, "pair() takes two codebooks or 'auto'");
      f.a = codebook_or_fail(s, ab[0]);
      f.b = codebook_or_fail(s, ab[1]);
      if (f.a == f.b) bad(s, "a pair needs two different codebooks");
      if (sop_codebook_bits(f.a) != sop_codebook_bits(f.b))
        bad(s, "the codebooks of a pair must have the same index width");
      if (sop_codebook_is_dynamic(f.a)) std::swap(f.a, f.b);  // the learned one is always b
      f.paired = true;
    }
  } else {
    f.a = f.b = codebook_or_fail(s, elem);
  }
  std::string sc = parts[1];
  if (!sc.empty() && sc[0] == 's') {
    f.scale_signed = true;
    sc = sc.substr(1);
  }
  if (sc.size() != 5 || sc.compare(0, 4, "ue4m") != 0 || !std::isdigit((unsigned char)sc[4]) ||
      !sop_scale_mant_ok(unsigned(sc[4] - '0')))
    bad(s, "unknown scale '" + parts[1] + "' (ue4m4, ue4m3, ue4m2, or s-prefixed for a sign bit)");
  f.scale_mant_bits = unsigned(sc[4] - '0');
  const std::string& bl = parts[2];
  if (bl.size() < 2 || bl[0] != 'b' || bl.find_first_not_of("0123456789", 1) != std::string::npos || bl.size() > 4)
    bad(s, "block '" + bl + "' is not bB");
  f.block = uint32_t(std::atoi(bl.c_str() + 1));
  if (!sop_block_ok(f.block)) bad(s, "block size " + bl.substr(1) + " not in " + kSopBlocksText);
  return f;
}

std::vector<SopFormat> sop_named_points() {
  std::vector<SopFormat> v;
  for (const char* n : {"e2m1.ue4m4.b32",
                        "pair(auto).ue4m3.b32",
                        "e2m1.ue4m3.b16",
                        "nf4.ue4m4.b16",
                        "bof4.ue4m4.b16",
                        "split87.sue4m3.b16",
                        "sh4.ue4m4.b16",
                        "int4.ue4m4.b16",
                        "dd4.ue4m4.b16",
                        "pair(nf4,dd4).ue4m3.b16",
                        "pair(split87,dd4).sue4m2.b16",
                        "pair(auto).ue4m3.b16",
                        "pair(nf4,dd4).ue4m4.b16",
                        "pair(nf4,dd4).sue4m4.b16",
                        "e2m1.ue4m3.b8",
                        "nf4.ue4m4.b8",
                        "pair(nf4,dd4).ue4m3.b8",
                        "e2m3.ue4m4.b64",
                        "e2m3.ue4m4.b32",
                        "int6.ue4m4.b16",
                        "e2m3.ue4m4.b16"})
    v.push_back(parse_sop_format(n));
  return v;
}

std::vector<SopFormat> sop_knapsack_ladder() {
  std::vector<SopFormat> v;
  for (const char* n : {"pair(nf4,dd4).ue4m3.b64", "pair(nf4,dd4).ue4m3.b32", "pair(nf4,dd4).ue4m3.b32+o0.5",
                        "pair(nf4,dd4).ue4m3.b16", "pair(nf4,dd4).ue4m3.b16+o0.5", "pair(nf4,dd4).ue4m3.b8",
                        "pair(nf4,dd4).ue4m3.b8+o0.5", "e2m3.ue4m4.b64", "e2m3.ue4m4.b32", "e2m3.ue4m4.b16"})
    v.push_back(parse_sop_format(n));
  return v;
}

}  // namespace lutc
