#pragma once
// The readers fuzzed through a path (WeightFile::open, read_xfp) get each
// input as a file: one per process, rewritten for every input, under
// $TMPDIR (a RAM disk there keeps the fuzzer fast).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace lutc_fuzz {

inline std::string temp_root() {
  const char* t = std::getenv("TMPDIR");
  return (t && *t) ? t : "/tmp";
}

// A folder of this process's own: temp_root()/lutc_fuzz_<name>_<pid>.
inline std::string process_dir(const std::string& name) {
  const std::string d = temp_root() + "/lutc_fuzz_" + name + "_" + std::to_string(getpid());
  std::system(("mkdir -p '" + d + "'").c_str());
  return d;
}

// Writes the input to `path`; false when the file cannot be written (the
// input is then skipped, not a finding).
inline bool write_input(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

}  // namespace lutc_fuzz
