// kolmo_core.sv: one kolmo CIM core (docs/rtl.md): instruction fetch and decode from the generated
// ISA include, the scalar unit and 32 registers, the scratchpad, the VFU, SBU and SEL, up to 16
// MVMUs (behavioural digital model of bit-sliced crossbars with bit-serial inputs, ADCs,
// shift-and-add and row gating), the tile-memory port, the tile's DMA engine with a DRAM port,
// and one action counter per hwmodels/actions.def row. Timing follows docs/timing.md exactly.
//
// Architecture parameters are registers written through the host port while rst is high (the
// harness derives them from the arch config); sizes are bounded by the module parameters below.
// The tile memory lives here (single-core co-simulation); DRAM lives outside, behind dram_*.
//
// Coding style: one clocked process that, at each rising edge, processes one core cycle in
// program order (background units first, then the instruction in flight), like the C simulator
// it is checked against. Memories are written with blocking assignments inside that one process;
// the host read port is the only combinational logic.
/* verilator lint_off BLKSEQ */
module kolmo_core #(
    parameter int MAX_IMEM = 16384,   // instruction words
    parameter int MAX_SPAD = 65536,   // scratchpad bytes
    parameter int MAX_TMEM = 262144,  // tile-memory bytes
    parameter int MAX_U = 16,         // MVMUs
    parameter int MAX_S = 16,         // weight slices per MVMU
    parameter int MAX_R = 256,        // crossbar rows
    parameter int MAX_C = 256,        // crossbar columns
    parameter int DMA_Q = 16          // queued DMA transfers
) (
    input  logic         clk,
    input  logic         rst,
    // host port: configuration, loading and read-back (writes only while rst is high)
    input  logic         host_we,
    input  logic [3:0]   host_sel,
    input  logic [31:0]  host_addr,
    input  logic [63:0]  host_wdata,
    output logic [63:0]  host_rdata,
    // one record per retired instruction
    output logic         retire_valid,
    output logic [31:0]  retire_pc,
    output logic [63:0]  retire_cycle,  // issue cycle
    output logic [7:0]   retire_op,
    output logic         retire_wen,    // a register (not r0) was written
    output logic [4:0]   retire_reg,
    output logic [31:0]  retire_value,
    output logic         halted,
    output logic         fault,
    output logic [7:0]   fault_code,
    output logic [63:0]  cycle,         // the cycle the core processes next
    // DRAM port of the DMA engine: a request after a rising edge is served before the next one
    output logic         dram_req,
    output logic         dram_we,
    output logic [31:0]  dram_addr,
    output logic [6:0]   dram_len,      // 1..64 bytes
    output logic [511:0] dram_wdata,
    input  logic [511:0] dram_rdata
);
  /* verilator lint_off UNUSEDPARAM */
`include "isa_defs.vh"
`include "rtl_defs.vh"
  /* verilator lint_on UNUSEDPARAM */

  typedef logic [63:0] u64;

  // Constants of the hardware template (docs/timing.md).
  localparam u64 BRANCH_PENALTY = 1;
  localparam u64 VFU_STARTUP = 2;
  localparam int RECIP_CYCLES = 4;
  localparam u64 SBU_STARTUP = 2;
  localparam u64 SEL_STARTUP = 2;
  localparam int SA_CYCLES = 2;

  localparam int IW = $clog2(MAX_IMEM);
  localparam int SW = $clog2(MAX_SPAD);
  localparam int TW = $clog2(MAX_TMEM);
  localparam int UW = $clog2(MAX_U);
  localparam int LW = $clog2(MAX_S);
  localparam int RW = $clog2(MAX_R);
  localparam int CW = $clog2(MAX_C);
  localparam int QW = $clog2(DMA_Q);
  localparam int PW = $clog2(NPARAMS);
  localparam int AW = $clog2(NACT);

  // Fault codes (fault_code).
  localparam logic [7:0] F_PC = 8'd1, F_ILLEGAL = 8'd2, F_SPAD = 8'd3, F_TMEM = 8'd4,
      F_DRAM = 8'd5, F_UNIT = 8'd6, F_MVM_BITS = 8'd7, F_OPERAND = 8'd8, F_DMA_QUEUE = 8'd9,
      F_UNSUPPORTED = 8'd10, F_XBW = 8'd11;

  // ---------------------------------------------------------------------------------------
  // State
  logic [63:0] imem[MAX_IMEM];
  logic [7:0] spad[MAX_SPAD];
  logic [7:0] tmem[MAX_TMEM];
  logic [7:0] xcell[MAX_U*MAX_S*MAX_R*MAX_C];  // one cell per (unit, slice, row, col)
  logic [31:0] prm[NPARAMS];
  logic [31:0] regs[32];
  logic [63:0] cnt[NACT];

  typedef enum logic [1:0] {
    S_ISSUE,  // fetch, decode and run the first cycle of the instruction at pc
    S_EXEC,   // later cycles of a multi-cycle instruction
    S_LATE    // test hook: the injected timing bug's extra cycle
  } state_t;
  state_t state;
  logic [31:0] pc, next_pc;
  logic [63:0] cyc, t_issue;
  logic [63:0] ir;  // the instruction in flight
  // pending register write, committed at retirement
  logic rw_en;
  logic [4:0] rw_reg;
  logic [31:0] rw_val;
  logic bug_store;  // test hook: flip the next stored element

  // per-instruction working registers
  u64 vi, vn;  // element progress and count
  int unsigned sub, tree;
  logic signed [95:0] red_acc;
  longint red_max;
  logic [63:0] t_end;
  // sbu descriptor
  longint sb_t0;
  int unsigned sb_sh, sb_k, sb_nb, sb_lut, sb_i, sb_e;
  longint sb_dx;

  // MVMUs
  logic [15:0] u_rows[MAX_U], u_cols[MAX_U];
  typedef enum logic [1:0] {
    U_IDLE,
    U_INPUT,  // an input cycle (Tc core cycles)
    U_DRAIN   // adder-tree pipeline and shift-and-add drain
  } ustate_t;
  ustate_t u_st[MAX_U];
  int unsigned u_left[MAX_U], u_ic[MAX_U], u_cin[MAX_U], u_tc[MAX_U], u_nbits[MAX_U];
  logic u_acc[MAX_U];
  logic [31:0] u_out[MAX_U];
  longint u_xsum[MAX_U];
  int unsigned u_full[MAX_U], u_na[MAX_U];
  logic u_xbw[MAX_U];  // the unit is busy writing rows (xbw): no result to write back
  logic u_bug[MAX_U];  // test hook: flip the low bit of this mvm's first result
  int in_x[MAX_U*MAX_R];  // input register
  logic in_act[MAX_U*MAX_R];  // row activated (gating)
  longint acc[MAX_U*MAX_C];  // shift-and-add accumulators
  longint ps[MAX_S*MAX_C];  // partial sums of one input cycle

  // DMA engine (busy-until cycles, docs/timing.md) and its copy queue
  logic [63:0] dma_free, dram_free, port_free;
  // replayed synchronisation (multi-core co-simulation): the pending recv/bar release
  logic sync_valid;
  logic [63:0] sync_next;
  logic [31:0] sync_len;
  logic q_dir[DMA_Q];  // 1: DRAM -> tile memory (dld)
  logic [31:0] q_ta[DMA_Q], q_da[DMA_Q], q_n[DMA_Q];
  logic [QW:0] q_count;
  logic [QW-1:0] q_head, q_tail;
  logic [31:0] cp_off;
  logic cp_pend;
  logic [6:0] cp_len;

  // ---------------------------------------------------------------------------------------
  // Instruction fields (positions from the generated include). Each accessor reads a part of
  // the word, hence the UNUSEDSIGNAL waivers of the helper sections.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [7:0] f_op(input logic [63:0] w);
    return w[FLD_OP_LO+:FLD_OP_W];
  endfunction
  function automatic logic [4:0] f_a(input logic [63:0] w);
    return w[FLD_A_LO+:FLD_A_W];
  endfunction
  function automatic logic [4:0] f_b(input logic [63:0] w);
    return w[FLD_B_LO+:FLD_B_W];
  endfunction
  function automatic logic [4:0] f_c(input logic [63:0] w);
    return w[FLD_C_LO+:FLD_C_W];
  endfunction
  function automatic logic [4:0] f_d(input logic [63:0] w);
    return w[FLD_D_LO+:FLD_D_W];
  endfunction
  function automatic logic [4:0] f_e(input logic [63:0] w);
    return w[FLD_E_LO+:FLD_E_W];
  endfunction
  function automatic logic [1:0] f_tout(input logic [63:0] w);
    return w[FLD_T_LO+2+:2];
  endfunction
  function automatic logic [1:0] f_tin(input logic [63:0] w);
    return w[FLD_T_LO+:2];
  endfunction
  function automatic logic [31:0] f_imm(input logic [63:0] w);
    return w[FLD_IMM_LO+:FLD_IMM_W];
  endfunction
  function automatic int unsigned f_shift(input logic [63:0] w);
    return 32'(w[FLD_SHIFT_LO+:FLD_SHIFT_W]);
  endfunction
  function automatic int unsigned f_unit(input logic [63:0] w);
    return 32'(w[FLD_UNIT_LO+:FLD_UNIT_W]);
  endfunction
  function automatic int unsigned f_nbits(input logic [63:0] w);
    return 32'(w[FLD_NBITS_LO+:FLD_NBITS_W]);
  endfunction
  function automatic logic f_accf(input logic [63:0] w);
    return w[FLD_ACC_LO];
  endfunction
  function automatic logic f_gate(input logic [63:0] w);
    return w[FLD_GATE_LO];
  endfunction
  function automatic logic [16:0] f_mask(input logic [63:0] w);
    return w[FLD_MASK_LO+:FLD_MASK_W];
  endfunction
  function automatic int unsigned f_tile(input logic [63:0] w);
    return 32'(w[FLD_TILE_LO+:FLD_TILE_W]);
  endfunction

  // The bits an opcode's format owns; 0 for an unassigned opcode.
  function automatic logic [63:0] owned(input logic [7:0] op);
    case (op)
      OP_NOP: return OWNED_NOP;
      OP_HALT: return OWNED_HALT;
      OP_ADD: return OWNED_ADD;
      OP_SUB: return OWNED_SUB;
      OP_MUL: return OWNED_MUL;
      OP_AND: return OWNED_AND;
      OP_OR: return OWNED_OR;
      OP_XOR: return OWNED_XOR;
      OP_SLL: return OWNED_SLL;
      OP_SRL: return OWNED_SRL;
      OP_SRA: return OWNED_SRA;
      OP_SLT: return OWNED_SLT;
      OP_MIN: return OWNED_MIN;
      OP_MAX: return OWNED_MAX;
      OP_ADDI: return OWNED_ADDI;
      OP_ANDI: return OWNED_ANDI;
      OP_ORI: return OWNED_ORI;
      OP_XORI: return OWNED_XORI;
      OP_SLLI: return OWNED_SLLI;
      OP_SRLI: return OWNED_SRLI;
      OP_SRAI: return OWNED_SRAI;
      OP_SLTI: return OWNED_SLTI;
      OP_MULI: return OWNED_MULI;
      OP_LW: return OWNED_LW;
      OP_LH: return OWNED_LH;
      OP_LB: return OWNED_LB;
      OP_SW: return OWNED_SW;
      OP_SH: return OWNED_SH;
      OP_SB: return OWNED_SB;
      OP_BEQ: return OWNED_BEQ;
      OP_BNE: return OWNED_BNE;
      OP_BLT: return OWNED_BLT;
      OP_BGE: return OWNED_BGE;
      OP_JMP: return OWNED_JMP;
      OP_JAL: return OWNED_JAL;
      OP_JR: return OWNED_JR;
      OP_DBNZ: return OWNED_DBNZ;
      OP_TLD: return OWNED_TLD;
      OP_TST: return OWNED_TST;
      OP_DLD: return OWNED_DLD;
      OP_DST: return OWNED_DST;
      OP_SEND: return OWNED_SEND;
      OP_RECV: return OWNED_RECV;
      OP_BAR: return OWNED_BAR;
      OP_WAIT: return OWNED_WAIT;
      OP_VADD: return OWNED_VADD;
      OP_VSUB: return OWNED_VSUB;
      OP_VMUL: return OWNED_VMUL;
      OP_VMAX: return OWNED_VMAX;
      OP_VMIN: return OWNED_VMIN;
      OP_VADDS: return OWNED_VADDS;
      OP_VMULS: return OWNED_VMULS;
      OP_VRELU: return OWNED_VRELU;
      OP_VMOV: return OWNED_VMOV;
      OP_VLUT: return OWNED_VLUT;
      OP_VRQ: return OWNED_VRQ;
      OP_VRQS: return OWNED_VRQS;
      OP_VFILL: return OWNED_VFILL;
      OP_VRECIP: return OWNED_VRECIP;
      OP_VREDSUM: return OWNED_VREDSUM;
      OP_VREDMAX: return OWNED_VREDMAX;
      OP_VDOT: return OWNED_VDOT;
      OP_VMAC: return OWNED_VMAC;
      OP_SBU: return OWNED_SBU;
      OP_TOPK: return OWNED_TOPK;
      OP_TOPP: return OWNED_TOPP;
      OP_MVM: return OWNED_MVM;
      OP_XBW: return OWNED_XBW;
      OP_XBWT: return OWNED_XBWT;
      default: return 64'h0;
    endcase
  endfunction

  // ---------------------------------------------------------------------------------------
  // Arithmetic helpers
  function automatic int unsigned clog2u(input u64 n);
    int unsigned k = 0;
    while (k < 64 && (64'd1 << k) < n) k++;
    return k;
  endfunction

  // max(1, ceil(log2(n))): the SEL's comparator-tree depth
  function automatic u64 lg1(input u64 n);
    int unsigned k = clog2u(n);
    return k > 1 ? 64'(k) : 64'd1;
  endfunction

  function automatic u64 cdiv(input u64 a, input u64 b);
    return b == 0 ? a : (a + b - 1) / b;
  endfunction

  function automatic int unsigned tsize(input logic [1:0] ty);
    return 32'd1 << ty;
  endfunction

  function automatic longint ty_min(input logic [1:0] ty);
    return ty == TY_I8 ? -longint'(128) : ty == TY_I16 ? -longint'(32768) : -longint'(64'h80000000);
  endfunction
  function automatic longint ty_max(input logic [1:0] ty);
    return ty == TY_I8 ? longint'(127) : ty == TY_I16 ? longint'(32767) : longint'(64'h7fffffff);
  endfunction
  function automatic longint sat(input longint v, input logic [1:0] ty);
    return v < ty_min(ty) ? ty_min(ty) : v > ty_max(ty) ? ty_max(ty) : v;
  endfunction

  // Round-half-away-from-zero right shift (|v| < 2^63).
  function automatic longint rshift_round(input longint v, input int unsigned s);
    u64 m, h;
    if (s == 0) return v;
    if (s > 62) return 0;
    h = 64'd1 << (s - 1);
    if (v >= 0) return longint'((u64'(v) + h) >> s);
    m = (u64'(-v) + h) >> s;
    return -longint'(m);
  endfunction

  // ADC of a non-negative partial sum: `bits` of resolution over a `full`-bit range.
  function automatic longint adc(input longint p, input int unsigned bits, input int unsigned full);
    int unsigned sh = full > bits ? full - bits : 0;
    longint q, top;
    q = sh == 0 ? p : (p + (longint'(1) << (sh - 1))) >>> sh;
    top = (longint'(1) << (full > bits ? bits : full)) - 1;
    if (q > top) q = top;
    return q <<< sh;
  endfunction

  // ---------------------------------------------------------------------------------------
  // Memory access
  function automatic logic [SW-1:0] sa(input u64 a);
    return SW'(a);
  endfunction
  function automatic logic [TW-1:0] ta(input u64 a);
    return TW'(a);
  endfunction

  function automatic longint sp_ld(input u64 a, input logic [1:0] ty);
    case (ty)
      TY_I8: return longint'($signed(spad[sa(a)]));
      TY_I16: return longint'($signed({spad[sa(a+1)], spad[sa(a)]}));
      default: return longint'($signed({spad[sa(a+3)], spad[sa(a+2)], spad[sa(a+1)], spad[sa(a)]}));
    endcase
  endfunction

  function automatic logic [31:0] sp_ld32(input u64 a);
    return {spad[sa(a+3)], spad[sa(a+2)], spad[sa(a+1)], spad[sa(a)]};
  endfunction

  // store raw low bytes of v
  function automatic void sp_st_raw(input u64 a, input logic [1:0] ty, input logic [31:0] v);
    logic [31:0] w = v;
    if (bug_store) begin
      w[0] = ~w[0];
      bug_store = 1'b0;
    end
    spad[sa(a)] = w[7:0];
    if (ty != TY_I8) spad[sa(a+1)] = w[15:8];
    if (ty == TY_I32) begin
      spad[sa(a+2)] = w[23:16];
      spad[sa(a+3)] = w[31:24];
    end
  endfunction

  // saturating element store
  function automatic void sp_st(input u64 a, input logic [1:0] ty, input longint v);
    longint s = sat(v, ty);
    sp_st_raw(a, ty, s[31:0]);
  endfunction

  // In range of the scratchpad and aligned to sz.
  function automatic logic vok(input u64 a, input u64 n,
                               input int unsigned sz);
    return a + n * u64'(sz) <= u64'(prm[P_SPAD_BYTES]) &&
        (a % u64'(sz)) == 0;
  endfunction

  // DRAM_BYTES saturates at 2^32 - 1, which stands for 4 GiB.
  function automatic logic [63:0] dram_size();
    return prm[P_DRAM_BYTES] == 32'hffffffff ? 64'h100000000 : 64'(prm[P_DRAM_BYTES]);
  endfunction

  function automatic logic [31:0] r(input logic [4:0] n);
    return regs[n];
  endfunction

  function automatic void count(input int a, input u64 n);
    cnt[a] = cnt[a] + n;
  endfunction

  function automatic void do_fault(input logic [7:0] code);
    fault = 1'b1;
    fault_code = code;
  endfunction

  /* verilator lint_on UNUSEDSIGNAL */

  // ---------------------------------------------------------------------------------------
  // MVMU datapath
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic int cidx(input int unsigned u, input int unsigned s, input int unsigned rr,
                              input int unsigned c);
    return int'({UW'(u), LW'(s), RW'(rr), CW'(c)});
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // Program one weight: offset-binary, sliced over cell_bits-wide cells.
  function automatic void write_weight(input int unsigned u, input int unsigned rr, input int unsigned c,
                              input longint w);
    u64 wu = u64'(w + (longint'(1) << (prm[P_WEIGHT_BITS] - 1)));
    u64 cmax = (64'd1 << prm[P_CELL_BITS]) - 1;
    for (int unsigned s = 0; s < prm[P_SLICES]; s++)
      xcell[cidx(u, s, rr, c)] = 8'((wu >> (s * prm[P_CELL_BITS])) & cmax);
  endfunction

  // One input cycle of MVMU u: each active row drives its digit; each slice's columns are
  // summed, converted, and shifted-and-added into the accumulators.
  function automatic void mvm_input_cycle(input int unsigned u);
    int unsigned rows = 32'(u_rows[u]), cols = 32'(u_cols[u]), n = u_nbits[u], ic = u_ic[u];
    int unsigned d = prm[P_DAC_BITS], cb = prm[P_CELL_BITS], nsl = prm[P_SLICES];
    u64 dmax = (64'd1 << d) - 1;
    longint dweight;
    for (int unsigned s = 0; s < nsl; s++)
      for (int unsigned j = 0; j < cols; j++) ps[s*MAX_C+j] = 0;
    for (int unsigned rr = 0; rr < rows; rr++) begin
      u64 xu, digit;
      if (!in_act[u*MAX_R+rr]) continue;
      xu = u64'(longint'(in_x[u*MAX_R+rr]));
      if (ic == 0) digit = (xu >> (n - 1)) & 1;
      else begin
        digit = (xu >> ((ic - 1) * d)) & dmax;
        if ((ic - 1) * d + d > n - 1) digit = digit & ((64'd1 << (n - 1 - (ic - 1) * d)) - 1);
      end
      if (digit == 0) continue;
      for (int unsigned s = 0; s < nsl; s++)
        for (int unsigned j = 0; j < cols; j++)
          ps[s*MAX_C+j] = ps[s*MAX_C+j] + longint'(digit) * longint'(xcell[cidx(u, s, rr, j)]);
    end
    dweight = ic == 0 ? -(longint'(1) << (n - 1)) : (longint'(1) << ((ic - 1) * d));
    for (int unsigned s = 0; s < nsl; s++)
      for (int unsigned j = 0; j < cols; j++) begin
        longint q = prm[P_DIGITAL] != 0 ? ps[s*MAX_C+j] : adc(ps[s*MAX_C+j], prm[P_ADC_BITS], u_full[u]);
        acc[u*MAX_C+j] = acc[u*MAX_C+j] + (q <<< (s * cb)) * dweight;
      end
    count(ACT_xbar_row_activate, u64'(u_na[u]) * nsl);
    count(ACT_dac_drive, u64'(u_na[u]) * nsl);
    if (prm[P_DIGITAL] != 0) count(ACT_adder_tree_op, u64'(cols) * nsl);
    else begin
      count(ACT_adc_convert, u64'(cols) * nsl);
      count(ACT_sh_sample, u64'(cols) * nsl);
    end
    count(ACT_shift_add, u64'(cols) * nsl);
  endfunction

  // Offset correction, saturation and write-back of MVMU u's result.
  function automatic void mvm_writeback(input int unsigned u);
    int unsigned cols = 32'(u_cols[u]);
    longint woff = longint'(1) << (prm[P_WEIGHT_BITS] - 1);
    logic core_bug_store = bug_store;  // the instruction in flight's, kept
    for (int unsigned j = 0; j < cols; j++) begin
      longint v = acc[u*MAX_C+j] - woff * u_xsum[u];
      u64 a = u64'(u_out[u]) + 4 * j;
      if (u_acc[u]) v = v + sp_ld(a, TY_I32);
      bug_store = u_bug[u] && j == 0;
      sp_st(a, TY_I32, v);
      bug_store = core_bug_store;
    end
    count(ACT_out_reg_byte, u64'(cols) * 4);
    count(ACT_spad_write_byte, u64'(cols) * 4);
    if (u_acc[u]) count(ACT_spad_read_byte, u64'(cols) * 4);
  endfunction

  // Advance every busy MVMU by one cycle (docs/timing.md: L_mvm).
  function automatic void mvmu_tick();
    for (int unsigned u = 0; u < prm[P_NMVMU]; u++) begin
      if (u_st[u] == U_IDLE) continue;
      if (u_left[u] > 0) begin
        u_left[u] = u_left[u] - 1;
        continue;
      end
      if (u_st[u] == U_INPUT && u_ic[u] + 1 < u_cin[u]) begin
        u_ic[u] = u_ic[u] + 1;
        mvm_input_cycle(u);
        u_left[u] = u_tc[u] - 1;
      end else if (u_st[u] == U_INPUT) begin
        u_st[u] = U_DRAIN;
        u_left[u] = SA_CYCLES - 1 + (prm[P_DIGITAL] != 0 ? clog2u(64'(u_rows[u])) : 0);
      end else begin
        u_st[u] = U_IDLE;
        if (!u_xbw[u]) mvm_writeback(u);
        u_xbw[u] = 1'b0;
      end
    end
  endfunction

  // Start an mvm on MVMU u with the instruction w (the unit is idle). Returns 0 on a fault.
  function automatic logic mvm_start(input int unsigned u, input logic [63:0] w);
    int unsigned rows = 32'(u_rows[u]), cols = 32'(u_cols[u]), n = f_nbits(w);
    logic [1:0] ty = f_tin(w);
    int unsigned sz = tsize(ty);
    longint lo = -(longint'(1) << (n - 1)), hi = (longint'(1) << (n - 1)) - 1;
    u64 mx;
    if (!vok(64'(r(f_b(w))), 64'(rows), sz) || !vok(64'(r(f_a(w))), 64'(cols), 4)) begin
      do_fault(F_SPAD);
      return 1'b0;
    end
    u_na[u] = 0;
    u_xsum[u] = 0;
    for (int unsigned rr = 0; rr < rows; rr++) begin
      longint x = sp_ld(64'(r(f_b(w))) + 64'(rr * sz), ty);
      if (x < lo || x > hi) begin
        do_fault(F_MVM_BITS);
        return 1'b0;
      end
      in_x[u*MAX_R+rr] = int'(x);
      in_act[u*MAX_R+rr] = !f_gate(w) || x != 0;
      if (in_act[u*MAX_R+rr]) u_na[u] = u_na[u] + 1;
      u_xsum[u] = u_xsum[u] + x;
    end
    for (int unsigned j = 0; j < cols; j++) acc[u*MAX_C+j] = 0;
    mx = 64'(rows) * ((64'd1 << prm[P_DAC_BITS]) - 1) * ((64'd1 << prm[P_CELL_BITS]) - 1);
    u_full[u] = clog2u(mx + 1);
    u_nbits[u] = n;
    u_acc[u] = f_accf(w);
    u_out[u] = r(f_a(w));
    u_cin[u] = n <= 1 ? 1 : 1 + 32'(cdiv(64'(n) - 1, 64'(prm[P_DAC_BITS])));
    if (prm[P_DIGITAL] != 0) u_tc[u] = 1;
    else begin
      u64 conv = cdiv(64'(cols), 64'(prm[P_ADCS])) * 64'(prm[P_ADC_CYC]);
      u_tc[u] = conv > 64'(prm[P_READ_CYC]) ? 32'(conv) : prm[P_READ_CYC];
    end
    u_ic[u] = 0;
    u_bug[u] = 32'(OP_MVM) == prm[P_BUG_OP] && prm[P_BUG_KIND] == 0;
    u_xbw[u] = 1'b0;
    u_st[u] = U_INPUT;
    mvm_input_cycle(u);
    u_left[u] = u_tc[u] - 1;
    count(ACT_in_reg_byte, 64'(rows) * sz);
    count(ACT_spad_read_byte, 64'(rows) * sz);
    return 1'b1;
  endfunction

  // ---------------------------------------------------------------------------------------
  // DMA copy engine: streams queued transfers through the DRAM port, 64 bytes per cycle, as
  // soon as possible (the busy-until schedule of docs/timing.md is kept in dma_free/dram_free;
  // the copy is never slower than the modelled channel, whose rate is at most 64 B/cycle).
  function automatic void dma_tick();
    dram_req = 1'b0;
    dram_we = 1'b0;
    if (cp_pend) begin
      for (int unsigned i = 0; i < 32'(cp_len); i++)
        tmem[ta(64'(q_ta[q_head]) + 64'(cp_off) + 64'(i))] = dram_rdata[i*8+:8];
      cp_off = cp_off + 32'(cp_len);
      cp_pend = 1'b0;
    end
    if (q_count != 0 && cp_off >= q_n[q_head]) begin
      q_head = q_head + 1'b1;
      q_count = q_count - 1'b1;
      cp_off = 0;
    end
    if (q_count != 0 && cp_off < q_n[q_head]) begin
      logic [31:0] left = q_n[q_head] - cp_off;
      cp_len = left > 64 ? 7'd64 : 7'(left);
      dram_req = 1'b1;
      dram_addr = q_da[q_head] + cp_off;
      dram_len = cp_len;
      if (q_dir[q_head]) cp_pend = 1'b1;
      else begin
        dram_we = 1'b1;
        dram_wdata = '0;
        for (int unsigned i = 0; i < 32'(cp_len); i++)
          dram_wdata[i*8+:8] = tmem[ta(64'(q_ta[q_head]) + 64'(cp_off) + 64'(i))];
        cp_off = cp_off + 32'(cp_len);
      end
    end
  endfunction

  // ---------------------------------------------------------------------------------------
  // Retirement
  function automatic void retire(input logic [31:0] npc);
    retire_valid = 1'b1;
    retire_pc = pc;
    retire_cycle = t_issue;
    retire_op = f_op(ir);
    retire_wen = rw_en && rw_reg != 0;
    retire_reg = rw_reg;
    if (rw_en && 32'(f_op(ir)) == prm[P_BUG_OP] && prm[P_BUG_KIND] == 0) rw_val[0] = ~rw_val[0];
    retire_value = rw_val;
    if (rw_en && rw_reg != 0) regs[rw_reg] = rw_val;
    rw_en = 1'b0;
    count(ACT_imem_fetch, 1);
    pc = npc;
    bug_store = 1'b0;
    state = S_ISSUE;
  endfunction

  function automatic void wr(input logic [4:0] rd, input logic [31:0] v);
    rw_en = 1'b1;
    rw_reg = rd;
    rw_val = v;
  endfunction

  // ---------------------------------------------------------------------------------------
  // The instruction in flight: one cycle of it (k = cycles since issue). Sets done when this is
  // its last cycle.
  logic done;

  function automatic void scalar_alu();
    logic [7:0] op = f_op(ir);
    logic [31:0] b = r(f_b(ir)), c, v;
    logic signed [31:0] bs, cs;
    logic is_imm = op >= OP_ADDI && op <= OP_MULI;
    c = is_imm ? f_imm(ir) : r(f_c(ir));
    bs = $signed(b);
    cs = $signed(c);
    case (op)
      OP_ADD, OP_ADDI: v = b + c;
      OP_SUB: v = b - c;
      OP_MUL, OP_MULI: v = b * c;  // low 32 bits
      OP_AND, OP_ANDI: v = b & c;
      OP_OR, OP_ORI: v = b | c;
      OP_XOR, OP_XORI: v = b ^ c;
      OP_SLL, OP_SLLI: v = b << c[4:0];
      OP_SRL, OP_SRLI: v = b >> c[4:0];
      OP_SRA, OP_SRAI: v = 32'(bs >>> c[4:0]);
      OP_SLT, OP_SLTI: v = {31'b0, bs < cs};
      OP_MIN: v = bs < cs ? b : c;
      default: v = bs > cs ? b : c;  // OP_MAX
    endcase
    wr(f_a(ir), v);
    count(ACT_scalar_op, 1);
    count(ACT_regfile_access, 3);
  endfunction

  function automatic void load_store();
    logic [7:0] op = f_op(ir);
    logic [1:0] ty = op == OP_LW || op == OP_SW ? TY_I32 : op == OP_LH || op == OP_SH ? TY_I16 : TY_I8;
    int unsigned sz = tsize(ty);
    logic [31:0] a = r(f_b(ir)) + f_imm(ir);
    if (!vok(64'(a), 1, sz)) begin
      do_fault(F_SPAD);
      return;
    end
    if (op == OP_LW || op == OP_LH || op == OP_LB) begin
      wr(f_a(ir), 32'(sp_ld(64'(a), ty)));
      count(ACT_spad_read_byte, 64'(sz));
    end else begin
      sp_st_raw(64'(a), ty, r(f_a(ir)));
      count(ACT_spad_write_byte, 64'(sz));
    end
    count(ACT_scalar_op, 1);
    count(ACT_regfile_access, 2);
  endfunction

  // Element operation of the VFU's memory-to-memory instructions on element i.
  function automatic void vfu_elem(input u64 i);
    logic [7:0] op = f_op(ir);
    logic [1:0] ti = f_tin(ir), to = f_tout(ir);
    int unsigned si = tsize(ti), so = tsize(to), sh = f_shift(ir);
    u64 a = 64'(r(f_a(ir))), b = 64'(r(f_b(ir))), c = 64'(r(f_c(ir)));
    longint bv, cv, v;
    case (op)
      OP_VADD, OP_VSUB, OP_VMUL, OP_VMAX, OP_VMIN: begin
        bv = sp_ld(b + i * si, ti);
        cv = sp_ld(c + i * si, ti);
        v = op == OP_VADD ? bv + cv : op == OP_VSUB ? bv - cv : op == OP_VMUL ? rshift_round(bv * cv, sh) :
            op == OP_VMAX ? (bv > cv ? bv : cv) : (bv < cv ? bv : cv);
        sp_st(a + i * so, to, v);
      end
      OP_VADDS, OP_VMULS: begin
        bv = sp_ld(b + i * si, ti);
        cv = longint'($signed(r(f_c(ir))));
        v = op == OP_VADDS ? bv + cv : rshift_round(bv * cv, sh);
        sp_st(a + i * so, to, v);
      end
      OP_VRELU: begin
        bv = sp_ld(b + i * si, ti);
        sp_st(a + i * so, to, bv > 0 ? bv : 0);
      end
      OP_VMOV: sp_st(a + i * so, to, sp_ld(b + i * si, ti));
      OP_VLUT: begin
        bv = sp_ld(b + i * si, ti);
        sp_st(a + i * so, to, sp_ld(c + u64'(bv + 128) * so, to));
      end
      OP_VRQ: begin
        bv = sp_ld(b + i * si, ti);
        sp_st(a + i * so, to, rshift_round(bv * sp_ld(c + i * 4, TY_I32), sh));
      end
      OP_VRQS: begin
        bv = sp_ld(b + i * si, ti);
        sp_st(a + i * so, to, rshift_round(bv * longint'($signed(r(f_c(ir)))), sh));
      end
      OP_VFILL: sp_st(a + i * so, to, longint'($signed(r(f_c(ir)))));
      OP_VRECIP: begin
        u64 num = 64'd1 << sh, den, q;
        bv = sp_ld(b + i * si, ti);
        if (bv == 0) v = ty_max(to);
        else begin
          den = u64'(bv < 0 ? -bv : bv);
          q = num / den;
          if ((num % den) * 2 >= den) q = q + 1;
          v = q > 64'h7fffffffffffffff ? 64'sh7fffffffffffffff : longint'(q);
          if (bv < 0) v = -v;
        end
        sp_st(a + i * so, to, v);
      end
      OP_VMAC: begin
        bv = sp_ld(b + i * si, ti);
        v = sp_ld(a + i * 4, TY_I32) + bv * longint'($signed(r(f_c(ir))));
        sp_st(a + i * 4, TY_I32, v);
      end
      OP_VREDSUM: red_acc = red_acc + 96'(sp_ld(b + i * si, ti));
      OP_VDOT: red_acc = red_acc + 96'(sp_ld(b + i * si, ti)) * 96'(sp_ld(c + i * si, ti));
      OP_VREDMAX: begin
        bv = sp_ld(b + i * si, ti);
        if (bv > red_max) red_max = bv;
      end
      default: ;
    endcase
  endfunction

  // Operand checks and action counts of a VFU instruction at issue. Returns 0 on a fault.
  function automatic logic vfu_issue();
    logic [7:0] op = f_op(ir);
    logic [1:0] ti = f_tin(ir), to = f_tout(ir);
    int unsigned si = tsize(ti), so = tsize(to);
    u64 n = 64'(r(f_d(ir)));
    u64 a = 64'(r(f_a(ir))), b = 64'(r(f_b(ir))), c = 64'(r(f_c(ir)));
    logic ok = 1'b1;
    case (op)
      OP_VADD, OP_VSUB, OP_VMUL, OP_VMAX, OP_VMIN: begin
        ok = vok(a, n, so) && vok(b, n, si) && vok(c, n, si);
        count(ACT_spad_read_byte, n * si * 2);
        count(ACT_spad_write_byte, n * si);
      end
      OP_VADDS, OP_VMULS, OP_VRELU, OP_VMOV, OP_VRQS, OP_VRECIP: begin
        ok = vok(a, n, so) && vok(b, n, si);
        count(ACT_spad_read_byte, n * si);
        count(ACT_spad_write_byte, n * so);
      end
      OP_VLUT: begin
        ok = vok(a, n, so) && vok(b, n, si) && ti == TY_I8 && vok(c, 256, so);
        count(ACT_spad_read_byte, n * si + n * so);
        count(ACT_spad_write_byte, n * so);
      end
      OP_VRQ: begin
        ok = vok(a, n, so) && vok(b, n, si) && vok(c, n, 4);
        count(ACT_spad_read_byte, n * si + n * 4);
        count(ACT_spad_write_byte, n * so);
      end
      OP_VFILL: begin
        ok = vok(a, n, so);
        count(ACT_spad_write_byte, n * so);
      end
      OP_VREDSUM, OP_VREDMAX: begin
        ok = vok(b, n, si);
        count(ACT_spad_read_byte, n * si);
      end
      OP_VDOT: begin
        ok = vok(b, n, si) && vok(c, n, si);
        count(ACT_spad_read_byte, n * si * 2);
      end
      default: begin  // OP_VMAC
        ok = vok(a, n, 4) && vok(b, n, si);
        count(ACT_spad_read_byte, n * (64'(si) + 4));
        count(ACT_spad_write_byte, n * 4);
      end
    endcase
    count(ACT_vfu_op, n);
    return ok;
  endfunction

  // One VFU cycle: VFU_STARTUP cycles, then one lane group per cycle (RECIP_CYCLES per group for
  // vrecip), then ceil(log2(lanes)) reduction-tree cycles for vredsum/vredmax/vdot.
  function automatic void vfu_cycle(input u64 k);
    logic [7:0] op = f_op(ir);
    u64 lanes = 64'(prm[P_LANES]);
    if (k >= VFU_STARTUP) begin
      if (vi < vn) begin
        if (sub == 0)
          for (u64 i = vi; i < vi + lanes && i < vn; i++) vfu_elem(i);
        sub = sub + 1;
        if (op != OP_VRECIP || sub == RECIP_CYCLES) begin
          sub = 0;
          vi = vi + lanes;
        end
      end else if (tree > 0) tree = tree - 1;
    end
    if (k >= VFU_STARTUP - 1 && vi >= vn && tree == 0 && sub == 0) begin
      done = 1'b1;
      if (op == OP_VREDSUM || op == OP_VDOT)
        wr(f_a(ir), red_acc > 96'sh7fffffff ? 32'h7fffffff :
                    red_acc < -96'sh80000000 ? 32'h80000000 : red_acc[31:0]);
      else if (op == OP_VREDMAX) wr(f_a(ir), red_max[31:0]);
    end
  endfunction

  // SBU: read and check the descriptor at issue. Returns 0 on a fault.
  function automatic logic sbu_issue();
    u64 dsc = 64'(r(f_c(ir)));
    u64 n = 64'(r(f_d(ir)));
    int unsigned si = tsize(f_tin(ir)), so = tsize(f_tout(ir));
    if (prm[P_HAS_SBU] == 0 || !vok(dsc, 16, 4)) return 1'b0;
    sb_t0 = longint'($signed(sp_ld32(dsc)));
    sb_sh = 32'(spad[sa(dsc+4)]);
    sb_k = 32'(spad[sa(dsc+5)]);
    sb_nb = 32'({spad[sa(dsc+7)], spad[sa(dsc+6)]});
    sb_lut = sp_ld32(dsc + 8);
    if (sp_ld32(dsc + 12) != 0 || sb_sh > 16 || sb_k > 15 || sb_nb == 0) return 1'b0;
    if (!vok(64'(r(f_a(ir))), n * 64'(sb_nb), so) || !vok(64'(r(f_b(ir))), n, si) ||
        !vok(64'(sb_lut), (64'd1 << sb_sh) * (64'(sb_k) + 1), so) ||
        n * 64'(sb_nb) > 64'(prm[P_SPAD_BYTES]))
      return 1'b0;
    count(ACT_sbu_op, n * (64'(sb_k) + 1));
    count(ACT_spad_read_byte, n * (64'(si) + (64'(sb_k) + 1) * 64'(so)) + 16);
    count(ACT_spad_write_byte, n * sb_nb * so);
    sb_i = 0;
    sb_e = 0;
    return 1'b1;
  endfunction

  // One SBU cycle: SBU_STARTUP cycles, then `lanes` elements of one input's segment per cycle.
  function automatic void sbu_cycle(input u64 k);
    logic [1:0] ti = f_tin(ir), to = f_tout(ir);
    int unsigned si = tsize(ti), so = tsize(to);
    int unsigned n = r(f_d(ir)), lanes = prm[P_LANES];
    if (k >= SBU_STARTUP && sb_i < n) begin
      u64 seg = 64'(r(f_a(ir))) + 64'(sb_i) * 64'(sb_nb) * so;
      if (sb_e == 0) sb_dx = sp_ld(64'(r(f_b(ir))) + 64'(sb_i) * si, ti) - sb_t0;
      for (int unsigned e = sb_e; e < sb_e + lanes && e < sb_nb; e++) begin
        longint m = sb_dx >>> sb_sh, uu = sb_dx & ((longint'(1) << sb_sh) - 1);
        longint rr = longint'(e) - (m - longint'(sb_k));
        longint v = 0;
        if (sb_dx >= 0 && rr >= 0 && rr <= longint'(sb_k))
          v = sp_ld(64'(sb_lut) + u64'(uu * (longint'(sb_k) + 1) + rr) * so, to);
        sp_st(seg + 64'(e) * so, to, v);
      end
      sb_e = sb_e + lanes;
      if (sb_e >= sb_nb) begin
        sb_e = 0;
        sb_i = sb_i + 1;
      end
    end
    if (k >= SBU_STARTUP - 1 && sb_i >= n) done = 1'b1;
  endfunction

  // SEL: latch the vector into the unit's buffer, rank every element (descending value, ties to
  // the lower index) and write the selected indices. Returns the count, or -1 on a fault.
  longint sel_buf[MAX_SPAD];
  function automatic u64 sel_rank(input u64 n, input u64 i);
    u64 rank = 0;
    for (u64 j = 0; j < n; j++)
      if (sel_buf[sa(j)] > sel_buf[sa(i)] || (sel_buf[sa(j)] == sel_buf[sa(i)] && j < i)) rank++;
    return rank;
  endfunction

  function automatic longint sel_run();
    logic [1:0] ti = f_tin(ir);
    int unsigned si = tsize(ti);
    u64 n = 64'(r(f_d(ir))), b = 64'(r(f_b(ir))), a = 64'(r(f_a(ir)));
    u64 count_sel;
    logic signed [95:0] total = 0, cdf = 0, tau;
    if (prm[P_HAS_SEL] == 0 || !vok(a, n, 4) || !vok(b, n, si)) return -1;
    for (u64 i = 0; i < n; i++) begin
      sel_buf[sa(i)] = sp_ld(b + i * si, ti);
      if (f_op(ir) == OP_TOPP && sel_buf[sa(i)] < 0) return -1;
    end
    if (f_op(ir) == OP_TOPK) begin
      if ($signed(r(f_c(ir))) < 0) return -1;
      count_sel = 64'(r(f_c(ir))) < n ? 64'(r(f_c(ir))) : n;
    end else begin
      tau = 96'($signed(r(f_c(ir))));
      for (u64 i = 0; i < n; i++) total = total + 96'(sel_buf[sa(i)]);
      // walk the elements in rank order
      count_sel = 0;
      while (count_sel < n) begin
        longint v = 0;
        for (u64 i = 0; i < n; i++) if (sel_rank(n, i) == count_sel) v = sel_buf[sa(i)];
        cdf = cdf + 96'(v);
        if (cdf * 65536 > tau * total) break;
        count_sel++;
      end
      if (count_sel == 0 && n > 0) count_sel = 1;
    end
    for (u64 i = 0; i < n; i++) begin
      u64 rank = sel_rank(n, i);
      if (rank < count_sel) sp_st_raw(a + rank * 4, TY_I32, i[31:0]);
    end
    count(ACT_sel_op, n * lg1(n));
    count(ACT_spad_read_byte, n * si);
    count(ACT_spad_write_byte, count_sel * 4);
    return longint'(count_sel);
  endfunction

  // Is every MVMU in mask (and the DMA engine if bit 16) idle at this cycle?
  function automatic logic units_idle(input logic [16:0] mask);
    for (int unsigned u = 0; u < 16; u++)
      if (mask[u] && u < prm[P_NMVMU] && u_st[u] != U_IDLE) return 1'b0;
    if (mask[16] && cyc < dma_free) return 1'b0;
    return 1'b1;
  endfunction

  function automatic void exec_cycle();
    logic [7:0] op = f_op(ir);
    u64 k = cyc - t_issue;
    logic [31:0] npc = pc + 1;
    done = 1'b0;
    case (op)
      OP_NOP: begin
        count(ACT_scalar_op, 1);
        done = 1'b1;
      end
      OP_HALT: done = units_idle(17'h1ffff);
      OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_OR, OP_XOR, OP_SLL, OP_SRL, OP_SRA, OP_SLT, OP_MIN,
      OP_MAX, OP_ADDI, OP_ANDI, OP_ORI, OP_XORI, OP_SLLI, OP_SRLI, OP_SRAI, OP_SLTI, OP_MULI: begin
        scalar_alu();
        done = 1'b1;
      end
      OP_LW, OP_LH, OP_LB, OP_SW, OP_SH, OP_SB: begin
        load_store();
        done = 1'b1;
      end
      OP_BEQ, OP_BNE, OP_BLT, OP_BGE, OP_JMP, OP_JAL, OP_DBNZ, OP_JR: begin
        logic signed [31:0] a = $signed(r(f_a(ir))), b = $signed(r(f_b(ir)));
        logic taken;
        logic [31:0] dec = r(f_a(ir)) - 1;
        case (op)
          OP_BEQ: taken = a == b;
          OP_BNE: taken = a != b;
          OP_BLT: taken = a < b;
          OP_BGE: taken = a >= b;
          OP_DBNZ: taken = dec != 0;
          default: taken = 1'b1;
        endcase
        if (k == 0) begin
          count(ACT_scalar_op, 1);
          if (op != OP_JR) count(ACT_regfile_access, 2);
          if (op == OP_JAL) wr(f_a(ir), pc + 1);
          if (op == OP_DBNZ) wr(f_a(ir), dec);
        end
        if (taken) npc = op == OP_JR ? r(f_b(ir)) : pc + f_imm(ir);
        done = !taken || k == BRANCH_PENALTY;
      end
      OP_TLD, OP_TST: begin
        logic [31:0] sp = r(f_a(ir)), tm = r(f_b(ir)), n = r(f_c(ir));
        if (k == 0) begin
          if (!vok(64'(sp), 64'(n), 1)) do_fault(F_SPAD);
          else if (64'(tm) + 64'(n) > 64'(prm[P_TMEM_BYTES])) do_fault(F_TMEM);
          t_end = 64'hffffffffffffffff;
        end
        if (!fault && t_end == 64'hffffffffffffffff && cyc >= port_free) begin
          // the port is ours from this cycle
          u64 busy = cdiv(64'(n), 64'(prm[P_TMEM_BPC]));
          for (int unsigned i = 0; i < n; i++)
            if (op == OP_TLD) spad[sa(64'(sp) + 64'(i))] = tmem[ta(64'(tm) + 64'(i))];
            else tmem[ta(64'(tm) + 64'(i))] = spad[sa(64'(sp) + 64'(i))];
          if (op == OP_TLD) begin
            count(ACT_tilemem_read_byte, 64'(n));
            count(ACT_spad_write_byte, 64'(n));
          end else begin
            count(ACT_tilemem_write_byte, 64'(n));
            count(ACT_spad_read_byte, 64'(n));
          end
          count(ACT_tile_bus_byte, 64'(n));
          port_free = cyc + busy;
          t_end = cyc + 64'(prm[P_TMEM_LAT]) + busy - 1;
        end
        done = cyc == t_end;
      end
      OP_DLD, OP_DST: begin
        logic [31:0] tm = r(f_a(ir)), dr = r(f_b(ir)), n = r(f_c(ir));
        logic [63:0] start = cyc, xfer;
        if (64'(tm) + 64'(n) > 64'(prm[P_TMEM_BYTES])) do_fault(F_TMEM);
        else if (64'(dr) + 64'(n) > dram_size()) do_fault(F_DRAM);
        else if (32'(q_count) == DMA_Q) do_fault(F_DMA_QUEUE);
        else begin
          if (dma_free > start) start = dma_free;
          if (dram_free > start) start = dram_free;
          xfer = cdiv(64'(n) * 64'(prm[P_DRAM_DEN]), 64'(prm[P_DRAM_NUM]));
          dram_free = start + xfer;
          dma_free = start + xfer + 64'(prm[P_DRAM_LAT]);
          q_dir[q_tail] = op == OP_DLD;
          q_ta[q_tail] = tm;
          q_da[q_tail] = dr;
          q_n[q_tail] = n;
          q_tail = q_tail + 1'b1;
          q_count = q_count + 1'b1;
          if (op == OP_DLD) count(ACT_tilemem_write_byte, 64'(n));
          else count(ACT_tilemem_read_byte, 64'(n));
          count(ACT_dram_byte, 64'(n));
        end
        done = 1'b1;
      end
      OP_SEND: begin
        logic [31:0] src = r(f_a(ir)), dst = r(f_b(ir)), n = r(f_c(ir));
        int unsigned dt = f_tile(ir), me = prm[P_TILE], mc = prm[P_MESH_COLS];
        int unsigned hops = (dt % mc > me % mc ? dt % mc - me % mc : me % mc - dt % mc) +
            (dt / mc > me / mc ? dt / mc - me / mc : me / mc - dt / mc);
        if (dt >= prm[P_TILES]) do_fault(F_OPERAND);
        else if (64'(src) + 64'(n) > 64'(prm[P_TMEM_BYTES]) ||
                 64'(dst) + 64'(n) > 64'(prm[P_TMEM_BYTES]))
          do_fault(F_TMEM);
        else begin
          count(ACT_tilemem_read_byte, 64'(n));
          count(ACT_netbuf_byte, 64'(n));
          count(ACT_noc_flit_hop, 64'(hops) * (1 + cdiv(64'(n) * 8, 64'(prm[P_LINK_BITS]))));
        end
        done = 1'b1;
      end
      // recv/bar: the release comes from the harness (SEL_SYNC), which replays the C
      // simulator's; recv's payload is already in the tile memory. A recv without it faults.
      OP_RECV, OP_BAR: begin
        if (k == 0 && op == OP_RECV) begin
          if (!sync_valid) do_fault(F_UNSUPPORTED);
          else begin
            count(ACT_tilemem_write_byte, 64'(sync_len));
            count(ACT_netbuf_byte, 64'(sync_len));
          end
        end
        // without a replayed release, bar is one cycle (the only active core of its tile)
        done = !sync_valid || cyc + 1 >= sync_next;
        if (done) sync_valid = 1'b0;
      end
      OP_WAIT:
      if ((32'(f_mask(ir)) & 32'hffff) >> prm[P_NMVMU] != 0) do_fault(F_UNIT);
      else done = units_idle(f_mask(ir));
      OP_VADD, OP_VSUB, OP_VMUL, OP_VMAX, OP_VMIN, OP_VADDS, OP_VMULS, OP_VRELU, OP_VMOV, OP_VLUT,
      OP_VRQ, OP_VRQS, OP_VFILL, OP_VRECIP, OP_VREDSUM, OP_VREDMAX, OP_VDOT, OP_VMAC: begin
        if (k == 0) begin
          vi = 0;
          vn = 64'(r(f_d(ir)));
          sub = 0;
          tree = op == OP_VREDSUM || op == OP_VREDMAX || op == OP_VDOT ? clog2u(64'(prm[P_LANES])) : 0;
          red_acc = 0;
          red_max = -longint'(64'h80000000);
          if (!vfu_issue()) do_fault(F_SPAD);
        end
        if (!fault) vfu_cycle(k);
      end
      OP_SBU: begin
        // (no side-effecting call inside a condition: Verilator evaluates it unconditionally)
        if (k == 0) begin
          if (!sbu_issue()) do_fault(F_OPERAND);
        end
        if (!fault) sbu_cycle(k);
      end
      OP_TOPK, OP_TOPP: begin
        if (k == 0) begin
          longint c = sel_run();
          u64 n = 64'(r(f_d(ir)));
          if (c < 0) do_fault(F_OPERAND);
          else begin
            wr(f_e(ir), c[31:0]);
            t_end = t_issue + SEL_STARTUP + cdiv(n, 64'(prm[P_LANES])) * lg1(n) - 1;
          end
        end
        done = cyc == t_end;
      end
      OP_MVM, OP_XBW, OP_XBWT: begin
        int unsigned u = f_unit(ir);
        if (u >= prm[P_NMVMU] || u_cols[u] == 0) do_fault(F_UNIT);
        else if (op == OP_MVM && f_nbits(ir) > prm[P_INPUT_BITS]) do_fault(F_MVM_BITS);
        else if (u_st[u] == U_IDLE) begin
          if (op == OP_MVM) begin
            if (mvm_start(u, ir)) done = 1'b1;
          end else begin
            // xbw: program rows [rA, rA + rC) from the scratchpad; xbwt: columns (each source
            // vector one column). Busy rC x write cycles.
            logic tr = op == OP_XBWT;
            int unsigned first = r(f_a(ir)), n = r(f_c(ir));
            int unsigned len = tr ? 32'(u_rows[u]) : 32'(u_cols[u]);
            int unsigned lim_n = tr ? 32'(u_cols[u]) : 32'(u_rows[u]);
            logic [1:0] ty = f_tin(ir);
            int unsigned sz = tsize(ty);
            longint lim = longint'(1) << (prm[P_WEIGHT_BITS] - 1);
            if (64'(first) + 64'(n) > 64'(lim_n) || !vok(64'(r(f_b(ir))), 64'(n) * len, sz))
              do_fault(F_XBW);
            else begin
              for (int unsigned rr = 0; rr < n && !fault; rr++)
                for (int unsigned j = 0; j < len && !fault; j++) begin
                  longint w = sp_ld(64'(r(f_b(ir))) + (64'(rr) * len + 64'(j)) * sz, ty);
                  if (w < -lim || w >= lim) do_fault(F_XBW);
                  else if (tr) write_weight(u, j, first + rr, w);
                  else write_weight(u, first + rr, j, w);
                end
              if (!fault) begin
                if (n != 0) begin  // writing: busy for n x write_row_cycles, no result
                  u_st[u] = U_DRAIN;
                  u_left[u] = n * prm[P_WRITE_CYC] - 1;
                  u_xbw[u] = 1'b1;
                end
                count(tr ? ACT_xbar_write_col : ACT_xbar_write_row, 64'(n) * prm[P_SLICES]);
                count(ACT_spad_read_byte, 64'(n) * len * sz);
                done = 1'b1;
              end
            end
          end
        end
      end
      default: do_fault(F_ILLEGAL);
    endcase
    if (done && !fault) begin
      if (32'(op) == prm[P_BUG_OP] && prm[P_BUG_KIND] == 1 && state != S_LATE) begin
        state = S_LATE;
        next_pc = op == OP_HALT ? pc : npc;
      end else if (op == OP_HALT) begin
        retire(pc);
        halted = 1'b1;
      end else retire(npc);
    end else if (!fault) state = S_EXEC;
  endfunction


  // ---------------------------------------------------------------------------------------
  // The clocked process
  always_ff @(posedge clk) begin
    retire_valid = 1'b0;
    if (rst) begin
      if (host_we) begin
        case (host_sel)
          SEL_PARAM: if (host_addr < NPARAMS) prm[PW'(host_addr)] = host_wdata[31:0];
          SEL_IMEM: imem[IW'(host_addr)] = host_wdata;
          SEL_SPAD:
          for (int i = 0; i < 8; i++) spad[sa(64'(host_addr) + 64'(i))] = host_wdata[i*8+:8];
          SEL_TMEM:
          for (int i = 0; i < 8; i++) tmem[ta(64'(host_addr) + 64'(i))] = host_wdata[i*8+:8];
          SEL_WEIGHT:
          write_weight(32'(host_addr[16+:UW]), 32'(host_addr[8+:8]), 32'(host_addr[7:0]),
                       longint'($signed(host_wdata[31:0])));
          SEL_SHAPE: begin
            u_rows[UW'(host_addr)] = host_wdata[15:0];
            u_cols[UW'(host_addr)] = host_wdata[31:16];
          end
          SEL_CLEAR: begin
            for (int i = 0; i < MAX_SPAD; i++) spad[i] = 8'h0;
            for (int i = 0; i < MAX_TMEM; i++) tmem[i] = 8'h0;
            for (int u = 0; u < MAX_U; u++) begin
              u_rows[u] = 16'h0;
              u_cols[u] = 16'h0;
            end
          end
          default: ;
        endcase
      end
      state = S_ISSUE;
      pc = prm[P_ENTRY];
      cyc = 0;
      t_issue = 0;
      halted = 1'b0;
      fault = 1'b0;
      fault_code = 8'h0;
      rw_en = 1'b0;
      bug_store = 1'b0;
      for (int i = 0; i < 32; i++) regs[i] = 32'h0;
      for (int i = 0; i < NACT; i++) cnt[i] = 64'h0;
      for (int u = 0; u < MAX_U; u++) begin
        u_st[u] = U_IDLE;
        u_xbw[u] = 1'b0;
      end
      dma_free = 0;
      dram_free = 0;
      port_free = 0;
      q_count = 0;
      q_head = 0;
      q_tail = 0;
      cp_off = 0;
      cp_pend = 1'b0;
      dram_req = 1'b0;
      dram_we = 1'b0;
      t_end = 0;
      sync_valid = 1'b0;
      sync_next = 0;
      sync_len = 0;
    end else if (host_we) begin
      // a host write while running: the core does not advance on this clock
      case (host_sel)
        SEL_TMEM:
        for (int i = 0; i < 8; i++) tmem[ta(64'(host_addr) + 64'(i))] = host_wdata[i*8+:8];
        SEL_SYNC: begin
          sync_valid = 1'b1;
          sync_next = host_wdata;
          sync_len = host_addr;
        end
        SEL_BUSY:
        case (host_addr)
          0: port_free = host_wdata;
          1: dma_free = host_wdata;
          default: dram_free = host_wdata;
        endcase
        default: ;
      endcase
    end else if (!halted && !fault) begin
      // background units first: what they finish at this cycle is visible to the core
      mvmu_tick();
      dma_tick();
      case (state)
        S_ISSUE: begin
          if (pc >= prm[P_NCODE]) do_fault(F_PC);
          else begin
            ir = imem[IW'(pc)];
            t_issue = cyc;
            if ((ir & ~owned(f_op(ir))) != 0 || owned(f_op(ir)) == 0) do_fault(F_ILLEGAL);
            else begin
              bug_store = 32'(f_op(ir)) == prm[P_BUG_OP] && prm[P_BUG_KIND] == 0;
              exec_cycle();
            end
          end
        end
        S_EXEC: exec_cycle();
        default: begin  // S_LATE
          retire(next_pc);
          if (f_op(ir) == OP_HALT) halted = 1'b1;
        end
      endcase
      cyc = cyc + 1;
    end
    cycle = cyc;
  end

  // ---------------------------------------------------------------------------------------
  // Host read port
  always_comb begin
    host_rdata = 64'h0;
    case (host_sel)
      SEL_PARAM: host_rdata = host_addr < NPARAMS ? 64'(prm[PW'(host_addr)]) : 64'h0;
      SEL_IMEM: host_rdata = imem[IW'(host_addr)];
      SEL_SPAD:
      for (int i = 0; i < 8; i++) host_rdata[i*8+:8] = spad[SW'(64'(host_addr) + 64'(i))];
      SEL_TMEM:
      for (int i = 0; i < 8; i++) host_rdata[i*8+:8] = tmem[TW'(64'(host_addr) + 64'(i))];
      SEL_REG: host_rdata = 64'(regs[host_addr[4:0]]);
      SEL_COUNT: host_rdata = host_addr < NACT ? cnt[AW'(host_addr)] : 64'h0;
      default: ;
    endcase
  end
endmodule
/* verilator lint_on BLKSEQ */
