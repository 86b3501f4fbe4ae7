// Banked LUT SRAM: BANKS banks of BANK_WORDS HIF words, PORTS read ports per
// bank, one load (write) port per bank, and a base register (the book's
// exponent) per slot, written with a book's first word.
// Each lane requests one word per cycle; per bank the lowest-numbered PORTS
// requesters are served and the rest retry next cycle, so lanes whose books
// share a bank serialize (the bank-conflict cost the cycle model charges).
// Requests for the same word are not merged: the arbiter compares banks only.
module lutc_lut_banks #(
    parameter int LANES      = 4,
    parameter int BANKS      = 2,
    parameter int PORTS      = 1,
    parameter int BANK_WORDS = 1024,
    parameter int WORD_BITS  = 20,
    parameter int SLOTS      = BANKS * BANK_WORDS / 4,
    localparam int BANK_W = (BANKS > 1) ? $clog2(BANKS) : 1,
    localparam int ADDR_W = $clog2(BANK_WORDS),
    localparam int SLOT_W = $clog2(SLOTS)
) (
    input  logic                 clk,
    // load ports (LUT_LOAD, driven by the DMA), one word per bank per cycle
    input  logic [BANKS-1:0]     load_we,
    input  logic [ADDR_W-1:0]    load_addr [BANKS],
    input  logic [WORD_BITS-1:0] load_word [BANKS],
    input  logic [BANKS-1:0]     base_we,
    input  logic [SLOT_W-1:0]    base_slot [BANKS],
    input  logic signed [15:0]   base_value [BANKS],
    // lane read requests
    input  logic [LANES-1:0]     req,
    input  logic [BANK_W-1:0]    req_bank [LANES],
    input  logic [ADDR_W-1:0]    req_addr [LANES],
    input  logic [SLOT_W-1:0]    req_slot [LANES],
    output logic [LANES-1:0]     grant,
    output logic [WORD_BITS-1:0] rdata [LANES],
    output logic signed [15:0]   rbase [LANES]
);
  logic [WORD_BITS-1:0] mem [BANKS][BANK_WORDS];
  logic signed [15:0]   base [SLOTS];

  always_ff @(posedge clk) begin
    for (int b = 0; b < BANKS; b++) begin
      if (load_we[b]) mem[b][load_addr[b]] <= load_word[b];
      if (base_we[b]) base[base_slot[b]] <= base_value[b];
    end
  end

  always_comb begin
    for (int l = 0; l < LANES; l++) begin
      int earlier;
      earlier = 0;
      for (int k = 0; k < l; k++)
        if (req[k] && req_bank[k] == req_bank[l]) earlier++;
      grant[l] = req[l] && (earlier < PORTS);
      rdata[l] = mem[req_bank[l]][req_addr[l]];
      rbase[l] = base[req_slot[l]];
    end
  end
endmodule
