// lutc export end to end: `lutc quantize` (xfp auto, and an SOP format) then
// export; the folder holds `lutc decode`'s values rounded to the dtype (q/k
// rows in rotate-half order), the source's other tensors byte for byte, and
// lutc's own forward pass on the exported folder gives the logits of the
// source with the .xfp decoded into it. Bad inputs give their exit codes and
// leave no folder and no temp file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lutc/model/fp16.h"
#include "lutc/model/npy.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "rope_oracle.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> bf16_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(2 * v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t b = float_to_bf16(v[i]);
    std::memcpy(&out[2 * i], &b, 2);
  }
  return out;
}

bool is_qk(const std::string& n) {
  return n.find("self_attn.q_proj.") != std::string::npos || n.find("self_attn.k_proj.") != std::string::npos;
}

class CliExport : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(CliExport, FolderHoldsTheDecodeAndRunsLikeTheXfp) {
  const std::string src = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(src)) return;
  const std::string dir = temp_dir(), xfp = dir + "/q.xfp", decoded = dir + "/d.safetensors", out = dir + "/hf";
  std::vector<std::string> quantize = {"quantize", src, "-o", xfp, "--quiet"};
  quantize.insert(quantize.end(), GetParam().begin(), GetParam().end());
  RunResult q = run_lutc(quantize);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  ASSERT_EQ(run_lutc({"decode", xfp, "-o", decoded}).exit_code, 0);

  RunResult e = run_lutc({"export", xfp, "--source", src, "-o", out, "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const nlohmann::json report = nlohmann::json::parse(e.out);
  EXPECT_EQ(report["decoded"], 35);
  EXPECT_EQ(report["qk_permuted"], true);
  EXPECT_EQ(report["config_synthesized"], true);
  EXPECT_EQ(report["dtype"], "bfloat16");

  const auto s = WeightFile::open(src), d = WeightFile::open(decoded), got = WeightFile::open(out);
  const XfpReader x(xfp);
  EXPECT_EQ(got->tensors().size(), s->tensors().size());
  uint64_t rounded = 0, values = 0;
  for (const TensorInfo& t : s->tensors()) {
    SCOPED_TRACE(t.name);
    const TensorInfo* g = got->find(t.name);
    ASSERT_NE(g, nullptr);
    const size_t i = x.find(t.name);
    std::vector<uint8_t> want;
    if (i < x.records().size() && x.records()[i].kind == XfpRecordKind::kLayer) {
      const std::vector<float> w = d->read_all(*d->find(t.name));
      for (float v : w) rounded += bf16_to_float(float_to_bf16(v)) != v;
      values += w.size();
      want = bf16_bytes(w);
      EXPECT_EQ(g->dtype, DType::kBF16);
    } else {
      want = s->read_raw(t);
      EXPECT_EQ(g->dtype, t.dtype);
    }
    if (is_qk(t.name)) want = to_rotate_half(want, t.rows(), 8);
    EXPECT_TRUE(got->read_raw(*g) == want);
  }
  uint64_t reported_values = 0, reported_rounded = 0;
  for (const auto& [scheme, r] : report["rounding"].items()) {
    reported_values += r["values"].get<uint64_t>();
    reported_rounded += r["rounded_bf16"].get<uint64_t>();
  }
  EXPECT_EQ(reported_values, values);
  EXPECT_EQ(reported_rounded, rounded);

  // fp32 export: lutc's forward pass on the folder (rotate-half) against the
  // source with the .xfp decoded into it (interleaved).
  const std::string out32 = dir + "/hf32", a = dir + "/a.npy", b = dir + "/b.npy";
  ASSERT_EQ(run_lutc({"export", xfp, "--source", src, "-o", out32, "--dtype", "fp32"}).exit_code, 0);
  const std::string tokens = "1,403,36,289,12,77,500,3";
  RunResult la = run_lutc({"lm-eval", src, "--xfp", xfp, "--tokens", tokens, "--dump-logits", a});
  ASSERT_EQ(la.exit_code, 0) << la.err;
  RunResult lb = run_lutc({"lm-eval", out32, "--tokens", tokens, "--dump-logits", b});
  ASSERT_EQ(lb.exit_code, 0) << lb.err;
  const NpyArray la_ = read_npy(a), lb_ = read_npy(b);
  ASSERT_EQ(la_.shape, (std::vector<uint64_t>{8, 512}));
  ASSERT_EQ(lb_.shape, la_.shape);
  float peak = 0, diff = 0;
  for (size_t i = 0; i < la_.data.size(); ++i) {
    peak = std::max(peak, std::fabs(la_.data[i]));
    diff = std::max(diff, std::fabs(la_.data[i] - lb_.data[i]));
  }
  EXPECT_LE(diff, 1e-5f * peak) << "max |logit difference| " << diff << " of peak " << peak;
}

INSTANTIATE_TEST_SUITE_P(Schemes, CliExport,
                         ::testing::Values(std::vector<std::string>{"--scheme", "xfp"},
                                           std::vector<std::string>{"--scheme", "sop", "--sop-format",
                                                                    "e2m3.ue4m4.b16"}));

TEST(CliExportBadInput, ExitCodesAndNoOutput) {
  const std::string src = shared_data("stories260K/stories260K.safetensors");
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(src) || !require_file(bin)) return;
  const std::string dir = temp_dir(), xfp = dir + "/q.xfp", other = dir + "/other.xfp", out = dir + "/out";
  ASSERT_EQ(run_lutc({"quantize", src, "-o", xfp, "--scheme", "nf4.b64", "--quiet"}).exit_code, 0);
  ASSERT_EQ(run_lutc({"quantize", "synth:64x64,32x64", "-o", other, "--scheme", "nf4.b64", "--quiet"}).exit_code, 0);
  const std::vector<std::string> before = files_in(dir);

  auto refused = [&](const std::vector<std::string>& args, int code, const std::string& says) {
    RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(files_in(dir), before) << "output or temp files left";
  };
  refused({"export", other, "--source", src, "-o", out}, 3, "another model");
  refused({"export", xfp, "--source", dir + "/missing.safetensors", "-o", out}, 4, "missing.safetensors");
  refused({"export", xfp, "--source", src, "-o", out, "--dtype", "int8"}, 2, "--dtype");
  refused({"export", xfp, "--source", src, "-o", out, "--max-shard-size", "lots"}, 2, "--max-shard-size");
  refused({"export", xfp, "-o", out}, 2, "source");

  fs::create_directories(out + "/x");
  RunResult busy = run_lutc({"export", xfp, "--source", src, "-o", out});
  EXPECT_EQ(busy.exit_code, 2) << busy.err;
  EXPECT_NE(busy.err.find("--force"), std::string::npos) << busy.err;
  EXPECT_TRUE(fs::exists(out + "/x"));
  RunResult forced = run_lutc({"export", xfp, "--source", bin, "-o", out, "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_FALSE(fs::exists(out + "/x"));
  EXPECT_NE(forced.out.find("permuted q_proj/k_proj"), std::string::npos) << forced.out;
  EXPECT_TRUE(fs::exists(out + "/config.json"));

  RunResult help = run_lutc({"export", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("xfp.v2"), std::string::npos);
}

}  // namespace
}  // namespace lutc::testing
