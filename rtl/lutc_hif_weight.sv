// HIF word x block scale -> the integer weight at the accumulator's exponent
// Ew (docs/isa.md "Numerics"): p = mant x scale_mant at exponent
// E = base - shift + scale_exp, w_int = trunc(p x 2^(E - Ew)). This is
// weight_to_int of the golden GEMV for the same fp32 value, so the engine
// needs no floating point. HIF field widths are runtime straps (<= maxima)
// so one verilated engine runs lossless and narrow-HIF programs alike.
module lutc_hif_weight #(
    parameter int MANT_MAX  = 13,
    parameter int SHIFT_MAX = 6,
    localparam int WORD_BITS = 1 + MANT_MAX + SHIFT_MAX
) (
    input  logic [WORD_BITS-1:0] word,
    input  logic [3:0]           mant_bits,
    input  logic [2:0]           shift_bits,
    input  logic signed [15:0]   base,
    input  logic                 has_scale,
    input  logic [15:0]          scale,      // fp16 bits; 1.0 when has_scale is 0
    input  logic signed [31:0]   weight_exp, // Ew
    output logic signed [63:0]   w_int
);
  logic [WORD_BITS-1:0] mant_mask, shift_mask, shifted_word;
  logic [MANT_MAX-1:0]  mant;
  logic [SHIFT_MAX-1:0] shift;
  logic                 negative;
  logic [10:0]          scale_mant;
  logic signed [31:0]   scale_exp;
  logic [23:0]          product;
  logic signed [31:0]   sh;
  logic [63:0]          magnitude;

  always_comb begin
    mant_mask    = (WORD_BITS'(1) << mant_bits) - WORD_BITS'(1);
    shift_mask   = (WORD_BITS'(1) << shift_bits) - WORD_BITS'(1);
    shifted_word = word >> mant_bits;
    mant         = MANT_MAX'(word & mant_mask);
    shift        = SHIFT_MAX'(shifted_word & shift_mask);
    negative     = shifted_word[$clog2(WORD_BITS)'(shift_bits)];
    if (!has_scale) begin
      scale_mant = 11'd1;
      scale_exp  = 32'sd0;
    end else if (scale[14:10] != 5'd0) begin
      scale_mant = {1'b1, scale[9:0]};
      scale_exp  = $signed({27'd0, scale[14:10]}) - 32'sd25;
    end else begin
      scale_mant = {1'b0, scale[9:0]};  // subnormal fp16
      scale_exp  = -32'sd24;
    end
    negative = negative ^ (has_scale & scale[15]);
    product  = 24'(mant) * 24'(scale_mant);
    sh = 32'(base) - $signed({26'd0, shift}) + scale_exp - weight_exp;
    // The compiler proves a left shift never leaves 63 bits; a right shift
    // truncates toward zero on the magnitude, as weight_to_int does.
    if (sh >= 0) magnitude = (sh > 32'sd63) ? 64'd0 : ({40'd0, product} << sh[5:0]);
    else magnitude = (sh < -32'sd63) ? 64'd0 : ({40'd0, product} >> 6'(-sh));
    w_int = negative ? -$signed(magnitude) : $signed(magnitude);
  end
endmodule
