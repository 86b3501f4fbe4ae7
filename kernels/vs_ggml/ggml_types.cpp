// ggml's quantized types as the harness names and sizes them, and the small
// argument parsers both subcommands share.
#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

#include "ggml-cpu.h"
#include "vs_ggml.h"

namespace vs_ggml {

void usage_error(const std::string& msg) { throw Failure(2, msg); }

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TypeInfo info_of(ggml_type type) {
  TypeInfo t;
  t.type = type;
  t.name = ggml_type_name(type);
  t.block = ggml_blck_size(type);
  t.block_bytes = ggml_type_size(type);
  t.bpw = 8.0 * double(t.block_bytes) / double(t.block);
  const auto* cpu = ggml_get_type_traits_cpu(type);
  t.has_cpu_gemv = cpu && cpu->vec_dot;
  return t;
}

}  // namespace

TypeInfo find_type(const std::string& name) {
  std::string known;
  for (int i = 0; i < GGML_TYPE_COUNT; ++i) {
    const auto type = ggml_type(i);
    const auto* traits = ggml_get_type_traits(type);
    // Removed types keep their slot with no name or a zero block size.
    if (!traits || !traits->type_name || traits->blck_size == 0 || !ggml_is_quantized(type) || !traits->to_float)
      continue;
    if (lower(traits->type_name) == lower(name)) {
      if (ggml_quantize_requires_imatrix(type))
        usage_error("ggml type '" + name + "' needs an importance matrix; this benchmark quantizes without one");
      return info_of(type);
    }
    known += std::string(known.empty() ? "" : ", ") + traits->type_name;
  }
  usage_error("unknown ggml type '" + name + "' (this ggml has: " + known + ")");
}

nlohmann::json type_json(const TypeInfo& t) {
  return {{"name", t.name},
          {"block", t.block},
          {"block_bytes", t.block_bytes},
          {"bpw", t.bpw},
          {"cpu_gemv", t.has_cpu_gemv}};
}

void parse_shape(const std::string& s, uint32_t* rows, uint32_t* cols) {
  std::istringstream in(s);
  unsigned long long r = 0, c = 0;
  char x = 0;
  if (!(in >> r >> x >> c) || (x != 'x' && x != 'X') || !in.eof() || r == 0 || c == 0 || r > (1u << 24) ||
      c > (1u << 24) || s.find_first_not_of("0123456789xX") != std::string::npos)
    usage_error("--shape: expected NxK (N rows = outputs, K inputs, e.g. 11008x4096), got '" + s + "'");
  *rows = uint32_t(r);
  *cols = uint32_t(c);
}

std::vector<unsigned> parse_threads(const std::string& s) {
  std::vector<unsigned> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long t = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || t < 1 || t > 256)
      usage_error("--threads: '" + item + "' is not a thread count in 1..256");
    out.push_back(unsigned(t));
  }
  if (out.empty()) usage_error("--threads: empty list");
  return out;
}

std::vector<uint8_t> quantize_matrix(const TypeInfo& t, const float* w, uint32_t rows, uint32_t cols, unsigned jobs) {
  if (cols % t.block) throw Failure(3, t.name + " needs K to be a multiple of " + std::to_string(t.block));
  const size_t row_bytes = ggml_row_size(t.type, cols);
  std::vector<uint8_t> out(row_bytes * rows);
  ggml_quantize_init(t.type);  // once, before the threads share its tables
  jobs = std::max(1u, std::min(jobs, rows));
  const uint32_t step = (rows + jobs - 1) / jobs;
  std::vector<std::thread> workers;
  for (unsigned j = 0; j < jobs; ++j) {
    const uint32_t r0 = j * step, r1 = std::min(rows, r0 + step);
    if (r0 >= r1) break;
    workers.emplace_back(
        [&, r0, r1] { ggml_quantize_chunk(t.type, w, out.data(), int64_t(r0) * cols, r1 - r0, cols, nullptr); });
  }
  for (auto& th : workers) th.join();
  return out;
}

}  // namespace vs_ggml
