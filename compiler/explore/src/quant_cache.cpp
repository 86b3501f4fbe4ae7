#include "lutc/explore/quant_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lutc/compiler/arch_config.h"
#include "lutc/explore/subprocess.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/exit_class.h"
#include "lutc/model/temp_paths.h"

namespace lutc::explore {
namespace fs = std::filesystem;

namespace {

std::string hex16(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)v);
  return b;
}

void write_text(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace

std::string weights_identity(const std::string& weights) {
  if (weights.rfind("synth:", 0) == 0) return weights;
  struct stat st {};
  if (stat(weights.c_str(), &st) != 0) throw Error(ExitCode::kIo, "weights '" + weights + "' cannot be read");
  if (S_ISDIR(st.st_mode)) {
    // A model folder: its files' names, sizes and times (hashing every shard
    // of a large checkpoint would take longer than the sweep's first point).
    std::vector<std::string> parts;
    for (const auto& e : fs::directory_iterator(weights)) {
      struct stat fst {};
      if (stat(e.path().c_str(), &fst) != 0 || !S_ISREG(fst.st_mode)) continue;
      parts.push_back(e.path().filename().string() + ":" + std::to_string(fst.st_size) + ":" +
                      std::to_string(fst.st_mtim.tv_sec) + "." + std::to_string(fst.st_mtim.tv_nsec));
    }
    std::sort(parts.begin(), parts.end());
    std::string listing;
    for (const auto& p : parts) listing += p + "\n";
    return fs::path(weights).filename().string() + " folder files=" + std::to_string(parts.size()) +
           " fnv=" + hex16(fnv1a64(listing.data(), listing.size()));
  }
  // A FIFO or a device (/dev/zero) would be read forever.
  if (!S_ISREG(st.st_mode))
    throw Error(ExitCode::kBadInput, "weights '" + weights + "' is not a regular file or a model folder");
  const std::string name = fs::path(weights).filename().string();
  if (uint64_t(st.st_size) > (uint64_t(2) << 30))
    return name + " size=" + std::to_string(st.st_size) + " mtime=" + std::to_string(st.st_mtime);
  std::ifstream f(weights, std::ios::binary);
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), std::streamsize(buf.size()));
    for (std::streamsize i = 0; i < f.gcount(); ++i) {
      h ^= uint8_t(buf[size_t(i)]);
      h *= 0x100000001b3ull;
    }
  }
  return name + " size=" + std::to_string(st.st_size) + " fnv=" + hex16(h);
}

QuantCache::QuantCache(std::string dir, std::string lutc_exe) : dir_(std::move(dir)), exe_(std::move(lutc_exe)) {
  fs::create_directories(fs::path(dir_) / "quant");
}

std::string QuantCache::key_of(const Sweep& s, const QuantConfig& q) {
  std::lock_guard<std::mutex> g(mu_);
  return key_locked(s, q);
}

std::string QuantCache::key_locked(const Sweep& s, const QuantConfig& q) {
  auto it = identity_.find(s.weights);
  if (it == identity_.end()) it = identity_.emplace(s.weights, weights_identity(s.weights)).first;
  const std::string& id = it->second;
  const std::string text = "lutc 0.1.0\nweights=" + id + "\ntensors=" + s.tensors + "\n" + q.text() + "\n";
  return hex16(fnv1a64(text.data(), text.size()));
}

std::shared_ptr<const QuantEntry> QuantCache::get(const Sweep& s, const QuantConfig& q) {
  std::shared_ptr<std::mutex> lock;
  std::string key;
  {
    std::lock_guard<std::mutex> g(mu_);
    key = key_locked(s, q);
    auto e = entries_.find(key);
    if (e != entries_.end()) return e->second;
    auto& l = key_locks_[key];
    if (!l) l = std::make_shared<std::mutex>();
    lock = l;
  }
  std::lock_guard<std::mutex> per_key(*lock);
  {
    std::lock_guard<std::mutex> g(mu_);
    auto e = entries_.find(key);
    if (e != entries_.end()) return e->second;
  }
  auto entry = load_or_make(s, q, key);
  std::lock_guard<std::mutex> g(mu_);
  entries_[key] = entry;
  return entry;
}

namespace {

// A folder private to this process and thread, beside the entry it becomes.
fs::path private_folder(const std::string& cache_dir, const std::string& key) {
  std::ostringstream tid;
  tid << std::this_thread::get_id();
  return fs::path(cache_dir) / "quant" / (".tmp-" + key + "-" + std::to_string(getpid()) + "-" + tid.str());
}

// `lutc quantize` of q into the folder tmp. Usage and bad-input failures are
// properties of the config: they are written to tmp/failed.txt to be cached.
// Anything else (I/O, a crash) throws, removing tmp, for the next run to retry.
void quantize_into(const std::string& exe, const Sweep& s, const QuantConfig& q, const fs::path& tmp) {
  std::vector<std::string> argv{
      exe,      "quantize", s.weights, "-o", (tmp / "model.xfp").string(), "--report", (tmp / "report.json").string(),
      "--quiet"};
  if (!s.tensors.empty()) {
    argv.push_back("--tensors");
    argv.push_back(s.tensors);
  }
  for (const auto& a : q.quantize_args()) argv.push_back(a);
  const std::string log = (tmp / "quantize.log").string();
  const int rc = run_process(argv, log);
  if (rc == 0) return;
  if (rc != int(ExitCode::kUsage) && rc != int(ExitCode::kBadInput)) {
    const std::string why = log_tail(log);
    fs::remove_all(tmp);
    throw Error(exit_code_of_child(rc), "lutc quantize (" + q.text() + ") exited " + std::to_string(rc) + ": " + why);
  }
  write_text((tmp / "failed.txt").string(), "exit " + std::to_string(rc) + ": " + log_tail(log) + "\n");
}

// The cached failure's text, trailing newlines dropped.
std::string read_failure(const fs::path& failed) {
  std::string error;
  std::ifstream f(failed);
  std::getline(f, error, '\0');
  while (!error.empty() && error.back() == '\n') error.pop_back();
  return error;
}

nlohmann::json read_report(const fs::path& done, const std::string& entry_dir) {
  std::ifstream rf(done);
  try {
    return nlohmann::json::parse(rf);
  } catch (const nlohmann::json::exception& ex) {
    // A cache entry damaged outside lutc (a full disk, an edit): name it and
    // say how to get it rebuilt, rather than fail as an internal error.
    throw Error(ExitCode::kBadInput, "quantization cache entry '" + done.string() + "' is not valid JSON (" +
                                         ex.what() + "); remove the folder '" + entry_dir +
                                         "' and the next run quantizes it again");
  }
}

}  // namespace

std::shared_ptr<const QuantEntry> QuantCache::load_or_make(const Sweep& s, const QuantConfig& q,
                                                           const std::string& key) {
  auto e = std::make_shared<QuantEntry>();
  e->key = key;
  e->dir = (fs::path(dir_) / "quant" / key).string();
  const fs::path done = fs::path(e->dir) / "report.json", failed = fs::path(e->dir) / "failed.txt";
  if (!fs::exists(done) && !fs::exists(failed)) {
    // Quantize into a private directory, then rename it into place whole.
    const fs::path tmp = private_folder(dir_, key);
    fs::remove_all(tmp);
    LiveTemp live;  // a SIGINT or SIGTERM meanwhile removes it
    live.set(tmp.string(), /*folder=*/true);
    fs::create_directories(tmp);
    quantize_into(exe_, s, q, tmp);
    ++quantized_;
    std::error_code ec;
    fs::rename(tmp, e->dir, ec);
    if (ec) fs::remove_all(tmp);  // another process finished the same key first
  }
  if (fs::exists(failed)) {
    e->error = read_failure(failed);
    return e;
  }
  e->report = read_report(done, e->dir);
  e->file = std::make_shared<const XfpFile>(read_xfp((fs::path(e->dir) / "model.xfp").string()));
  e->ok = true;
  return e;
}

}  // namespace lutc::explore
