#include "lutc/compiler/compile_manifest.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "lutc/model/error.h"
#include "lutc/model/text_file.h"

namespace lutc {

std::optional<CompileManifest> read_compile_manifest(const std::string& dir) {
  const std::filesystem::path path = std::filesystem::path(dir) / kCompileManifest;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const std::string text = read_text_file(path.string(), "compile manifest");
  CompileManifest m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    m.arch = j.at("arch").get<std::string>();
    for (const auto& l : j.at("layers")) m.files.push_back(l.at("file").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "compile manifest '" + path.string() + "': " + e.what());
  }
  return m;
}

}  // namespace lutc
