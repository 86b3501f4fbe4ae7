// lutc bench: CPU GEMV throughput of the kernels on a .xfp file or a
// synthetic LLM-shaped matrix, next to the two yardsticks measured in the
// same run: a streaming read of the same number of bytes (the machine's
// read bandwidth) and an fp32 GEMV with Eigen on the same shape.
// With --gpu it hands its arguments to `lutc gpu-bench` (kernels/cuda/cli),
// found by name in the command registry, so this file builds without CUDA.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_layer.h"
#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/kernels/cpu/read_bandwidth.h"
#include "lutc/model/error.h"
#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
#include "lutc/model/synth.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

using Clock = std::chrono::steady_clock;
using kernels::Path;

constexpr const char* kUsage =
    "usage: lutc bench (--cpu X.xfp | --synthetic NxK) [options]\n"
    "       lutc bench --gpu (X.xfp | --synthetic NxK) [--batch M] [gpu-bench options]\n\n"
    "Measures the CPU decode-GEMV kernels (kernels/cpu) and prints, per layer, path and thread\n"
    "count: time per GEMV, weights/s, GB/s of packed weight bytes read, the read bandwidth of a\n"
    "plain streaming read of the same number of bytes measured in the same run (% of it), and\n"
    "the speedup over an fp32 GEMV with Eigen on the same shape and threads.\n\n"
    "Paths: exact (bit-identical to the golden GEMV), f32 (fp32 FMA on decoded weights),\n"
    "i8 (4-bit codes only: int8 table lookup against int8 activations).\n\n"
    "--copies: the layer is replicated and the copies visited in turn, so the weights come from\n"
    "DRAM rather than cache; the default reaches a 256 MiB working set. --copies 1 measures a\n"
    "cache-resident layer (use a shape whose packed size fits the last-level cache).\n\n"
    "--scheme sop takes its block format from --sop-format (e.g. e2m1.ue4m3.b16).\n\n"
    "--gpu: benchmark the CUDA kernel instead. Every other argument goes to `lutc gpu-bench`\n"
    "(`lutc gpu-bench --help`): the fast kernel against a device-to-device copy and cuBLAS fp16\n"
    "GEMV, --batch 1..16, --act f16|bf16, --scheme/--bits/--group/--sop-format, --repeat, --json;\n"
    "the CPU-only options (--threads, --path, --isa, --copies, --act-bits, --layer) are refused.\n"
    "Exits 4 when no CUDA device is present, and 2 when this lutc was built without CUDA.\n\n"
    "Example: lutc bench --synthetic 11008x4096 --threads 1,2 --path f32,i8\n"
    "         lutc bench --gpu --synthetic 11008x4096 --batch 4";

template <class T, class F>
std::vector<T> parse_list(const std::string& flag, const std::string& s, F parse_one) {
  std::vector<T> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(parse_one(item));
  if (out.empty()) throw Error(ExitCode::kUsage, flag + ": empty list");
  return out;
}

struct Options {
  uint32_t batch = 1;
  std::vector<unsigned> threads;
  std::vector<Path> paths;
  kernels::Isa isa = kernels::best_isa();
  unsigned repeat = 5;
  unsigned copies = 0;  // 0: auto
  unsigned act_bits = 16;
};

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// What every thread count of one layer is measured on.
struct BenchInputs {
  kernels::PackedLayer first;
  size_t bytes = 0;                          // streamed per GEMV
  unsigned copies = 0;                       // of the layer, visited in turn
  std::vector<kernels::PackedLayer> layers;  // the copies
  kernels::AlignedBytes stream;              // the read yardstick: as many bytes as the copies
  // Eigen baseline: the decoded matrix in fp32, same shape; big enough that
  // it streams from DRAM whenever the packed copies do.
  RowMajorMatrix w;
  Eigen::MatrixXf x;  // column m = vector m
  Eigen::MatrixXf y_eigen;
  std::vector<float> xs, y;  // x and y for the kernels, vector after vector
};

BenchInputs prepare_inputs(const QuantizedLayer& l, const Options& o) {
  BenchInputs in;
  in.first = kernels::pack_layer(l);
  in.bytes = in.first.streamed_bytes();
  in.copies = o.copies ? o.copies : unsigned(std::max<size_t>(1, ((size_t(256) << 20) + in.bytes - 1) / in.bytes));
  in.layers.push_back(kernels::copy_packed(in.first));
  for (unsigned c = 1; c < in.copies; ++c) in.layers.push_back(kernels::copy_packed(in.first));
  in.stream = kernels::AlignedBytes(in.bytes * in.copies);
  for (size_t i = 0; i < in.stream.size(); i += 4096) in.stream.data()[i] = uint8_t(i >> 12);

  in.w = RowMajorMatrix(l.rows, l.cols);
  kernels::decode_exact(in.first, 0, l.rows, in.w.data());
  in.x = Eigen::MatrixXf::Random(l.cols, o.batch);
  in.y_eigen = Eigen::MatrixXf(l.rows, o.batch);
  in.xs.resize(size_t(o.batch) * l.cols);
  in.y.resize(size_t(o.batch) * l.rows);
  for (uint32_t m = 0; m < o.batch; ++m)
    for (uint32_t k = 0; k < l.cols; ++k) in.xs[size_t(m) * l.cols + k] = in.x(k, m);
  return in;
}

// Seconds of `rounds` runs of f, fastest first; each run follows one sweep
// of the read yardstick, so that both see the same machine load.
template <class Read, class F>
std::vector<double> timed_rounds(unsigned rounds, Read& read_once, F&& f) {
  std::vector<double> t;
  for (unsigned i = 0; i < rounds; ++i) {
    read_once();
    const auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t;
}

// The best time of the Eigen fp32 GEMV, its rows split over the pool as the kernels split theirs.
template <class Read>
double time_eigen(const QuantizedLayer& l, const Options& o, unsigned threads, kernels::ThreadPool& pool,
                  Read& read_once, BenchInputs& in) {
  const uint32_t chunk = std::max<uint32_t>(1, (l.rows + threads - 1) / threads);
  auto eigen_gemv = [&] {
    pool.run(threads, [&](size_t t) {
      const uint32_t r0 = uint32_t(t) * chunk;
      if (r0 >= l.rows) return;
      const uint32_t n = std::min(chunk, l.rows - r0);
      in.y_eigen.middleRows(r0, n).noalias() = in.w.middleRows(r0, n) * in.x;
    });
  };
  eigen_gemv();
  return timed_rounds(o.repeat, read_once, eigen_gemv).front();
}

// The times of one kernel path over all copies, fastest first.
template <class Read>
std::vector<double> time_path(Path path, const Options& o, const kernels::RunOptions& ro, Read& read_once,
                              BenchInputs& in) {
  auto run_once = [&](const kernels::PackedLayer& p) {
    if (path == Path::kExact) {
      GemvConfig cfg;
      cfg.act_bits = o.act_bits;
      kernels::gemv_exact(p, in.xs.data(), o.batch, cfg, in.y.data(), ro);
    } else {
      kernels::gemv_fast(path, p, in.xs.data(), o.batch, in.y.data(), ro);
    }
  };
  run_once(in.layers[0]);
  // The exact path is much slower; fewer rounds keep the run short.
  const unsigned rounds = path == Path::kExact ? std::min(o.repeat, 2u) : o.repeat;
  return timed_rounds(rounds, read_once, [&] {
    for (const auto& p : in.layers) run_once(p);
  });
}

// What one pass of this path reads: xfp.v2's i8 rows read its int8 tables
// in place of the fp16 codebooks.
size_t path_bytes(const BenchInputs& in, Path path) {
  return path == Path::kI8 ? in.first.i8_streamed_bytes() : in.first.streamed_bytes();
}

// One result row, without the read bandwidth (known once the block is done).
nlohmann::json path_row(const QuantizedLayer& l, const Options& o, const BenchInputs& in, Path path, unsigned threads,
                        const std::vector<double>& t, double eig_best) {
  const double per = t.front() / in.copies, med = t[t.size() / 2] / in.copies;
  nlohmann::json j;
  j["layer"] = l.name;
  j["scheme"] = scheme_name(l.scheme);
  j["rows"] = l.rows;
  j["cols"] = l.cols;
  j["bits"] = l.bits;
  j["bpw"] = effective_bpw(l);  // every stored bit, as info and quantize report it
  j["stream_bpw"] = 8.0 * double(path_bytes(in, path)) / double(l.elements());  // what the kernel reads
  j["packed_memory_bytes"] = in.first.memory_bytes();
  j["path"] = kernels::path_name(path);
  j["isa"] = kernels::isa_name(o.isa);
  j["threads"] = threads;
  j["batch"] = o.batch;
  j["copies"] = in.copies;
  j["working_set_bytes"] = in.bytes * in.copies;
  j["time_s"] = per;
  j["time_median_s"] = med;
  j["weights_per_s"] = double(l.elements()) / per;
  j["weights_per_s_per_thread"] = double(l.elements()) / per / threads;
  j["gb_per_s"] = double(path_bytes(in, path)) / per / 1e9;
  j["eigen_fp32_time_s"] = eig_best;
  j["speedup_vs_eigen_fp32"] = eig_best / per;
  return j;
}

// The rows of one thread count: Eigen, then every path the layer supports.
void bench_threads(const QuantizedLayer& l, const Options& o, unsigned threads, BenchInputs& in,
                   volatile uint64_t* sink, nlohmann::json* results) {
  kernels::ThreadPool pool(threads);
  kernels::RunOptions ro;
  ro.isa = o.isa;
  ro.pool = &pool;
  // The read yardstick is timed in the same rounds as the kernels, one
  // sweep before each kernel round, so both see the same machine load; the
  // best sweep over the whole block is the denominator (the conservative
  // choice when the load varies).
  double best_read = 1e30;
  auto read_once = [&] {
    const auto a = Clock::now();
    *sink = *sink + kernels::stream_read(in.stream.data(), in.stream.size(), &pool, o.isa);
    best_read = std::min(best_read, std::chrono::duration<double>(Clock::now() - a).count());
  };
  read_once();  // warm-up
  const double eig_best = time_eigen(l, o, threads, pool, read_once, in);

  std::vector<nlohmann::json> block;
  for (Path path : o.paths) {
    if (!kernels::path_supports(path, in.first)) continue;
    block.push_back(path_row(l, o, in, path, threads, time_path(path, o, ro, read_once, in), eig_best));
  }
  const double read_bw = double(in.stream.size()) / best_read;
  for (auto& j : block) {
    j["read_bw_gb_per_s"] = read_bw / 1e9;
    j["pct_of_read_bw"] = 100.0 * j["gb_per_s"].get<double>() * 1e9 / read_bw;
    results->push_back(j);
  }
}

nlohmann::json bench_layer(const QuantizedLayer& l, const Options& o) {
  BenchInputs in = prepare_inputs(l, o);
  nlohmann::json results = nlohmann::json::array();
  volatile uint64_t sink = 0;
  for (unsigned threads : o.threads) bench_threads(l, o, threads, in, &sink, &results);
  (void)sink;
  return results;
}

void print_table(const nlohmann::json& rows) {
  std::printf("%-28s %-9s %5s %-5s %3s %5s %10s %11s %8s %9s %7s %8s\n", "layer", "scheme", "bpw", "path", "thr",
              "batch", "time_ms", "Gweights/s", "GB/s", "readGB/s", "%read", "xEigen");
  for (const auto& j : rows)
    std::printf("%-28s %-9s %5.2f %-5s %3u %5u %10.3f %11.2f %8.2f %9.2f %6.1f%% %8.2f\n",
                j["layer"].get<std::string>().substr(0, 28).c_str(), j["scheme"].get<std::string>().c_str(),
                j["bpw"].get<double>(), j["path"].get<std::string>().c_str(), j["threads"].get<unsigned>(),
                j["batch"].get<unsigned>(), 1e3 * j["time_s"].get<double>(), j["weights_per_s"].get<double>() / 1e9,
                j["gb_per_s"].get<double>(), j["read_bw_gb_per_s"].get<double>(), j["pct_of_read_bw"].get<double>(),
                j["speedup_vs_eigen_fp32"].get<double>());
}

bool is_gpu_flag(const char* a) { return !std::strcmp(a, "--gpu") || !std::strncmp(a, "--gpu=", 6); }

// `lutc bench --gpu [X.xfp] REST`  ->  `lutc gpu-bench [X.xfp] REST`.
int run_on_gpu(int argc, char** argv) {
  std::vector<std::string> args{"gpu-bench"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gpu") {
      if (i + 1 < argc && argv[i + 1][0] != '-') args.push_back(argv[++i]);  // --gpu X.xfp
    } else if (a.compare(0, 6, "--gpu=") == 0) {
      if (a.size() > 6) args.push_back(a.substr(6));
    } else if (a == "--cpu" || a.compare(0, 6, "--cpu=") == 0) {
      throw Error(ExitCode::kUsage, "give one of --cpu and --gpu, not both");
    } else {
      args.push_back(a);
    }
  }
  const Command* gpu = find_command("gpu-bench");
  if (!gpu)
    throw Error(ExitCode::kUsage,
                "--gpu: this lutc was built without CUDA (CMake found no nvcc), so it has no GPU benchmark; "
                "rebuild where the CUDA toolkit is installed");
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  return gpu->run(int(args.size()), av.data());
}

struct BenchArgs {
  std::string xfp, synthetic, scheme_s = "int4.g128", sop_format, threads_s = "1", paths_s = "exact,f32,i8", isa_s,
                              layer_filter;
  unsigned bits = 4, group = 128;
  Options o;
  bool json = false;
};

// False when --help was asked for (and printed).
bool parse_args(int argc, char** argv, BenchArgs* a) {
  Options& o = a->o;
  po::options_description opts("options");
  opts.add_options()("cpu", po::value(&a->xfp), "benchmark every layer of this .xfp file")(
      "gpu", po::value<std::string>()->implicit_value(""),
      "[X.xfp] benchmark the CUDA kernel instead: the other arguments go to lutc gpu-bench")(
      "synthetic", po::value(&a->synthetic), "benchmark a seeded synthetic NxK matrix (N rows = outputs, K inputs)")(
      "scheme", po::value(&a->scheme_s)->default_value("int4.g128"), "with --synthetic: scheme to quantize to")(
      "sop-format", po::value(&a->sop_format), "with --synthetic --scheme sop: block format (docs/sop.md)")(
      "bits", po::value(&a->bits)->default_value(4), "with --synthetic and an xfp scheme: code width")(
      "group", po::value(&a->group)->default_value(128), "with --synthetic and xfp.v2: group along K (0 = whole row)")(
      "layer", po::value(&a->layer_filter), "with --cpu: only layers whose name contains this")(
      "batch", po::value(&o.batch)->default_value(1), "activation vectors per call (M)")(
      "threads", po::value(&a->threads_s)->default_value("1"), "thread counts to run, comma-separated (e.g. 1,2)")(
      "path", po::value(&a->paths_s)->default_value("exact,f32,i8"), "paths to run: exact,f32,i8")(
      "isa", po::value(&a->isa_s), "portable|avx2|avx512: force this ISA (default: the best this CPU has)")(
      "repeat", po::value(&o.repeat)->default_value(5), "timed rounds; the best is reported (median in --json)")(
      "copies", po::value(&o.copies)->default_value(0), "copies of the layer visited in turn (0: enough for 256 MiB)")(
      "act-bits", po::value(&o.act_bits)->default_value(16), "exact path activation width (8 or 16)")(
      "json", po::bool_switch(&a->json), "print JSON instead of a table");
  po::positional_options_description pos;
  po::variables_map vm;
  return parse_command_line(argc, argv, kUsage, opts, pos, vm);
}

// The ranges, and the --threads, --path and --isa texts into a->o.
void check_and_read_lists(BenchArgs* a) {
  Options& o = a->o;
  if (a->xfp.empty() == a->synthetic.empty())
    throw Error(ExitCode::kUsage, "give exactly one of --cpu X.xfp or --synthetic NxK (or --gpu, see --help)");
  check_range("batch", o.batch, 1, 4096);
  check_range("repeat", o.repeat, 1, 1000);
  check_range("copies", o.copies, 0, 4096);
  if (o.act_bits != 8 && o.act_bits != 16) throw Error(ExitCode::kUsage, "--act-bits: 8 or 16");
  o.threads = parse_list<unsigned>("--threads", a->threads_s, [](const std::string& s) {
    const int t = std::atoi(s.c_str());
    if (t < 1 || t > 256) throw Error(ExitCode::kUsage, "--threads: '" + s + "' is not a count in 1..256");
    return unsigned(t);
  });
  o.paths = parse_list<Path>("--path", a->paths_s, [](const std::string& s) {
    Path p;
    if (!kernels::parse_path(s, &p)) throw Error(ExitCode::kUsage, "--path: '" + s + "' (exact, f32 or i8)");
    return p;
  });
  if (!a->isa_s.empty()) {
    if (!kernels::parse_isa(a->isa_s, &o.isa))
      throw Error(ExitCode::kUsage, "--isa: '" + a->isa_s + "' (portable, avx2, avx512)");
    if (!kernels::isa_available(o.isa))
      throw Error(ExitCode::kUsage, "--isa " + a->isa_s + ": not available on this CPU");
  }
}

// The synthetic layer, or the layers of the .xfp that --layer selects.
std::vector<QuantizedLayer> layers_to_bench(const BenchArgs& a) {
  std::vector<QuantizedLayer> layers;
  if (!a.synthetic.empty()) {
    Scheme scheme;
    if (!parse_scheme(a.scheme_s, &scheme))
      throw Error(ExitCode::kUsage, "--scheme: '" + a.scheme_s + "' (" + scheme_names() + ")");
    layers.push_back(synthetic_bench_layer(a.synthetic, scheme, a.bits, a.group, a.sop_format));
  } else {
    XfpFile f = read_xfp(a.xfp);
    for (auto& l : f.layers)
      if (a.layer_filter.empty() || l.name.find(a.layer_filter) != std::string::npos) layers.push_back(std::move(l));
    if (layers.empty())
      throw Error(ExitCode::kUsage, "no layer of " + a.xfp + " matches --layer '" + a.layer_filter + "'");
  }
  return layers;
}

int run_bench(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (is_gpu_flag(argv[i])) return run_on_gpu(argc, argv);
  BenchArgs a;
  if (!parse_args(argc, argv, &a)) return 0;
  check_and_read_lists(&a);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& l : layers_to_bench(a)) {
    const nlohmann::json r = bench_layer(l, a.o);
    for (const auto& j : r) all.push_back(j);
  }
  if (a.json)
    std::printf("%s\n", all.dump(2).c_str());
  else
    print_table(all);
  return 0;
}

const RegisterCommand kRegister({"bench", "CPU decode-GEMV throughput vs read bandwidth and an Eigen fp32 GEMV",
                                 run_bench});

}  // namespace
}  // namespace lutc::cli
