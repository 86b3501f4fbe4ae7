// What a weights argument names: a Hugging Face folder (shards listed by
// model.safetensors.index.json, or one model.safetensors), the index file
// itself, or a single .safetensors / llama2.c file. Resolves it into the
// mapped files of one WeightFile, checks the index's weight_map against the
// shards, and picks up config.json beside the weights.
#include <sys/stat.h>

#include <dirent.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/weight_file_parsers.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

using nlohmann::json;

// Real indexes are a few hundred KiB (a tensor name and a shard name per
// tensor); config.json a few KiB. Anything far larger is not one.
constexpr uint64_t kMaxIndexBytes = 64ull << 20;
constexpr uint64_t kMaxConfigBytes = 4ull << 20;
// The largest released checkpoints have a few hundred shards.
constexpr size_t kMaxShards = 4096;
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kIndexSuffix = ".safetensors.index.json";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
std::string base_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

enum class Kind { kMissing, kFile, kDir, kOther };
Kind kind_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Kind::kMissing;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  if (S_ISDIR(st.st_mode)) return Kind::kDir;
  return Kind::kOther;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw Error(ExitCode::kIo, "cannot list '" + dir + "': " + std::strerror(errno));
  while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The whole file as text, refused (kBadInput) above `cap` bytes before any
// of it is read.
std::string read_capped(const std::string& path, uint64_t cap, const char* what) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(ExitCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  const std::streamoff size = f.tellg();
  if (size < 0) throw Error(ExitCode::kIo, "cannot read '" + path + "'");
  if (uint64_t(size) > cap) {
    fail_input(path, "", -1,
               std::string(what) + " is " + std::to_string(size) + " bytes, more than the " + std::to_string(cap) +
                   " accepted");
  }
  std::string text(size_t(size), '\0');
  f.seekg(0);
  if (!f.read(text.data(), size)) throw Error(ExitCode::kIo, "cannot read '" + path + "'");
  return text;
}

json parse_json(const std::string& path, const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail_input(path, "", static_cast<long long>(e.byte ? e.byte - 1 : 0),
               std::string(what) + " is not valid JSON (" + e.what() + ")");
  } catch (const json::exception& e) {  // a number too large for any type: out_of_range.406
    fail_input(path, "", -1, std::string(what) + " is not valid JSON (" + e.what() + ")");
  }
}

// weight_map of a *.safetensors.index.json: tensor name -> shard file name.
struct ShardIndex {
  std::vector<std::string> shards;          // sorted, distinct
  std::map<std::string, uint32_t> tensors;  // name -> index into shards
};

std::string shard_name_problem(const std::string& s) {
  if (s.empty()) return "is not a plain file name (it is empty)";
  if (s.find('/') != std::string::npos || s.find('\\') != std::string::npos) return "is not a plain file name";
  if (s.find("..") != std::string::npos || s == ".") return "is not a plain file name (contains '..')";
  if (s.find('\0') != std::string::npos) return "contains a NUL byte";
  return "";
}

ShardIndex parse_index(const std::string& index_path) {
  const json j = parse_json(index_path, read_capped(index_path, kMaxIndexBytes, "the index"), "the index");
  if (!j.is_object()) fail_input(index_path, "", 0, "the index is not a JSON object");
  const auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) fail_input(index_path, "", -1, "the index has no 'weight_map' object");
  if (wm->empty()) fail_input(index_path, "", -1, "the index's weight_map is empty");
  std::set<std::string> names;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string()) fail_input(index_path, it.key(), -1, "weight_map value is not a string (a shard file name)");
    const std::string s = it->get<std::string>();
    const std::string problem = shard_name_problem(s);
    if (!problem.empty()) fail_input(index_path, it.key(), -1, "weight_map shard '" + s + "' " + problem);
    names.insert(s);
    if (names.size() > kMaxShards) {
      fail_input(index_path, "", -1, "weight_map names more than " + std::to_string(kMaxShards) + " shards");
    }
  }
  ShardIndex ix;
  ix.shards.assign(names.begin(), names.end());
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    const auto pos = std::lower_bound(ix.shards.begin(), ix.shards.end(), it->get<std::string>());
    ix.tensors.emplace(it.key(), uint32_t(pos - ix.shards.begin()));
  }
  return ix;
}

// Every index beside `file` that lists it as a shard: {index path, 1-based
// position, shard count}. Unreadable or malformed indexes are not this
// check's business (opening them reports their problems).
struct ShardOf {
  std::string index;
  size_t k = 0, n = 0;
};
ShardOf listing_index(const std::string& file) {
  const std::string dir = dir_of(file), name = base_of(file);
  std::vector<std::string> entries;
  try {
    entries = list_dir(dir);
  } catch (const Error&) {
    return {};  // an unlistable folder has no index to consult; the file itself may still open
  }
  for (const std::string& entry : entries) {
    if (!ends_with(entry, kIndexSuffix)) continue;
    try {
      const ShardIndex ix = parse_index(join(dir, entry));
      const auto it = std::find(ix.shards.begin(), ix.shards.end(), name);
      if (it != ix.shards.end()) return {join(dir, entry), size_t(it - ix.shards.begin()) + 1, ix.shards.size()};
    } catch (const Error&) {
    }
  }
  return {};
}

// One shard of several, passed alone, would silently give part of a model.
void refuse_lone_shard(const std::string& file) {
  static const std::regex kShardName(R"(.*-([0-9]{5})-of-([0-9]{5})\.safetensors)");
  std::smatch m;
  const std::string name = base_of(file);
  ShardOf s = listing_index(file);
  if (s.index.empty() && std::regex_match(name, m, kShardName) && std::stoul(m[2].str()) > 1) {
    s = {join(dir_of(file), kIndexName), std::stoul(m[1].str()), std::stoul(m[2].str())};
  }
  if (s.index.empty() || s.n < 2) return;
  throw Error(ExitCode::kUsage, file + " is shard " + std::to_string(s.k) + " of " + std::to_string(s.n) +
                                    " of a sharded checkpoint; pass the folder " + dir_of(file) + " (or its " +
                                    base_of(s.index) + ")");
}

void open_sharded(WeightFile& w, const std::string& index_path) {
  const std::string dir = dir_of(index_path);
  const ShardIndex ix = parse_index(index_path);
  for (const std::string& shard : ix.shards) {
    const std::string path = join(dir, shard);
    const Kind k = kind_of(path);
    if (k == Kind::kMissing)
      fail_input(index_path, "", -1, "shard '" + shard + "' named by weight_map does not exist in " + dir);
    if (k != Kind::kFile) fail_input(index_path, "", -1, "shard '" + path + "' is not a regular file");
    const uint32_t f = WeightFileParsers::add_map(w, path);
    if (std::string(WeightFileParsers::parse_single(w, f)) != "safetensors")
      fail_input(path, "", 0, "shard named by " + index_path + " is not a safetensors file");
  }
  // Each tensor in exactly one shard, and in the one weight_map names.
  std::map<std::string, uint32_t> found;
  for (const TensorInfo& t : WeightFileParsers::tensors(w)) {
    const auto [it, fresh] = found.emplace(t.name, t.file);
    if (!fresh) {
      fail_input(index_path, t.name, -1,
                 "tensor is in two shards: " + w.files()[it->second] + " and " + w.files()[t.file]);
    }
    if (ix.tensors.find(t.name) == ix.tensors.end()) {
      fail_input(w.files()[t.file], t.name, static_cast<long long>(t.offset),
                 "tensor is in this shard but not in the weight_map of " + index_path);
    }
  }
  for (const auto& [name, shard] : ix.tensors) {
    const auto it = found.find(name);
    if (it == found.end() || it->second != shard) {
      fail_input(index_path, name, -1,
                 "weight_map puts the tensor in shard " + w.files()[shard] + ", which does not hold it" +
                     (it == found.end() ? std::string() : " (it is in " + w.files()[it->second] + ")"));
    }
  }
}

// Returns the detected format.
std::string open_single(WeightFile& w, const std::string& path) {
  if (ends_with(path, ".safetensors")) refuse_lone_shard(path);
  return WeightFileParsers::parse_single(w, WeightFileParsers::add_map(w, path));
}

// A folder with only PyTorch pickles: name the fix rather than "no weights".
void refuse_folder_without_safetensors(const std::string& dir) {
  std::vector<std::string> pickles;
  for (const std::string& e : list_dir(dir)) {
    const bool pt =
        ends_with(e, ".pt") || ends_with(e, ".pth") || (e.rfind("pytorch_model", 0) == 0 && ends_with(e, ".bin"));
    if (pt) pickles.push_back(e);
  }
  if (!pickles.empty()) {
    fail_input(dir, "", -1,
               "holds PyTorch checkpoints (" + pickles.front() +
                   ") but no safetensors: convert it to safetensors (model.safetensors, or shards with " + kIndexName +
                   ")");
  }
  throw Error(ExitCode::kUsage, "folder '" + dir + "' has neither " + kIndexName + " nor model.safetensors");
}

}  // namespace

std::unique_ptr<WeightFile> WeightFileParsers::open_any(const std::string& path) {
  auto w = make_empty();
  set_path(*w, path);
  std::string config_dir, format = "safetensors";
  const Kind kind = kind_of(path);
  if (kind == Kind::kDir) {
    if (kind_of(join(path, kIndexName)) == Kind::kFile) {
      open_sharded(*w, join(path, kIndexName));
    } else if (kind_of(join(path, "model.safetensors")) == Kind::kFile) {
      format = open_single(*w, join(path, "model.safetensors"));
    } else {
      refuse_folder_without_safetensors(path);
    }
    config_dir = path;
  } else if (kind == Kind::kFile && ends_with(path, kIndexSuffix)) {
    open_sharded(*w, path);
    config_dir = dir_of(path);
  } else {
    format = open_single(*w, path);  // MappedFile names a missing or special file
    config_dir = dir_of(path);
  }
  set_format(*w, format == "llama2c" ? "llama2c" : format == "gguf" ? "gguf" : "safetensors");
  // A llama2.c header is complete and its RoPE layout fixed, and a GGUF file
  // carries its own hyper-parameters; config.json describes Hugging Face
  // safetensors weights only.
  if (format != "llama2c" && format != "gguf") {
    const std::string cfg = join(config_dir, "config.json");
    if (kind_of(cfg) == Kind::kFile) set_config(*w, cfg, read_capped(cfg, kMaxConfigBytes, "config.json"));
  }
  return w;
}

}  // namespace lutc
