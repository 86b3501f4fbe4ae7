// The CLI's subcommands agree with each other and with the library on real
// weights: quantize's report, info, eval and decode describe the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "lutc/model/golden.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

nlohmann::json parse_json_file(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

TEST(CliHelp, ListsEveryCommandAndExplainsQuantize) {
  RunResult r = run_lutc({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"quantize", "info", "decode", "eval", "synth"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
  r = run_lutc({"quantize", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--floor-strict"), std::string::npos);
  EXPECT_NE(r.out.find("--floor-lazy"), std::string::npos);
  r = run_lutc({});
  EXPECT_EQ(r.exit_code, 2);
}

// Quantize stories260K with XFP auto-select, then check every other view of
// the file against the report.
TEST(CliRoundTrip, Stories260kXfpAutoMeetsFloorsAndAllViewsAgree) {
  const std::string in = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  const std::string xfp = dir + "/s.xfp", report = dir + "/r.json", dec = dir + "/d.safetensors";
  RunResult q = run_lutc({"quantize", in, "--scheme", "xfp", "--floor-strict", "0.99", "--floor-lazy", "0.98", "-o",
                          xfp, "--report", report, "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const nlohmann::json rep = parse_json_file(report);
  ASSERT_GT(rep["layers"].size(), 30u);
  for (const auto& l : rep["layers"]) {
    EXPECT_TRUE(l["floor_met"].get<bool>()) << l["name"];
    EXPECT_GE(l["cos_min"].get<double>(), l["floor"].get<double>()) << l["name"];
    EXPECT_GT(l["bpw"].get<double>(), 1.0);
  }

  RunResult info = run_lutc({"info", xfp, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const nlohmann::json ij = nlohmann::json::parse(info.out);
  EXPECT_EQ(ij["total"]["bpw"].get<double>(), rep["total"]["bpw"].get<double>());
  EXPECT_EQ(ij["total"]["stored_bits"], rep["total"]["stored_bits"]);

  RunResult ev = run_lutc({"eval", xfp, "--ref", in, "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const nlohmann::json ej = nlohmann::json::parse(ev.out);
  ASSERT_EQ(ej["layers"].size(), rep["layers"].size());
  for (size_t i = 0; i < ej["layers"].size(); ++i) {
    EXPECT_EQ(ej["layers"][i]["name"], rep["layers"][i]["name"]);
    EXPECT_EQ(ej["layers"][i]["cos_min"].get<double>(), rep["layers"][i]["cos_min"].get<double>());
    EXPECT_EQ(ej["layers"][i]["sqnr_db"], rep["layers"][i]["sqnr_db"]);
  }

  RunResult d = run_lutc({"decode", xfp, "-o", dec});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const XfpFile f = read_xfp(xfp);
  auto decoded = WeightFile::open(dec);
  auto original = WeightFile::open(in);
  for (const auto& layer : f.layers) {
    const TensorInfo* t = decoded->find(layer.name);
    ASSERT_NE(t, nullptr) << layer.name;
    ASSERT_NE(original->find(layer.name), nullptr) << "decode must keep the original name " << layer.name;
    std::vector<float> want(size_t(layer.rows) * layer.cols, NAN);
    golden_decode(layer, want.data());
    const std::vector<float> got = decoded->read_all(*t);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), 4 * got.size()), 0) << layer.name;
  }
}

// A whole model in one .xfp: stories260K's matrices quantized, its norms kept
// as BF16 and lm_head tied to the embedding. info lists all three kinds,
// eval --decoded scores a decoded safetensors with the metric code eval uses
// for an .xfp: lutc's own golden decode, written by decode and scored that
// way, gives every layer's numbers exactly, and the stated bpw is reported.
TEST(CliRoundTrip, EvalDecodedScoresADecodedFileLikeTheXfp) {
  const std::string in = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  const std::string xfp = dir + "/s.xfp", dec = dir + "/d.safetensors";
  ASSERT_EQ(run_lutc({"quantize", in, "--scheme", "int4.g128", "--quantize-embeddings", "-o", xfp, "-q"}).exit_code, 0);
  ASSERT_EQ(run_lutc({"decode", xfp, "-o", dec}).exit_code, 0);
  RunResult a = run_lutc({"eval", xfp, "--ref", in, "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult b = run_lutc({"eval", "--decoded", dec, "--bpw", "4.25", "--ref", in, "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const nlohmann::json ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_TRUE(jb["decoded"].get<bool>());
  ASSERT_EQ(jb["layers"].size(), ja["layers"].size());
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& l : jb["layers"]) by_name[l["name"].get<std::string>()] = l;
  for (const auto& l : ja["layers"]) {
    const std::string name = l["name"].get<std::string>();
    ASSERT_EQ(by_name.count(name), 1u) << name;
    const auto& d = by_name[name];
    EXPECT_EQ(d["sqnr_db"], l["sqnr_db"]) << name;
    EXPECT_EQ(d["cos_min"], l["cos_min"]) << name;
    EXPECT_EQ(d["cos_mean"], l["cos_mean"]) << name;
    EXPECT_EQ(d["scheme"], "decoded");
    EXPECT_EQ(d["bpw"].get<double>(), 4.25);
  }
  EXPECT_EQ(jb["total"]["sqnr_db"], ja["total"]["sqnr_db"]);
  EXPECT_EQ(jb["total"]["cos_min"], ja["total"]["cos_min"]);
}

// decode writes each in its precision (the alias as a copy), compile skips
// what is not a layer, and a file cut before its trailer is refused.
TEST(CliRoundTrip, WholeModelWithKeptTensorsAndAliases) {
  const std::string in = shared_data("stories260K/stories260K.bf16.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  const std::string q = dir + "/q.xfp", xfp = dir + "/m.xfp", dec = dir + "/d.safetensors";
  // Layer 0 quantized; every norm and the embedding table kept by quantize itself.
  RunResult r =
      run_lutc({"quantize", in, "--scheme", "int4.g128", "--tensors", "layers\\.0\\.|embed|norm", "-o", q, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  XfpFile f = read_xfp(q);
  auto src = WeightFile::open(in);
  size_t vectors = 0;
  for (const TensorInfo& t : src->tensors()) vectors += t.shape.size() == 1;
  ASSERT_EQ(f.kept.size(), vectors + 1);  // + the embedding table
  ASSERT_GT(f.kept.size(), 4u);
  f.aliases.push_back({"lm_head.weight", "model.embed_tokens.weight"});
  write_xfp(xfp, f);

  RunResult info = run_lutc({"info", xfp, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const nlohmann::json ij = nlohmann::json::parse(info.out);
  EXPECT_EQ(ij["version"], 2);
  EXPECT_EQ(ij["layers"].size(), f.layers.size());
  ASSERT_EQ(ij["kept"].size(), f.kept.size());
  EXPECT_EQ(ij["kept"][0]["dtype"], "BF16");
  ASSERT_EQ(ij["aliases"].size(), 1u);
  EXPECT_EQ(ij["aliases"][0]["target"], "model.embed_tokens.weight");
  r = run_lutc({"info", xfp});
  EXPECT_NE(r.out.find("lm_head.weight -> model.embed_tokens.weight"), std::string::npos) << r.out;

  ASSERT_EQ(run_lutc({"decode", xfp, "-o", dec}).exit_code, 0);
  auto decoded = WeightFile::open(dec);
  EXPECT_EQ(decoded->tensors().size(), f.layers.size() + f.kept.size() + 1);
  for (const KeptTensor& k : f.kept) {
    const TensorInfo* t = decoded->find(k.name);
    ASSERT_NE(t, nullptr) << k.name;
    EXPECT_EQ(t->dtype, DType::kBF16);
    EXPECT_EQ(decoded->read_all(*t), src->read_all(*src->find(k.name))) << k.name;
  }
  const TensorInfo* head = decoded->find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(decoded->read_all(*head), decoded->read_all(*decoded->find("model.embed_tokens.weight")));

  r = run_lutc({"compile", xfp, "-o", dir + "/progs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped " + std::to_string(f.kept.size() + 1) + " kept tensors and aliases"), std::string::npos)
      << r.out;
  size_t programs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/progs")) programs += e.path().extension() == ".lutp";
  EXPECT_EQ(programs, f.layers.size());

  std::ifstream whole(xfp, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(whole)), {});
  std::ofstream(dir + "/cut.xfp", std::ios::binary) << bytes.substr(0, bytes.size() - 1);
  r = run_lutc({"info", dir + "/cut.xfp"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no index: the writer was interrupted?"), std::string::npos) << r.err;
}

TEST(CliBaselines, EveryBaselineQuantizesRealWeightsAtItsNominalRate) {
  const std::string in = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  // Nominal bits per weight of each baseline on rows that are a multiple of
  // its group; per-layer headers add a little on these small matrices.
  const std::vector<std::pair<std::string, double>> schemes = {
      {"int4.g128", 4.25}, {"nf4.b64", 4.25}, {"fp8.e4m3", 8.0}};
  for (const auto& [scheme, nominal] : schemes) {
    const std::string out = dir + "/" + scheme + ".json";
    RunResult r =
        run_lutc({"quantize", in, "--scheme", scheme, "-o", dir + "/" + scheme + ".xfp", "--report", out, "-q"});
    ASSERT_EQ(r.exit_code, 0) << scheme << ": " << r.err;
    const nlohmann::json j = parse_json_file(out);
    EXPECT_GE(j["total"]["bpw"].get<double>(), nominal) << scheme;
    EXPECT_LT(j["total"]["bpw"].get<double>(), nominal + 1.0) << scheme;
    EXPECT_GT(j["total"]["sqnr_db"].get<double>(), 10.0) << scheme;
  }
}

TEST(CliSynthetic, FreshSyntheticShapesMeetTheirFloor) {
  const uint64_t seed = fresh_seed() % 1000000 + 1;
  const std::string spec = "synth:96x320,64x130@" + std::to_string(seed);
  const std::string dir = temp_dir();
  RunResult r = run_lutc({"quantize", spec, "--floor-strict", "0.995", "-o", dir + "/s.xfp", "--report",
                          dir + "/r.json", "-q", "--fail-on-floor"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json j = parse_json_file(dir + "/r.json");
  for (const auto& l : j["layers"]) EXPECT_GE(l["cos_min"].get<double>(), 0.995) << l["name"];
}

TEST(CliKernelCheck, EverySchemeIsBitIdenticalOnEveryIsaLevel) {
  const uint64_t seed = fresh_seed() % 100000 + 1;
  const std::string dir = temp_dir();
  const std::string spec = "synth:24x300,5x77@" + std::to_string(seed);
  const std::vector<std::vector<std::string>> schemes = {
      {"--scheme", "xfp"},       {"--scheme", "xfp.v2a", "--bits", "3"},
      {"--scheme", "int4.g128"}, {"--scheme", "nf4.b64"},
      {"--scheme", "fp8.e4m3"},  {"--scheme", "sop", "--sop-format", "pair(nf4,dd4).sue4m4.b16+o1"}};
  for (const auto& s : schemes) {
    std::vector<std::string> q = {"quantize", spec, "-o", dir + "/k.xfp", "-q"};
    q.insert(q.end(), s.begin(), s.end());
    ASSERT_EQ(run_lutc(q).exit_code, 0) << s[1];
    RunResult r = run_lutc({"kernel-check", dir + "/k.xfp", "--batch", "3", "--json"});
    ASSERT_EQ(r.exit_code, 0) << s[1] << ": " << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["mismatches"].get<int>(), 0) << s[1];
    ASSERT_GE(j["checks"].size(), 2u) << s[1];  // two layers, at least the portable level each
    for (const auto& c : j["checks"]) {
      EXPECT_TRUE(c["decode_bit_identical"].get<bool>()) << c;
      EXPECT_TRUE(c["gemv_exact_bit_identical"].get<bool>()) << c;
      EXPECT_LT(c["f32_nmse"].get<double>(), 1e-9) << c;
    }
  }
}

// info fills the cos min and floor columns from what the quantizer recorded;
// eval measures against the layer's real floor; a floor-less scheme reports
// null, not "floor": 0 and "floor_met": true.
TEST(CliQualityColumns, InfoShowsRecordedFloorsAndEvalReportsTheRealFloor) {
  const std::string in = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(in)) return;
  const std::string dir = temp_dir();
  const std::string xfp = dir + "/s.xfp", report = dir + "/r.json", base = dir + "/b.xfp";
  ASSERT_EQ(run_lutc({"quantize", in, "--scheme", "xfp.v2", "--floor-strict", "0.99", "--floor-lazy", "0.98", "-o", xfp,
                      "--report", report, "--quiet"})
                .exit_code,
            0);
  ASSERT_EQ(run_lutc({"quantize", in, "--scheme", "int4.g128", "-o", base, "--quiet"}).exit_code, 0);
  const nlohmann::json rep = parse_json_file(report);

  RunResult r = run_lutc({"info", xfp, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), rep["layers"].size());
  for (size_t i = 0; i < j["layers"].size(); ++i) {
    const auto& rec = j["layers"][i].at("recorded");
    const auto& q = rep["layers"][i];
    ASSERT_TRUE(rec.at("floor").is_number()) << j["layers"][i].dump();
    EXPECT_NEAR(rec["floor"].get<double>(), q["floor"].get<double>(), 1e-9) << q["name"];
    EXPECT_EQ(rec.at("floor_met"), q["floor_met"]) << q["name"];
    EXPECT_NEAR(rec.at("cos_min").get<double>(), q["cos_min"].get<double>(), 1e-5) << q["name"];
  }
  r = run_lutc({"info", xfp});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t met = 0;
  for (size_t at = r.out.find(" met\n"); at != std::string::npos; at = r.out.find(" met\n", at + 1)) ++met;
  EXPECT_EQ(met, rep["layers"].size()) << r.out;
  EXPECT_NE(r.out.find("lutc eval"), std::string::npos) << "the footnote says where SQNR comes from";

  r = run_lutc({"eval", xfp, "--ref", in, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  for (size_t i = 0; i < j["layers"].size(); ++i) {
    EXPECT_NEAR(j["layers"][i].at("floor").get<double>(), rep["layers"][i]["floor"].get<double>(), 1e-9);
    EXPECT_TRUE(j["layers"][i].at("floor_met").get<bool>());
  }

  // int4.g128 has no floor: null in eval and in info's record, never 0 / true.
  r = run_lutc({"eval", base, "--ref", in, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  for (const auto& l : j["layers"]) {
    EXPECT_TRUE(l.at("floor").is_null()) << l.dump();
    EXPECT_TRUE(l.at("floor_met").is_null()) << l.dump();
  }
  r = run_lutc({"info", base, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  for (const auto& l : j["layers"]) EXPECT_TRUE(l.at("recorded").at("floor").is_null());
  // An explicit --floor is the floor, for any scheme.
  r = run_lutc({"eval", base, "--ref", in, "--floor", "0.5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  for (const auto& l : j["layers"]) {
    EXPECT_EQ(l.at("floor").get<double>(), 0.5);
    EXPECT_TRUE(l.at("floor_met").is_boolean());
  }
}

}  // namespace
}  // namespace lutc::testing
