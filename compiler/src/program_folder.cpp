#include "lutc/compiler/program_folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"

namespace lutc {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr char kFormat[] = "lutc.programs/1";
}  // namespace

void write_program_manifest(const std::string& path, const ProgramManifest& m) {
  json programs = json::array();
  for (size_t i = 0; i < m.layers.size(); ++i) programs.push_back({{"layer", m.layers[i]}, {"file", m.files[i]}});
  const json j = {{"format", kFormat}, {"model", m.model},     {"xfp", m.xfp},
                  {"arch", m.arch},    {"programs", programs}, {"listings", m.listings}};
  // Names come from the .xfp: replace what is not UTF-8 rather than fail after the compile.
  const std::string text = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

bool read_program_manifest(const std::string& dir, ProgramManifest* m) {
  const std::string path = (fs::path(dir) / kProgramManifestName).string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  std::ifstream f(path);
  if (!f) throw Error(ExitCode::kIo, "cannot open '" + path + "'");
  try {
    const json j = json::parse(f);
    if (j.value("format", "") != kFormat)
      throw Error(ExitCode::kBadInput, "'" + path + "' is not a lutc program manifest");
    *m = ProgramManifest{};
    m->model = j.at("model").get<std::string>();
    m->xfp = j.value("xfp", "");
    m->arch = j.value("arch", "");
    for (const auto& p : j.at("programs")) {
      m->layers.push_back(p.at("layer").get<std::string>());
      m->files.push_back(p.at("file").get<std::string>());
    }
    for (const auto& l : j.value("listings", json::array())) m->listings.push_back(l.get<std::string>());
  } catch (const json::exception& e) {
    throw Error(ExitCode::kBadInput, "'" + path + "' is not a valid program manifest: " + e.what());
  }
  return true;
}

std::vector<std::string> program_folder_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".lutp") found.push_back(e.path().filename().string());
  std::sort(found.begin(), found.end());
  ProgramManifest m;
  if (read_program_manifest(dir, &m)) {
    const std::set<std::string> listed(m.files.begin(), m.files.end());
    for (const std::string& f : found)
      if (!listed.count(f))
        throw Error(ExitCode::kBadInput, "folder '" + dir + "' holds '" + f + "', which its " + kProgramManifestName +
                                             " (the compile of model '" + m.model + "' from '" + m.xfp +
                                             "') does not list: a program of another compile; summing it would "
                                             "mix two models (compile into a fresh folder, or name the files)");
    for (const std::string& f : listed)
      if (!std::binary_search(found.begin(), found.end(), f))
        throw Error(ExitCode::kBadInput,
                    "folder '" + dir + "': '" + f + "', listed in its " + kProgramManifestName + ", is missing");
    found = m.files;  // the .xfp's layer order: the decode step's order
  }
  std::vector<std::string> paths;
  for (const std::string& f : found) paths.push_back((fs::path(dir) / f).string());
  return paths;
}

}  // namespace lutc
