// export_hf_folder: plan every output tensor from the source checkpoint and
// the .xfp index (nothing loaded yet), check the .xfp belongs to the source,
// then write shard after shard, one tensor in memory at a time.
#include "lutc/model/hf_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/hf_layout.h"
#include "lutc/model/tensor_fates.h"
#include "lutc/model/xfp_file.h"

namespace lutc {
namespace fs = std::filesystem;

const std::vector<std::string>& hf_side_files() {
  static const std::vector<std::string> names = {"config.json",
                                                 "generation_config.json",
                                                 "tokenizer.json",
                                                 "tokenizer.model",
                                                 "tokenizer_config.json",
                                                 "special_tokens_map.json",
                                                 "vocab.json",
                                                 "merges.txt",
                                                 "vocab.txt",
                                                 "added_tokens.json"};
  return names;
}

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// q/k projections (weights and biases) are the tensors whose rows RoPE pairs up.
bool is_rope_rows(const std::string& name) {
  for (const char* t :
       {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.bias"})
    if (ends_with(name, t)) return true;
  return false;
}

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

// One tensor of the output folder.
struct OutTensor {
  const TensorInfo* src = nullptr;
  DType dtype = DType::kF32;
  std::vector<size_t> layers;  // .xfp layer records decoded into it (one per expert slice); empty: copied
  size_t kept = SIZE_MAX;      // .xfp kept record holding the same tensor, checked byte for byte
  bool permute = false;        // q/k rows to the rotate-half layout
  uint32_t shard = 0;
  uint64_t nbytes() const { return src->elements() * dtype_size(dtype); }
};

// The folder holding the source's side files: the folder given, or the one holding the file.
std::string source_dir(const WeightFile& f) {
  std::error_code ec;
  if (fs::is_directory(f.path(), ec)) return f.path();
  const fs::path parent = fs::path(f.path()).parent_path();
  return parent.empty() ? "." : parent.string();
}

class Exporter {
 public:
  explicit Exporter(const ExportOptions& o) : o_(o), src_(WeightFile::open(o.source)), xfp_(o.xfp) {
    if (src_->format() == "gguf")
      fail_input(o.source, "", -1, "GGUF is not exported: quantize and export a safetensors or llama2.c checkpoint");
    torch_dtype_name(o.dtype);  // a usage error for anything but bf16/fp16/fp32
    cfg_ = llama_config_from(*src_);
    hf_ = !src_->config_path().empty();
    r_.output = o.output;
    r_.qk_permuted = cfg_.rope_layout == RopeLayout::kInterleaved;
    plan();
  }

  ExportReport run() {
    AtomicFolder folder(o_.output, o_.force);
    for (uint32_t s = 0; s < shard_names_.size(); ++s) write_shard(folder, s);
    write_index(folder);
    write_side_files(folder);
    folder.commit();
    return r_;
  }

 private:
  [[noreturn]] void not_from_source(const std::string& record, const std::string& why) const {
    fail_input(o_.xfp, record, -1, why + " in source '" + o_.source + "': the .xfp was made from another model");
  }

  // The layer record `name` stands for, directly or through an alias: its
  // index; records().size() when no record has the name, SIZE_MAX when the
  // record is no layer. A name found is struck from `unused`.
  size_t layer_for(const std::string& name, std::set<std::string>& unused) const {
    const auto& recs = xfp_.records();
    size_t i = xfp_.find(name);
    if (i == recs.size()) return i;
    unused.erase(name);
    if (recs[i].kind == XfpRecordKind::kAlias) i = xfp_.find(recs[i].target);
    return i < recs.size() && recs[i].kind == XfpRecordKind::kLayer ? i : SIZE_MAX;
  }

  // The layer records that replace t: one, or one per slice of a 3-D stacked
  // expert tensor; none when t was not quantized (it is copied).
  std::vector<size_t> layers_for(const TensorInfo& t, std::set<std::string>& unused) const {
    const auto& recs = xfp_.records();
    const size_t i = layer_for(t.name, unused);
    if (i < recs.size()) {
      if (recs[i].shape != t.shape)
        not_from_source(t.name, "layer shape " + shape_text(recs[i].shape) + " differs from " + shape_text(t.shape));
      return {i};
    }
    std::vector<size_t> layers;
    if (i != recs.size() || t.shape.size() != 3) return layers;
    for (uint64_t e = 0; e < t.shape[0]; ++e) {
      const std::string slice = expert_slice_name(t.name, e);
      const size_t j = layer_for(slice, unused);
      if (j >= recs.size()) {
        if (e == 0 && j == recs.size()) break;  // not quantized: copied whole
        not_from_source(slice, "expert " + std::to_string(e) + " of '" + t.name + "' is not a layer of the .xfp");
      }
      if (recs[j].shape != std::vector<uint64_t>{t.shape[1], t.shape[2]})
        not_from_source(slice,
                        "layer shape " + shape_text(recs[j].shape) + " differs from a slice of " + shape_text(t.shape));
      layers.push_back(j);
    }
    return layers;
  }

  // The kept record of t's name, checked against t; SIZE_MAX when there is none.
  size_t kept_for(const TensorInfo& t) const {
    const auto& recs = xfp_.records();
    const size_t k = xfp_.find(t.name);
    if (k >= recs.size() || recs[k].kind != XfpRecordKind::kKept) return SIZE_MAX;
    if (recs[k].shape != t.shape || recs[k].dtype != t.dtype)
      not_from_source(t.name, std::string("kept tensor ") + dtype_name(recs[k].dtype) + " " +
                                  shape_text(recs[k].shape) + " differs from " + dtype_name(t.dtype) + " " +
                                  shape_text(t.shape));
    return k;
  }

  void plan() {
    const auto& recs = xfp_.records();
    // Every .xfp name a source tensor (or a slice of one) takes; what is left
    // over at the end belongs to some other model.
    std::set<std::string> unused;
    for (const XfpRecordInfo& rec : recs) unused.insert(rec.name);
    for (const TensorInfo& t : src_->tensors()) {
      OutTensor out;
      out.src = &t;
      out.dtype = t.dtype;
      out.permute = r_.qk_permuted && is_rope_rows(t.name);
      // A layer (directly or through an alias) replaces the tensor; a 3-D
      // stacked expert tensor is replaced slice by slice; a kept record (or an
      // alias of one) holds the source's own values, so the source is copied.
      out.layers = layers_for(t, unused);
      if (out.layers.empty()) out.kept = kept_for(t);
      if (!out.layers.empty()) out.dtype = o_.dtype;
      // Tied embeddings: transformers makes lm_head from the embedding table.
      if (t.name == "lm_head.weight" && cfg_.tied_classifier) {
        r_.lm_head_dropped = true;
        continue;
      }
      if (out.layers.empty() && out.kept == SIZE_MAX && t.shape.size() >= 2 && xfp_.find(t.name) == recs.size())
        r_.copied_matrices.push_back(t.name);
      out.shard = t.file;
      tensors_.push_back(out);
    }
    if (!unused.empty())
      not_from_source(*unused.begin(),
                      "no tensor of this name (" + std::to_string(unused.size()) + " .xfp records unmatched)");
    for (const OutTensor& t : tensors_) total_elements_ += t.src->elements();
    assign_shards();
  }

  void assign_shards() {
    if (o_.max_shard_bytes) {
      uint64_t in_shard = 0;
      uint32_t s = 0;
      for (size_t i = 0; i < tensors_.size(); ++i) {
        const uint64_t b = tensors_[i].nbytes();
        if (i && in_shard + b > o_.max_shard_bytes) ++s, in_shard = 0;
        tensors_[i].shard = s;
        in_shard += b;
      }
      name_shards(tensors_.empty() ? 1 : s + 1);
    } else if (hf_) {
      // The source's own shard files and assignment.
      for (const std::string& f : src_->files()) shard_names_.push_back(fs::path(f).filename().string());
    } else {
      for (OutTensor& t : tensors_) t.shard = 0;
      shard_names_ = {"model.safetensors"};
    }
  }

  void name_shards(uint32_t n) {
    if (n == 1) {
      shard_names_ = {"model.safetensors"};
      return;
    }
    for (uint32_t s = 0; s < n; ++s) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05u-of-%05u.safetensors", s + 1, n);
      shard_names_.push_back(name);
    }
  }

  void write_shard(AtomicFolder& folder, uint32_t s) {
    std::vector<SafetensorsStreamWriter::Entry> entries;
    for (const OutTensor& t : tensors_)
      if (t.shard == s) entries.push_back({t.src->name, t.dtype, t.src->shape});
    if (entries.empty()) return;  // every tensor it held was dropped (a tied lm_head)
    r_.shards.push_back(shard_names_[s]);
    SafetensorsStreamWriter w(folder.file(shard_names_[s]), entries, {{"format", "pt"}});
    for (const OutTensor& t : tensors_) {
      if (t.shard != s) continue;
      if (o_.on_tensor) o_.on_tensor(t.src->name, t.src->elements(), total_elements_);
      std::vector<uint8_t> bytes = t.layers.empty() ? copied(t) : decoded(t);
      if (t.permute) {
        std::vector<uint8_t> out(bytes.size());
        rope_row_bytes_interleaved_to_half(bytes.data(), out.data(), t.src->rows(), bytes.size() / t.src->rows(),
                                           cfg_.head_size());
        bytes.swap(out);
      }
      w.write_next(bytes.data(), bytes.size());
      weight_map_[t.src->name] = shard_names_[s];
      r_.total_bytes += bytes.size();
      ++r_.tensors;
    }
    w.commit();
  }

  std::vector<uint8_t> copied(const OutTensor& t) {
    std::vector<uint8_t> bytes = src_->read_raw(*t.src);
    if (t.kept != SIZE_MAX && xfp_.read_kept(t.kept).bytes != bytes)
      not_from_source(t.src->name, "kept tensor's values differ from the source's");
    ++r_.copied;
    return bytes;
  }

  // The golden decode of each layer (expert slices one after another), rounded
  // to the output dtype. Decoded a block of rows at a time, so besides the
  // layer record only the output bytes grow with the tensor.
  std::vector<uint8_t> decoded(const OutTensor& t) {
    constexpr uint32_t kRowsPerBlock = 64;
    const size_t es = dtype_size(t.dtype);
    std::vector<uint8_t> bytes(size_t(t.src->elements()) * es);
    size_t at = 0;
    for (size_t rec : t.layers) {
      const QuantizedLayer l = xfp_.read_layer(rec);
      SchemeRounding& sr = r_.rounding[scheme_name(l.scheme)];
      std::vector<float> w(size_t(std::min(kRowsPerBlock, l.rows)) * l.cols);
      for (uint32_t r0 = 0; r0 < l.rows; r0 += kRowsPerBlock) {
        const uint32_t n = std::min(kRowsPerBlock, l.rows - r0);
        golden_decode_rows(l, r0, n, w.data());
        for (size_t i = 0; i < size_t(n) * l.cols; ++i, at += es) {
          const float v = w[i];
          const uint16_t b = float_to_bf16(v), h = float_to_half(v);
          const bool fp16_overflow = std::isinf(half_to_float(h)) && std::isfinite(v);
          sr.rounded_bf16 += bf16_to_float(b) != v || std::signbit(bf16_to_float(b)) != std::signbit(v);
          sr.rounded_fp16 += half_to_float(h) != v || std::signbit(half_to_float(h)) != std::signbit(v);
          sr.overflow_fp16 += fp16_overflow;
          if (t.dtype == DType::kF16 && fp16_overflow)
            fail_input(o_.xfp, xfp_.records()[rec].name, -1,
                       "decoded value " + std::to_string(v) + " at row " + std::to_string(r0 + i / l.cols) +
                           ", column " + std::to_string(i % l.cols) +
                           " is beyond fp16's range (65504): export with --dtype bf16 or fp32");
          if (t.dtype == DType::kBF16)
            std::memcpy(&bytes[at], &b, 2);
          else if (t.dtype == DType::kF16)
            std::memcpy(&bytes[at], &h, 2);
          else
            std::memcpy(&bytes[at], &v, 4);
        }
      }
      sr.values += l.elements();
    }
    ++r_.decoded;
    return bytes;
  }

  void write_text(AtomicFolder& folder, const std::string& name, const std::string& text) {
    AtomicFile f(folder.file(name));
    f.write(text.data(), text.size());
    f.commit();
  }

  void write_index(AtomicFolder& folder) {
    nlohmann::ordered_json index = {{"metadata", {{"total_size", r_.total_bytes}}}, {"weight_map", weight_map_}};
    write_text(folder, kIndexName, index.dump(2) + "\n");
  }

  void write_side_files(AtomicFolder& folder) {
    const std::string dir = source_dir(*src_);
    for (const std::string& name : hf_side_files()) {
      const fs::path from = fs::path(dir) / name;
      std::error_code ec;
      if (name == "config.json" && !hf_) {
        write_text(folder, name, llama_hf_config(cfg_, o_.dtype).dump(2) + "\n");
        r_.config_synthesized = true;
      } else if (fs::is_regular_file(from, ec)) {
        if (!fs::copy_file(from, folder.file(name), ec) || ec)
          throw Error(ExitCode::kIo, "cannot copy '" + from.string() + "' into '" + o_.output + "': " + ec.message());
      } else {
        continue;
      }
      r_.side_files.push_back(name);
    }
  }

  const ExportOptions& o_;
  std::unique_ptr<WeightFile> src_;
  XfpReader xfp_;
  LlamaConfig cfg_;
  bool hf_ = false;
  std::vector<OutTensor> tensors_;
  std::vector<std::string> shard_names_;
  std::map<std::string, std::string> weight_map_;
  uint64_t total_elements_ = 0;
  ExportReport r_;
};

}  // namespace

ExportReport export_hf_folder(const ExportOptions& options) {
  if (options.xfp.empty() || options.source.empty() || options.output.empty())
    throw Error(ExitCode::kUsage, "export needs an .xfp, its source checkpoint and an output folder");
  return Exporter(options).run();
}

}  // namespace lutc
