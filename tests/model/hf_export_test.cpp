// export_hf_folder: the folder read back with lutc's own safetensors reader.
// Every quantized tensor must equal the .xfp's golden decode rounded to the
// dtype (q/k rows moved by the rotate-half rule, written out here by index),
// every other tensor the source's bytes; the index, the shards and config.json
// must describe exactly that; an .xfp of another model, a missing source and
// a non-empty target leave nothing behind.
#include "lutc/model/hf_export.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "hf_folder_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/hf_layout.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/sop.h"
#include "lutc/model/tensor_fates.h"
#include "lutc/model/xfp_file.h"
#include "rope_oracle.h"
#include "test_data.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::to_rotate_half;

using Quantizer =
    std::function<QuantizedLayer(const std::string& name, const std::vector<float>& w, uint32_t rows, uint32_t cols)>;

// An .xfp of the whole model, laid out as `lutc quantize` lays it out:
// matrices quantized, vectors and embedding tables kept, a tied lm_head an alias.
void write_model_xfp(const WeightFile& f, const std::string& path, const Quantizer& q) {
  FateOptions fo;
  fo.keep_embeddings = true;
  XfpWriter w(path, {{"source", f.path()}});
  for (const TensorPlan& p : plan_tensors(f, fo)) {
    const TensorInfo& t = *f.find(p.source);
    if (p.fate == TensorFate::kQuantize) {
      w.append(q(p.name, f.read_all(t), p.rows(), p.cols()));
    } else if (p.fate == TensorFate::kKeep) {
      w.append_kept({p.name, t.dtype, t.shape, f.read_raw(t)});
    } else if (p.fate == TensorFate::kAlias) {
      w.append_alias({p.name, p.alias_of});
    }
  }
  w.commit();
}

std::vector<uint8_t> to_dtype(const std::vector<float>& v, DType d) {
  std::vector<uint8_t> out(v.size() * dtype_size(d));
  for (size_t i = 0; i < v.size(); ++i) {
    if (d == DType::kF32) {
      std::memcpy(&out[4 * i], &v[i], 4);
    } else {
      const uint16_t h = d == DType::kBF16 ? float_to_bf16(v[i]) : float_to_half(v[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

bool is_qk(const std::string& n) {
  return n.find("self_attn.q_proj.") != std::string::npos || n.find("self_attn.k_proj.") != std::string::npos;
}

struct Expect {
  DType dtype = DType::kBF16;
  bool permuted = false;  // q/k rows were interleaved in the source
  uint32_t head_size = 0;
  bool tied = true;
};

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

// Checks the folder against the source and the .xfp; returns the decoded values by scheme
// and how many of them bf16 / fp16 cannot hold, counted here independently.
std::map<std::string, SchemeRounding> check_folder(const std::string& out, const WeightFile& src,
                                                   const std::string& xfp_path, const Expect& e) {
  const auto got = WeightFile::open(out);
  const XfpReader x(xfp_path);
  std::map<std::string, SchemeRounding> rounding;
  std::set<std::string> seen;
  for (const TensorInfo& s : src.tensors()) {
    SCOPED_TRACE(s.name);
    if (s.name == "lm_head.weight" && e.tied) {
      EXPECT_EQ(got->find(s.name), nullptr) << "a tied lm_head is not written";
      continue;
    }
    const TensorInfo* g = got->find(s.name);
    EXPECT_NE(g, nullptr);
    if (!g) continue;
    seen.insert(s.name);
    EXPECT_EQ(g->shape, s.shape);
    // The layer records of this tensor: itself (or its alias's target), or
    // one per expert of a 3-D stacked tensor.
    std::vector<size_t> layers;
    auto layer_of = [&](const std::string& name) {
      size_t i = x.find(name);
      if (i < x.records().size() && x.records()[i].kind == XfpRecordKind::kAlias) i = x.find(x.records()[i].target);
      return i < x.records().size() && x.records()[i].kind == XfpRecordKind::kLayer ? i : x.records().size();
    };
    if (layer_of(s.name) < x.records().size()) layers = {layer_of(s.name)};
    for (uint64_t ex = 0; s.shape.size() == 3 && ex < s.shape[0]; ++ex)
      if (layer_of(expert_slice_name(s.name, ex)) < x.records().size())
        layers.push_back(layer_of(expert_slice_name(s.name, ex)));
    std::vector<uint8_t> want;
    if (!layers.empty()) {
      EXPECT_EQ(g->dtype, e.dtype);
      std::vector<float> w;
      for (size_t i : layers) {
        const QuantizedLayer l = x.read_layer(i);
        std::vector<float> part(size_t(l.elements()));
        golden_decode(l, part.data());
        SchemeRounding& r = rounding[scheme_name(l.scheme)];
        for (float v : part) {
          r.values++;
          r.rounded_bf16 += bf16_to_float(float_to_bf16(v)) != v;
          r.rounded_fp16 += half_to_float(float_to_half(v)) != v;
        }
        w.insert(w.end(), part.begin(), part.end());
      }
      EXPECT_EQ(w.size(), s.elements());
      want = to_dtype(w, e.dtype);
    } else {
      EXPECT_EQ(g->dtype, s.dtype);
      want = src.read_raw(s);
    }
    if (e.permuted && is_qk(s.name)) want = to_rotate_half(want, s.rows(), e.head_size);
    EXPECT_TRUE(got->read_raw(*g) == want) << "bytes differ";
  }
  EXPECT_EQ(got->tensors().size(), seen.size()) << "the folder holds tensors the source does not";

  const json index = read_json(out + "/model.safetensors.index.json");
  uint64_t total = 0;
  for (const TensorInfo& g : got->tensors()) total += g.nbytes;
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);
  EXPECT_EQ(index["weight_map"].size(), seen.size());
  for (const auto& [name, shard] : index["weight_map"].items()) {
    EXPECT_TRUE(seen.count(name)) << name;
    EXPECT_TRUE(fs::is_regular_file(out + "/" + shard.get<std::string>())) << shard;
  }
  for (const auto& entry : fs::directory_iterator(fs::path(out).parent_path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "temp left: " << entry.path();
  return rounding;
}

class HfExport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir();
    stories_ = testing::shared_data("stories260K/stories260K.safetensors");
  }
  ExportReport run(const std::string& xfp, const std::string& source, const std::string& out, DType dtype,
                   uint64_t max_shard = 0, bool force = false) {
    ExportOptions o;
    o.xfp = xfp;
    o.source = source;
    o.output = out;
    o.dtype = dtype;
    o.max_shard_bytes = max_shard;
    o.force = force;
    return export_hf_folder(o);
  }
  std::string dir_, stories_;
};

Quantizer xfp_auto() {
  return [](const std::string& n, const std::vector<float>& w, uint32_t r, uint32_t c) {
    static const RoleRules rules;
    XfpOptions o;
    o.auto_mode = true;
    return quantize_xfp(n, rules.classify(n), w.data(), r, c, o);
  };
}

void expect_counts(const ExportReport& r, const std::map<std::string, SchemeRounding>& counted) {
  ASSERT_EQ(r.rounding.size(), counted.size());
  for (const auto& [scheme, c] : counted) {
    SCOPED_TRACE(scheme);
    const SchemeRounding& got = r.rounding.at(scheme);
    EXPECT_EQ(got.values, c.values);
    EXPECT_EQ(got.rounded_bf16, c.rounded_bf16);
    EXPECT_EQ(got.rounded_fp16, c.rounded_fp16);
  }
}

TEST_F(HfExport, Stories260kXfpAutoBf16WithSynthesizedConfig) {
  if (!testing::require_file(stories_)) return;
  const auto src = WeightFile::open(stories_);
  const std::string xfp = dir_ + "/auto.xfp", out = dir_ + "/auto-hf";
  write_model_xfp(*src, xfp, xfp_auto());
  const ExportReport r = run(xfp, stories_, out, DType::kBF16);
  EXPECT_TRUE(r.qk_permuted);
  EXPECT_TRUE(r.config_synthesized);
  EXPECT_EQ(r.shards, std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(r.decoded, 5u * 7u);  // q, k, v, o, gate, up, down per layer; the embedding is kept
  expect_counts(r, check_folder(out, *src, xfp, {DType::kBF16, true, 8, true}));

  // Numbers from the checkpoint's own description (data README), not from the code.
  const json c = read_json(out + "/config.json");
  EXPECT_EQ(c["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(c["model_type"], "llama");
  EXPECT_EQ(c["hidden_size"], 64);
  EXPECT_EQ(c["intermediate_size"], 172);
  EXPECT_EQ(c["num_hidden_layers"], 5);
  EXPECT_EQ(c["num_attention_heads"], 8);
  EXPECT_EQ(c["num_key_value_heads"], 4);
  EXPECT_EQ(c["vocab_size"], 512);
  EXPECT_EQ(c["max_position_embeddings"], 512);
  EXPECT_EQ(c["rms_norm_eps"].get<double>(), 1e-5);
  EXPECT_EQ(c["rope_theta"].get<double>(), 10000.0);
  EXPECT_EQ(c["tie_word_embeddings"], true);
  EXPECT_EQ(c["torch_dtype"], "bfloat16");
  // lutc reads the folder back as a Hugging Face model in the rotate-half layout.
  const LlamaConfig back = llama_config_from(*WeightFile::open(out));
  EXPECT_EQ(back.rope_layout, RopeLayout::kHalf);
  EXPECT_EQ(back.dim, 64u);
  EXPECT_TRUE(back.tied_classifier);
}

TEST_F(HfExport, Stories260kSopFp16AndQkRoundTrip) {
  if (!testing::require_file(stories_)) return;
  const auto src = WeightFile::open(stories_);
  const std::string xfp = dir_ + "/sop.xfp", out = dir_ + "/sop-hf";
  SopOptions so;
  so.format = parse_sop_format("e2m3.ue4m4.b16");
  write_model_xfp(*src, xfp, [&](const std::string& n, const std::vector<float>& w, uint32_t r, uint32_t c) {
    return quantize_sop(n, Role::kAttention, w.data(), r, c, so);
  });
  const ExportReport r = run(xfp, stories_, out, DType::kF16);
  expect_counts(r, check_folder(out, *src, xfp, {DType::kF16, true, 8, true}));

  // Back through hf_layout's inverse: the exported q rows are the decode's rows.
  const auto got = WeightFile::open(out);
  const XfpReader x(xfp);
  for (const char* name : {"model.layers.3.self_attn.q_proj.weight", "model.layers.3.self_attn.k_proj.weight"}) {
    const QuantizedLayer l = x.read_layer(x.find(name));
    std::vector<float> w(size_t(l.elements())), exported = got->read_all(*got->find(name)), back(w.size());
    golden_decode(l, w.data());
    rope_rows_half_to_interleaved(exported.data(), back.data(), l.rows, l.cols, 8);
    for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(back[i], round_to_half(w[i])) << name << " element " << i;
  }
}

TEST_F(HfExport, Llama2cBinMatchesTheSafetensorsExport) {
  const std::string bin = testing::shared_data("stories260K/stories260K.bin");
  if (!testing::require_file(stories_) || !testing::require_file(bin)) return;
  const auto src = WeightFile::open(bin);
  const std::string xfp = dir_ + "/bin.xfp";
  write_model_xfp(*src, xfp, [](const std::string& n, const std::vector<float>& w, uint32_t r, uint32_t c) {
    return quantize_baseline(Scheme::kNf4B64, n, Role::kAttention, w.data(), r, c);
  });
  const ExportReport from_bin = run(xfp, bin, dir_ + "/bin-hf", DType::kBF16);
  EXPECT_TRUE(from_bin.qk_permuted && from_bin.config_synthesized);
  check_folder(dir_ + "/bin-hf", *src, xfp, {DType::kBF16, true, 8, true});
  // The same weights as safetensors give the same folder.
  run(xfp, stories_, dir_ + "/st-hf", DType::kBF16);
  for (const char* f : {"config.json", "model.safetensors.index.json"}) {
    std::ifstream a(dir_ + "/bin-hf/" + f, std::ios::binary), b(dir_ + "/st-hf/" + f, std::ios::binary);
    EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b))) << f;
  }
  const auto a = WeightFile::open(dir_ + "/bin-hf"), b = WeightFile::open(dir_ + "/st-hf");
  ASSERT_EQ(a->tensors().size(), b->tensors().size());
  for (const TensorInfo& t : a->tensors()) EXPECT_TRUE(a->read_raw(t) == b->read_raw(*b->find(t.name))) << t.name;
}

// Random weights with a fresh seed, an untied lm_head, no RoPE layout key
// (interleaved), exported as fp32 in small shards.
std::string write_random_model(const std::string& path, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 0.05f);
  const uint32_t dim = 32, hidden = 48, kv = 16, vocab = 64;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> shapes = {{"model.embed_tokens.weight", {vocab, dim}}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (auto [n, s] :
         std::vector<std::pair<std::string, std::vector<uint64_t>>>{{"input_layernorm.weight", {dim}},
                                                                    {"self_attn.q_proj.weight", {dim, dim}},
                                                                    {"self_attn.k_proj.weight", {kv, dim}},
                                                                    {"self_attn.v_proj.weight", {kv, dim}},
                                                                    {"self_attn.o_proj.weight", {dim, dim}},
                                                                    {"mlp.gate_proj.weight", {hidden, dim}},
                                                                    {"mlp.down_proj.weight", {dim, hidden}},
                                                                    {"mlp.up_proj.weight", {hidden, dim}},
                                                                    {"post_attention_layernorm.weight", {dim}}})
      shapes.push_back({p + n, s});
  }
  // A stacked expert tensor, as MoE checkpoints store them: quantized per expert, exported whole.
  shapes.push_back({"model.layers.1.mlp.experts.gate_up_proj", {3, 24, dim}});
  shapes.push_back({"model.norm.weight", {dim}});
  shapes.push_back({"lm_head.weight", {vocab, dim}});
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> mats;
  for (const auto& [name, s] : shapes) {
    uint64_t n = 1;
    for (uint64_t d : s) n *= d;
    data.emplace_back(n);
    for (float& v : data.back()) v = g(rng);
  }
  for (size_t i = 0; i < shapes.size(); ++i) mats.push_back({shapes[i].first, shapes[i].second, data[i].data()});
  write_safetensors(path, mats,
                    {{"dim", "32"},
                     {"hidden_dim", "48"},
                     {"n_layers", "2"},
                     {"n_heads", "4"},
                     {"n_kv_heads", "2"},
                     {"vocab_size", "64"},
                     {"seq_len", "32"},
                     {"tied_embeddings", "false"}});
  return path;
}

TEST_F(HfExport, RandomUntiedModelBaselinesFp32InShards) {
  const std::string model = write_random_model(dir_ + "/random.safetensors", testing::fresh_seed());
  const auto src = WeightFile::open(model);
  const std::string xfp = dir_ + "/random.xfp", out = dir_ + "/random-hf";
  size_t n = 0;
  const Scheme schemes[] = {Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3};
  write_model_xfp(*src, xfp, [&](const std::string& name, const std::vector<float>& w, uint32_t r, uint32_t c) {
    return quantize_baseline(schemes[n++ % 3], name, Role::kAttention, w.data(), r, c);
  });
  const ExportReport r = run(xfp, model, out, DType::kF32, 20000);
  EXPECT_GT(r.shards.size(), 2u);
  EXPECT_EQ(r.shards.front(), "model-00001-of-" + std::string(5 - std::to_string(r.shards.size()).size(), '0') +
                                  std::to_string(r.shards.size()) + ".safetensors");
  EXPECT_FALSE(r.lm_head_dropped);
  EXPECT_EQ(r.decoded, 2u * 7u + 1u + 1u);  // per layer 7 matrices, lm_head, the stacked experts (embedding kept)
  expect_counts(r, check_folder(out, *src, xfp, {DType::kF32, true, 8, false}));
  // fp8.e4m3: a 4-bit significand times a power of two is exact in bf16 (docs/export.md).
  EXPECT_EQ(r.rounding.at("fp8.e4m3").rounded_bf16, 0u);
  EXPECT_GT(r.rounding.at("nf4.b64").rounded_bf16, 0u);
  const json c = read_json(out + "/config.json");
  EXPECT_EQ(c["tie_word_embeddings"], false);
  EXPECT_EQ(c["torch_dtype"], "float32");
  EXPECT_EQ(c["num_key_value_heads"], 2);
  EXPECT_EQ(c["intermediate_size"], 48);
}

TEST_F(HfExport, ShardedHfFolderKeepsShardsConfigAndTokenizer) {
  const std::string bin = testing::shared_data("stories260K/stories260K.bin");
  if (!testing::require_file(bin)) return;
  const auto raw = WeightFile::open(bin);
  const testing::HfFolder hf = testing::write_hf_folder(dir_ + "/hf-src", *raw, llama_config_from(*raw), 3);
  testing::write_text(hf.dir + "/tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}");
  testing::write_text(hf.dir + "/tokenizer_config.json", "{\"bos_token\": \"<s>\"}");
  testing::write_text(hf.dir + "/generation_config.json", "{\"bos_token_id\": 1}");
  const auto src = WeightFile::open(hf.dir);
  const std::string xfp = dir_ + "/hf.xfp", out = dir_ + "/hf-out";
  write_model_xfp(*src, xfp, xfp_auto());
  const ExportReport r = run(xfp, hf.dir, out, DType::kBF16);
  EXPECT_FALSE(r.qk_permuted) << "a Hugging Face folder is already rotate-half";
  EXPECT_FALSE(r.config_synthesized);
  std::vector<std::string> want_shards;
  for (const auto& s : hf.shards) want_shards.push_back(fs::path(s).filename().string());
  EXPECT_EQ(r.shards, want_shards);
  expect_counts(r, check_folder(out, *src, xfp, {DType::kBF16, false, 8, true}));
  const json index = read_json(out + "/model.safetensors.index.json");
  for (const auto& [name, shard] : hf.weight_map) EXPECT_EQ(index["weight_map"][name], shard) << name;
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
    std::ifstream a(hf.dir + "/" + f, std::ios::binary), b(out + "/" + f, std::ios::binary);
    ASSERT_TRUE(b.good()) << f;
    EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b))) << f;
  }
}

// Runs the export expecting Error(code); the output must not exist afterwards.
void expect_refused(const std::function<void()>& f, ExitCode code, const std::string& out, const std::string& says) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(fs::path(out).parent_path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "temp left: " << entry.path();
}

TEST_F(HfExport, BadInputsLeaveNoOutput) {
  if (!testing::require_file(stories_)) return;
  const std::string model = write_random_model(dir_ + "/other.safetensors", testing::fresh_seed());
  const std::string other_xfp = dir_ + "/other.xfp", xfp = dir_ + "/good.xfp", out = dir_ + "/bad-out";
  const auto quant = [](const std::string& n, const std::vector<float>& w, uint32_t r, uint32_t c) {
    return quantize_baseline(Scheme::kFp8E4M3, n, Role::kAttention, w.data(), r, c);
  };
  write_model_xfp(*WeightFile::open(model), other_xfp, quant);
  write_model_xfp(*WeightFile::open(stories_), xfp, quant);
  // Another model's .xfp: same names, other shapes.
  expect_refused([&] { run(other_xfp, stories_, out, DType::kBF16); }, ExitCode::kBadInput, out, "another model");
  expect_refused([&] { run(xfp, dir_ + "/missing.safetensors", out, DType::kBF16); }, ExitCode::kIo, out,
                 "missing.safetensors");
  expect_refused([&] { run(dir_ + "/missing.xfp", stories_, out, DType::kBF16); }, ExitCode::kIo, out, "missing.xfp");

  // A kept tensor whose bytes differ from the source: the .xfp is not of this checkpoint.
  {
    const auto src = WeightFile::open(stories_);
    XfpFile f = read_xfp(xfp);
    ASSERT_FALSE(f.kept.empty());
    f.kept.front().bytes[0] ^= 1;
    write_xfp(dir_ + "/kept.xfp", f);
  }
  expect_refused([&] { run(dir_ + "/kept.xfp", stories_, out, DType::kBF16); }, ExitCode::kBadInput, out,
                 "differ from the source");

  // A non-empty target stays as it was; --force replaces it whole.
  fs::create_directories(out);
  testing::write_text(out + "/keep.txt", "mine");
  try {
    run(xfp, stories_, out, DType::kBF16);
    ADD_FAILURE() << "a non-empty folder was overwritten";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage) << e.what();
  }
  EXPECT_TRUE(fs::exists(out + "/keep.txt"));
  EXPECT_FALSE(fs::exists(out + "/model.safetensors"));
  run(xfp, stories_, out, DType::kBF16, 0, true);
  EXPECT_FALSE(fs::exists(out + "/keep.txt"));
  check_folder(out, *WeightFile::open(stories_), xfp, {DType::kBF16, true, 8, true});
  // An empty existing folder is simply filled.
  fs::create_directories(dir_ + "/empty");
  run(xfp, stories_, dir_ + "/empty", DType::kBF16);
  EXPECT_TRUE(fs::exists(dir_ + "/empty/model.safetensors"));
}

}  // namespace
}  // namespace lutc
