// lutc-vs-ggml speed: ggml's CPU GEMV (mul_mat of a quantized N x K weight
// and M fp32 activation vectors) on a DRAM-resident working set, measured the
// way `lutc bench` measures lutc's kernels (kernels/cli/bench_cmd.cpp): the
// layer replicated until the copies fill the working set and visited in turn,
// one sweep of lutc's streaming-read yardstick (kernels/cpu/read_bandwidth)
// over as many bytes before every timed round, best round reported.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "lutc/kernels/cpu/read_bandwidth.h"
#include "vs_ggml.h"

namespace po = boost::program_options;

namespace vs_ggml {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: lutc-vs-ggml speed --type T --shape NxK [--threads 1,2] [--batch 1,8] [--layout auto,plain]\n"
    "                          [--repeat R] [--working-set-mib S]\n\n"
    "Times ggml's CPU mul_mat of a random N x K weight quantized to T (N rows = outputs) with M\n"
    "fp32 activation vectors, through the CPU backend and ggml's threads. The layer is quantized\n"
    "once and copied until the copies fill S MiB (default 256, as lutc bench); one graph\n"
    "multiplies every copy, so the weights stream from DRAM. Before each timed round, lutc's\n"
    "streaming read sweeps as many bytes with as many threads; the best sweep is the read\n"
    "bandwidth. Every layout, batch and thread count is measured in this one process.\n\n"
    "--layout auto: the weight buffer llama.cpp loads CPU weights into: the first of the CPU\n"
    "backend's extra buffer types that takes this mul_mat (AMX, then the repacked layouts), else\n"
    "the plain buffer. plain: ggml's plain block layout (the type's vec_dot). A buffer type's name\n"
    "(AMX, CPU_REPACK, CPU) asks for that one. Each layout first runs one GEMV in a child process;\n"
    "one that crashes there is reported (\"crashed\") and auto moves on to the next usable one.\n"
    "--list-layouts prints the usable buffer types, in llama.cpp's order, and measures nothing.\n\n"
    "Prints JSON: {\"rows\": [one per layout, batch and thread count], \"crashed\": [...]}.";

struct SpeedOptions {
  TypeInfo type;
  uint32_t rows = 0, cols = 0;
  std::vector<unsigned> threads;
  std::vector<uint32_t> batches;
  std::vector<std::string> layouts;
  unsigned repeat = 5;
  uint64_t working_set = uint64_t(256) << 20;
  uint64_t seed = 1;
};

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};
struct GgmlCtxFree {
  void operator()(ggml_context* c) const { ggml_free(c); }
};
struct BufferFree {
  void operator()(ggml_backend_buffer* b) const { ggml_backend_buffer_free(b); }
};
struct BackendFree {
  void operator()(ggml_backend* b) const { ggml_backend_free(b); }
};

std::unique_ptr<ggml_context, GgmlCtxFree> new_context(size_t tensors, size_t graph_nodes) {
  ggml_init_params p{};
  p.mem_size = ggml_tensor_overhead() * tensors + (graph_nodes ? ggml_graph_overhead_custom(graph_nodes, false) : 0);
  p.no_alloc = true;  // tensor data lives in backend buffers
  std::unique_ptr<ggml_context, GgmlCtxFree> ctx(ggml_init(p));
  if (!ctx) throw Failure(70, "ggml_init failed");
  return ctx;
}

ggml_backend_dev_t cpu_device() {
  ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (!dev) throw Failure(70, "ggml has no CPU device");
  return dev;
}

// The buffer types that can hold this weight for this mul_mat, in the order
// llama.cpp tries them for CPU weights: each extra buffer type (AMX, the
// repacked layouts) whose supports_op accepts the op with the weight placed in
// it, then the plain CPU buffer.
std::vector<ggml_backend_buffer_type_t> usable_layouts(const SpeedOptions& o, uint32_t batch) {
  ggml_backend_dev_t dev = cpu_device();
  std::vector<ggml_backend_buffer_type_t> out;
  auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
      ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts"));
  auto ctx = new_context(3, 0);
  ggml_tensor* w = ggml_new_tensor_2d(ctx.get(), o.type.type, o.cols, o.rows);
  ggml_tensor* x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, o.cols, batch);
  ggml_tensor* y = ggml_mul_mat(ctx.get(), w, x);
  for (ggml_backend_buffer_type_t* b = get_extra ? get_extra(dev) : nullptr; b && *b; ++b) {
    std::unique_ptr<ggml_backend_buffer, BufferFree> probe(ggml_backend_buft_alloc_buffer(*b, 0));
    w->buffer = probe.get();
    const bool ok = ggml_backend_dev_supports_op(dev, y);
    w->buffer = nullptr;
    if (ok) out.push_back(*b);
  }
  out.push_back(ggml_backend_cpu_buffer_type());
  return out;
}

// `copies` copies of the quantized layer in one buffer type, and one graph
// that multiplies each by the same M activation vectors.
class Gemv {
 public:
  Gemv(const SpeedOptions& o, ggml_backend_buffer_type_t buft, uint32_t batch, unsigned copies,
       const std::vector<uint8_t>& q, const std::vector<float>& xs) {
    wctx_ = new_context(copies, 0);
    std::vector<ggml_tensor*> ws;
    for (unsigned c = 0; c < copies; ++c) ws.push_back(ggml_new_tensor_2d(wctx_.get(), o.type.type, o.cols, o.rows));
    wbuf_.reset(ggml_backend_alloc_ctx_tensors_from_buft(wctx_.get(), buft));
    if (!wbuf_) throw Failure(70, std::string("cannot allocate the weights in ") + ggml_backend_buft_name(buft));
    // Setting a tensor of an extra buffer type converts it to that layout, as
    // when llama.cpp loads a model.
    for (ggml_tensor* w : ws) ggml_backend_tensor_set(w, q.data(), 0, q.size());

    const size_t nodes = 2 * size_t(copies) + 16;
    actx_ = new_context(copies + 1, nodes);
    ggml_tensor* x = ggml_new_tensor_2d(actx_.get(), GGML_TYPE_F32, o.cols, batch);
    graph_ = ggml_new_graph_custom(actx_.get(), nodes, false);
    for (ggml_tensor* w : ws) {
      ys_.push_back(ggml_mul_mat(actx_.get(), w, x));
      ggml_build_forward_expand(graph_, ys_.back());
    }
    abuf_.reset(ggml_backend_alloc_ctx_tensors_from_buft(actx_.get(), ggml_backend_cpu_buffer_type()));
    if (!abuf_) throw Failure(70, "cannot allocate the activations");
    ggml_backend_tensor_set(x, xs.data(), 0, size_t(batch) * o.cols * sizeof(float));
    backend_.reset(ggml_backend_cpu_init());
    if (!backend_) throw Failure(70, "ggml_backend_cpu_init failed");
  }

  void compute(unsigned threads) {
    ggml_backend_cpu_set_n_threads(backend_.get(), int(threads));
    if (ggml_backend_graph_compute(backend_.get(), graph_) != GGML_STATUS_SUCCESS)
      throw Failure(70, "ggml_backend_graph_compute failed");
  }
  std::vector<float> first_output() const {
    std::vector<float> y(ggml_nelements(ys_[0]));
    ggml_backend_tensor_get(ys_[0], y.data(), 0, y.size() * sizeof(float));
    return y;
  }

 private:
  std::unique_ptr<ggml_context, GgmlCtxFree> wctx_, actx_;
  std::unique_ptr<ggml_backend_buffer, BufferFree> wbuf_, abuf_;
  std::unique_ptr<ggml_backend, BackendFree> backend_;
  ggml_cgraph* graph_ = nullptr;
  std::vector<ggml_tensor*> ys_;
};

// ||y - y_ref|| / ||y_ref|| on a sample of rows, y_ref from the type's own
// dequantizer in fp64: proves the timed graph multiplies these weights.
double check_rows(const SpeedOptions& o, uint32_t batch, const std::vector<uint8_t>& q, const std::vector<float>& x,
                  const std::vector<float>& y) {
  const auto* traits = ggml_get_type_traits(o.type.type);
  const size_t row_bytes = ggml_row_size(o.type.type, o.cols);
  std::vector<float> wrow(o.cols);
  double err = 0, ref = 0;
  const uint32_t step = std::max<uint32_t>(1, o.rows / 512);
  for (uint32_t r = 0; r < o.rows; r += step) {
    traits->to_float(q.data() + size_t(r) * row_bytes, wrow.data(), o.cols);
    for (uint32_t m = 0; m < batch; ++m) {
      double s = 0;
      for (uint32_t k = 0; k < o.cols; ++k) s += double(wrow[k]) * x[size_t(m) * o.cols + k];
      const double d = double(y[size_t(m) * o.rows + r]) - s;
      err += d * d;
      ref += s * s;
    }
  }
  return ref > 0 ? std::sqrt(err / ref) : 0.0;
}

// One GEMV of one copy in a child process: "" when it exits cleanly, else
// how it ended. Runs before this process has started any ggml threads (a
// fork of a process with an OpenMP pool is not safe to use).
std::string crash_probe(const SpeedOptions& o, ggml_backend_buffer_type_t buft, uint32_t batch,
                        const std::vector<uint8_t>& q, const std::vector<float>& xs) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw Failure(70, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    try {
      Gemv g(o, buft, batch, 1, q, xs);
      g.compute(*std::max_element(o.threads.begin(), o.threads.end()));
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) throw Failure(70, "waitpid failed");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFSIGNALED(status))
    return "died with signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

struct Plan {
  std::string asked;  // the --layout entry
  ggml_backend_buffer_type_t buft;
  uint32_t batch;
};

// Resolves each (layout, batch) to a buffer type that survives one GEMV;
// the ones that crash are recorded in `crashed`.
std::vector<Plan> plan_runs(const SpeedOptions& o, const std::vector<uint8_t>& q, const std::vector<float>& xs,
                            nlohmann::json* crashed) {
  std::vector<Plan> plans;
  for (uint32_t batch : o.batches) {
    const auto usable = usable_layouts(o, batch);
    for (const std::string& layout : o.layouts) {
      std::vector<ggml_backend_buffer_type_t> candidates;
      if (layout == "auto") {
        candidates = usable;
      } else if (layout == "plain") {
        candidates = {usable.back()};
      } else {
        for (auto* b : usable)
          if (layout == ggml_backend_buft_name(b)) candidates = {b};
        if (candidates.empty()) {
          std::string names;
          for (auto* b : usable) names += std::string(names.empty() ? "" : ", ") + ggml_backend_buft_name(b);
          usage_error("--layout " + layout + ": not usable for " + o.type.name + " at batch " + std::to_string(batch) +
                      " (usable: " + names + ")");
        }
      }
      for (auto* b : candidates) {
        const bool seen =
            std::any_of(plans.begin(), plans.end(), [&](const Plan& p) { return p.buft == b && p.batch == batch; });
        if (seen) break;  // auto and plain can resolve to the same buffer
        const std::string how = crash_probe(o, b, batch, q, xs);
        if (how.empty()) {
          plans.push_back({layout, b, batch});
          break;
        }
        crashed->push_back({{"layout", ggml_backend_buft_name(b)}, {"batch", batch}, {"how", how}});
      }
    }
  }
  return plans;
}

nlohmann::json run(const SpeedOptions& o) {
  // One random layer, quantized once; every copy holds the same blocks (as
  // lutc bench copies its packed layer). GEMV time does not depend on values.
  std::vector<uint8_t> q;
  {
    std::vector<float> w(size_t(o.rows) * o.cols);
    std::mt19937_64 rng(o.seed);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    for (auto& v : w) v = nd(rng);
    q = quantize_matrix(o.type, w.data(), o.rows, o.cols, std::max(1u, std::thread::hardware_concurrency()));
  }
  const uint32_t max_batch = *std::max_element(o.batches.begin(), o.batches.end());
  std::vector<float> xs(size_t(max_batch) * o.cols);
  {
    std::mt19937_64 rng(o.seed + 1);
    std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
    for (auto& v : xs) v = ud(rng);
  }
  const uint64_t bytes = q.size();
  const unsigned copies = unsigned(std::max<uint64_t>(1, (o.working_set + bytes - 1) / bytes));

  nlohmann::json crashed = nlohmann::json::array();
  const std::vector<Plan> plans = plan_runs(o, q, xs, &crashed);

  // The read yardstick: as many bytes as the weight copies, 64-byte aligned.
  const size_t stream_bytes = (bytes * copies + 63) / 64 * 64;
  std::unique_ptr<uint8_t, AlignedFree> stream(static_cast<uint8_t*>(std::aligned_alloc(64, stream_bytes)));
  if (!stream) throw Failure(70, "cannot allocate the read buffer");
  for (size_t i = 0; i < stream_bytes; i += 4096) stream.get()[i] = uint8_t(i >> 12);
  const lutc::kernels::Isa isa = lutc::kernels::best_isa();
  volatile uint64_t sink = 0;

  nlohmann::json rows = nlohmann::json::array();
  for (const Plan& p : plans) {
    Gemv g(o, p.buft, p.batch, copies, q, xs);
    double rel_err = -1;
    for (unsigned threads : o.threads) {
      lutc::kernels::ThreadPool pool(threads);
      double best_read = 1e30;
      auto read_once = [&] {
        const auto a = Clock::now();
        sink = sink + lutc::kernels::stream_read(stream.get(), stream_bytes, &pool, isa);
        best_read = std::min(best_read, std::chrono::duration<double>(Clock::now() - a).count());
      };
      read_once();  // warm-up
      g.compute(threads);
      if (rel_err < 0) {
        rel_err = check_rows(o, p.batch, q, xs, g.first_output());
        // The activations are quantized to 8 bits (Q8_0 / Q8_K): ~1e-2 at most.
        if (!(rel_err < 0.05))
          throw Failure(70, "ggml's mul_mat (" + std::string(ggml_backend_buft_name(p.buft)) + ") is off by " +
                                std::to_string(rel_err) + " (relative) from the dequantized weights");
      }
      std::vector<double> t;
      for (unsigned r = 0; r < o.repeat; ++r) {
        read_once();
        const auto a = Clock::now();
        g.compute(threads);
        t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
      }
      std::sort(t.begin(), t.end());
      const double per = t.front() / copies, med = t[t.size() / 2] / copies;
      const double elements = double(o.rows) * o.cols;
      const double read_bw = double(stream_bytes) / best_read;
      rows.push_back({{"family", "ggml"},
                      {"format", o.type.name},
                      {"layout_asked", p.asked},
                      {"layout", ggml_backend_buft_name(p.buft)},
                      {"rows", o.rows},
                      {"cols", o.cols},
                      {"bpw", o.type.bpw},
                      {"stream_bpw", 8.0 * double(bytes) / elements},
                      {"threads", threads},
                      {"batch", p.batch},
                      {"copies", copies},
                      {"working_set_bytes", bytes * copies},
                      {"time_s", per},
                      {"time_median_s", med},
                      {"weights_per_s", elements / per},
                      {"gb_per_s", double(bytes) / per / 1e9},
                      {"read_bw_gb_per_s", read_bw / 1e9},
                      {"pct_of_read_bw", 100.0 * (double(bytes) / per) / read_bw},
                      {"check_rel_err", rel_err},
                      {"read_isa", lutc::kernels::isa_name(isa)}});
    }
  }
  (void)sink;
  return {{"rows", rows}, {"crashed", crashed}};
}

template <class T, class F>
std::vector<T> parse_list(const std::string& flag, const std::string& s, F one) {
  std::vector<T> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(one(item));
  if (out.empty()) usage_error(flag + ": empty list");
  return out;
}

}  // namespace

int run_speed(int argc, char** argv) {
  SpeedOptions o;
  std::string type_s, shape_s, threads_s = "1", batch_s = "1", layout_s = "auto";
  double ws_mib = 256;
  po::options_description opts("options");
  opts.add_options()("type", po::value(&type_s)->required(), "ggml type (q4_0, iq4_nl, q4_K, mxfp4, ...)")(
      "shape", po::value(&shape_s)->required(), "NxK: N rows (outputs), K inputs")(
      "threads", po::value(&threads_s), "thread counts, comma-separated (default 1)")(
      "batch", po::value(&batch_s), "activation vectors per GEMV, comma-separated (default 1)")(
      "layout", po::value(&layout_s), "auto, plain or a buffer type name, comma-separated (default auto)")(
      "list-layouts", "print the usable weight buffer types (for the first --batch) as JSON and exit")(
      "repeat", po::value(&o.repeat), "timed rounds; the best is reported (default 5)")(
      "working-set-mib", po::value(&ws_mib), "fill at least this many MiB with copies (default 256)")(
      "seed", po::value(&o.seed), "random weights and activations (default 1)")("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n\n" << opts << "\n";
    return 0;
  }
  po::notify(vm);
  o.type = find_type(type_s);
  if (!o.type.has_cpu_gemv) usage_error("ggml's CPU backend has no GEMV for " + o.type.name);
  parse_shape(shape_s, &o.rows, &o.cols);
  if (o.cols % o.type.block)
    usage_error("--shape " + shape_s + ": " + o.type.name + " needs K to be a multiple of " +
                std::to_string(o.type.block));
  o.threads = parse_threads(threads_s);
  o.batches = parse_list<uint32_t>("--batch", batch_s, [](const std::string& s) {
    char* end = nullptr;
    const long b = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || b < 1 || b > 4096) usage_error("--batch: '" + s + "' is not a count in 1..4096");
    return uint32_t(b);
  });
  o.layouts = parse_list<std::string>("--layout", layout_s, [](const std::string& s) {
    if (s.empty()) usage_error("--layout: empty entry");
    return s;
  });
  if (o.repeat < 1 || o.repeat > 1000) usage_error("--repeat: 1..1000");
  if (!(ws_mib >= 0 && ws_mib <= 65536)) usage_error("--working-set-mib: 0..65536");
  o.working_set = uint64_t(ws_mib * double(1 << 20));
  if (vm.count("list-layouts")) {
    nlohmann::json names = nlohmann::json::array();
    for (auto* b : usable_layouts(o, o.batches.front())) names.push_back(ggml_backend_buft_name(b));
    std::cout << names.dump() << "\n";
    return 0;
  }
  std::cout << run(o).dump(2) << "\n";
  return 0;
}

}  // namespace vs_ggml
