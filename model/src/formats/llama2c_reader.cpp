// llama2.c legacy (version 0) checkpoints: seven little-endian int32 (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then fp32
// arrays stacked over layers: token embedding, rms_att, wq, wk, wv, wo,
// rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag, and - only when
// vocab_size < 0 - an unshared classifier. Each layer's slice of a stacked
// array is exposed as its own tensor under the Hugging Face Llama name.
// freq_cis_real/imag are skipped: they are RoPE tables computed from seq_len
// and head size, not trained weights.
#include <algorithm>
#include <cstdlib>

#include "formats/weight_file_parsers.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

constexpr uint64_t kHeaderBytes = 7 * 4;

struct Llama2cHeader {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;

  static Llama2cHeader load(const uint8_t* p) {
    Llama2cHeader h;
    int32_t* fields[] = {&h.dim, &h.hidden_dim, &h.n_layers, &h.n_heads, &h.n_kv_heads, &h.vocab_size, &h.seq_len};
    for (int i = 0; i < 7; ++i) *fields[i] = load_le32s(p + 4 * i);
    return h;
  }
  std::string describe() const {
    return "dim=" + std::to_string(dim) + " hidden_dim=" + std::to_string(hidden_dim) +
           " n_layers=" + std::to_string(n_layers) + " n_heads=" + std::to_string(n_heads) +
           " n_kv_heads=" + std::to_string(n_kv_heads) + " vocab_size=" + std::to_string(vocab_size) +
           " seq_len=" + std::to_string(seq_len);
  }
  uint64_t vocab() const { return uint64_t(std::llabs(vocab_size)); }
  bool shared_classifier() const { return vocab_size > 0; }
  uint64_t head_size() const { return uint64_t(dim / n_heads); }
  uint64_t kv_dim() const { return head_size() * uint64_t(n_kv_heads); }
};

// Limits well above any released Llama-family model; values beyond them are a
// corrupt or foreign header, and keeping them bounded keeps the size
// arithmetic below far from overflow.
std::string header_problem(const Llama2cHeader& h) {
  auto out_of = [](int64_t v, int64_t lo, int64_t hi) { return v < lo || v > hi; };
  if (out_of(h.dim, 1, 1 << 16)) return "dim out of range 1..65536";
  if (out_of(h.hidden_dim, 1, 1 << 20)) return "hidden_dim out of range 1..1048576";
  if (out_of(h.n_layers, 1, 4096)) return "n_layers out of range 1..4096";
  if (out_of(h.n_heads, 1, h.dim)) return "n_heads out of range 1..dim";
  if (out_of(h.n_kv_heads, 1, h.n_heads)) return "n_kv_heads out of range 1..n_heads";
  if (out_of(std::llabs(int64_t(h.vocab_size)), 1, 1 << 22)) return "|vocab_size| out of range 1..4194304";
  if (out_of(h.seq_len, 1, 1 << 22)) return "seq_len out of range 1..4194304";
  if (h.dim % h.n_heads != 0) return "dim is not a multiple of n_heads";
  if (h.n_heads % h.n_kv_heads != 0) return "n_heads is not a multiple of n_kv_heads";
  if (h.head_size() % 2 != 0) return "head size dim/n_heads is odd (RoPE needs pairs)";
  return "";
}

// Byte offsets of the stacked arrays, handed out in file order.
class FileCursor {
 public:
  // Where an array of `floats` fp32 values starts; moves past it.
  uint64_t take(uint64_t floats) {
    const uint64_t at = pos_;
    pos_ += floats * 4;
    return at;
  }
  uint64_t pos() const { return pos_; }

 private:
  uint64_t pos_ = kHeaderBytes;
};

// One array stacked over layers: layer i's slice starts i slices in.
struct Stacked {
  const char* hf_name;  // the part after "model.layers.{i}."
  std::vector<uint64_t> shape;
  uint64_t base = 0;
  uint64_t slice_floats() const { return shape.size() == 1 ? shape[0] : shape[0] * shape[1]; }
};

struct Llama2cLayout {
  uint64_t embedding, final_norm, classifier, end;
  std::vector<Stacked> per_layer;  // in Hugging Face order within a layer
};

Llama2cLayout layout_of(const Llama2cHeader& h) {
  const uint64_t dim = uint64_t(h.dim), hidden = uint64_t(h.hidden_dim), kv = h.kv_dim();
  const uint64_t layers = uint64_t(h.n_layers);
  Llama2cLayout l;
  l.per_layer = {
      {"input_layernorm", {dim}},       {"self_attn.q_proj", {dim, dim}}, {"self_attn.k_proj", {kv, dim}},
      {"self_attn.v_proj", {kv, dim}},  {"self_attn.o_proj", {dim, dim}}, {"mlp.gate_proj", {hidden, dim}},
      {"mlp.down_proj", {dim, hidden}}, {"mlp.up_proj", {hidden, dim}},   {"post_attention_layernorm", {dim}}};
  // File order: rms_att, wq, wk, wv, wo, rms_ffn, w1 (gate), w2 (down), w3 (up).
  const int file_order[] = {0, 1, 2, 3, 4, 8, 5, 6, 7};
  FileCursor cursor;
  l.embedding = cursor.take(h.vocab() * dim);
  for (int i : file_order) l.per_layer[i].base = cursor.take(layers * l.per_layer[i].slice_floats());
  l.final_norm = cursor.take(dim);
  cursor.take(uint64_t(h.seq_len) * h.head_size());  // freq_cis_real + freq_cis_imag
  l.classifier = h.shared_classifier() ? 0 : cursor.take(h.vocab() * dim);
  l.end = cursor.pos();
  return l;
}

TensorInfo f32_tensor(std::string name, std::vector<uint64_t> shape, uint64_t offset) {
  TensorInfo t;
  t.name = std::move(name);
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  t.offset = offset;
  t.nbytes = t.elements() * 4;
  return t;
}

}  // namespace

bool WeightFileParsers::is_consistent_llama2c(const uint8_t* data, uint64_t size) {
  if (size < kHeaderBytes) return false;
  const Llama2cHeader h = Llama2cHeader::load(data);
  return header_problem(h).empty() && layout_of(h).end == size;
}

void WeightFileParsers::parse_llama2c(WeightFile& w, uint32_t file_index) {
  const MappedFile& m = map(w, file_index);
  const std::string& file = m.path();
  if (m.size() < kHeaderBytes) {
    fail_input(file, "", 0,
               "not a safetensors file, and too small for a llama2.c header (" + std::to_string(m.size()) +
                   " bytes, need 28)");
  }
  const Llama2cHeader h = Llama2cHeader::load(m.data());
  const std::string problem = header_problem(h);
  if (!problem.empty()) {
    fail_input(file, "", 0,
               "not a safetensors file, and not a valid llama2.c header (" + problem + "): " + h.describe());
  }
  const Llama2cLayout l = layout_of(h);
  if (l.end != m.size()) {
    fail_input(file, "", static_cast<long long>(std::min(l.end, m.size())),
               std::string(m.size() < l.end ? "truncated" : "trailing bytes in") + " llama2.c checkpoint: header (" +
                   h.describe() + ") implies " + std::to_string(l.end) + " bytes, file has " +
                   std::to_string(m.size()));
  }

  // Listed in the Hugging Face order, like the converted safetensors files.
  const uint64_t dim = uint64_t(h.dim);
  std::vector<TensorInfo>& ts = tensors(w);
  ts.push_back(f32_tensor("model.embed_tokens.weight", {h.vocab(), dim}, l.embedding));
  for (int32_t i = 0; i < h.n_layers; ++i) {
    for (const Stacked& s : l.per_layer) {
      ts.push_back(f32_tensor("model.layers." + std::to_string(i) + "." + s.hf_name + ".weight", s.shape,
                              s.base + uint64_t(i) * s.slice_floats() * 4));
    }
  }
  ts.push_back(f32_tensor("model.norm.weight", {dim}, l.final_norm));
  if (!h.shared_classifier()) ts.push_back(f32_tensor("lm_head.weight", {h.vocab(), dim}, l.classifier));
  for (TensorInfo& t : ts) t.file = file_index;

  auto& md = metadata(w);
  md["dim"] = std::to_string(h.dim);
  md["hidden_dim"] = std::to_string(h.hidden_dim);
  md["n_layers"] = std::to_string(h.n_layers);
  md["n_heads"] = std::to_string(h.n_heads);
  md["n_kv_heads"] = std::to_string(h.n_kv_heads);
  md["vocab_size"] = std::to_string(h.vocab());
  md["seq_len"] = std::to_string(h.seq_len);
  md["shared_classifier"] = h.shared_classifier() ? "true" : "false";
}

}  // namespace lutc
