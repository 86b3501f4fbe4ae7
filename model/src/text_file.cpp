#include "lutc/model/text_file.h"

#include <fstream>
#include <sstream>

#include "lutc/model/error.h"
#include "lutc/model/suggest.h"

namespace lutc {

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  if (f) s << f.rdbuf();
  if (!f || f.bad()) throw Error(ExitCode::kIo, "cannot open " + what + " '" + path + "'" + did_you_mean_file(path));
  return s.str();
}

}  // namespace lutc
