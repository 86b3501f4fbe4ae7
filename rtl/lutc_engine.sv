// The LUT-decode GEMV engine: a controller that executes the .lutp
// instruction stream (docs/isa.md), the weight and activation SRAMs the DMA
// fills, LANES decode lanes (index unpack -> banked LUT -> HIF x scale x
// activation -> wide accumulator), the outlier unit and the fp32 writeback.
// Cycle accounting per instruction is in docs/rtl.md.
//
// Structure (lanes, banks, ports) is fixed at elaboration; widths and sizes
// are maxima, and the straps cfg_* select what a program's arch uses.
module lutc_engine
  import lutc_isa_pkg::*;
#(
    parameter int LANES       = 4,
    parameter int BANKS       = 2,
    parameter int PORTS       = 1,
    parameter int BANK_WORDS  = 1024,
    parameter int MANT_MAX    = 13,
    parameter int SHIFT_MAX   = 6,
    parameter int ACC_BITS    = 128,
    parameter int WSRAM_BYTES = 4096,
    parameter int ASRAM_BYTES = 2048,
    parameter int DMA_BYTES   = 16,
    localparam int WORD_BITS = 1 + MANT_MAX + SHIFT_MAX,
    localparam int SLOTS     = BANKS * BANK_WORDS / 4,
    localparam int BANK_W    = (BANKS > 1) ? $clog2(BANKS) : 1,
    localparam int ADDR_W    = $clog2(BANK_WORDS),
    localparam int SLOT_W    = $clog2(SLOTS),
    localparam int LANE_W    = $clog2(LANES + 1)
) (
    input  logic                   clk,
    input  logic                   rst_n,
    // straps from the program's arch
    input  logic [3:0]             cfg_mant_bits,
    input  logic [2:0]             cfg_shift_bits,
    input  logic                   cfg_act16,       // act.bits 16 (else 8)
    input  logic signed [31:0]     host_act_exp,    // ea of the activation vector
    // instruction stream
    input  logic                   insn_valid,
    input  logic [8*INSN_BYTES-1:0] insn,
    output logic                   insn_ready,
    // DMA_IN / LUT_LOAD requests handed to the DMA (the harness)
    output logic                   req_valid,
    output logic [7:0]             req_op,
    output logic [31:0]            req_f [4],
    input  logic                   dma_busy,
    input  logic                   lut_busy,
    // DMA write port into the weight (wr_act = 0) or activation SRAM
    input  logic                   wr_en,
    input  logic                   wr_act,
    input  logic [31:0]            wr_addr,
    input  logic [DMA_BYTES-1:0]   wr_be,
    input  logic [DMA_BYTES*8-1:0] wr_data,
    // LUT load ports: one word per bank per cycle, a book's base with its first word
    input  logic [BANKS-1:0]       lut_we,
    input  logic [ADDR_W-1:0]      lut_addr [BANKS],
    input  logic [WORD_BITS-1:0]   lut_word [BANKS],
    input  logic [BANKS-1:0]       lut_base_we,
    input  logic signed [15:0]     lut_base [BANKS],
    // writeback of STORE: one fp32 per cycle
    output logic                   y_valid,
    output logic [31:0]            y_row,
    output logic [31:0]            y_bits,
    output logic                   done,
    // activity, counted by the harness for the stats schema
    output logic [LANE_W-1:0]      act_lut_reads,
    output logic [LANE_W-1:0]      act_macs,
    output logic                   act_conflict,
    output logic                   act_decode,
    output logic                   act_outlier,
    output logic                   act_sync_wait
);
  // Three units run concurrently: the controller (fetch, CFG, DMA issue,
  // SYNC, STORE), the decode lanes (one DECODE_MAC at a time) and the
  // outlier unit (one OUTLIER at a time). Both add into the accumulators,
  // which take a lane product and an outlier correction in the same cycle.
  typedef enum logic [1:0] {C_FETCH, C_SYNC, C_STORE, C_DONE} ctrl_e;
  typedef enum logic [1:0] {U_IDLE, U_RUN, U_DRAIN} unit_e;
  ctrl_e ctrl;
  unit_e lanes, outl;
  logic [7:0] wsram [WSRAM_BYTES];
  logic [7:0] asram [ASRAM_BYTES];
  logic signed [31:0] regs [CFG_REGS];

  // ---- instruction fields -------------------------------------------------
  logic [7:0]  op;
  logic [31:0] f [INSN_FIELDS];
  logic [31:0] dm_k0, dm_cols;
  always_comb begin
    op = insn[7:0];
    for (int i = 0; i < INSN_FIELDS; i++) f[i] = insn[32 + 32 * i +: 32];
  end
  assign dm_k0   = f[F_DECODE_MAC_K0];
  assign dm_cols = f[F_DECODE_MAC_COLS];

  logic [3:0]  bits;
  logic [31:0] group;
  logic [1:0]  book_select;
  logic [1:0]  meta_format;
  logic [2:0]  meta_bytes;
  logic [1:0]  act_bytes;
  assign bits        = regs[REG_BITS][3:0];
  assign group       = regs[REG_GROUP];
  assign book_select = regs[REG_BOOK_SELECT][1:0];
  assign meta_format = regs[REG_META][1:0];
  assign meta_bytes  = meta_record_bytes(meta_format);
  assign act_bytes   = cfg_act16 ? 2'd2 : 2'd1;

  function automatic logic [7:0] wbyte(input logic [31:0] a);
    return (a < WSRAM_BYTES) ? wsram[a[$clog2(WSRAM_BYTES)-1:0]] : 8'd0;
  endfunction
  function automatic logic signed [15:0] act_at(input logic [31:0] a);
    logic [7:0] lo, hi;
    lo = (a < ASRAM_BYTES) ? asram[a[$clog2(ASRAM_BYTES)-1:0]] : 8'd0;
    hi = (a + 1 < ASRAM_BYTES) ? asram[32'(a + 1) % ASRAM_BYTES] : 8'd0;
    return cfg_act16 ? $signed({hi, lo}) : 16'(signed'(lo));
  endfunction

  // ---- DECODE_MAC tile walker ----------------------------------------------
  // Lanes run in lockstep over the tile's columns; lane r owns row r. Per
  // lane: its bit position in the index stream, its metadata record pointer
  // and its first book slot; shared: column, group and activation pointer.
  logic [31:0] t_cols, t_idx, t_slot0;
  logic [31:0] col, left_in_group, group_no, act_ptr;
  logic [31:0] bitpos [LANES];
  logic [31:0] meta_ptr [LANES];
  logic [31:0] slot_base [LANES];
  logic [LANES-1:0] active, served;
  logic [1:0] drain;

  logic [LANES-1:0] lut_req, lut_grant;
  logic [BANK_W-1:0] req_bank [LANES];
  logic [ADDR_W-1:0] req_addr [LANES];
  logic [SLOT_W-1:0] req_slot [LANES];
  logic [WORD_BITS-1:0] lut_rdata [LANES];
  logic signed [15:0] lut_rbase [LANES];
  logic [15:0] lane_scale [LANES];
  logic lane_has_scale;
  logic col_done;
  logic signed [15:0] col_act;

  assign lane_has_scale = meta_has_scale(meta_format);
  logic [31:0] scale_offset;  // of the fp16 scale within a metadata record
  assign scale_offset = {29'd0, meta_scale_offset(meta_format)};

  for (genvar l = 0; l < LANES; l++) begin : g_lane_front
    logic [31:0] byte_addr, rec, slot;
    logic [7:0]  code;
    lutc_index_unpack unpack (
        .window({wbyte(byte_addr + 1), wbyte(byte_addr)}), .offset(bitpos[l][2:0]), .bits(bits),
        .code(code));
    always_comb begin
      byte_addr = t_idx + (bitpos[l] >> 3);
      rec = meta_ptr[l];
      case (book_select)
        BOOK_PER_GROUP: slot = slot_base[l] + group_no;
        BOOK_BY_ID:     slot = t_slot0 + {24'd0, wbyte(rec)};
        BOOK_FIXED:     slot = t_slot0;
        default:        slot = t_slot0;  // 3 is no BookSelect: the verifier refuses a program that sets it
      endcase
      lane_scale[l] = {wbyte(rec + scale_offset + 1), wbyte(rec + scale_offset)};
      req_slot[l] = SLOT_W'(slot);
      req_bank[l] = BANK_W'(slot % BANKS);
      req_addr[l] = ADDR_W'(((slot / BANKS) << bits) | {24'd0, code});
    end
  end

  assign lut_req  = (lanes == U_RUN) ? (active & ~served) : '0;
  assign col_done = (lanes == U_RUN) && ((lut_req & ~lut_grant) == '0);
  assign col_act  = act_at(act_ptr);

  // ---- OUTLIER unit ----------------------------------------------------------
  logic [31:0] o_addr, o_count, o_act, o_i;
  logic [31:0] o_row, o_col;
  logic signed [63:0] o_delta;
  logic signed [79:0] o_product_q;
  logic [31:0] o_row_q;
  logic o_valid_q;
  always_comb begin
    logic [31:0] r;
    r = o_addr + (o_i << 4);
    o_row = {wbyte(r + 3), wbyte(r + 2), wbyte(r + 1), wbyte(r)};
    o_col = {wbyte(r + 7), wbyte(r + 6), wbyte(r + 5), wbyte(r + 4)};
    o_delta = {wbyte(r + 15), wbyte(r + 14), wbyte(r + 13), wbyte(r + 12),
               wbyte(r + 11), wbyte(r + 10), wbyte(r + 9), wbyte(r + 8)};
  end

  // ---- lanes, LUT, accumulators -----------------------------------------------
  logic signed [ACC_BITS-1:0] acc [LANES];
  logic [31:0] s_row0, s_rows, s_i;

  // Slot s lives in bank s mod BANKS at word (s div BANKS) x 2^b.
  logic [SLOT_W-1:0] base_slot [BANKS];
  always_comb
    for (int b = 0; b < BANKS; b++) base_slot[b] = SLOT_W'(32'(32'(lut_addr[b]) >> bits) * BANKS + b);

  lutc_lut_banks #(.LANES(LANES), .BANKS(BANKS), .PORTS(PORTS), .BANK_WORDS(BANK_WORDS),
                   .WORD_BITS(WORD_BITS), .SLOTS(SLOTS)) lut (
      .clk(clk), .load_we(lut_we), .load_addr(lut_addr), .load_word(lut_word),
      .base_we(lut_base_we), .base_slot(base_slot), .base_value(lut_base),
      .req(lut_req), .req_bank(req_bank), .req_addr(req_addr), .req_slot(req_slot),
      .grant(lut_grant), .rdata(lut_rdata), .rbase(lut_rbase));

  logic signed [15:0] act_q;
  logic mul_pending_q;
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      act_q <= '0;
      mul_pending_q <= 1'b0;
    end else begin
      mul_pending_q <= col_done;
      if (col_done) act_q <= col_act;
    end
  end

  for (genvar l = 0; l < LANES; l++) begin : g_lane_back
    lutc_mac_lane #(.MANT_MAX(MANT_MAX), .SHIFT_MAX(SHIFT_MAX), .ACC_BITS(ACC_BITS)) lane (
        .clk(clk), .rst_n(rst_n), .mant_bits(cfg_mant_bits), .shift_bits(cfg_shift_bits),
        .weight_exp(regs[REG_WEIGHT_EXP]),
        .hold_en(lut_grant[l]), .hold_word(lut_rdata[l]), .hold_base(lut_rbase[l]),
        .hold_has_scale(lane_has_scale), .hold_scale(lane_scale[l]),
        .mul_en(mul_pending_q && active[l]), .act(act_q),
        .outlier_en(o_valid_q && o_row_q == l), .outlier_product(o_product_q),
        .clear(ctrl == C_STORE && s_i == l), .acc(acc[l]));
  end

  // ---- writeback: the single fp32 rounding ------------------------------------
  logic signed [ACC_BITS-1:0] store_acc;
  always_comb begin
    store_acc = '0;
    for (int l = 0; l < LANES; l++)
      if (s_i == l) store_acc = acc[l];
  end
  lutc_fp32_round #(.ACC_BITS(ACC_BITS)) round (
      .acc(store_acc), .exp2(regs[REG_WEIGHT_EXP] + host_act_exp), .bits(y_bits));
  assign y_valid = (ctrl == C_STORE);
  assign y_row   = s_row0 + s_i;

  // ---- controller -----------------------------------------------------------------
  // An instruction is accepted when the unit it needs is free: DECODE_MAC the
  // lanes, OUTLIER the outlier unit; STORE, DMA_IN and LUT_LOAD wait for both
  // (STORE reads the accumulators they write; a DMA may refill the buffer
  // half they read); END waits for everything, the DMA included.
  logic lanes_idle, outl_idle, accept, sync_blocked;
  logic [1:0] sync_mask, sync_mask_q;
  assign lanes_idle = (lanes == U_IDLE);
  assign outl_idle  = (outl == U_IDLE);
  assign sync_mask = (ctrl == C_SYNC) ? sync_mask_q : f[F_SYNC_MASK][1:0];
  assign sync_blocked = (sync_mask[SYNC_DMA] && dma_busy) || (sync_mask[SYNC_LUT] && lut_busy);
  always_comb begin
    case (op)
      OP_DECODE_MAC: accept = lanes_idle;
      OP_OUTLIER:    accept = outl_idle;
      OP_STORE, OP_DMA_IN, OP_LUT_LOAD: accept = lanes_idle && outl_idle;
      OP_END:        accept = lanes_idle && outl_idle && !dma_busy && !lut_busy;
      OP_CFG, OP_SYNC: accept = 1'b1;
      default:       accept = 1'b0;  // no opcode of isa.def: the assertion below stops the run
    endcase
    accept = accept && insn_valid && (ctrl == C_FETCH);
  end
  assign insn_ready = accept;
  assign req_valid  = accept && (op == OP_DMA_IN || op == OP_LUT_LOAD);
  assign req_op     = op;
  // To the DMA: DMA_IN {seg, src, dst, bytes}, LUT_LOAD {first, count, 0, 0}.
  always_comb begin
    if (op == OP_LUT_LOAD) begin
      req_f[0] = f[F_LUT_LOAD_FIRST];
      req_f[1] = f[F_LUT_LOAD_COUNT];
      req_f[2] = '0;
      req_f[3] = '0;
    end else begin
      req_f[0] = f[F_DMA_IN_SEG];
      req_f[1] = f[F_DMA_IN_SRC];
      req_f[2] = f[F_DMA_IN_DST];
      req_f[3] = f[F_DMA_IN_BYTES];
    end
  end
  assign done = (ctrl == C_DONE);

  always_ff @(posedge clk) begin
    if (wr_en)
      for (int b = 0; b < DMA_BYTES; b++)
        if (wr_be[b]) begin
          if (wr_act) asram[32'(wr_addr + b) % ASRAM_BYTES] <= wr_data[8 * b +: 8];
          else wsram[32'(wr_addr + b) % WSRAM_BYTES] <= wr_data[8 * b +: 8];
        end
  end

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      ctrl <= C_FETCH;
      for (int i = 0; i < CFG_REGS; i++) regs[i] <= '0;
      sync_mask_q <= '0;
      s_i <= '0;
    end else begin
      // A verified program holds only isa.def's opcodes; anything else offered
      // at fetch is a harness or program-image fault, not an instruction to skip.
      if (ctrl == C_FETCH && insn_valid)
        assert (op_legal(op)) else $fatal(1, "lutc_engine: opcode 8'h%02h is not in isa.def", op);
      case (ctrl)
        C_FETCH:
          if (accept) begin
            case (op)
              OP_CFG:  if (f[F_CFG_REG] < CFG_REGS) regs[f[F_CFG_REG][$clog2(CFG_REGS)-1:0]] <= f[F_CFG_VALUE];
              OP_SYNC: if (sync_blocked) begin
                sync_mask_q <= f[F_SYNC_MASK][1:0];
                ctrl <= C_SYNC;
              end
              OP_END:  ctrl <= C_DONE;
              OP_STORE: begin
                s_row0 <= f[F_STORE_ROW0];
                s_rows <= f[F_STORE_ROWS];
                s_i <= '0;
                if (f[F_STORE_ROWS] != 0) ctrl <= C_STORE;
              end
              default: ;  // DMA_IN, LUT_LOAD go to the DMA; DECODE_MAC, OUTLIER to their units
            endcase
          end
        C_SYNC: if (!sync_blocked) ctrl <= C_FETCH;
        C_STORE: begin
          s_i <= s_i + 1;
          if (s_i + 1 == s_rows) ctrl <= C_FETCH;
        end
        default: ;  // C_DONE
      endcase
    end
  end

  // ---- decode lanes unit ------------------------------------------------------------
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      lanes <= U_IDLE;
      served <= '0;
      active <= '0;
      drain <= '0;
    end else begin
      case (lanes)
        U_IDLE:
          if (accept && op == OP_DECODE_MAC) begin
            t_cols  <= f[F_DECODE_MAC_COLS];
            t_idx   <= f[F_DECODE_MAC_IDX];
            t_slot0 <= f[F_DECODE_MAC_SLOT0];
            act_ptr <= f[F_DECODE_MAC_ACT];
            col <= '0;
            group_no <= '0;
            // Columns of the first group inside this chunk.
            left_in_group <= (group - dm_k0 % group < dm_cols) ? group - dm_k0 % group : dm_cols;
            for (int l = 0; l < LANES; l++) begin
              // One divider per tile start; groups_in_chunk of docs/isa.md.
              logic [31:0] gpt;
              gpt = (dm_k0 + dm_cols - 1) / group - dm_k0 / group + 1;
              bitpos[l]    <= 32'(l) * dm_cols * {28'd0, bits};
              meta_ptr[l]  <= f[F_DECODE_MAC_META] + 32'(l) * gpt * {29'd0, meta_bytes};
              slot_base[l] <= f[F_DECODE_MAC_SLOT0] + 32'(l) * gpt;
              active[l]    <= 32'(l) < f[F_DECODE_MAC_ROWS];
            end
            served <= '0;
            drain <= '0;
            lanes <= (f[F_DECODE_MAC_ROWS] == 0 || dm_cols == 0) ? U_DRAIN : U_RUN;
          end
        U_RUN:
          if (col_done) begin
            served <= '0;
            col <= col + 1;
            act_ptr <= act_ptr + {30'd0, act_bytes};
            for (int l = 0; l < LANES; l++) bitpos[l] <= bitpos[l] + {28'd0, bits};
            if (left_in_group == 1) begin
              group_no <= group_no + 1;
              for (int l = 0; l < LANES; l++) meta_ptr[l] <= meta_ptr[l] + {29'd0, meta_bytes};
              left_in_group <= (t_cols - col - 1 < group) ? t_cols - col - 1 : group;
            end else begin
              left_in_group <= left_in_group - 1;
            end
            if (col + 1 == t_cols) lanes <= U_DRAIN;
          end else begin
            served <= served | lut_grant;
          end
        default: begin
          // Two stages behind the last column: the product, then the add.
          drain <= drain + 1;
          if (drain == 2'd1) begin
            lanes <= U_IDLE;
            active <= '0;
          end
        end
      endcase
    end
  end

  // ---- outlier unit -------------------------------------------------------------------
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      outl <= U_IDLE;
      o_valid_q <= 1'b0;
    end else begin
      o_valid_q <= 1'b0;
      case (outl)
        U_IDLE:
          if (accept && op == OP_OUTLIER) begin
            o_addr <= f[F_OUTLIER_ADDR];
            o_count <= f[F_OUTLIER_COUNT];
            o_act <= f[F_OUTLIER_ACT];
            o_i <= '0;
            outl <= (f[F_OUTLIER_COUNT] == 0) ? U_DRAIN : U_RUN;
          end
        U_RUN: begin
          o_product_q <= 80'(o_delta) * 80'(act_at(o_act + o_col * {30'd0, act_bytes}));
          o_row_q <= o_row;
          o_valid_q <= 1'b1;
          o_i <= o_i + 1;
          if (o_i + 1 == o_count) outl <= U_DRAIN;
        end
        default: outl <= U_IDLE;  // the last correction's add
      endcase
    end
  end

  // ---- activity ---------------------------------------------------------------------
  always_comb begin
    act_lut_reads = '0;
    act_macs = '0;
    for (int l = 0; l < LANES; l++) begin
      act_lut_reads = act_lut_reads + LANE_W'(lut_grant[l]);
      act_macs = act_macs + LANE_W'(mul_pending_q && active[l]);
    end
  end
  assign act_conflict  = (lanes == U_RUN) && !col_done;
  assign act_decode    = (lanes == U_RUN);
  assign act_outlier   = o_valid_q;
  // The controller stalls: a SYNC waiting, or an instruction whose unit is busy.
  assign act_sync_wait = (ctrl == C_SYNC) ||
                         (ctrl == C_FETCH && insn_valid && (!accept || (op == OP_SYNC && sync_blocked)));
endmodule
