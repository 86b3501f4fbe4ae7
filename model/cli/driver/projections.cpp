#include "lutc/cli/projections.h"

#include <cstdio>

#include "lutc/model/error.h"
#include "lutc/model/suggest.h"

namespace lutc::cli {
namespace {
std::vector<ProjectionBackendEntry>& registry() {
  static std::vector<ProjectionBackendEntry> r;  // function-local: safe from static init order
  return r;
}
}  // namespace

const std::vector<ProjectionBackendEntry>& projection_backends() { return registry(); }

RegisterProjectionBackend::RegisterProjectionBackend(ProjectionBackendEntry e) { registry().push_back(std::move(e)); }

void ProjectionOptions::add_to(boost::program_options::options_description& opts) {
  namespace po = boost::program_options;
  opts.add_options()("projections", po::value(&name)->default_value("kernels"),
                     "kernels|golden: how the model under test multiplies the .xfp's layers: kernels holds them "
                     "packed and runs the CPU kernels' f32 path (docs/kernels.md); golden decodes them to fp32 "
                     "and multiplies with Eigen (the reference arithmetic)")(
      "projection-threads", po::value(&threads)->default_value(0), "threads of the kernels' products (0 = every core)");
}

std::shared_ptr<const ProjectionBackend> ProjectionOptions::make() const {
  if (name == kGoldenProjections) return nullptr;
  std::vector<std::string> names{kGoldenProjections};
  for (const ProjectionBackendEntry& e : projection_backends()) {
    if (e.name == name) return e.make(threads);
    names.push_back(e.name);
  }
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  throw Error(ExitCode::kUsage, "--projections '" + name + "': this build offers " + list + did_you_mean(name, names));
}

nlohmann::json ProjectionOptions::report(const LlamaModel::ReplacedMemory& m) {
  return {{"backend", m.backend},
          {"threads", m.threads},
          {"tensors", m.tensors},
          {"held_bytes", m.held_bytes},
          {"fp32_bytes", m.fp32_bytes}};
}

std::string ProjectionOptions::line(const LlamaModel::ReplacedMemory& m, bool streaming) {
  char buf[320];
  const char* scope = streaming ? "the most at once" : "all";
  if (m.backend == kGoldenProjections)
    std::snprintf(buf, sizeof buf, "projections: golden (decoded to fp32, Eigen): %llu tensors, %s %.1f MB held",
                  (unsigned long long)m.tensors, scope, double(m.held_bytes) / 1e6);
  else
    std::snprintf(buf, sizeof buf,
                  "projections: %s on %u threads: %llu tensors, %s %.1f MB held (fp32: %.1f MB, %.2fx less)",
                  m.backend.c_str(), m.threads, (unsigned long long)m.tensors, scope, double(m.held_bytes) / 1e6,
                  double(m.fp32_bytes) / 1e6, m.held_bytes ? double(m.fp32_bytes) / double(m.held_bytes) : 0.0);
  return buf;
}

}  // namespace lutc::cli
