// lutc act-stats end to end: the statistics file covers every projection of
// the real stories260K model under the names quantize uses, quantize selects by
// ACos with it, and bad flags or inputs exit with their code and leave nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "lutc/model/weights.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

namespace fs = std::filesystem;

std::string model_path(std::mt19937_64& rng) {
  return shared_data(rng() % 2 ? "stories260K/stories260K.bin" : "stories260K/stories260K.safetensors");
}

// Every statistics tensor is an F32 [K] vector of finite values > 0, one per
// 2-D weight of the model (stories260K ties its classifier to the embedding,
// so the embedding has one too), K = the weight's column count.
void expect_covers_every_projection(const std::string& stats_path, const std::string& model) {
  auto s = WeightFile::open(stats_path);
  auto m = WeightFile::open(model);
  size_t matrices = 0;
  for (const TensorInfo& t : m->tensors()) {
    if (!t.is_matrix()) continue;
    ++matrices;
    SCOPED_TRACE(t.name);
    const TensorInfo* v = s->find(t.name);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->dtype, DType::kF32);
    EXPECT_EQ(v->shape, std::vector<uint64_t>{t.cols()});
    for (float x : s->read_all(*v)) EXPECT_TRUE(std::isfinite(x) && x > 0) << x;
  }
  EXPECT_EQ(s->tensors().size(), matrices);
  EXPECT_EQ(matrices, 36u);
}

TEST(CliActStats, Stories260kStatisticsDriveQuantizeByAcos) {
  std::mt19937_64 rng(fresh_seed());
  const std::string model = model_path(rng);
  if (!require_file(model)) return;
  const std::string dir = temp_dir(), stats = dir + "/s.safetensors";
  const unsigned prompts = 1 + unsigned(rng() % 4), tokens = 1 + unsigned(rng() % 40);
  std::vector<std::string> args = {
      "act-stats", model, "-o", stats, "--prompts", std::to_string(prompts), "--tokens", std::to_string(tokens),
      "--json"};
  if (rng() % 2) args.insert(args.end(), {"--seed", std::to_string(rng() % 1000)});
  RunResult r = run_lutc(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const uint64_t positions = uint64_t(prompts) * (2 + tokens);  // BOS + one token + the continuation
  EXPECT_EQ(j["positions"].get<uint64_t>(), positions);
  EXPECT_EQ(j["tensors"].get<size_t>(), 36u);
  for (const auto& l : j["layers"]) {
    EXPECT_EQ(l["positions"].get<uint64_t>(), positions) << l["name"];
    EXPECT_GE(l["max_over_mean"].get<double>(), 1.0) << l["name"];
  }
  expect_covers_every_projection(stats, model);
  EXPECT_EQ(WeightFile::open(stats)->metadata().at("positions"), std::to_string(positions));

  const std::string report = dir + "/r.json";
  RunResult q = run_lutc({"quantize", model, "--scheme", "sop", "--sop-format", "pair(nf4,dd4).ue4m4.b16",
                          "--act-stats", stats, "-o", dir + "/q.xfp", "--report", report, "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("selection metric: ACos"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("has no activation statistics"), std::string::npos) << q.out;
  std::istringstream lines(q.out);
  int sop_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("sop: ", 0) != 0) continue;
    ++sop_lines;
    EXPECT_NE(line.find(" ACos min "), std::string::npos) << line;
  }
  EXPECT_EQ(sop_lines, 35);  // every matrix but the embedding table, kept by default
  std::ifstream rf(report);
  EXPECT_EQ(nlohmann::json::parse(rf)["selection_metric"], "acos");
}

TEST(CliActStats, TokensFileCountsEveryPosition) {
  std::mt19937_64 rng(fresh_seed());
  const std::string model = model_path(rng);
  if (!require_file(model)) return;
  const std::string dir = temp_dir(), stats = dir + "/s.safetensors", tokens = dir + "/t.txt";
  uint64_t positions = 0;
  {
    std::ofstream f(tokens);
    for (int line = 0, n = 1 + int(rng() % 5); line < n; ++line) {
      const int len = 1 + int(rng() % 100);
      for (int i = 0; i < len; ++i) f << rng() % 512 << (i + 1 < len ? " " : "\n");
      positions += uint64_t(len);
    }
  }
  RunResult r = run_lutc({"act-stats", model, "--tokens-file", tokens, "-o", stats});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model.layers.4.mlp.down_proj.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max/mean"), std::string::npos) << r.out;
  expect_covers_every_projection(stats, model);
  EXPECT_EQ(WeightFile::open(stats)->metadata().at("positions"), std::to_string(positions));
}

TEST(CliActStats, HelpExplainsThePipeline) {
  RunResult r = run_lutc({"act-stats", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"E[x_k^2]", "ACos", "--act-stats", "lutc quantize", "--tokens-file"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  r = run_lutc({"--help"});
  EXPECT_NE(r.out.find("act-stats"), std::string::npos);
}

void expect_nothing_but(const std::string& dir, const std::vector<std::string>& allowed) {
  for (const auto& name : files_in(dir)) {
    bool ok = false;
    for (const auto& a : allowed) ok |= name == a;
    EXPECT_TRUE(ok) << "unexpected file left in " << dir << ": " << name;
  }
}

TEST(CliActStats, BadFlagsAreUsageErrorsAndWriteNothing) {
  const std::string model = shared_data("stories260K/stories260K.bin");
  if (!require_file(model)) return;
  const std::string dir = temp_dir(), out = dir + "/s.safetensors";
  std::ofstream(dir + "/t.txt") << "1 2 3\n";
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"--prompts", "0"}, "--prompts"},
      {{"--tokens", "0"}, "--tokens"},
      {{"--prompts", "100000"}, "--prompts"},
      {{"--tokens", "600"}, "seq_len"},
      {{"--tokens", "99999999999"}, "--tokens"},
      {{"--prompts=-3"}, "--prompts"},
      {{"--tokens-file", dir + "/t.txt", "--prompts", "2"}, "--tokens-file"},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"act-stats", model, "-o", out};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = run_lutc(args);
    SCOPED_TRACE(args.back());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  RunResult r = run_lutc({"act-stats", model});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("output"), std::string::npos) << r.err;
  expect_nothing_but(dir, {"t.txt"});
}

TEST(CliActStats, BadInputsExitWithTheirCodeAndWriteNothing) {
  std::mt19937_64 rng(fresh_seed());
  const std::string model = shared_data("stories260K/stories260K.bin");
  if (!require_file(model)) return;
  const std::string dir = temp_dir(), out = dir + "/s.safetensors";
  // A valid tokens file, then cut: to nothing, and mid-way with garbage or an
  // out-of-vocabulary id on the line where it was cut.
  std::string text;
  for (int line = 0; line < 4; ++line) {
    for (int i = 0; i < 10; ++i) text += std::to_string(3 + rng() % 500) + " ";
    text += "\n";
  }
  const size_t cut = 1 + rng() % (text.size() - 1);
  struct Case {
    std::string name, content;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"empty.txt", "", 3, "no token"},
      {"cut_garbage.txt", text.substr(0, cut) + "\x01\x02", 3, "not an integer"},
      {"cut_vocab.txt", text.substr(0, cut) + "\n1 2 512", 3, "token '512'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::ofstream(dir + "/" + c.name, std::ios::binary) << c.content;
    RunResult r = run_lutc({"act-stats", model, "--tokens-file", dir + "/" + c.name, "-o", out});
    EXPECT_EQ(r.exit_code, c.code) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.name), std::string::npos) << "the message names the file: " << r.err;
    if (!c.content.empty()) {
      EXPECT_NE(r.err.find("line"), std::string::npos) << r.err;
    }
  }
  RunResult r = run_lutc({"act-stats", model, "--tokens-file", dir + "/missing.txt", "-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.err;

  // Models: not a weight file, truncated, missing; and an output folder that does not exist.
  std::ofstream(dir + "/junk.bin") << "this is not a model";
  {
    std::ifstream in(model, std::ios::binary);
    std::vector<char> buf(size_t(1000 + rng() % 100000));
    in.read(buf.data(), std::streamsize(buf.size()));
    std::ofstream(dir + "/cut.bin", std::ios::binary).write(buf.data(), in.gcount());
  }
  for (const auto& [m, code] : std::vector<std::pair<std::string, int>>{
           {dir + "/junk.bin", 3}, {dir + "/cut.bin", 3}, {dir + "/missing.bin", 4}}) {
    RunResult rm = run_lutc({"act-stats", m, "-o", out});
    EXPECT_EQ(rm.exit_code, code) << m << ": " << rm.err;
  }
  RunResult ro = run_lutc({"act-stats", model, "-o", dir + "/no/such/folder/s.safetensors"});
  EXPECT_EQ(ro.exit_code, 4) << ro.err;
  expect_nothing_but(dir, {"empty.txt", "cut_garbage.txt", "cut_vocab.txt", "junk.bin", "cut.bin"});
}

}  // namespace
}  // namespace lutc::testing
