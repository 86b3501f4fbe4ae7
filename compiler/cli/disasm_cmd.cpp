// lutc disasm: the readable listing of a .lutp (docs/isa.md "Listing").
#include <cstdio>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/listing.h"
#include "lutc/compiler/lutp_file.h"

namespace lutc::cli {
namespace {

int run_disasm(int argc, char** argv) {
  std::string in;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".lutp file");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc disasm X.lutp\n\nPrints the program: header, LUT image (HIF words as "
                          "sign mant>>shift) and one line per instruction.",
                          opts, pos, vm))
    return 0;
  const std::string text = program_listing(read_lutp(in));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

const RegisterCommand kRegister({"disasm", "print the listing of a .lutp program", run_disasm});

}  // namespace
}  // namespace lutc::cli
