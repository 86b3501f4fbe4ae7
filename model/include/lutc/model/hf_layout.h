#pragma once
// Row order of q_proj / k_proj weights (and their biases) for the two RoPE
// layouts (RopeLayout in llama.h). Meta / llama2.c checkpoints rotate channel
// pairs (2i, 2i+1) of each head; Hugging Face checkpoints rotate (i, i + h/2).
// transformers' convert_llama_weights_to_hf reorders each head's rows so that
// the same model computes the same thing in the other layout:
//   half[head, j * h/2 + i] = interleaved[head, 2 * i + j]   (j in {0, 1})
// i.e. w.view(heads, h/2, 2, cols).transpose(1, 2).reshape(rows, cols).
#include <cstdint>

namespace lutc {

// `in` and `out` are rows x cols row-major and must not overlap; rows must be
// a multiple of head_size and head_size even (throws Error(kBadInput) else).
void rope_rows_interleaved_to_half(const float* in, float* out, uint64_t rows, uint64_t cols, uint32_t head_size);
// The inverse: Hugging Face rotate-half rows back to interleaved pairs.
void rope_rows_half_to_interleaved(const float* in, float* out, uint64_t rows, uint64_t cols, uint32_t head_size);
// rope_rows_interleaved_to_half on rows of `row_bytes` raw bytes each, for a
// tensor in any stored dtype (bf16 source rows, decoded rows already rounded
// to the output dtype, a 1-D bias with one element per row).
void rope_row_bytes_interleaved_to_half(const uint8_t* in, uint8_t* out, uint64_t rows, uint64_t row_bytes,
                                        uint32_t head_size);

}  // namespace lutc
