#include "hf_folder_builder.h"

#include <sys/stat.h>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "lutc/model/hf_export.h"
#include "lutc/model/hf_layout.h"
#include "lutc/model/weights.h"

namespace lutc::testing {

// The library's config synthesis (the one `lutc export` writes), as plain JSON.
nlohmann::json llama_config_json(const LlamaConfig& cfg) {
  return nlohmann::json::parse(llama_hf_config(cfg, DType::kF32).dump());
}

namespace {
bool is_qk(const std::string& name) {
  auto ends = [&](const char* s) {
    const std::string x(s);
    return name.size() >= x.size() && name.compare(name.size() - x.size(), x.size(), x) == 0;
  };
  return ends("self_attn.q_proj.weight") || ends("self_attn.k_proj.weight");
}
}  // namespace

std::vector<float> hf_tensor(const WeightFile& src, const LlamaConfig& cfg, const std::string& name) {
  const TensorInfo* t = src.find(name);
  if (!t) throw std::runtime_error("no tensor " + name);
  std::vector<float> v = src.read_all(*t);
  if (!is_qk(name)) return v;
  std::vector<float> out(v.size());
  rope_rows_interleaved_to_half(v.data(), out.data(), t->rows(), t->cols(), cfg.head_size());
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

HfFolder write_hf_folder(const std::string& dir, const WeightFile& src, const LlamaConfig& cfg, int shards) {
  ::mkdir(dir.c_str(), 0755);
  HfFolder out;
  out.dir = dir;
  const auto& ts = src.tensors();
  const size_t per = (ts.size() + size_t(shards) - 1) / size_t(shards);
  uint64_t total = 0;
  for (int s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
    std::vector<std::vector<float>> data;
    std::vector<NamedMatrix> mats;
    for (size_t i = size_t(s) * per; i < std::min(ts.size(), size_t(s + 1) * per); ++i) {
      data.push_back(hf_tensor(src, cfg, ts[i].name));
      total += data.back().size() * 4;
      out.weight_map[ts[i].name] = name;
    }
    for (size_t i = size_t(s) * per, k = 0; i < std::min(ts.size(), size_t(s + 1) * per); ++i, ++k)
      mats.push_back({ts[i].name, ts[i].shape, data[k].data()});
    out.shards.push_back(dir + "/" + name);
    write_safetensors(out.shards.back(), mats, {{"format", "pt"}});
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", out.weight_map}};
  out.index = dir + "/model.safetensors.index.json";
  write_text(out.index, index.dump(2));
  out.config = dir + "/config.json";
  write_text(out.config, llama_config_json(cfg).dump(2));
  return out;
}

}  // namespace lutc::testing
