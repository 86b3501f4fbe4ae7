// The model shape table: exact published parameter counts, the tensor list's
// own invariants, layer truncation, and config.json read back through the
// Hugging Face config reader.
#include "lutc/model/model_shapes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"

namespace lutc {
namespace {

// Parameter counts as the models' Hugging Face pages publish them (exact;
// synth_checkpoint_test holds the other rows to rounded counts).
TEST(ModelShapes, ExactPublishedParameterCounts) {
  EXPECT_EQ(model_weights(find_model_shape("llama-2-13b")), 13015864320u);
  EXPECT_EQ(model_weights(find_model_shape("llama-3-8b")), 8030261248u);
  EXPECT_EQ(model_weights(find_model_shape("mistral-7b")), 7241732096u);
  EXPECT_EQ(model_weights(find_model_shape("qwen2-7b")), 7615616512u);
}

TEST(ModelShapes, TensorListIsConsistentWithItsShape) {
  for (const ModelShape& m : model_shapes()) {
    SCOPED_TRACE(m.name);
    const auto tensors = model_tensors(m);
    std::set<std::string> names;
    uint64_t total = 0;
    size_t matrices = 0;
    for (const ShapedTensor& t : tensors) {
      EXPECT_TRUE(names.insert(t.name).second) << "repeated " << t.name;
      ASSERT_FALSE(t.shape.empty()) << t.name;
      uint64_t e = 1;
      for (uint64_t d : t.shape) {
        EXPECT_GT(d, 0u) << t.name;
        e *= d;
      }
      total += e;
      if (t.shape.size() == 2) ++matrices;
    }
    EXPECT_EQ(total, model_weights(m));
    // Per layer: q, k, v, o, and gate/up/down per expert (or once), plus the router.
    const size_t mlps = m.experts ? 3u * m.experts + 1 : 3u;
    EXPECT_EQ(matrices, size_t(m.layers) * (4 + mlps) + 1 + (m.tied ? 0 : 1));
    EXPECT_EQ(tensors.front().name, "model.embed_tokens.weight");
    EXPECT_EQ(tensors.front().shape, (std::vector<uint64_t>{m.vocab, m.hidden}));
    EXPECT_EQ(names.count("lm_head.weight"), m.tied ? 0u : 1u);
    EXPECT_EQ(names.count("model.norm.weight"), 1u);
    // Grouped-query attention: k has kv_heads heads of hidden / heads rows.
    const std::string k = "model.layers." + std::to_string(m.layers - 1) + ".self_attn.k_proj.weight";
    ASSERT_EQ(names.count(k), 1u);
    for (const ShapedTensor& t : tensors) {
      if (t.name == k) {
        EXPECT_EQ(t.shape[0], uint64_t(m.kv_heads) * (m.hidden / m.heads));
      }
    }
    EXPECT_EQ(m.hidden % m.heads, 0u);
    EXPECT_EQ(m.heads % m.kv_heads, 0u);
  }
}

TEST(ModelShapes, LayersTruncateAndClamp) {
  const ModelShape& m = find_model_shape("mixtral-8x7b");
  const uint64_t all = model_weights(m), one = model_weights(m, 1), two = model_weights(m, 2);
  const uint64_t per_layer = two - one, outside = one - per_layer;
  EXPECT_EQ(outside + uint64_t(m.layers) * per_layer, all);
  EXPECT_EQ(model_weights(m, m.layers + 5), all);
  EXPECT_EQ(model_weights(m, 0), all);
  for (const ShapedTensor& t : model_tensors(m, 2))
    EXPECT_EQ(t.name.find("model.layers.2."), std::string::npos) << t.name;
}

TEST(ModelShapes, UnknownNameIsAUsageErrorListingTheKnown) {
  try {
    find_model_shape("llama-2-7B");
    FAIL() << "names are exact";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    const std::string msg = e.what();
    for (const ModelShape& m : model_shapes()) EXPECT_NE(msg.find(m.name), std::string::npos) << msg;
  }
  EXPECT_THROW(find_model_shape(""), Error);
}

TEST(ModelShapes, ConfigJsonReadsBackAsTheShape) {
  for (const ModelShape& m : model_shapes()) {
    SCOPED_TRACE(m.name);
    const nlohmann::json j = hf_config(m, 3);
    EXPECT_EQ(j.at("num_hidden_layers"), 3u);
    const LlamaConfig c = llama_config_from_hf(j.dump(), "config.json", !m.tied);
    EXPECT_EQ(c.model_type, m.model_type);
    EXPECT_EQ(c.dim, m.hidden);
    EXPECT_EQ(c.n_layers, 3u);
    EXPECT_EQ(c.n_heads, m.heads);
    EXPECT_EQ(c.n_kv_heads, m.kv_heads);
    EXPECT_EQ(c.vocab_size, m.vocab);
    EXPECT_EQ(c.tied_classifier, m.tied);
    EXPECT_FLOAT_EQ(c.rope_theta, float(m.rope_theta));
    EXPECT_FLOAT_EQ(c.rms_eps, float(m.rms_eps));
    EXPECT_EQ(c.n_experts, m.experts);
    EXPECT_EQ(c.n_experts_per_tok, m.experts_per_tok);
    EXPECT_EQ(m.experts ? c.moe_hidden_dim : c.hidden_dim, m.intermediate);
    EXPECT_EQ(c.qkv_bias, m.model_type == std::string("qwen2"));
    EXPECT_TRUE(c.unsupported.empty()) << c.unsupported;
    EXPECT_EQ(hf_config(m).at("num_hidden_layers"), m.layers);
  }
}

}  // namespace
}  // namespace lutc
