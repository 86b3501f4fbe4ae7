// lutc: one executable, many subcommands. Errors are reported here once, with
// the exit codes of lutc::ExitCode, so no subcommand can crash on bad input.
#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "driver_help.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"
#include "lutc/model/exit_class.h"
#include "lutc/model/suggest.h"
#include "lutc/model/temp_paths.h"

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(lutc::cli::driver_help().c_str(), stdout);
    return argc < 2 ? int(lutc::ExitCode::kUsage) : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("lutc %s\n", lutc::cli::kVersion);
    return 0;
  }
  const std::string name = argv[1];
  // Ctrl-C or a kill while an output is being written leaves no temp behind.
  lutc::remove_temps_on_signals();
  for (const auto& c : lutc::cli::commands()) {
    if (c.name != name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const lutc::Error& e) {
      std::fprintf(stderr, "lutc %s: error: %s\n", name.c_str(), e.what());
      return int(e.code());
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "lutc %s: error: %s (see lutc %s --help)\n", name.c_str(), e.what(), name.c_str());
      return int(lutc::ExitCode::kUsage);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "lutc %s: error: out of memory\n", name.c_str());
      return int(lutc::ExitCode::kIo);
    } catch (const std::exception& e) {
      // exit_code_of: a filesystem_error (a folder that cannot be made or
      // listed: permissions, a read-only or full disk, a name too long) is
      // the disk's fault, exit 4, and its what() names the path; anything
      // else reaching here is a bug.
      const lutc::ExitCode code = lutc::exit_code_of(e);
      std::fprintf(stderr, "lutc %s: %s: %s\n", name.c_str(),
                   code == lutc::ExitCode::kInternal ? "internal error" : "error", e.what());
      return int(code);
    }
  }
  std::vector<std::string> names;
  for (const auto& c : lutc::cli::commands()) names.push_back(c.name);
  std::fprintf(stderr, "lutc: unknown command '%s'%s (lutc --help lists them)\n", name.c_str(),
               lutc::did_you_mean(name, names).c_str());
  return int(lutc::ExitCode::kUsage);
}
