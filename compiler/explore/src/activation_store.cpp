#include <cstring>
#include <filesystem>
#include <random>

#include "lutc/explore/point_runner.h"
#include "lutc/model/npy.h"

namespace lutc::explore {

namespace {

// bf16-representable floats, so every engine converts them identically.
float round_to_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&v, &u, 4);
  return v;
}

}  // namespace

ActivationStore::ActivationStore(std::string dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

std::string ActivationStore::path_for(uint32_t cols, uint32_t batch, uint64_t seed) {
  const std::string name =
      "x_" + std::to_string(cols) + "_b" + std::to_string(batch) + "_s" + std::to_string(seed) + ".npy";
  const std::string path = (std::filesystem::path(dir_) / name).string();
  std::lock_guard<std::mutex> g(mu_);
  if (made_[name] || std::filesystem::exists(path)) return made_[name] = true, path;
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull ^ (uint64_t(cols) << 20) ^ batch);
  std::vector<float> x(size_t(cols) * batch);
  for (float& v : x) v = round_to_bf16(float(double(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0));
  if (batch == 1)
    write_npy(path, {cols}, x.data());
  else
    write_npy(path, {batch, cols}, x.data());
  made_[name] = true;
  return path;
}

}  // namespace lutc::explore
