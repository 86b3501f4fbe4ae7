#pragma once
// Errors that reach the user. Every reader and the CLI throw these; the CLI
// prints what() and exits with code(). Messages name the file, the layer and
// the byte offset where one exists.
#include <stdexcept>
#include <string>

namespace lutc {

enum class ExitCode : int {
  kOk = 0,
  kUsage = 2,     // bad flags or arguments
  kBadInput = 3,  // malformed / truncated / corrupt input file or bad values
  kIo = 4,        // cannot open, read, write or rename
  kQuality = 5,   // a requested quality floor was missed (only when asked to fail on it)
  kInternal = 70,
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// "file 'x.xfp', layer 'blk.0.q', offset 1234: what" — the parts that are empty are left out.
std::string located(const std::string& file, const std::string& layer, long long offset, const std::string& what);

[[noreturn]] void fail_input(const std::string& file, const std::string& layer, long long offset,
                             const std::string& what);

// Throws Error(kUsage) naming the option as the CLI spells it ("--flag v is
// out of range [lo, hi]") when v is outside [lo, hi] or not finite. The CLI
// and the library entry points that take the same options share it.
void check_range(const std::string& flag, double v, double lo, double hi);

}  // namespace lutc
