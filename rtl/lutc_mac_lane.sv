// One decode lane's back end: the LUT word, base and block scale the lane
// was granted, the column's activation, then (registered) the exact product
// w_int x a, then the add into the lane's wide accumulator. The outlier unit
// adds its corrections through the same accumulator (outlier merge), and
// STORE reads and clears it. Products are at most 64 + 16 bits, so the sum
// is exact as long as the compiler's bound (acc_bits_needed) fits ACC_BITS.
module lutc_mac_lane #(
    parameter int MANT_MAX  = 13,
    parameter int SHIFT_MAX = 6,
    parameter int ACC_BITS  = 128,
    localparam int WORD_BITS = 1 + MANT_MAX + SHIFT_MAX
) (
    input  logic                       clk,
    input  logic                       rst_n,
    input  logic [3:0]                 mant_bits,
    input  logic [2:0]                 shift_bits,
    input  logic signed [31:0]         weight_exp,
    // a granted LUT read: hold it until the column completes
    input  logic                       hold_en,
    input  logic [WORD_BITS-1:0]       hold_word,
    input  logic signed [15:0]         hold_base,
    input  logic                       hold_has_scale,
    input  logic [15:0]                hold_scale,
    // the column completed: multiply what is held by the column's activation
    input  logic                       mul_en,
    input  logic signed [15:0]         act,
    // outlier merge: an exact correction product for this row
    input  logic                       outlier_en,
    input  logic signed [79:0]         outlier_product,
    input  logic                       clear,
    output logic signed [ACC_BITS-1:0] acc
);
  logic [WORD_BITS-1:0] word_q;
  logic signed [15:0]   base_q;
  logic                 has_scale_q;
  logic [15:0]          scale_q;
  logic signed [63:0]   w_int;
  logic signed [79:0]   product_q;
  logic                 product_valid_q;
  logic signed [ACC_BITS-1:0] addend;

  lutc_hif_weight #(.MANT_MAX(MANT_MAX), .SHIFT_MAX(SHIFT_MAX)) weight (
      .word(word_q), .mant_bits(mant_bits), .shift_bits(shift_bits), .base(base_q),
      .has_scale(has_scale_q), .scale(scale_q), .weight_exp(weight_exp), .w_int(w_int));

  always_comb begin
    addend = '0;
    if (product_valid_q) addend = addend + ACC_BITS'(product_q);
    if (outlier_en) addend = addend + ACC_BITS'(outlier_product);
  end

  always_ff @(posedge clk) begin
    if (hold_en) begin
      word_q      <= hold_word;
      base_q      <= hold_base;
      has_scale_q <= hold_has_scale;
      scale_q     <= hold_scale;
    end
    // Enabled only for a completed column: the multiplier idles otherwise.
    if (mul_en) product_q <= 80'(w_int) * 80'(act);
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      product_valid_q <= 1'b0;
      acc             <= '0;
    end else begin
      product_valid_q <= mul_en;
      if (clear) acc <= '0;
      else if (product_valid_q || outlier_en) acc <= acc + addend;
    end
  end
endmodule
