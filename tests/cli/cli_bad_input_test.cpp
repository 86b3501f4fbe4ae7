// Bad input through the CLI: a clear message naming the culprit, a documented
// exit code, and no output file left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

namespace fs = std::filesystem;

void copy_prefix(const std::string& from, const std::string& to, uint64_t bytes) {
  std::ifstream in(from, std::ios::binary);
  std::vector<char> buf(bytes);
  in.read(buf.data(), std::streamsize(bytes));
  std::ofstream out(to, std::ios::binary);
  out.write(buf.data(), in.gcount());
}

// A one-tensor F32 safetensors file, built byte by byte here.
void write_tiny_safetensors(const std::string& path, const std::vector<float>& v, uint32_t rows, uint32_t cols) {
  std::string header = "{\"w.weight\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(rows) + "," +
                       std::to_string(cols) + "],\"data_offsets\":[0," + std::to_string(4 * v.size()) + "]}}";
  while (header.size() % 8) header += ' ';
  std::ofstream f(path, std::ios::binary);
  const uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header;
  f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(4 * v.size()));
}

void expect_no_outputs(const std::string& dir, const std::vector<std::string>& allowed) {
  for (const auto& name : files_in(dir)) {
    bool ok = false;
    for (const auto& a : allowed) ok |= (name == a);
    EXPECT_TRUE(ok) << "unexpected file left in " << dir << ": " << name;
  }
}

// An output that is one of the inputs (by file identity: another spelling of
// the path or a hard link) is refused before anything is written, and the
// input keeps its bytes. Before, each of these exited 0 with the input gone.
TEST(CliBadInput, OutputOverAnInputIsRefusedAndTheInputSurvives) {
  const std::string dir = temp_dir();
  std::mt19937_64 rng(fresh_seed());
  std::vector<float> v(16 * 32);
  for (float& x : v) x = float(int(rng() % 2001) - 1000) / 1000.0f;
  const std::string w = dir + "/w.safetensors";
  write_tiny_safetensors(w, v, 16, 32);
  ASSERT_EQ(run_lutc({"quantize", w, "-o", dir + "/q.xfp", "--scheme", "int4.g128", "-q"}).exit_code, 0);
  fs::create_hard_link(dir + "/q.xfp", dir + "/q_link.xfp");
  auto bytes = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(f), {});
  };
  const auto w_before = bytes(w), q_before = bytes(dir + "/q.xfp");
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"quantize", w, "-o", dir + "/./w.safetensors", "--scheme", "int4.g128"}, "overwrite an input"},
      {{"quantize", dir, "-o", w, "--scheme", "int4.g128"}, "input folder"},
      {{"quantize", w, "-o", dir + "/r.xfp", "--report", dir + "/../" + fs::path(dir).filename().string() + "/r.xfp",
        "--scheme", "int4.g128"},
       "same file"},
      {{"decode", dir + "/q.xfp", "-o", dir + "/q_link.xfp"}, "overwrite an input"},
  };
  for (const auto& c : cases) {
    RunResult r = run_lutc(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_EQ(bytes(w), w_before);
  EXPECT_EQ(bytes(dir + "/q.xfp"), q_before);
  expect_no_outputs(dir, {"w.safetensors", "q.xfp", "q_link.xfp"});
}

TEST(CliBadInput, UnknownFlagIsAUsageError) {
  const std::string dir = temp_dir();
  RunResult r = run_lutc({"quantize", "synth:8x8", "-o", dir + "/x.xfp", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
  expect_no_outputs(dir, {});
}

TEST(CliBadInput, AbsurdValuesNameTheFlag) {
  const std::string dir = temp_dir();
  struct Case {
    std::vector<std::string> args;
    const char* flag;
  };
  const std::vector<Case> cases = {
      {{"--bits", "7"}, "--bits"},
      {{"--floor-strict", "1.5"}, "--floor-strict"},
      {{"--floor-lazy=-0.1"}, "--floor-lazy"},
      {{"--outliers", "0.9"}, "--outliers"},
      {{"--scheme", "int3.bogus"}, "--scheme"},
      {{"--tensors", "(["}, "--tensors"},
      {{"--role", "q_proj=wizard"}, "q_proj=wizard"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"quantize", "synth:16x64", "-o", dir + "/x.xfp", "-q"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, 2) << c.flag << ": " << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
  }
  RunResult r = run_lutc({"quantize", "synth:0x64", "-o", dir + "/x.xfp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  expect_no_outputs(dir, {});
}

// A negative count must not wrap to 2^32 - n on its way into an unsigned
// option: the message repeats what was typed, on every command.
TEST(CliBadInput, NegativeCountsAreRefusedAsTyped) {
  const std::string dir = temp_dir();
  const std::vector<std::vector<std::string>> cases = {
      {"quantize", "synth:16x64", "-o", dir + "/x.xfp", "--bits", "-3"},
      {"bench", "--synthetic", "64x64", "--repeat", "-1"},
      {"kernel-check", dir + "/none.xfp", "--batch", "-2"},
  };
  for (const auto& args : cases) {
    RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("expected a number >= 0"), std::string::npos) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err.find("429496"), std::string::npos) << args[0] << ": " << r.err;
  }
  expect_no_outputs(dir, {});
}

TEST(CliBadInput, MissingInputFileIsNamed) {
  const std::string dir = temp_dir();
  RunResult r = run_lutc({"quantize", dir + "/nope.safetensors", "-o", dir + "/x.xfp"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nope.safetensors"), std::string::npos) << r.err;
  expect_no_outputs(dir, {});
}

TEST(CliBadInput, TruncatedSafetensorsNamesTheFileAndLeavesNoOutput) {
  const std::string in = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  const uint64_t size = fs::file_size(in);
  for (uint64_t cut : {uint64_t(3), uint64_t(100), size / 2, size - 1}) {
    copy_prefix(in, dir + "/cut.safetensors", cut);
    RunResult r = run_lutc({"quantize", dir + "/cut.safetensors", "-o", dir + "/x.xfp", "-q"});
    EXPECT_EQ(r.exit_code, 3) << "cut at " << cut << ": " << r.err;
    EXPECT_NE(r.err.find("cut.safetensors"), std::string::npos) << r.err;
    expect_no_outputs(dir, {"cut.safetensors"});
  }
}

TEST(CliBadInput, NonFiniteWeightsNameTheTensorAndLeaveNoOutput) {
  const std::string dir = temp_dir();
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> v(8 * 16, 0.25f);
    v[fresh_seed() % v.size()] = bad;
    write_tiny_safetensors(dir + "/bad.safetensors", v, 8, 16);
    RunResult r =
        run_lutc({"quantize", dir + "/bad.safetensors", "-o", dir + "/x.xfp", "-q", "--report", dir + "/r.json"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("w.weight"), std::string::npos) << r.err;
    expect_no_outputs(dir, {"bad.safetensors"});
  }
}

TEST(CliBadInput, CorruptXfpIsRejectedByEveryReader) {
  const std::string dir = temp_dir();
  RunResult q = run_lutc({"quantize", "synth:32x96@7", "--bits", "3", "-o", dir + "/ok.xfp", "-q"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const uint64_t size = fs::file_size(dir + "/ok.xfp");
  copy_prefix(dir + "/ok.xfp", dir + "/cut.xfp", size - 5);
  for (const auto& cmd :
       std::vector<std::vector<std::string>>{{"info", dir + "/cut.xfp"},
                                             {"decode", dir + "/cut.xfp", "-o", dir + "/d.safetensors"},
                                             {"eval", dir + "/cut.xfp", "--ref", "synth:32x96@7"}}) {
    RunResult r = run_lutc(cmd);
    EXPECT_EQ(r.exit_code, 3) << cmd[0] << ": " << r.err;
    EXPECT_NE(r.err.find("cut.xfp"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
  }
  // One flipped byte in the middle: the checksum catches it.
  std::string bytes;
  {
    std::ifstream f(dir + "/ok.xfp", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x5a);
  std::ofstream(dir + "/flip.xfp", std::ios::binary) << bytes;
  RunResult r = run_lutc({"info", dir + "/flip.xfp"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  expect_no_outputs(dir, {"ok.xfp", "cut.xfp", "flip.xfp"});
}

TEST(CliBadInput, EvalAgainstTheWrongReferenceNamesTheLayer) {
  const std::string dir = temp_dir();
  ASSERT_EQ(run_lutc({"quantize", "synth:32x96@3", "--bits", "4", "-o", dir + "/a.xfp", "-q"}).exit_code, 0);
  RunResult r = run_lutc({"eval", dir + "/a.xfp", "--ref", "synth:32x64@3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("synth.0.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("shape"), std::string::npos) << r.err;
}

// eval --decoded: the flags that go together, and a decoded tensor whose
// shape differs from the reference's (named in the message).
TEST(CliBadInput, EvalDecodedNeedsItsFlagsAndMatchingNames) {
  const std::string dir = temp_dir();
  ASSERT_EQ(run_lutc({"synth", "--spec", "synth:32x64@3", "-o", dir + "/d.safetensors", "-q"}).exit_code, 0);
  ASSERT_EQ(run_lutc({"quantize", "synth:32x64@3", "--bits", "4", "-o", dir + "/a.xfp", "-q"}).exit_code, 0);
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"eval", "--ref", "synth:32x64@3"},  // neither
           {"eval", dir + "/a.xfp", "--decoded", dir + "/d.safetensors", "--bpw", "4", "--ref",
            "synth:32x64@3"},                                                        // both
           {"eval", "--decoded", dir + "/d.safetensors", "--ref", "synth:32x64@3"},  // no --bpw
           {"eval", dir + "/a.xfp", "--bpw", "4", "--ref", "synth:32x64@3"},         // --bpw alone
           {"eval", "--decoded", dir + "/d.safetensors", "--bpw", "0", "--ref", "synth:32x64@3"}}) {
    RunResult r = run_lutc(cmd);
    EXPECT_EQ(r.exit_code, 2) << r.err;
  }
  RunResult r = run_lutc({"eval", "--decoded", dir + "/d.safetensors", "--bpw", "4", "--ref", "synth:32x96@3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("synth.0.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("shape"), std::string::npos) << r.err;
  expect_no_outputs(dir, {"d.safetensors", "a.xfp"});
}

}  // namespace
}  // namespace lutc::testing
