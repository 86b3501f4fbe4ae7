#pragma once
// How `lutc lm-eval` and `lutc hprocess` multiply the model under test's
// quantized layers (--projections NAME). model/ defines the interface
// (lutc/model/projection_backend.h) and the golden path, which needs no
// backend; an implementation registers itself from its component's cli/
// folder with a static RegisterProjectionBackend, as commands do
// (command.h), so model/ never links or names it. The CPU kernels register
// "kernels" (kernels/cli/kernel_projections.cpp).
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "lutc/model/llama.h"
#include "lutc/model/projection_backend.h"

namespace lutc::cli {

struct ProjectionBackendEntry {
  std::string name;
  // A backend on `threads` threads in all (0: every core).
  std::shared_ptr<const ProjectionBackend> (*make)(unsigned threads);
};

// Registered backends, by name.
const std::vector<ProjectionBackendEntry>& projection_backends();

struct RegisterProjectionBackend {
  explicit RegisterProjectionBackend(ProjectionBackendEntry e);
};

// The name of the golden path: no backend.
constexpr const char* kGoldenProjections = "golden";

// --projections NAME and --projection-threads N.
struct ProjectionOptions {
  std::string name = "kernels";
  unsigned threads = 0;
  void add_to(boost::program_options::options_description& opts);
  // The backend asked for: null for golden; Error(kUsage) naming the choices
  // for a name this build has not registered.
  std::shared_ptr<const ProjectionBackend> make() const;
  // {"backend", "threads", "tensors", "held_bytes", "fp32_bytes"} for JSON reports.
  static nlohmann::json report(const LlamaModel::ReplacedMemory& m);
  // One line for tables.
  static std::string line(const LlamaModel::ReplacedMemory& m, bool streaming);
};

}  // namespace lutc::cli
