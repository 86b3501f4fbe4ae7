// lutc-vs-ggml: the ggml side of scripts/bench-vs-ggml (kernels/vs_ggml/README.md).
//   lutc-vs-ggml info                  what this ggml is: version, CPU features, types
//   lutc-vs-ggml speed   --type T ...  ggml's CPU GEMV against lutc's read yardstick
//   lutc-vs-ggml quality --type T ...  quantize + dequantize matrices for lutc eval --decoded
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "lutc/kernels/cpu/isa.h"
#include "vs_ggml.h"

namespace vs_ggml {

int run_info(int argc, char** argv) {
  if (argc > 1) usage_error(std::string("info takes no arguments, got '") + argv[1] + "'");
  nlohmann::json types = nlohmann::json::array();
  for (const char* name : {"q4_0", "iq4_nl", "q4_K", "mxfp4", "nvfp4", "q8_0"}) {
    try {
      types.push_back(type_json(find_type(name)));
    } catch (const Failure&) {
      // A type this ggml lacks is simply not listed.
    }
  }
  nlohmann::json extra = nlohmann::json::array();
  if (ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU)) {
    auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
        ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts"));
    for (ggml_backend_buffer_type_t* b = get_extra ? get_extra(dev) : nullptr; b && *b; ++b)
      extra.push_back(ggml_backend_buft_name(*b));
  }
  const nlohmann::json j = {{"ggml_version", ggml_version()},
                            {"ggml_commit", ggml_commit()},
                            {"cpu",
                             {{"avx2", bool(ggml_cpu_has_avx2())},
                              {"avx512", bool(ggml_cpu_has_avx512())},
                              {"avx512_vnni", bool(ggml_cpu_has_avx512_vnni())},
                              {"avx512_bf16", bool(ggml_cpu_has_avx512_bf16())},
                              {"amx_int8", bool(ggml_cpu_has_amx_int8())},
                              {"llamafile", bool(ggml_cpu_has_llamafile())}}},
                            {"extra_buffer_types", extra},
                            {"read_isa", lutc::kernels::isa_name(lutc::kernels::best_isa())},
                            {"types", types}};
  std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace vs_ggml

namespace {

// ggml logs every weight it repacks at INFO level (once per copy here):
// only warnings and errors reach stderr. CONT lines follow their first line.
void quiet_log(ggml_log_level level, const char* text, void* /*user*/) {
  static bool shown = false;
  if (level != GGML_LOG_LEVEL_CONT) shown = level >= GGML_LOG_LEVEL_WARN;
  if (shown) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: lutc-vs-ggml info | speed [options] | quality [options]   (COMMAND --help for its options)";
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << usage << "\n";
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  ggml_log_set(quiet_log, nullptr);
  try {
    if (cmd == "info") return vs_ggml::run_info(argc - 1, argv + 1);
    if (cmd == "speed") return vs_ggml::run_speed(argc - 1, argv + 1);
    if (cmd == "quality") return vs_ggml::run_quality(argc - 1, argv + 1);
    std::cerr << "lutc-vs-ggml: unknown command '" << cmd << "'\n" << usage << "\n";
    return 2;
  } catch (const vs_ggml::Failure& e) {
    std::cerr << "lutc-vs-ggml " << cmd << ": " << e.what() << "\n";
    return e.code();
  } catch (const boost::program_options::error& e) {
    std::cerr << "lutc-vs-ggml " << cmd << ": " << e.what() << " (--help lists the options)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "lutc-vs-ggml " << cmd << ": " << e.what() << "\n";
    return 1;
  }
}
