#include "lutc/model/roles.h"

#include <gtest/gtest.h>

#include <random>

#include "lutc/model/error.h"
#include "lutc/model/synth.h"
#include "test_data.h"

namespace lutc {
namespace {

using lutc::testing::fresh_seed;

class Roles : public ::testing::Test {
 protected:
  void SetUp() override { rng_.seed(fresh_seed()); }
  std::string n() { return std::to_string(rng_() % 200); }
  void expect(const std::string& name, Role want) {
    EXPECT_STREQ(role_name(rules_.classify(name)), role_name(want)) << name;
  }
  std::mt19937_64 rng_;
  RoleRules rules_;
};

TEST_F(Roles, NamesRoundTrip) {
  const Role all[] = {Role::kAttention, Role::kSharedExpert, Role::kRoutedExpert,
                      Role::kMlp,       Role::kEmbedding,    Role::kOther};
  const char* names[] = {"attention", "shared_expert", "routed_expert", "mlp", "embedding", "other"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_STREQ(role_name(all[i]), names[i]);
    Role r = Role::kOther;
    EXPECT_TRUE(parse_role(names[i], &r));
    EXPECT_EQ(r, all[i]);
  }
  Role r;
  EXPECT_FALSE(parse_role("Attention", &r));
  EXPECT_FALSE(parse_role("expert", &r));
  EXPECT_FALSE(parse_role("", &r));
}

TEST_F(Roles, OnlyRoutedExpertsGetTheLazyFloor) {
  for (Role r : {Role::kAttention, Role::kSharedExpert, Role::kMlp, Role::kEmbedding, Role::kOther})
    EXPECT_FALSE(role_uses_lazy_floor(r)) << role_name(r);
  EXPECT_TRUE(role_uses_lazy_floor(Role::kRoutedExpert));
}

TEST_F(Roles, Llama) {
  const std::string l = "model.layers." + n() + ".";
  for (const char* p : {"q_proj", "k_proj", "v_proj", "o_proj"})
    expect(l + "self_attn." + p + ".weight", Role::kAttention);
  for (const char* p : {"gate_proj", "up_proj", "down_proj"}) expect(l + "mlp." + p + ".weight", Role::kMlp);
  expect("model.embed_tokens.weight", Role::kEmbedding);
  expect("lm_head.weight", Role::kEmbedding);
  expect(l + "input_layernorm.weight", Role::kOther);
  expect(l + "post_attention_layernorm.weight", Role::kOther);
  expect("model.norm.weight", Role::kOther);
  expect(l + "self_attn.q_proj", Role::kAttention);  // without the .weight suffix
}

TEST_F(Roles, QwenMoe) {
  const std::string l = "model.layers." + n() + ".mlp.";
  for (const char* p : {"gate_proj", "up_proj", "down_proj"}) {
    expect(l + "experts." + n() + "." + p + ".weight", Role::kRoutedExpert);
    expect(l + "shared_expert." + p + ".weight", Role::kSharedExpert);
  }
  expect(l + "shared_expert_gate.weight", Role::kOther);
  expect(l + "gate.weight", Role::kOther);
  expect("model.layers." + n() + ".self_attn.k_proj.weight", Role::kAttention);
}

TEST_F(Roles, Mixtral) {
  const std::string l = "model.layers." + n() + ".block_sparse_moe.";
  for (const char* p : {"w1", "w2", "w3"}) expect(l + "experts." + n() + "." + p + ".weight", Role::kRoutedExpert);
  expect(l + "gate.weight", Role::kOther);
  expect("model.layers." + n() + ".self_attn.o_proj.weight", Role::kAttention);
}

TEST_F(Roles, DeepSeek) {
  const std::string l = "model.layers." + n() + ".";
  for (const char* p : {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "q_proj"})
    expect(l + "self_attn." + p + ".weight", Role::kAttention);
  expect(l + "self_attn.q_a_layernorm.weight", Role::kOther);
  expect(l + "self_attn.kv_a_layernorm.weight", Role::kOther);
  for (const char* p : {"gate_proj", "up_proj", "down_proj"}) {
    expect(l + "mlp.experts." + n() + "." + p + ".weight", Role::kRoutedExpert);
    expect(l + "mlp.shared_experts." + p + ".weight", Role::kSharedExpert);
    expect("model.layers.0.mlp." + std::string(p) + ".weight", Role::kMlp);  // the dense first layer
  }
  expect(l + "mlp.gate.weight", Role::kOther);
  expect(l + "mlp.gate.e_score_correction_bias", Role::kOther);
}

TEST_F(Roles, Llama2cAndMetaNames) {
  const std::string l = "layers." + n() + ".";
  for (const char* p : {"wq", "wk", "wv", "wo"}) expect(l + "attention." + p + ".weight", Role::kAttention);
  for (const char* p : {"w1", "w2", "w3"}) expect(l + "feed_forward." + p + ".weight", Role::kMlp);
  expect("tok_embeddings.weight", Role::kEmbedding);
  expect(l + "attention_norm.weight", Role::kOther);
  expect(l + "ffn_norm.weight", Role::kOther);
}

TEST_F(Roles, BertEncoderNames) {
  const std::string l = "encoder.layer." + n() + ".";
  for (const char* p : {"query", "key", "value"}) expect(l + "attention.self." + p + ".weight", Role::kAttention);
  expect(l + "attention.output.dense.weight", Role::kAttention);
  expect(l + "intermediate.dense.weight", Role::kMlp);
  expect(l + "output.dense.weight", Role::kMlp);
  expect(l + "attention.output.LayerNorm.weight", Role::kOther);
  expect("embeddings.word_embeddings.weight", Role::kEmbedding);
  expect("pooler.dense.weight", Role::kOther);
}

// llama.cpp's GGUF names classify like their Hugging Face equivalents.
TEST_F(Roles, GgufNames) {
  const std::string l = "blk." + n() + ".";
  for (const char* p :
       {"attn_q", "attn_k", "attn_v", "attn_output", "attn_qkv", "attn_q_a", "attn_q_b", "attn_kv_a_mqa", "attn_kv_b"})
    expect(l + p + ".weight", Role::kAttention);
  for (const char* p : {"ffn_gate", "ffn_up", "ffn_down"}) {
    expect(l + p + ".weight", Role::kMlp);
    expect(l + p + "_exps.weight", Role::kRoutedExpert);
    expect(l + p + "_shexp.weight", Role::kSharedExpert);
  }
  expect(l + "ffn_gate_up_exps.weight", Role::kRoutedExpert);
  expect("token_embd.weight", Role::kEmbedding);
  expect("output.weight", Role::kEmbedding);
  expect(l + "ffn_gate_inp.weight", Role::kOther);  // the router
  expect(l + "ffn_gate_inp_shexp.weight", Role::kOther);
  for (const char* p : {"attn_norm", "ffn_norm", "attn_q_a_norm", "attn_kv_a_norm", "attn_output_norm"})
    expect(l + p + ".weight", Role::kOther);
  expect("output_norm.weight", Role::kOther);
  expect("token_embd_norm.weight", Role::kOther);
  expect(l + "attn_q.bias", Role::kAttention);
  expect("encoder.layer." + n() + ".output.dense.weight", Role::kMlp);  // rule 20 is anchored
}

TEST_F(Roles, UnknownNamesAreOther) {
  for (int i = 0; i < 20; ++i) {
    std::string s;
    const size_t len = 1 + rng_() % 20;
    for (size_t k = 0; k < len; ++k) s += char('a' + rng_() % 26);
    // No rule component starts with "zz".
    expect("x.zz" + s + ".weight", Role::kOther);
  }
  expect("", Role::kOther);
  expect("model.layers.1.mlp.gate_projection.weight", Role::kOther);
  expect("model.layers.1.self_attn.q_proj_extra.weight", Role::kOther);
}

TEST_F(Roles, SynthTensorsClassify) {
  const auto set = default_synth_set(rng_());
  ASSERT_EQ(set.size(), 2u);
  expect(set[0].name, Role::kAttention);
  expect(set[1].name, Role::kMlp);
}

TEST_F(Roles, OverridesTakePrecedenceNewestFirst) {
  const std::string q = "model.layers." + n() + ".self_attn.q_proj.weight";
  rules_.add_override("q_proj=mlp");
  expect(q, Role::kMlp);
  rules_.add_override(R"(^model\.layers\.\d+\.self_attn\.q_proj\.weight$=routed_expert)");
  expect(q, Role::kRoutedExpert);
  expect("model.layers.3.self_attn.k_proj.weight", Role::kAttention);  // the defaults still apply
  // A regex may contain '=': the role is after the last one.
  rules_.add_override("k(?=_proj)=shared_expert");
  expect("model.layers.3.self_attn.k_proj.weight", Role::kSharedExpert);
  rules_.add_override("norm=embedding");
  expect("model.norm.weight", Role::kEmbedding);
}

TEST_F(Roles, MalformedOverridesAreUsageErrors) {
  for (const std::string spec : {"q_proj", "=attention", "q_proj=", "q_proj=bogus", "([unclosed=mlp", "a=b=c"}) {
    try {
      rules_.add_override(spec);
      ADD_FAILURE() << "accepted '" << spec << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << spec;
      EXPECT_NE(std::string(e.what()).find("'" + spec + "'"), std::string::npos) << e.what();
    }
  }
  // Nothing half-added: the defaults are unchanged.
  expect("model.layers.0.self_attn.q_proj.weight", Role::kAttention);
}

}  // namespace
}  // namespace lutc
