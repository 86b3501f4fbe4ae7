#pragma once
// compile.json, written by `lutc compile` beside the programs of a multi-layer
// .xfp: the layers in the .xfp's order and the name of the arch they were
// compiled for. A .lutp embeds its arch as canonical keys only (so that two
// files describing the same hardware hash alike), so the name lives here.
#include <optional>
#include <string>
#include <vector>

namespace lutc {

constexpr char kCompileManifest[] = "compile.json";

struct CompileManifest {
  std::string arch;                // the arch's name (its .ini stem)
  std::vector<std::string> files;  // .lutp file names in the directory, model order
};

// The manifest in `dir`, or nothing when there is none. A manifest that is
// there but unreadable is Error(kBadInput) naming it.
std::optional<CompileManifest> read_compile_manifest(const std::string& dir);

}  // namespace lutc
