#include <set>

#include <nlohmann/json.hpp>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

uint64_t byte_count(const std::string& name, DType dtype, const std::vector<uint64_t>& shape, const std::string& path) {
  uint64_t e = dtype_size(dtype);
  for (uint64_t d : shape) {
    if (d != 0 && e > (uint64_t(1) << 61) / d) {
      throw Error(ExitCode::kUsage, located(path, name, -1, "shape too large to write"));
    }
    e *= d;
  }
  return e;
}

}  // namespace

struct SafetensorsStreamWriter::State {
  explicit State(const std::string& p) : path(p), out(p) {}
  std::string path;
  AtomicFile out;
  std::vector<std::pair<std::string, uint64_t>> sizes;  // name, bytes, in order
  size_t next = 0;
};

SafetensorsStreamWriter::SafetensorsStreamWriter(const std::string& path, const std::vector<Entry>& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the caller's tensor order in the header.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::vector<std::pair<std::string, uint64_t>> sizes;
  uint64_t offset = 0;
  for (const Entry& m : tensors) {
    if (m.name.empty() || m.name == "__metadata__" || !seen.insert(m.name).second) {
      throw Error(ExitCode::kUsage, located(path, m.name, -1, "tensor name is empty, reserved or repeated"));
    }
    const uint64_t bytes = byte_count(m.name, m.dtype, m.shape, path);
    header[m.name] = {{"dtype", dtype_name(m.dtype)}, {"shape", m.shape}, {"data_offsets", {offset, offset + bytes}}};
    sizes.emplace_back(m.name, bytes);
    offset += bytes;
  }

  std::string text = header.dump();
  // Spaces pad the header so the data section starts 8-byte aligned, as the
  // safetensors format recommends for zero-copy loaders.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

  s_ = std::make_unique<State>(path);
  s_->sizes = std::move(sizes);
  s_->out.write(len, 8);
  s_->out.write(text.data(), text.size());
}

SafetensorsStreamWriter::~SafetensorsStreamWriter() = default;

void SafetensorsStreamWriter::write_next(const void* data, uint64_t nbytes) {
  if (s_->next >= s_->sizes.size())
    throw Error(ExitCode::kInternal, located(s_->path, "", -1, "more tensors written than declared"));
  const auto& [name, want] = s_->sizes[s_->next];
  if (nbytes != want)
    throw Error(
        ExitCode::kInternal,
        located(s_->path, name, -1, std::to_string(nbytes) + " bytes given, " + std::to_string(want) + " declared"));
  if (nbytes && !data) throw Error(ExitCode::kInternal, located(s_->path, name, -1, "tensor has no data"));
  s_->out.write(data, size_t(nbytes));
  ++s_->next;
}

void SafetensorsStreamWriter::commit() {
  if (s_->next != s_->sizes.size())
    throw Error(ExitCode::kInternal,
                located(s_->path, "", -1, std::to_string(s_->sizes.size() - s_->next) + " tensors not written"));
  s_->out.commit();
}

void write_safetensors(const std::string& path, const std::vector<NamedMatrix>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsStreamWriter::Entry> entries;
  for (const NamedMatrix& m : tensors) entries.push_back({m.name, DType::kF32, m.shape});
  SafetensorsStreamWriter w(path, entries, metadata);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t bytes = byte_count(tensors[i].name, DType::kF32, tensors[i].shape, path);
    w.write_next(tensors[i].data, bytes);
  }
  w.commit();
}

}  // namespace lutc
