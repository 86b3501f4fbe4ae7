#include "lutc/model/quantize_pipeline.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "lutc/model/error.h"
#include "lutc/model/ordered_pool.h"
#include "lutc/model/quantize.h"
#include "lutc/model/suggest.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

// The scheme --scheme names ("xfp": XFP auto-select, "sop": handled apart).
// Throws Error(kUsage) with a suggestion for a name that is no scheme.
Scheme scheme_of(const std::string& name) {
  Scheme s = Scheme::kXfpV2;
  if (name == "xfp" || name == "sop") return s;
  if (!parse_scheme(name, &s))
    throw Error(ExitCode::kUsage, "--scheme '" + name + "' is unknown" + did_you_mean(name, scheme_option_names()) +
                                      "; one of: xfp, " + scheme_names());
  return s;
}

// The quantizer the scheme names; floor_out gets the floor XFP had to meet.
QuantizedLayer quantize_matrix(const QuantizeSettings& a, const MatrixEntry& m, Role role, const std::vector<float>& w,
                               double* floor_out, const SopContext& sc, std::string* log) {
  *floor_out = 0;
  if (a.scheme == "sop") return quantize_sop_matrix(sc, m, role, w, log);
  const Scheme s = scheme_of(a.scheme);
  const bool xfp_auto = a.scheme == "xfp";
  if (xfp_auto || is_xfp(s)) {
    XfpOptions o;
    o.auto_mode = xfp_auto;
    o.mode = xfp_auto ? Scheme::kXfpV2 : s;
    o.bits = a.bits;
    o.group = a.group;
    o.floor_strict = a.floor_strict;
    o.floor_lazy = a.floor_lazy;
    o.outlier_fraction = a.outliers;
    XfpChoice choice;
    QuantizedLayer q = quantize_xfp(m.name, role, w.data(), m.rows, m.cols, o, &choice);
    *floor_out = role_uses_lazy_floor(role) ? a.floor_lazy : a.floor_strict;
    return q;
  }
  if (!is_baseline(s)) throw Error(ExitCode::kUsage, "--scheme " + a.scheme + " is not available in lutc quantize yet");
  return quantize_baseline(s, m.name, role, w.data(), m.rows, m.cols);
}

KeptTensor kept_tensor(const WeightFile& f, const TensorPlan& p) {
  const TensorInfo* t = f.find(p.source);
  if (!t) throw Error(ExitCode::kInternal, "tensor '" + p.source + "' vanished from " + f.path());
  KeptTensor k;
  k.name = p.name;
  k.dtype = t->dtype;
  k.shape = t->shape;
  k.bytes = f.read_raw(*t);
  return k;
}

}  // namespace

void check_quantize_settings(const QuantizeSettings& a) {
  scheme_of(a.scheme);  // before any work: a mistyped scheme never starts the progress bar
  check_range("floor-strict", a.floor_strict, 0.0, 1.0);
  check_range("floor-lazy", a.floor_lazy, 0.0, 1.0);
  check_range("threads", a.threads, 0, 1024);
  check_range("max-memory-gb", a.max_memory_gb, 0.01, 1e6);
  if (a.bits != 0 && !valid_index_bits(a.bits))
    throw Error(ExitCode::kUsage, "--bits " + std::to_string(a.bits) + " is not one of 0, 2, 3, 4, 5, 6, 8");
  if (a.outliers >= 0) check_range("outliers", a.outliers, 0.0, 0.5);
  if (a.scheme == "sop") {
    if (a.budget_bpw != 0) check_range("budget-bpw", a.budget_bpw, 1.0, 32.0);
  } else if (!a.sop_format.empty() || a.budget_bpw != 0 || !a.act_stats.empty()) {
    throw Error(ExitCode::kUsage, "--sop-format, --budget-bpw and --act-stats need --scheme sop");
  }
}

std::string model_name(const std::string& spec) {
  namespace fs = std::filesystem;
  fs::path p(spec);
  if (!p.has_filename()) p = p.parent_path();  // "dir/"
  const std::string file = p.filename().string();
  const std::string index = ".safetensors.index.json";
  // The index names its folder's model.
  if (file.size() >= index.size() && file.compare(file.size() - index.size(), index.size(), index) == 0)
    return fs::absolute(p).parent_path().filename().string();
  for (const char* ext : {".safetensors", ".gguf", ".bin"}) {
    const std::string e(ext);
    if (file.size() > e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0)
      return file.substr(0, file.size() - e.size());
  }
  return file;
}

std::map<std::string, std::string> quantize_metadata(const MatrixSource& src, const std::string& scheme) {
  return {{"source", src.file() ? model_name(src.spec()) : src.spec()}, {"scheme", scheme}, {"producer", "lutc 0.1.0"}};
}

QuantizePipeline::QuantizePipeline(const QuantizeSettings& settings, const MatrixSource& src, std::string* log)
    : s_(settings), src_(src) {
  check_quantize_settings(s_);
  if (src_.matrices().empty())
    throw Error(ExitCode::kBadInput, "input '" + src_.spec() + "': no 2-D tensor to quantize (" +
                                         (src_.file() ? fate_summary(src_.plan()) : std::string("none selected")) +
                                         ")");
  threads_ = s_.threads ? s_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (const auto& spec : s_.role_overrides) rules_.add_override(spec);
  if (s_.scheme != "sop") return;
  sop_.formats = parse_sop_formats(s_.sop_format, s_.budget_bpw);
  if (!s_.act_stats.empty()) {
    sop_.stats = ActStats::open(s_.act_stats);
    for (const auto& m : src_.matrices()) sop_.stats->find(m.name, m.cols);  // fail early on bad statistics
    *log += "selection metric: ACos, activation statistics from " + s_.act_stats + "\n";
  } else {
    *log += "selection metric: plain cosine (no --act-stats given; ACos falls back to cosine)\n";
  }
  if (s_.budget_bpw > 0 && !src_.matrices().empty())
    *log += plan_sop_budget(s_.budget_bpw, src_, rules_, threads_, sop_);
}

QuantizedRecord QuantizePipeline::quantize(const MatrixEntry& m) const {
  QuantizedRecord r;
  const Role role = m.routed_expert ? Role::kRoutedExpert : rules_.classify(m.name);
  // One buffer per worker thread, reused: its pages fault in once, not once
  // per tensor (a 7B model's tensors are 60-500 MB each in fp32).
  thread_local std::vector<float> w;
  src_.load_into(m, &w);
  double floor = 0;
  r.layer = quantize_matrix(s_, m, role, w, &floor, sop_, &r.log);
  r.report = describe_layer(r.layer);
  add_quality(r.report, w.data(), r.layer, floor);  // golden decode, a few rows at a time
  return r;
}

void QuantizePipeline::run(const std::function<void(QuantizedRecord&&)>& sink) const {
  // Records in input order: matrices from the pool, kept tensors and aliases
  // as their turn comes, so the file layout follows the input.
  struct Item {
    const TensorPlan* plan = nullptr;     // kept/alias rows
    const MatrixEntry* matrix = nullptr;  // quantized rows
  };
  std::vector<Item> items;
  if (src_.file()) {
    size_t mi = 0;
    for (const auto& p : src_.plan()) {
      if (p.fate == TensorFate::kQuantize)
        items.push_back({nullptr, &src_.matrices()[mi++]});
      else if (p.fate == TensorFate::kKeep || p.fate == TensorFate::kAlias)
        items.push_back({&p, nullptr});
    }
  } else {
    for (const auto& m : src_.matrices()) items.push_back({nullptr, &m});
  }
  // Working memory of one tensor: its fp32 copy, the quantizer's sorted
  // layer (value + position) and the output, about 16 bytes a weight.
  PoolBudget budget;
  budget.limit = uint64_t(s_.max_memory_gb * double(1ull << 30));
  budget.cost = [&](size_t i) {
    const MatrixEntry* m = items[i].matrix;
    return m ? 16 * uint64_t(m->rows) * m->cols : 0;
  };
  ordered_parallel<QuantizedRecord>(
      items.size(), threads_, 2 * size_t(threads_),
      [&](size_t i) {
        const MatrixEntry* m = items[i].matrix;
        return m ? quantize(*m) : QuantizedRecord{};
      },
      [&](size_t i, QuantizedRecord&& r) {
        if (const TensorPlan* p = items[i].plan) {
          if (p->fate == TensorFate::kAlias) {
            r.kind = XfpRecordKind::kAlias;
            r.alias = {p->name, p->alias_of};
          } else {
            r.kind = XfpRecordKind::kKept;
            r.kept = kept_tensor(*src_.file(), *p);
          }
        }
        sink(std::move(r));
      },
      budget);
}

}  // namespace lutc
