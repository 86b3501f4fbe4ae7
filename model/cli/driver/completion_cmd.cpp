// `lutc completion bash|zsh` and `lutc manpage`: shell completion and lutc(1)
// written from the option tables --help prints (option_tables.h). The build
// runs both to produce the installed files (cmake/LutcGeneratedDocs.cmake).
#include <string>

#include "completion_scripts.h"
#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"
#include "man_page.h"
#include "option_tables.h"

namespace lutc::cli {
namespace {

int run_completion(int argc, char** argv) {
  std::string shell, out;
  po::options_description opts("options");
  opts.add_options()("shell", po::value(&shell)->required(), "bash|zsh: the shell to write the script for")(
      "output,o", po::value(&out), "write the script here (atomically) instead of stdout");
  po::positional_options_description pos;
  pos.add("shell", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc completion bash|zsh [-o FILE]\n\n"
                          "Prints the completion script for every command, flag and choice value.\n"
                          "bash: source <(lutc completion bash)    zsh: source <(lutc completion zsh)\n"
                          "(installed: share/bash-completion/completions/lutc, share/zsh/site-functions/_lutc)",
                          opts, pos, vm))
    return 0;
  check_output_file(out, "-o", {});
  std::string text;
  if (shell == "bash")
    text = bash_completion(option_tables());
  else if (shell == "zsh")
    text = zsh_completion(option_tables());
  else
    throw Error(ExitCode::kUsage, "--shell '" + shell + "': expected bash or zsh");
  write_text_output(out, text);
  return 0;
}

int run_manpage(int argc, char** argv) {
  std::string out;
  po::options_description opts("options");
  opts.add_options()("output,o", po::value(&out), "write the page here (atomically) instead of stdout");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc manpage [-o FILE]\n\n"
                          "Prints lutc(1) in roff: every command with its usage and options, as --help shows them.\n"
                          "Read it with: lutc manpage | man -l -",
                          opts, pos, vm))
    return 0;
  check_output_file(out, "-o", {});
  write_text_output(out, man_page(option_tables()));
  return 0;
}

const RegisterCommand kCompletion({"completion", "print the bash or zsh completion script", run_completion});
const RegisterCommand kManpage({"manpage", "print the lutc(1) man page (roff) made from every command's --help",
                                run_manpage});

}  // namespace
}  // namespace lutc::cli
