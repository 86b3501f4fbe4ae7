#pragma once
// A folder of programs written by one `lutc compile` (docs/lutp-format.md
// "Files from a multi-layer .xfp"): one NAME.lutp per layer, optional
// NAME.lutp.lst listings, and programs.json naming the model they came from
// and every file the compile wrote. Readers of the folder (`lutc sim DIR`)
// use the manifest to refuse a folder that mixes programs of two compiles.
#include <string>
#include <vector>

namespace lutc {

constexpr char kProgramManifestName[] = "programs.json";

struct ProgramManifest {
  std::string model;  // the .xfp's "source" metadata (the model it was quantized from), else its file stem
  std::string xfp;    // the .xfp compiled, as given
  std::string arch;   // arch config name
  std::vector<std::string> layers, files;  // layer names in .xfp order; the .lutp file of each
  std::vector<std::string> listings;       // .lst files written with --listing
};

// Error(kIo) when it cannot be written.
void write_program_manifest(const std::string& path, const ProgramManifest& m);

// Reads DIR/programs.json; returns false when the folder has none. Error(kBadInput) naming the
// file when it is there but is not a program manifest.
bool read_program_manifest(const std::string& dir, ProgramManifest* m);

// The .lutp files of `dir` in the decode step's order: with a manifest, the
// .xfp's layer order it lists, and Error(kBadInput) when the folder holds a
// .lutp the manifest does not list (a program of another compile: summing it
// would mix two models) or misses one it lists; without one, every .lutp
// there by name.
std::vector<std::string> program_folder_files(const std::string& dir);

}  // namespace lutc
