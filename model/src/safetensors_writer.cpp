#include <set>

#include <nlohmann/json.hpp>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

uint64_t element_count(const NamedMatrix& m, const std::string& path) {
  uint64_t e = 1;
  for (uint64_t d : m.shape) {
    if (d != 0 && e > (uint64_t(1) << 61) / d) {
      throw Error(ExitCode::kUsage, located(path, m.name, -1, "shape too large to write"));
    }
    e *= d;
  }
  return e;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<NamedMatrix>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the caller's tensor order in the header.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const NamedMatrix& m : tensors) {
    if (m.name.empty() || m.name == "__metadata__" || !seen.insert(m.name).second) {
      throw Error(ExitCode::kUsage, located(path, m.name, -1, "tensor name is empty, reserved or repeated"));
    }
    const uint64_t bytes = element_count(m, path) * 4;
    if (bytes && !m.data) throw Error(ExitCode::kInternal, located(path, m.name, -1, "tensor has no data"));
    header[m.name] = {{"dtype", "F32"}, {"shape", m.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text = header.dump();
  // Spaces pad the header so the data section starts 8-byte aligned, as the
  // safetensors format recommends for zero-copy loaders.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

  AtomicFile out(path);
  out.write(len, 8);
  out.write(text.data(), text.size());
  for (const NamedMatrix& m : tensors) out.write(m.data, size_t(element_count(m, path) * 4));
  out.commit();
}

}  // namespace lutc
