// The few safetensors facts the harness needs: read F32/F16/BF16 matrices,
// write F32 ones (the format: an 8-byte little-endian header length, a JSON
// header of name -> dtype, shape, data_offsets, then the raw data).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "vs_ggml.h"

namespace vs_ggml {
namespace {

[[noreturn]] void bad_input(const std::string& path, const std::string& what) {
  throw Failure(3, "file '" + path + "': " + what);
}

size_t dtype_bytes(const std::string& d) {
  if (d == "F32") return 4;
  if (d == "F16" || d == "BF16") return 2;
  return 0;  // not a float type the harness reads
}

}  // namespace

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Failure(4, "cannot open '" + path + "'");
  file_size_ = uint64_t(f.tellg());
  f.seekg(0);
  uint8_t len_bytes[8];
  if (file_size_ < 8 || !f.read(reinterpret_cast<char*>(len_bytes), 8)) bad_input(path, "shorter than a header");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > file_size_ - 8 || n > (uint64_t(100) << 20)) bad_input(path, "header length " + std::to_string(n));
  std::string header(n, '\0');
  if (!f.read(header.data(), std::streamsize(n))) bad_input(path, "truncated header");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    bad_input(path, std::string("header is not JSON: ") + e.what());
  }
  if (!h.is_object()) bad_input(path, "header is not a JSON object");
  const uint64_t base = 8 + n;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& v = it.value();
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      bad_input(path, "tensor '" + it.key() + "': no dtype, shape or data_offsets");
    StTensor t;
    t.name = it.key();
    try {
      t.dtype = v["dtype"].get<std::string>();
      t.shape = v["shape"].get<std::vector<int64_t>>();
      const auto off = v["data_offsets"].get<std::vector<uint64_t>>();
      if (off.size() != 2 || off[0] > off[1]) bad_input(path, "tensor '" + t.name + "': bad data_offsets");
      t.begin = base + off[0];
      t.end = base + off[1];
    } catch (const nlohmann::json::exception& e) {
      bad_input(path, "tensor '" + t.name + "': " + e.what());
    }
    if (t.end > file_size_) bad_input(path, "tensor '" + t.name + "' runs past the end of the file");
    tensors_.push_back(std::move(t));
  }
}

const StTensor* SafetensorsReader::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> SafetensorsReader::read_f32(const StTensor& t) const {
  const size_t eb = dtype_bytes(t.dtype);
  if (!eb) bad_input(path_, "tensor '" + t.name + "' is " + t.dtype + ", not F32, F16 or BF16");
  uint64_t count = 1;
  for (int64_t d : t.shape) {
    if (d < 0) bad_input(path_, "tensor '" + t.name + "': negative dimension");
    count *= uint64_t(d);
  }
  if (count * eb != t.end - t.begin)
    bad_input(path_, "tensor '" + t.name + "': " + std::to_string(t.end - t.begin) + " bytes for " +
                         std::to_string(count) + " " + t.dtype + " elements");
  std::ifstream f(path_, std::ios::binary);
  f.seekg(std::streamoff(t.begin));
  std::vector<uint8_t> raw(t.end - t.begin);
  if (!f.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size())))
    throw Failure(4, "cannot read tensor '" + t.name + "' of '" + path_ + "'");
  std::vector<float> out(count);
  if (t.dtype == "F32")
    std::memcpy(out.data(), raw.data(), raw.size());
  else if (t.dtype == "F16")
    ggml_fp16_to_fp32_row(reinterpret_cast<const ggml_fp16_t*>(raw.data()), out.data(), int64_t(count));
  else
    ggml_bf16_to_fp32_row(reinterpret_cast<const ggml_bf16_t*>(raw.data()), out.data(), int64_t(count));
  return out;
}

void write_safetensors_f32(const std::string& path, const std::vector<F32Matrix>& tensors,
                           const nlohmann::json& metadata) {
  nlohmann::json h = nlohmann::json::object();
  nlohmann::json meta = nlohmann::json::object();
  for (auto it = metadata.begin(); it != metadata.end(); ++it)  // safetensors metadata values are strings
    meta[it.key()] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
  h["__metadata__"] = meta;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    const uint64_t bytes = uint64_t(t.data.size()) * 4;
    h[t.name] = {{"dtype", "F32"}, {"shape", {t.rows, t.cols}}, {"data_offsets", {off, off + bytes}}};
    off += bytes;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Failure(4, "cannot write '" + tmp + "'");
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(header.data(), std::streamsize(header.size()));
    for (const auto& t : tensors)
      f.write(reinterpret_cast<const char*>(t.data.data()), std::streamsize(t.data.size() * 4));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Failure(4, "cannot write '" + tmp + "' (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Failure(4, "cannot rename '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace vs_ggml
