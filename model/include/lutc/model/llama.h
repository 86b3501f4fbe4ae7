#pragma once
// Reference forward pass for Llama-family decoder models (docs/lm-eval.md):
// RMSNorm, RoPE (optionally linear- or llama3-scaled), grouped-query attention
// with a KV cache (optional q/k/v/o biases as in Qwen2, per-head q/k RMSNorm as
// in Qwen3, a head size other than dim / heads), SwiGLU MLP (dense, or routed
// experts under Qwen-MoE or Mixtral names + an optional gated shared expert),
// tied or untied classifier. fp32 Eigen throughout; it is the yardstick quantized weights are
// judged by, not a fast inference engine. The matrices an .xfp replaces may
// instead be held and multiplied by a ProjectionBackend (projection_backend.h,
// e.g. the CPU kernels), which the model is given, never names.
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lutc/model/projection_backend.h"  // RowMatrix, and the backends a model may multiply with

namespace lutc {

class WeightFile;
class XfpReader;
struct XfpFile;

// How q/k channels pair up for the rotation. llama2.c (and the safetensors
// converted from it without permuting q/k) rotates adjacent channels (2i, 2i+1)
// of each head; Hugging Face checkpoints rotate channel i with i + head/2.
enum class RopeLayout : uint8_t { kInterleaved, kHalf };

enum class RopeScaling : uint8_t { kNone, kLinear, kLlama3 };
// Expert tensor names: Qwen-MoE "mlp.gate" + "mlp.experts.E.{gate,up,down}_proj";
// Mixtral "block_sparse_moe.gate" + "block_sparse_moe.experts.E.{w1,w3,w2}".
enum class MoeNames : uint8_t { kQwen, kMixtral };

// The longest sequence a model may declare (seq_len, max_position_embeddings):
// 2^24 positions is past every released model; more is a corrupt file. The
// KV cache grows with the positions evaluated, not with this.
constexpr uint32_t kMaxSeqLen = 1u << 24;

struct LlamaConfig {
  uint32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool tied_classifier = true;
  float rope_theta = 10000.f;
  RopeLayout rope_layout = RopeLayout::kInterleaved;
  float rms_eps = 1e-5f;
  // Qwen-MoE MLP when n_experts > 0: softmax router, top-k experts (weights
  // not renormalized), plus a shared expert gated by sigmoid(shared_expert_gate).
  uint32_t n_experts = 0, n_experts_per_tok = 0, moe_hidden_dim = 0, shared_hidden_dim = 0;
  MoeNames moe_names = MoeNames::kQwen;
  bool norm_topk_prob = false;  // renormalize the top-k router weights to sum to 1 (Mixtral, Qwen3-MoE)
  // DeepSeek MoE, parsed from config.json; the reference forward does not run it.
  uint32_t n_shared_experts = 0, first_k_dense = 0;

  uint32_t head_dim = 0;  // 0: dim / n_heads (Qwen3 sets it explicitly)
  bool qkv_bias = false;  // self_attn.{q,k,v}_proj.bias (Qwen2)
  bool o_bias = false;    // self_attn.o_proj.bias (attention_bias in Llama / Qwen3)
  bool qk_norm = false;   // self_attn.{q,k}_norm.weight: RMSNorm of each head before RoPE (Qwen3)
  struct {
    RopeScaling type = RopeScaling::kNone;
    float factor = 1.f, low_freq_factor = 1.f, high_freq_factor = 4.f;
    uint32_t original_max_pos = 8192;
  } rope_scaling;

  std::string model_type;   // config.json's model_type; empty for metadata / llama2.c
  std::string unsupported;  // why the reference forward cannot run this model; empty when it can

  uint32_t head_size() const { return head_dim ? head_dim : dim / n_heads; }
  uint32_t q_dim() const { return head_size() * n_heads; }
  uint32_t kv_dim() const { return head_size() * n_kv_heads; }
  bool moe() const { return n_experts > 0; }
};

// Hyper-parameters from a weight file: its config.json (Hugging Face, see
// llama_config_from_hf) when it has one, else safetensors __metadata__ (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len,
// tied_embeddings, and optionally rope_theta, rope_layout=interleaved|half,
// rms_norm_eps, n_experts, n_experts_per_tok, moe_hidden_dim,
// shared_expert_hidden_dim) or the llama2.c header. Throws Error(kBadInput)
// naming the file and the missing/bad key.
LlamaConfig llama_config_from(const WeightFile& file);

// A Hugging Face config.json (families llama, mistral, qwen2, qwen3, mixtral,
// qwen2_moe, qwen3_moe, deepseek, deepseek_v2, deepseek_v3; docs/lm-eval.md).
// `has_lm_head` decides tied embeddings when tie_word_embeddings is absent.
// Throws Error(kBadInput) naming `path` and the key for a wrong type, a zero
// size, heads that do not divide, an unknown model_type (listing the known
// ones) or an unsupported rope_scaling type. What parses but the reference
// forward cannot run (MLA attention, DeepSeek MoE routing, ...) is named in
// LlamaConfig::unsupported, which LlamaModel refuses.
LlamaConfig llama_config_from_hf(const std::string& config_json, const std::string& path, bool has_lm_head);

// The head_size / 2 RoPE rotation frequencies of a config: theta^(-2i/h),
// then the rope_scaling rule (linear: / factor; llama3: / factor below the
// low-frequency wavelength bound, unchanged above the high one, blended
// in between).
std::vector<float> rope_inv_freq(const LlamaConfig& cfg);

// Every tensor the forward pass reads, by Hugging Face name; vectors are n x 1.
using TensorMap = std::map<std::string, RowMatrix>;
// (rows, cols) of every tensor, by name; vectors are n x 1.
using ShapeMap = std::map<std::string, std::pair<uint64_t, uint64_t>>;

// Loads every tensor of the file as fp32.
TensorMap load_tensors(const WeightFile& file);
// Replaces each tensor named by a layer of `q` (or by an alias of a layer)
// with its golden decode. Kept tensors are ignored: they hold the source's
// own values. Throws Error(kBadInput) naming the .xfp and the layer when a
// name is unknown or the shape differs. Returns how many tensors were replaced.
size_t apply_xfp(TensorMap& tensors, const XfpFile& q, const std::string& xfp_path = "");

// Where a model's weights come from, one tensor at a time as fp32: what lets
// the forward pass hold one transformer layer instead of the whole model.
class WeightProvider {
 public:
  virtual ~WeightProvider() = default;
  virtual const ShapeMap& shapes() const = 0;
  // Tensor `name` as fp32 (Error(kBadInput) when there is none).
  virtual RowMatrix fetch(const std::string& name) const = 0;
  // Whether a quantized layer supplies tensor `name` (what fetch() returns
  // is then its golden decode).
  virtual bool replaces(const std::string& /*name*/) const { return false; }
  // That quantized layer (for an alias, the layer it points to), or nullptr
  // when the tensor is the source's own. A layer read from a file is put in
  // `storage`; one held in memory is returned where it is.
  virtual const QuantizedLayer* quantized(const std::string& /*name*/, QuantizedLayer& /*storage*/) const {
    return nullptr;
  }
  uint64_t fp32_bytes() const;  // of every tensor together
};

// The tensors of a weight file (memory-mapped; WeightFile::read_rows releases
// the pages it read), with the quantized layers of an .xfp golden-decoded in
// their place: the same values as load_tensors + apply_xfp, fetched one
// tensor at a time. The .xfp is read through XfpReader, one record per
// fetch; or the layers come from an XfpFile in memory, which the caller
// keeps alive. The same name/shape checks (and errors) as apply_xfp, made
// at construction.
class FileWeights : public WeightProvider {
 public:
  explicit FileWeights(std::shared_ptr<const WeightFile> file, const std::string& xfp_path = "");
  FileWeights(std::shared_ptr<const WeightFile> file, const XfpFile* layers, const std::string& xfp_path = "");
  ~FileWeights() override;
  const ShapeMap& shapes() const override { return shapes_; }
  RowMatrix fetch(const std::string& name) const override;
  bool replaces(const std::string& name) const override { return decoded_.count(name) != 0; }
  const QuantizedLayer* quantized(const std::string& name, QuantizedLayer& storage) const override;
  size_t replaced() const { return decoded_.size(); }  // tensors the .xfp supplies

 private:
  void overlay(const std::string& name, size_t source, uint64_t rows, uint64_t cols);
  std::shared_ptr<const WeightFile> file_;
  std::unique_ptr<XfpReader> reader_;
  const XfpFile* layers_ = nullptr;
  std::string xfp_path_;
  ShapeMap shapes_;
  std::map<std::string, size_t> decoded_;  // name -> reader record or layers_ index holding its layer
};

// Every tensor of a provider, resident.
TensorMap load_all(const WeightProvider& w);

// Whether a forward pass holds every weight (fastest) or streams one layer at
// a time (bounded memory: about one layer's fp32 weights plus the embedding).
enum class Residency : uint8_t { kMemory, kStream };
// Physical memory of this machine in bytes (0 when unknown).
uint64_t physical_memory_bytes();
// The default budget: 60% of physical memory (8 GiB when unknown).
uint64_t default_memory_budget();
// What the operator asked for: decide by the budget, or force one mode.
enum class StreamChoice : uint8_t { kAuto, kOn, kOff };
// kAuto: kStream when `need_bytes` (what the in-memory mode would hold)
// exceeds `budget_bytes`; kOn / kOff force it.
inline Residency choose_residency(StreamChoice c, uint64_t need_bytes, uint64_t budget_bytes) {
  if (c != StreamChoice::kAuto) return c == StreamChoice::kOn ? Residency::kStream : Residency::kMemory;
  return need_bytes > budget_bytes ? Residency::kStream : Residency::kMemory;
}

// Sees what every linear projection of a forward pass multiplies: the
// weight's tensor name (as in TensorMap) and its input rows (one row per
// position, K columns), just before the product. q/k/v receive the same rows,
// as do gate/up; o_proj and down_proj their own; the classifier
// (lm_head.weight, or model.embed_tokens.weight when tied) the final-normed
// rows; a MoE router, each expert and the shared expert's gate the rows that
// reach them. Used by `lutc act-stats` (llama_act_stats.h).
class ProjectionObserver {
 public:
  virtual ~ProjectionObserver() = default;
  virtual void on_input(const std::string& weight, const RowMatrix& x) = 0;
};

// Keys and values of every layer for positions [0, length).
struct KvCache {
  std::vector<RowMatrix> k, v;  // per layer: (at least length, at most seq_len) x kv_dim, grown by step()
  uint32_t length = 0;
};

class LlamaModel {
 public:
  // Checks that every tensor the config needs is present with the right shape.
  LlamaModel(const LlamaConfig& cfg, TensorMap tensors);
  // Streaming: the same checks on the provider's shapes; then every pass
  // fetches one layer's tensors, applies them to all positions (or all
  // sequences of a batch) and drops them before the next layer. The
  // arithmetic is the in-memory model's, in the same order: logits are
  // bit-identical.
  LlamaModel(const LlamaConfig& cfg, std::shared_ptr<const WeightProvider> weights);
  // Either residency, with the matrices the provider's quantized layers
  // replace multiplied by `backend` (projection_backend.h): it prepares each
  // such tensor (2-D, more than one column) from its QuantizedLayer, and the
  // model holds that form instead of the fp32 decode: all of them in memory,
  // one layer's at a time when streaming. Every other tensor stays fp32 on
  // Eigen. A null backend is the golden path: exactly the two constructors
  // above (in memory: load_all(*weights)).
  LlamaModel(const LlamaConfig& cfg, std::shared_ptr<const WeightProvider> weights, Residency residency,
             std::shared_ptr<const ProjectionBackend> backend);
  static std::unique_ptr<LlamaModel> open(const std::string& path, const std::string& xfp_path = "",
                                          Residency residency = Residency::kMemory);

  const LlamaConfig& config() const { return cfg_; }
  bool streaming() const { return weights_ != nullptr; }
  // The resident fp32 tensors; empty when streaming.
  const TensorMap& tensors() const { return tensors_; }
  // The resident tensors in the backend's form (in memory with a backend); empty otherwise.
  const std::map<std::string, std::unique_ptr<ProjectionWeight>>& prepared() const { return prepared_; }
  const ShapeMap& shapes() const { return shapes_; }
  KvCache new_cache() const;

  // What the tensors a quantized layer replaces cost in memory, as this model
  // holds them (for reports). Counted for the provider constructors; the
  // TensorMap one knows no provider and reports zeros.
  struct ReplacedMemory {
    std::string backend = "golden";  // the backend's name; golden: decoded to fp32
    unsigned threads = 1;            // the backend's threads
    uint64_t tensors = 0;            // matrices a quantized layer replaces
    // In memory: all of them; streaming: the most held at once (one layer and
    // the classifier), so far. held_bytes is what this model holds for them
    // (the backend's form, or fp32 on the golden path), fp32_bytes the same
    // tensors as fp32 at that moment: what the golden path would hold.
    uint64_t held_bytes = 0, fp32_bytes = 0;
  };
  ReplacedMemory replaced_memory() const;

  // Logits for `token` at position cache.length; appends its keys/values.
  // `observer`, when set, sees every projection's input (it does not change
  // the arithmetic: the logits are bit-identical with and without it).
  Eigen::VectorXf step(int32_t token, KvCache& cache, ProjectionObserver* observer = nullptr) const;
  // Logits (tokens.size() x vocab) of a whole sequence from position 0, computed
  // as matrix products without a cache: an independent path that tests hold
  // equal to repeated step() calls.
  RowMatrix forward_all(const std::vector<int32_t>& tokens, ProjectionObserver* observer = nullptr) const;
  // step() for several sequences at once: token b extends caches[b]. Each
  // sequence's arithmetic is exactly step()'s (row by row, not one matrix
  // product over the batch), so results are bit-identical to separate
  // step() calls; a streaming model fetches each layer once per call instead
  // of once per sequence.
  std::vector<Eigen::VectorXf> step_batch(const std::vector<int32_t>& tokens, const std::vector<KvCache*>& caches,
                                          ProjectionObserver* observer = nullptr) const;

 private:
  // A matrix the forward pass multiplies: fp32 (Eigen) or a backend's form.
  struct Weight {
    const RowMatrix* fp32 = nullptr;
    const ProjectionWeight* op = nullptr;
    const std::string* name = nullptr;  // its tensor name, for observers
  };
  struct Layer {
    const RowMatrix *att_norm = nullptr, *ffn_norm = nullptr;
    Weight wq, wk, wv, wo;
    const RowMatrix *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr;  // n x 1 biases
    const RowMatrix *q_norm = nullptr, *k_norm = nullptr;                        // head_size x 1
    Weight w_gate, w_up, w_down;                                                 // dense MLP
    Weight router;                                                               // MoE: n_experts x dim
    std::vector<Weight> ex_gate, ex_up, ex_down;
    Weight sh_gate, sh_up, sh_down, sh_mix;
  };
  // Tensors a pass holds while it uses them (streaming); map nodes stay put,
  // so a Weight's pointers into them hold until the next bind.
  struct Held {
    TensorMap t;
    std::map<std::string, std::unique_ptr<ProjectionWeight>> ops;
    uint64_t held_bytes = 0, fp32_bytes = 0;  // of the replaced tensors among them
  };
  // A tensor by name and shape; `matrix`: multiplied (a backend may take it),
  // else a vector read as fp32.
  using Getter = std::function<Weight(const std::string&, uint64_t, uint64_t, bool matrix)>;
  Layer make_layer(uint32_t i, const Getter& get) const;
  // In memory: the embedding, final norm, classifier and layers from the resident tensors.
  void bind_resident();
  // The backend's form of tensor `name` (its quantized layer from the provider), shape checked.
  std::unique_ptr<ProjectionWeight> prepare(const std::string& name) const;
  // Layer i's weights: the resident ones, or (streaming) fetched into `held`.
  Layer bind_layer(uint32_t i, Held& held) const;
  // The embedding, final norm or classifier: resident, or fetched into `held`.
  Weight global(const std::string& name, Held& held) const;
  // Fetches (streaming) tensor `name` into `held`: prepared by the backend
  // when it takes it, else fp32.
  Weight fetch_into(const std::string& name, bool matrix, Held& held) const;
  // Whether the backend multiplies tensor `name` (the provider replaces it
  // and it is a matrix of more than one column).
  bool backend_takes(const std::string& name, bool matrix) const;
  // Streaming: the peak of what `held` sets hold for replaced tensors.
  void note_held(const Held& layer, const Held& globals) const;
  const std::string& classifier_name() const;
  Weight need(const std::string& name, uint64_t rows, uint64_t cols) const;
  void check_shape(const std::string& name, uint64_t rows, uint64_t cols, uint64_t have_rows, uint64_t have_cols) const;
  void rope(float* x, uint32_t n_heads, uint32_t pos) const;
  // RMSNorm of each head of each row of x (T x n_heads * head_size) by w
  // (Qwen3 q_norm / k_norm); a no-op when w is null.
  void head_norm(RowMatrix& x, const RowMatrix* w, uint32_t n_heads) const;
  // x * w^T: Eigen for fp32, the backend's product for its form.
  static RowMatrix times(const RowMatrix& x, const Weight& w);
  // x * w^T, plus the bias (n x 1) on every row when there is one.
  RowMatrix project(const RowMatrix& x, const Weight& w, const RowMatrix* bias) const;
  // SwiGLU down(silu(gate x) * up x) on rows of x, `obs` told of each input.
  RowMatrix swiglu(const RowMatrix& x, const Weight& gate, const Weight& up, const Weight& down,
                   ProjectionObserver* obs) const;
  // MLP block on rows of x (T x dim), rows already normalized.
  RowMatrix mlp(const Layer& l, const RowMatrix& x, ProjectionObserver* obs) const;
  // Row `token` of the embedding into row `row` of x.
  void embed_row(const Weight& embed, int32_t token, RowMatrix& x, Eigen::Index row) const;
  // Tells `obs` (when set) that weight w is about to multiply x.
  static void observe(ProjectionObserver* obs, const Weight& w, const RowMatrix& x);
  RowMatrix rmsnorm_rows(const RowMatrix& x, const RowMatrix& w) const;

  LlamaConfig cfg_;
  TensorMap tensors_;
  std::map<std::string, std::unique_ptr<ProjectionWeight>> prepared_;
  std::shared_ptr<const WeightProvider> weights_;  // streaming when set
  std::shared_ptr<const WeightProvider> source_;   // the provider of either residency, when there is one
  std::shared_ptr<const ProjectionBackend> backend_;
  ShapeMap shapes_;
  std::vector<Layer> layers_;
  Weight embed_, final_norm_, classifier_;  // resident only
  std::vector<float> inv_freq_;             // head_size / 2 rotation frequencies
  ReplacedMemory replaced_;                 // tensors, and the in-memory bytes
  // Streaming: the peak so far (held, fp32 at that moment); passes may run
  // on several threads at once, so a mutex guards it.
  struct Peak;
  std::shared_ptr<Peak> peak_;
};

// Greedy continuation: feeds `prompt`, then appends `steps` argmax tokens
// (ties to the lower id). Returns prompt + generated tokens.
std::vector<int32_t> greedy_generate(const LlamaModel& m, const std::vector<int32_t>& prompt, uint32_t steps);
// greedy_generate of every prompt, advanced together through step_batch: the
// same tokens as one greedy_generate per prompt, but a streaming model
// fetches each layer once per position instead of once per prompt and position.
std::vector<std::vector<int32_t>> greedy_generate_batch(const LlamaModel& m,
                                                        const std::vector<std::vector<int32_t>>& prompts,
                                                        uint32_t steps);

// Sampled continuation: feeds `prompt`, then appends `steps` tokens drawn from
// softmax(logits) (temperature 1) by a std::mt19937_64 seeded with `seed`.
// Deterministic for a seed on one build; stops at seq_len like greedy_generate.
std::vector<int32_t> sample_generate(const LlamaModel& m, const std::vector<int32_t>& prompt, uint32_t steps,
                                     uint64_t seed);

// Fixed prompts for benches: BOS (1) then one content token per prompt, taken
// from a fixed list so that runs and machines agree.
std::vector<std::vector<int32_t>> bench_prompts(uint32_t count, uint32_t vocab);

}  // namespace lutc
