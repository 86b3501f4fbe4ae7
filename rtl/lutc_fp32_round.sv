// The one rounding of the GEMV (docs/numerics.md §4.4): acc x 2^exp2 to fp32,
// round to nearest even, subnormals, overflow to +-Inf, acc = 0 -> +0. The
// result bits are ((d + exp2 + 149) << 23) + m where d is the right shift that
// keeps 24 bits (or stops at the 2^-149 grid) and m the rounded significand:
// the significand's hidden bit and a rounding carry then land in the
// exponent field by plain addition, for normals and subnormals alike.
module lutc_fp32_round #(
    parameter int ACC_BITS = 128
) (
    input  logic signed [ACC_BITS-1:0] acc,
    input  logic signed [31:0]         exp2,
    output logic [31:0]                bits
);
  logic [ACC_BITS-1:0] mag, below;
  logic signed [31:0]  lead, d;
  logic [ACC_BITS-1:0] m;
  logic                guard, sticky;
  logic [63:0]         word;

  always_comb begin
    mag  = acc[ACC_BITS-1] ? ACC_BITS'(-acc) : ACC_BITS'(acc);
    lead = 32'sd0;
    for (int i = 0; i < ACC_BITS; i++)
      if (mag[i]) lead = i;
    d = lead - 32'sd23;
    if (d < -32'sd149 - exp2) d = -32'sd149 - exp2;
    guard  = 1'b0;
    sticky = 1'b0;
    below  = '0;
    if (d <= 0) begin
      m = mag << 6'(-d);  // exact: at most 24 significant bits after the shift
    end else if (d > ACC_BITS) begin
      m      = '0;
      sticky = |mag;
    end else begin
      m      = mag >> d[7:0];
      guard  = mag[7'(d - 1)];
      below  = (ACC_BITS'(1) << 7'(d - 1)) - ACC_BITS'(1);
      sticky = |(mag & below);
    end
    m = m + ACC_BITS'({guard & (sticky | m[0])});
    word = (64'($unsigned(d + exp2 + 32'sd149)) << 23) + 64'(m[24:0]);
    if (word >= 64'h7F80_0000) word = 64'h7F80_0000;
    bits = (mag == '0) ? 32'd0 : {acc[ACC_BITS-1], word[30:0]};
  end
endmodule
