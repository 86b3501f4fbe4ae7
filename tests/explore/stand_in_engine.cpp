// A stand-in for `lutc sim` in the explore bookkeeping tests only: it speaks
// the engine contract (argv "sim X.lutp --x x.npy --report R.json", stats JSON
// per docs/stats.md, one program or several) so that sweep expansion, caching, sharding, merging and
// resuming can be tested where the SystemC model is not built. It is not a
// hardware model: cycles are a plain roofline of the executor's counts, and
// nothing outside tests/ ever runs it.
#include <cstdio>
#include <cstring>
#include <string>

#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/npy.h"

namespace {

lutc::EngineStats run_one(const std::string& path, const float* x, uint32_t batch) {
  const lutc::Program p = lutc::read_lutp(path);
  std::vector<float> zeros;
  if (!x) {  // timing-only: counts do not depend on the values
    zeros.assign(size_t(batch) * p.meta.cols, 0.0f);
    x = zeros.data();
  }
  std::vector<float> y(size_t(batch) * p.meta.rows);
  lutc::ExecStats ex;
  lutc::execute(p, x, batch, y.data(), &ex);
  lutc::EngineStats st;
  st.engine = "stand-in";
  st.layer = p.meta.layer;
  st.arch = p.arch.name;
  st.arch_hash = p.arch_hash;
  st.rows = p.meta.rows;
  st.cols = p.meta.cols;
  st.batch = batch;
  st.actions.dram_bytes = ex.dma_bytes;
  st.actions.lut_writes = ex.lut_words_loaded;
  st.actions.lut_reads = ex.macs;
  st.actions.multiplies = ex.macs;
  st.actions.acc_adds = ex.macs;
  st.actions.outlier_ops = ex.outlier_ops;
  st.actions.instructions = ex.instructions;
  st.actions.output_words = uint64_t(p.meta.rows) * batch;
  const uint64_t mem = uint64_t(double(ex.dma_bytes) / p.arch.dram_stream_bytes_per_cycle());
  const uint64_t compute = ex.macs / p.arch.lanes;
  st.cycles = std::max(mem, compute) + p.arch.dram_latency_cycles;
  st.units["dma"].busy_cycles = mem;
  st.units["lanes"].busy_cycles = compute;
  st.finish(p.arch);
  return st;
}

}  // namespace

// argv: sim A.lutp [B.lutp ...] [--x x.npy] [--batch N] --report R.json
int main(int argc, char** argv) {
  std::vector<std::string> programs;
  std::string xpath, report;
  uint32_t batch = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--x" || a == "--report" || a == "--batch") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--x")
        xpath = v;
      else if (a == "--report")
        report = v;
      else
        batch = uint32_t(std::stoul(v));
    } else {
      programs.push_back(a);
    }
  }
  if (argc < 2 || programs.empty() || report.empty() || (!xpath.empty() && programs.size() != 1)) {
    std::fprintf(stderr, "usage: stand_in_engine sim A.lutp [B.lutp ...] [--x x.npy] [--batch N] --report R.json\n");
    return 2;
  }
  try {
    lutc::NpyArray x;
    if (!xpath.empty()) {
      x = lutc::read_npy(xpath);
      batch = uint32_t(x.rows());
    }
    nlohmann::json j;
    if (programs.size() == 1) {
      j = lutc::to_json(run_one(programs[0], xpath.empty() ? nullptr : x.data.data(), batch));
    } else {
      nlohmann::json layers = nlohmann::json::array();
      uint64_t cycles = 0;
      for (const auto& p : programs) {
        const lutc::EngineStats st = run_one(p, nullptr, batch);
        cycles += st.cycles;
        layers.push_back(lutc::to_json(st));
      }
      j = layers[0];  // a stand-in: the summary only has to be well-formed
      j["cycles"] = cycles;
      j["layers"] = layers;
    }
    const std::string text = j.dump(1) + "\n";
    lutc::AtomicFile f(report);
    f.write(text.data(), text.size());
    f.commit();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stand_in_engine: %s\n", e.what());
    return 3;
  }
}
