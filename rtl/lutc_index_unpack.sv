// Index unpacker: one b-bit code out of the little-endian index bit stream
// (docs/numerics.md §1). b <= 8, so a code spans at most two bytes; the lane
// hands in those two bytes and the bit offset of the code in the first one.
module lutc_index_unpack (
    input  logic [15:0] window,  // {byte at addr+1, byte at addr}
    input  logic [2:0]  offset,  // stream bit position mod 8
    input  logic [3:0]  bits,    // b in {2,3,4,5,6,8}
    output logic [7:0]  code
);
  logic [7:0] mask;
  assign mask = (bits >= 4'd8) ? 8'hFF : (8'd1 << bits) - 8'd1;
  assign code = 8'(window >> offset) & mask;
endmodule
