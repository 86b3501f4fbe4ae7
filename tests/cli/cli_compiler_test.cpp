// The compiler's commands end to end: a program run by the executor gives the
// same bytes as the golden GEMV computed straight from the .xfp, for a lossless
// and a lossy (edge) arch; a program is refused on the wrong arch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "example_inputs.h"
#include "lutc/model/npy.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

void expect_same_y(const std::string& a, const std::string& b) {
  const NpyArray ya = read_npy(a), yb = read_npy(b);
  ASSERT_EQ(ya.shape, yb.shape);
  ASSERT_EQ(ya.data.size(), yb.data.size());
  for (float v : ya.data) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(std::memcmp(ya.data.data(), yb.data.data(), 4 * ya.data.size()), 0);
}

TEST(CliCompiler, ExecutorMatchesGoldenGemvForEachSchemeAndArch) {
  const uint64_t seed = fresh_seed();
  const std::string dir = temp_dir();
  const std::string spec = "synth:40x200@" + std::to_string(seed % 100000 + 1);
  write_random_x(dir + "/x.npy", 3, 200, seed);
  for (const std::string scheme : {"xfp.v2", "xfp.v2a", "int4.g128", "nf4.b64", "fp8.e4m3"}) {
    ASSERT_EQ(run_lutc({"quantize", spec, "--scheme", scheme, "-o", dir + "/l.xfp", "-q"}).exit_code, 0) << scheme;
    for (const std::string a : {"default", "edge"}) {
      RunResult c = run_lutc({"compile", dir + "/l.xfp", "--arch", example_arch(a), "-o", dir + "/l.lutp"});
      ASSERT_EQ(c.exit_code, 0) << scheme << " " << a << ": " << c.err;
      RunResult r =
          run_lutc({"run", dir + "/l.lutp", "--engine", "exec", "--x", dir + "/x.npy", "-o", dir + "/y_exec.npy"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      RunResult g = run_lutc(
          {"gemv", dir + "/l.xfp", "--arch", example_arch(a), "--x", dir + "/x.npy", "-o", dir + "/y_gold.npy"});
      ASSERT_EQ(g.exit_code, 0) << g.err;
      SCOPED_TRACE(scheme + " on " + a);
      expect_same_y(dir + "/y_exec.npy", dir + "/y_gold.npy");
    }
  }
}

TEST(CliCompiler, ProgramIsRefusedOnAnotherArch) {
  const std::string dir = temp_dir();
  ASSERT_EQ(run_lutc({"quantize", "synth:16x64@5", "--bits", "4", "-o", dir + "/l.xfp", "-q"}).exit_code, 0);
  ASSERT_EQ(run_lutc({"compile", dir + "/l.xfp", "--arch", example_arch("edge"), "-o", dir + "/l.lutp"}).exit_code, 0);
  write_random_x(dir + "/x.npy", 1, 64, 9);
  RunResult r = run_lutc(
      {"run", dir + "/l.lutp", "--x", dir + "/x.npy", "-o", dir + "/y.npy", "--arch", example_arch("default")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("l.lutp"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/y.npy"));
}

// Every command that reads --x names the file and, where the fault sits at a
// place in it, the byte offset: a wrong shape names expected and got, a
// non-finite element its index and offset, a truncated file where it ends.
TEST(CliCompiler, BadActivationsNameTheFileAndTheOffset) {
  const uint64_t seed = fresh_seed();
  std::mt19937_64 rng(seed);
  const std::string dir = temp_dir();
  const uint64_t cols = 16 + rng() % 100, batch = 2;
  const std::string spec = "synth:8x" + std::to_string(cols) + "@" + std::to_string(seed % 100000 + 1);
  ASSERT_EQ(run_lutc({"quantize", spec, "--bits", "4", "-o", dir + "/l.xfp", "-q"}).exit_code, 0);
  ASSERT_EQ(run_lutc({"compile", dir + "/l.xfp", "--arch", example_arch("default"), "-o", dir + "/l.lutp"}).exit_code,
            0);

  write_random_x(dir + "/wide.npy", batch, cols + 1, seed);
  std::vector<float> x(batch * cols, 0.25f);
  const uint64_t bad = rng() % x.size();
  struct NonFinite {
    const char* name;
    float value;
    const char* said;
  };
  const NonFinite values[] = {{"nan", std::nanf(""), "is NaN"},
                              {"inf", -INFINITY, "is infinite"},
                              {"huge", 3.4e38f, "is outside the bf16 range"}};
  for (const NonFinite& v : values) {
    x[bad] = v.value;
    write_npy(dir + "/" + v.name + ".npy", {batch, cols}, x.data());
  }
  const uint64_t bad_at = read_npy(dir + "/inf.npy").offset_of(bad);
  // A good file with its last bytes cut off.
  write_random_x(dir + "/good.npy", batch, cols, seed);
  const uint64_t good_size = std::filesystem::file_size(dir + "/good.npy");
  std::filesystem::copy_file(dir + "/good.npy", dir + "/cut.npy");
  std::filesystem::resize_file(dir + "/cut.npy", good_size - 3);

  const std::vector<std::vector<std::string>> commands = {
      {"gemv", dir + "/l.xfp"}, {"run", dir + "/l.lutp"}, {"sim", dir + "/l.lutp"}};
  for (const auto& cmd : commands) {
    auto run_with = [&](const std::string& file) {
      std::vector<std::string> args = cmd;
      for (const std::string& a : {std::string("--x"), dir + "/" + file, std::string("-o"), dir + "/y.npy"})
        args.push_back(a);
      RunResult r = run_lutc(args);
      EXPECT_EQ(r.exit_code, 3) << cmd[0] << " " << file << ": " << r.err;
      EXPECT_NE(r.err.find(dir + "/" + file), std::string::npos) << cmd[0] << ": " << r.err;
      EXPECT_FALSE(std::filesystem::exists(dir + "/y.npy")) << cmd[0] << " " << file;
      return r.err;
    };
    const std::string wide = run_with("wide.npy");
    EXPECT_NE(wide.find("(" + std::to_string(batch) + ", " + std::to_string(cols + 1) + ")"), std::string::npos)
        << wide;
    EXPECT_NE(wide.find("expected shape (" + std::to_string(cols) + ",) or (batch, " + std::to_string(cols) + ")"),
              std::string::npos)
        << wide;
    for (const NonFinite& v : values) {
      const std::string m = run_with(std::string(v.name) + ".npy");
      EXPECT_NE(m.find("offset " + std::to_string(bad_at)), std::string::npos) << m;
      EXPECT_NE(m.find("element " + std::to_string(bad) + " (vector " + std::to_string(bad / cols) + ", column " +
                       std::to_string(bad % cols) + ") " + v.said),
                std::string::npos)
          << m;
    }
    const std::string cut = run_with("cut.npy");
    EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
    EXPECT_NE(cut.find("offset " + std::to_string(good_size - 3)), std::string::npos) << cut;
  }
}

}  // namespace
}  // namespace lutc::testing
