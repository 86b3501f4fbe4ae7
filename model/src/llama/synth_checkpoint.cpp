#include "lutc/model/synth_checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/ordered_pool.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;

uint64_t mix(uint64_t x) {  // splitmix64 finalizer: a counter-based generator
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Approximately N(0,1): the sum of four 16-bit uniforms (Irwin-Hall), cheap and
// branch-free; its tails are light, so outliers are added explicitly.
float gaussianish(uint64_t h) {
  const double s = double(h & 0xffff) + double((h >> 16) & 0xffff) + double((h >> 32) & 0xffff) + double(h >> 48);
  return float((s / 65536.0 - 2.0) * 1.7320508075688772);  // variance of the sum of 4 U(0,1) is 1/3
}

struct TensorGen {
  uint64_t seed;
  bool vector;  // norms: values around 1
  float row_scale(uint64_t row) const {
    return vector ? 0.05f : 0.02f * std::exp(0.3f * gaussianish(mix(seed + 0x51ed27u * (row + 1))));
  }
  float value(float scale, uint64_t index) const {
    const uint64_t h = mix(seed ^ mix(index));
    float v = scale * gaussianish(h);
    if (vector) return 1.0f + v;
    if ((mix(h) & 0x3fff) == 0) v *= 12.0f;  // ~1 in 16384 elements is an outlier
    return v;
  }
};

void encode(float v, DType dt, uint8_t* out) {
  if (dt == DType::kF32) {
    std::memcpy(out, &v, 4);
  } else {
    const uint16_t b = dt == DType::kBF16 ? float_to_bf16(v) : float_to_half(v);
    out[0] = uint8_t(b), out[1] = uint8_t(b >> 8);
  }
}

std::string shard_name(uint32_t k, uint32_t n) {
  if (n == 1) return "model.safetensors";
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05u-of-%05u.safetensors", k + 1, n);
  return buf;
}

void write_text(const fs::path& p, const std::string& text) {
  AtomicFile f(p.string());
  f.write(text.data(), text.size());
  f.commit();
}

// The folder appears whole: it is written as DIR.partial-PID, removed on any
// failure, and renamed onto DIR at the end.
class PartialFolder {
 public:
  explicit PartialFolder(const std::string& dir) : dir_(dir), tmp_(dir + ".partial-" + std::to_string(::getpid())) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
    if (!fs::create_directories(tmp_, ec))
      throw Error(ExitCode::kIo, "cannot create '" + tmp_.string() + "': " + ec.message());
  }
  ~PartialFolder() {
    std::error_code e;
    if (armed_) fs::remove_all(tmp_, e);
  }
  PartialFolder(const PartialFolder&) = delete;
  PartialFolder& operator=(const PartialFolder&) = delete;
  const fs::path& path() const { return tmp_; }
  void publish() {
    std::error_code ec;
    fs::rename(tmp_, dir_, ec);
    if (ec) throw Error(ExitCode::kIo, "cannot rename '" + tmp_.string() + "' to '" + dir_ + "': " + ec.message());
    armed_ = false;
  }

 private:
  std::string dir_;
  fs::path tmp_;
  bool armed_ = true;
};

void check_options(const SynthCheckpointOptions& o) {
  if (!o.shape) throw Error(ExitCode::kUsage, "write_synth_checkpoint: no model shape");
  if (o.shards == 0 || o.shards > 1000) throw Error(ExitCode::kUsage, "--shards must be in 1..1000");
  if (o.dtype != DType::kF32 && o.dtype != DType::kF16 && o.dtype != DType::kBF16)
    throw Error(ExitCode::kUsage, "synthetic checkpoints are F32, F16 or BF16");
  std::error_code ec;
  if (fs::exists(fs::path(o.dir), ec)) throw Error(ExitCode::kUsage, "'" + o.dir + "' exists; pick a new folder name");
}

// The model's tensors, their sizes in the output dtype and the shard of each.
struct Layout {
  std::vector<ShapedTensor> tensors;
  std::vector<uint64_t> bytes;
  std::vector<uint32_t> shard_of;
  uint64_t total_bytes = 0;
};

Layout lay_out(const SynthCheckpointOptions& o) {
  Layout l;
  l.tensors = model_tensors(*o.shape, o.layers);
  for (const auto& t : l.tensors) {
    uint64_t e = dtype_size(o.dtype);
    for (uint64_t d : t.shape) e *= d;
    l.bytes.push_back(e);
    l.total_bytes += e;
  }
  // Shards split the tensor list where the running size passes k/n of the total.
  uint64_t run = 0;
  for (size_t i = 0; i < l.tensors.size(); ++i) {
    l.shard_of.push_back(
        uint32_t(std::min<uint64_t>(o.shards - 1, run * o.shards / std::max<uint64_t>(1, l.total_bytes))));
    run += l.bytes[i];
  }
  return l;
}

// Shard k's safetensors header (padded to 8 bytes) for its `members`, which
// also go into the index's weight map.
std::string shard_header(const Layout& l, uint32_t k, const SynthCheckpointOptions& o,
                         const std::vector<size_t>& members, nlohmann::ordered_json& weight_map) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (size_t i : members) {
    const uint64_t b = l.bytes[i];
    header[l.tensors[i].name] = {
        {"dtype", dtype_name(o.dtype)}, {"shape", l.tensors[i].shape}, {"data_offsets", {offset, offset + b}}};
    offset += b;
    weight_map[l.tensors[i].name] = shard_name(k, o.shards);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Tensor i's values, generated in chunks of ~1 M elements on the pool and
// written in order. Returns the elements written.
uint64_t write_values(AtomicFile& out, const ShapedTensor& t, size_t i, const SynthCheckpointOptions& o) {
  const size_t es = dtype_size(o.dtype);
  const uint64_t rows = t.shape[0], cols = t.shape.size() > 1 ? t.shape[1] : 1;
  const bool vector = t.shape.size() == 1;
  const TensorGen gen{mix(o.seed * 0x100000001b3ull + i), vector};
  const uint64_t rows_per_chunk = vector ? 1 : std::max<uint64_t>(1, (1u << 20) / cols);
  const uint64_t chunks = vector ? 1 : (rows + rows_per_chunk - 1) / rows_per_chunk;
  uint64_t elements = 0;
  ordered_parallel<std::vector<uint8_t>>(
      chunks, o.threads, 2 * size_t(o.threads),
      [&](size_t c) {
        if (vector) {
          std::vector<uint8_t> buf(rows * es);
          for (uint64_t j = 0; j < rows; ++j) encode(gen.value(gen.row_scale(0), j), o.dtype, buf.data() + j * es);
          return buf;
        }
        const uint64_t r0 = c * rows_per_chunk, r1 = std::min(rows, r0 + rows_per_chunk);
        std::vector<uint8_t> buf((r1 - r0) * cols * es);
        uint8_t* p = buf.data();
        for (uint64_t r = r0; r < r1; ++r) {
          const float scale = gen.row_scale(r);
          for (uint64_t j = 0; j < cols; ++j, p += es) encode(gen.value(scale, r * cols + j), o.dtype, p);
        }
        return buf;
      },
      [&](size_t, std::vector<uint8_t>&& buf) {
        out.write(buf.data(), buf.size());
        if (o.on_elements) o.on_elements(buf.size() / es);
        elements += buf.size() / es;
      });
  return elements;
}

// Shard k: its header, then its tensors' values. Returns the elements written.
uint64_t write_shard(const fs::path& dir, const Layout& l, uint32_t k, const SynthCheckpointOptions& o,
                     nlohmann::ordered_json& weight_map) {
  std::vector<size_t> members;
  for (size_t i = 0; i < l.tensors.size(); ++i)
    if (l.shard_of[i] == k) members.push_back(i);
  const std::string text = shard_header(l, k, o, members, weight_map);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
  AtomicFile out((dir / shard_name(k, o.shards)).string());
  out.write(len, 8);
  out.write(text.data(), text.size());
  uint64_t elements = 0;
  for (size_t i : members) elements += write_values(out, l.tensors[i], i, o);
  out.commit();
  return elements;
}

}  // namespace

uint64_t write_synth_checkpoint(const SynthCheckpointOptions& o) {
  check_options(o);
  PartialFolder folder(o.dir);
  const Layout l = lay_out(o);
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  uint64_t total_elements = 0;
  for (uint32_t k = 0; k < o.shards; ++k) total_elements += write_shard(folder.path(), l, k, o, weight_map);
  if (o.shards > 1) {
    nlohmann::ordered_json index = {{"metadata", {{"total_size", l.total_bytes}}}, {"weight_map", weight_map}};
    write_text(folder.path() / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  write_text(folder.path() / "config.json", hf_config(*o.shape, o.layers).dump(2) + "\n");
  folder.publish();
  return total_elements;
}

}  // namespace lutc
