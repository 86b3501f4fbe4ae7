#include "lutc/explore/sweep.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "lutc/model/error.h"
#include "lutc/model/layer.h"
#include "lutc/model/suggest.h"
#include "lutc/model/text_file.h"

namespace lutc::explore {
namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

// The quantize options a sweep may vary, in the order a config's text lists them.
const char* const kQuantKeys[] = {"scheme",     "bits",     "group",      "floor_strict",
                                  "floor_lazy", "outliers", "sop_format", "budget_bpw"};

bool is_quant_key(const std::string& k) {
  for (const char* q : kQuantKeys)
    if (k == q) return true;
  return false;
}

bool is_xfp_family(const std::string& s) { return s == "xfp" || s == "xfp.v2" || s == "xfp.v2a"; }

// Options that change nothing for a scheme are dropped, so that e.g. bits x
// {int4.g128} does not become several identical points.
bool applies(const std::string& scheme, const std::string& key) {
  if (key == "scheme") return true;
  if (key == "sop_format" || key == "budget_bpw") return scheme == "sop";
  if (key == "group") return scheme == "xfp.v2";
  return is_xfp_family(scheme);
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// Commas inside parentheses (pair(nf4,dd4)) do not separate values.
std::vector<std::string> split_top_level(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == sep && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

std::string format_number(double v, bool integral) {
  char buf[40];
  if (integral)
    std::snprintf(buf, sizeof buf, "%lld", (long long)std::llround(v));
  else
    std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ExitCode::kUsage, "sweep '" + path + "': " + what);
}

// A relative path in a sweep names a file beside the sweep file, then one in
// the working directory (docs/explore.md). When neither exists the error says
// both absolute paths tried and their bases, so a sweep copied elsewhere
// shows at once which folder it looked in.
std::string resolve_path(const std::string& sweep_path, const std::string& key, const std::string& p) {
  if (p.rfind("synth:", 0) == 0 || fs::path(p).is_absolute()) return p;
  const fs::path sweep_dir = fs::absolute(fs::path(sweep_path)).parent_path().lexically_normal();
  const fs::path beside = (sweep_dir / p).lexically_normal();
  // The non-throwing form: a name the OS refuses (too long, not a folder on
  // the way) is a path that does not exist here, reported with the reason.
  std::error_code beside_ec, cwd_ec;
  if (fs::exists(beside, beside_ec)) return (fs::path(sweep_path).parent_path() / p).lexically_normal().string();
  if (fs::exists(p, cwd_ec)) return p;
  auto reason = [](const std::error_code& ec) { return ec ? " (" + ec.message() + ")" : std::string(); };
  const fs::path cwd = fs::current_path();
  throw Error(ExitCode::kIo, "sweep '" + sweep_path + "': " + key + " '" + p + "' does not exist: tried '" +
                                 beside.string() + "'" + reason(beside_ec) + " (relative to the sweep file's folder '" +
                                 sweep_dir.string() + "') and '" + (cwd / p).lexically_normal().string() + "'" +
                                 reason(cwd_ec) + " (relative to the working directory '" + cwd.string() + "')");
}

ArchConfig arch_with_overrides(const ArchConfig& base, const std::vector<std::pair<std::string, std::string>>& ov,
                               const std::string& origin) {
  std::map<std::string, std::string> kv;
  std::istringstream lines(canonical_arch_text(base));
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const auto& [k, v] : ov) {
    auto it = kv.find(k);
    if (it == kv.end()) {
      std::vector<std::string> keys;
      for (const auto& e : kv) keys.push_back(e.first);
      throw Error(ExitCode::kUsage,
                  origin + ": [arch] key '" + k + "' is not an arch key" + did_you_mean(k, keys) + " (docs/arch.md)");
    }
    it->second = v;
  }
  // Back to .ini text so that parse_arch validates every value as a file would.
  std::string text, section;
  for (const auto& [k, v] : kv) {
    const std::string s = k.substr(0, k.find('.'));
    if (s != section) text += "[" + (section = s) + "]\n";
    text += k.substr(k.find('.') + 1) + " = " + v + "\n";
  }
  ArchConfig a = parse_arch(text, origin);
  a.name = base.name;
  return a;
}

// A sweep is a run per point: far past this it is a typo or a hostile file
// (a few axes of a few hundred values each once took 7.2 GB just to list).
constexpr uint64_t kMaxSweepPoints = 100000;

[[noreturn]] void too_many_points(const std::string& path, const std::string& what, uint64_t n) {
  throw Error(ExitCode::kBadInput,
              "sweep '" + path + "': " + what + " has " +
                  (n > kMaxSweepPoints ? "more than " + std::to_string(kMaxSweepPoints) : std::to_string(n)) +
                  " points; the limit is " + std::to_string(kMaxSweepPoints) +
                  " (split the sweep, or use combine = listed)");
}

// The product of the axes, built only once its size is known to be in bounds.
std::vector<std::vector<std::string>> cartesian(const std::vector<std::vector<std::string>>& axes,
                                                const std::string& path, const std::string& what) {
  uint64_t n = 1;
  for (const auto& axis : axes) {
    n *= std::max<uint64_t>(1, axis.size());
    if (n > kMaxSweepPoints) too_many_points(path, what, n);
  }
  std::vector<std::vector<std::string>> out{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& prefix : out)
      for (const auto& v : axis) {
        auto p = prefix;
        p.push_back(v);
        next.push_back(std::move(p));
      }
    out = std::move(next);
  }
  return out;
}

QuantConfig make_quant(const std::map<std::string, std::string>& given, const std::string& path) {
  auto it = given.find("scheme");
  if (it == given.end()) fail(path, "a [quant] point needs scheme=...");
  const std::string scheme = it->second;
  Scheme s;
  if (scheme != "xfp" && !parse_scheme(scheme, &s))
    fail(path, "[quant] scheme '" + scheme + "' is unknown" + did_you_mean(scheme, scheme_option_names()) +
                   "; one of: xfp, " + scheme_names());
  QuantConfig q;
  for (const char* key : kQuantKeys) {
    auto v = given.find(key);
    if (v != given.end() && applies(scheme, key)) q.options.emplace_back(key, v->second);
  }
  if (scheme == "sop" && !given.count("sop_format") && !given.count("budget_bpw"))
    fail(path, "[quant] scheme=sop needs sop_format=... or budget_bpw=...");
  return q;
}

QuantConfig parse_point_line(const std::string& line, const std::string& path) {
  std::map<std::string, std::string> given;
  std::istringstream in(line);
  for (std::string tok; in >> tok;) {
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) fail(path, "[quant] point '" + line + "': '" + tok + "' is not key=value");
    const std::string k = tok.substr(0, eq);
    if (!is_quant_key(k))
      fail(path, "[quant] point '" + line + "': unknown key '" + k + "'" +
                     did_you_mean(k, std::vector<std::string>(std::begin(kQuantKeys), std::end(kQuantKeys))));
    given[k] = tok.substr(eq + 1);
  }
  return make_quant(given, path);
}

}  // namespace

std::string QuantConfig::scheme() const { return options.empty() ? "" : options.front().second; }

std::string QuantConfig::text() const {
  std::string s;
  for (const auto& [k, v] : options) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

std::vector<std::string> QuantConfig::quantize_args() const {
  std::vector<std::string> a;
  for (auto [k, v] : options) {
    for (char& c : k)
      if (c == '_') c = '-';
    a.push_back("--" + k);
    a.push_back(v);
  }
  return a;
}

uint64_t Sweep::hash() const { return fnv1a64(text.data(), text.size()); }

namespace {

// "lo..hi", "lo..hi:step" or "lo..hi*factor", read by hand: a regex engine
// recurses per character and overflows the stack on a long value.
struct RangeSpec {
  std::string lo, hi, op, step;  // op: "", ":" or "*"
};

// A number as the old pattern took it: an optional '-', then digits, '.',
// 'e', 'E', '+' or '-' (std::stod has the last word on what they mean).
bool number_text(const std::string& t) {
  if (t.empty() || t == "-") return false;
  for (size_t i = t[0] == '-' ? 1 : 0; i < t.size(); ++i)
    if (!std::strchr("0123456789.eE+-", t[i])) return false;
  return true;
}

bool parse_range(const std::string& item, RangeSpec* r) {
  const size_t dots = item.find("..");
  if (dots == std::string::npos) return false;
  r->lo = trim(item.substr(0, dots));
  std::string rest = item.substr(dots + 2);
  const size_t op = rest.find_first_of(":*");
  r->op = op == std::string::npos ? "" : rest.substr(op, 1);
  r->hi = trim(rest.substr(0, op));
  r->step = op == std::string::npos ? "" : trim(rest.substr(op + 1));
  return number_text(r->lo) && number_text(r->hi) && (r->op.empty() || number_text(r->step));
}

}  // namespace

namespace {

// One "lo..hi[:step|*factor]" item appended to out as its values. Integer
// bounds and step give integer text; a factor does not make values fractional.
void expand_range(const std::string& key, const std::string& item, const RangeSpec& m, std::vector<std::string>* out) {
  double lo, hi, step = 1.0;
  try {
    lo = std::stod(m.lo);
    hi = std::stod(m.hi);
    if (!m.op.empty()) step = std::stod(m.step);
  } catch (const std::exception&) {
    throw Error(ExitCode::kUsage, "key '" + key + "': range '" + item + "' has a bound or step that is not a number");
  }
  const bool geometric = m.op == "*";
  const bool integral = m.lo.find_first_of(".eE") == std::string::npos &&
                        m.hi.find_first_of(".eE") == std::string::npos &&
                        (m.op.empty() || m.step.find_first_of(".eE") == std::string::npos || geometric);
  if (!(hi >= lo) || (geometric ? !(step > 1) || !(lo > 0) : !(step > 0)))
    throw Error(ExitCode::kUsage,
                "key '" + key + "': range '" + item + "' needs lo <= hi and a step > 0 (or a factor > 1 from lo > 0)");
  for (int i = 0;; ++i) {
    const double v = geometric ? lo * std::pow(step, i) : lo + step * i;
    if (v > hi * (1 + 1e-12)) break;
    if (i >= 100000) throw Error(ExitCode::kUsage, "key '" + key + "': range '" + item + "' has too many values");
    out->push_back(format_number(v, integral));
  }
}

}  // namespace

std::vector<std::string> expand_values(const std::string& key, const std::string& spec) {
  std::vector<std::string> out;
  for (const std::string& item : split_top_level(spec, ',')) {
    if (item.empty()) throw Error(ExitCode::kUsage, "key '" + key + "': empty value in '" + spec + "'");
    RangeSpec m;
    if (parse_range(item, &m))
      expand_range(key, item, m, &out);
    else
      out.push_back(item);
  }
  return out;
}

namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;
using Axes = std::vector<std::pair<std::string, std::vector<std::string>>>;

// The file's keys in file order ("section.name", value trimmed), as
// Boost.Program_options reads an .ini; its syntax errors name the sweep.
KeyValues read_keys(const std::string& text, const std::string& path) {
  std::istringstream in(text);
  po::options_description none;
  KeyValues kv;
  try {
    const po::parsed_options parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
    for (const auto& o : parsed.options)
      kv.emplace_back(o.string_key, o.original_tokens.size() > 1 ? trim(o.original_tokens[1]) : "");
  } catch (const po::error& e) {
    fail(path, e.what());
  }
  return kv;
}

// The axes as written, before they are crossed into points.
struct SweepAxes {
  std::string combine = "cartesian";
  std::vector<std::string> point_lines;  // [quant] point = ..., in file order
  Axes quant_axes, arch_axes;
  std::vector<std::string> arch_files;
};

// One key into the [sweep] settings or an axis. Number parse failures
// surface as std::logic_error for the caller to name.
void apply_key(const std::string& key, const std::string& value, const std::string& path, Sweep* s, SweepAxes* axes) {
  const std::string section = key.substr(0, key.find('.'));
  const std::string name = key.find('.') == std::string::npos ? "" : key.substr(key.find('.') + 1);
  if (key == "sweep.name")
    s->name = value;
  else if (key == "sweep.weights")
    s->weights = value;
  else if (key == "sweep.tensors")
    s->tensors = value;
  else if (key == "sweep.blocks")
    s->blocks = uint32_t(std::stoul(value));
  else if (key == "sweep.batch")
    s->batch = uint32_t(std::stoul(value));
  else if (key == "sweep.seed")
    s->seed = std::stoull(value);
  else if (key == "sweep.combine")
    axes->combine = value;
  else if (key == "quant.point")
    axes->point_lines.push_back(value);
  else if (section == "quant" && is_quant_key(name))
    axes->quant_axes.emplace_back(name, expand_values(key, value));
  else if (key == "arch.file")
    axes->arch_files = expand_values(key, value);
  else if (section == "arch" && !name.empty())
    axes->arch_axes.emplace_back(name, expand_values(key, value));
  else
    fail(path, "unknown key '" + key + "' (sections [sweep], [quant], [arch]; docs/explore.md)");
}

// Every key once (point may repeat), each into s or the axes.
SweepAxes apply_keys(const KeyValues& kv, const std::string& path, Sweep* s) {
  SweepAxes axes;
  std::set<std::string> seen;
  for (const auto& [key, value] : kv) {
    if (key != "quant.point" && !seen.insert(key).second) fail(path, "key '" + key + "' is given twice");
    try {
      apply_key(key, value, path, s, &axes);
    } catch (const std::logic_error&) {  // stoul and friends
      fail(path, "key '" + key + "': '" + value + "' is not a number");
    }
  }
  return axes;
}

void check_settings(const Sweep& s, const std::string& combine, const std::string& path) {
  if (s.weights.empty()) fail(path, "[sweep] weights = ... is required (a weight file or synth:...)");
  if (s.blocks < 1 || s.blocks > 100000) fail(path, "[sweep] blocks must be in [1, 100000]");
  if (s.batch < 1 || s.batch > 4096) fail(path, "[sweep] batch must be in [1, 4096]");
  if (combine != "cartesian" && combine != "listed") fail(path, "[sweep] combine must be cartesian or listed");
}

// Quantization axis: listed points first, then the product of the axes;
// a config equal to an earlier one is dropped.
std::vector<QuantConfig> quant_configs(const SweepAxes& axes, const std::string& path) {
  std::vector<QuantConfig> quants;
  std::set<std::string> quant_seen;
  auto add_quant = [&](QuantConfig q) {
    if (quant_seen.insert(q.text()).second) quants.push_back(std::move(q));
  };
  for (const auto& line : axes.point_lines) add_quant(parse_point_line(line, path));
  if (!axes.quant_axes.empty()) {
    std::vector<std::vector<std::string>> values;
    for (const auto& a : axes.quant_axes) values.push_back(a.second);
    for (const auto& combo : cartesian(values, path, "the [quant] product")) {
      std::map<std::string, std::string> given;
      for (size_t i = 0; i < combo.size(); ++i) given[axes.quant_axes[i].first] = combo[i];
      add_quant(make_quant(given, path));
    }
  }
  if (quants.empty()) fail(path, "[quant] names no configuration (point = scheme=... or scheme = a, b)");
  return quants;
}

// combine = listed: the i-th value of every [arch] list together; a list
// of one value holds for every i.
std::vector<std::vector<std::string>> zip_axes(const Axes& arch_axes, const std::string& path) {
  std::vector<std::vector<std::string>> combos;
  size_t n = 1;
  for (const auto& a : arch_axes) n = std::max(n, a.second.size());
  for (const auto& a : arch_axes)
    if (a.second.size() != 1 && a.second.size() != n)
      fail(path, "combine = listed needs every [arch] list to have 1 or " + std::to_string(n) + " values; '" + a.first +
                     "' has " + std::to_string(a.second.size()));
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> c;
    for (const auto& a : arch_axes) c.push_back(a.second.size() == 1 ? a.second[0] : a.second[i]);
    combos.push_back(c);
  }
  return combos;
}

// The [arch] key values of each hardware point: product or zip of the axes.
std::vector<std::vector<std::string>> arch_combos(const SweepAxes& axes, const std::string& path) {
  if (axes.combine == "cartesian" || axes.arch_axes.empty()) {
    std::vector<std::vector<std::string>> values;
    for (const auto& a : axes.arch_axes) values.push_back(a.second);
    return cartesian(values, path, "the [arch] product");
  }
  return zip_axes(axes.arch_axes, path);
}

// Hardware axis: base files (the default arch when none) x key combos.
std::vector<ArchPoint> arch_points(const std::vector<std::string>& arch_files, const Axes& arch_axes,
                                   const std::vector<std::vector<std::string>>& combos, const std::string& path) {
  std::vector<ArchPoint> archs;
  for (const auto& file : arch_files) {
    ArchConfig base = default_arch();
    base.name = "default";
    if (!file.empty()) base = load_arch(resolve_path(path, "[arch] file", file));
    for (const auto& combo : combos) {
      ArchPoint p;
      std::vector<std::pair<std::string, std::string>> ov;
      for (size_t i = 0; i < combo.size(); ++i) {
        ov.emplace_back(arch_axes[i].first, combo[i]);
        p.overrides += (p.overrides.empty() ? "" : ";") + arch_axes[i].first + "=" + combo[i];
      }
      p.arch = arch_with_overrides(base, ov, "sweep '" + path + "' [arch] " + p.overrides);
      p.base = base.name;
      archs.push_back(std::move(p));
    }
  }
  return archs;
}

// The canonical description whose hash names the sweep. It holds the
// weights as written, not as resolved against the sweep's folder, so that
// the hash does not depend on where the sweep is run from.
std::string canonical_text(const Sweep& s, const std::string& weights_as_written) {
  std::ostringstream t;
  t << "weights=" << weights_as_written << "\ntensors=" << s.tensors << "\nblocks=" << s.blocks << "\nbatch=" << s.batch
    << "\nseed=" << s.seed << "\n";
  for (const auto& q : s.quants) t << "quant=" << q.text() << "\n";
  for (const auto& a : s.archs) {
    char h[20];
    std::snprintf(h, sizeof h, "%016llx", (unsigned long long)arch_hash(a.arch));
    t << "arch=" << h << " " << a.base << " " << a.overrides << "\n";
  }
  return t.str();
}

}  // namespace

Sweep parse_sweep(const std::string& text, const std::string& path) {
  const KeyValues kv = read_keys(text, path);
  Sweep s;
  s.path = path;
  SweepAxes axes = apply_keys(kv, path, &s);
  check_settings(s, axes.combine, path);
  if (s.name.empty()) s.name = fs::path(path).stem().string();
  const std::string weights_as_written = s.weights;
  s.weights = resolve_path(path, "[sweep] weights", s.weights);

  s.quants = quant_configs(axes, path);
  const std::vector<std::vector<std::string>> combos = arch_combos(axes, path);
  if (axes.arch_files.empty()) axes.arch_files.push_back("");
  // Each factor is at most the limit, so the product cannot wrap.
  const uint64_t points = uint64_t(s.quants.size()) * axes.arch_files.size() * std::max<size_t>(1, combos.size());
  if (points > kMaxSweepPoints) too_many_points(path, "the sweep (quant x arch)", points);
  s.archs = arch_points(axes.arch_files, axes.arch_axes, combos, path);
  s.text = canonical_text(s, weights_as_written);
  return s;
}

Sweep load_sweep(const std::string& path) { return parse_sweep(read_text_file(path, "sweep file"), path); }

}  // namespace lutc::explore
