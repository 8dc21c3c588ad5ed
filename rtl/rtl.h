/* rtl.h: RTL co-simulation of one kolmo CIM core. Public API of rtl/ (docs/rtl.md).
 *
 * The Verilog core (rtl/kolmo_core.sv), built with Verilator, runs the same binary as the
 * cycle-level C simulator (sim/) in lockstep: every retired instruction's pc, issue cycle and
 * register write are compared, and at the end the scratchpad, the tile memory, the registers,
 * the action counts and the energy priced from them. An RtlCore is one configured and loaded
 * instance of the verilated core; rtl_cosim drives one against a Sim. */
#ifndef KOLMO_RTL_H
#define KOLMO_RTL_H

#include <stdint.h>
#include <stdio.h>

#include "hw.h"
#include "kelf.h"
#include "sim.h"
#include "util.h"

/* Compile-time maxima of the RTL (kolmo_core.sv parameters). A config beyond them is refused. */
enum {
	RTL_MAX_IMEM = 16384,  /* instruction words */
	RTL_MAX_SPAD = 65536,  /* scratchpad bytes */
	RTL_MAX_TMEM = 262144, /* tile-memory bytes */
	RTL_MAX_MVMUS = 16,
	RTL_MAX_SLICES = 16,
	RTL_MAX_ROWS = 256,
	RTL_MAX_COLS = 256,
	RTL_MAX_DRAM_BPC = 64, /* DRAM bytes per cycle (the DMA copy streams 64 B/cycle) */
};

/* Fault codes of the RTL core (fault_code output). */
enum RtlFault {
	RTL_F_NONE,
	RTL_F_PC,
	RTL_F_ILLEGAL,
	RTL_F_SPAD,
	RTL_F_TMEM,
	RTL_F_DRAM,
	RTL_F_UNIT,
	RTL_F_MVM_BITS,
	RTL_F_OPERAND,
	RTL_F_DMA_QUEUE,
	RTL_F_UNSUPPORTED,
	RTL_F_XBW,
};
const char *rtl_fault_name(unsigned code);

typedef struct RtlModel RtlModel; /* model_shim.h */
typedef struct RtlCore RtlCore;

/* rtl_arch_check: 0 if the RTL can model arch (sizes within the maxima above, a DRAM rate that
 * is a small exact fraction of bytes per cycle), else -1 with the reason in d. */
int rtl_arch_check(const HwArch *arch, Diag *d);

/* One retired instruction of the RTL core. */
typedef struct RtlRetire {
	uint32_t pc;
	uint8_t op;
	uint64_t cycle;      /* issue cycle */
	uint64_t next_cycle; /* the cycle after its last one */
	int reg;             /* register written (-1: none) */
	int32_t value;
} RtlRetire;

/* rtl_core_new: a verilated core configured for arch (which rtl_arch_check accepts) and loaded
 * with core (tile, core) of prog: code, scratchpad, crossbar images, the tile's memory and the
 * DRAM. model: an existing RtlModel to reuse (reset and reloaded; NULL: a new one, owned by the
 * RtlCore). vcd_path: waveform file or NULL (only for a new model). bug_op/bug_kind: the
 * injected-bug test hook (bug_op -1: none). Returns 0, or -1 with d. */
int rtl_core_new(const HwArch *arch, const KProg *prog, uint32_t tile, uint32_t core,
                 RtlModel *model, const char *vcd_path, int bug_op, int bug_kind, RtlCore **out,
                 Diag *d);
void rtl_core_free(RtlCore *c);
/* rtl_model_create / rtl_model_destroy: a model to share between several RtlCores in turn. */
RtlModel *rtl_model_create(void);
void rtl_model_destroy(RtlModel *m);

/* rtl_core_step: clock the core until its next instruction retires (1, *r filled), it has halted
 * (0), it faults or passes max_cycle (-1, d says which). */
int rtl_core_step(RtlCore *c, uint64_t max_cycle, RtlRetire *r, Diag *d);
/* rtl_core_cycles: the cycle at which the core halted (or the current cycle). */
uint64_t rtl_core_cycles(const RtlCore *c);
int32_t rtl_core_reg(RtlCore *c, unsigned r);
/* rtl_core_read: n bytes of the scratchpad (space KSP_SPAD) or tile memory (KSP_TMEM) at addr. */
void rtl_core_read(RtlCore *c, int space, uint32_t addr, uint8_t *buf, uint32_t n);
/* rtl_core_write: between two retirements, write n bytes of the tile memory (KSP_TMEM) or of the
 * harness's DRAM (KSP_DRAM) at addr: the replay of other cores' traffic. */
void rtl_core_write(RtlCore *c, int space, uint32_t addr, const uint8_t *buf, uint32_t n);
/* rtl_core_sync: the next recv or bar releases so that the next instruction issues at
 * next_cycle; recv_bytes: the received message's size (its payload is written with
 * rtl_core_write first). */
void rtl_core_sync(RtlCore *c, uint64_t next_cycle, uint32_t recv_bytes);
/* rtl_core_busy: set a shared resource's busy-until cycle (0: tile-memory port, 1: the tile's DMA
 * engine, 2: the DRAM channel) to the C simulator's, after another core used it. */
void rtl_core_busy(RtlCore *c, unsigned which, uint64_t until);
/* rtl_core_counts: the RTL's action counters, HW_ACT_* order. */
void rtl_core_counts(RtlCore *c, uint64_t counts[HW_NACTIONS]);

/* ---- lockstep co-simulation ---- */

typedef struct RtlCosimOptions {
	int tile, core;       /* the core to co-simulate (-1: every core with code, in turn) */
	const char *vcd_path; /* waveform, or NULL */
	int bug_op;           /* test hook: opcode to corrupt (-1: none) */
	int bug_kind;         /* 0: flip its first result's low bit, 1: one cycle late */
	int history;          /* agreeing instructions shown before a mismatch (0: 8) */
	RtlModel *model;      /* reuse this model (NULL: create one) */
	uint64_t max_cycles;  /* 0: 10^9 */
} RtlCosimOptions;

enum { RTL_COSIM_MAX_CORES = 256 };

typedef struct RtlCosimResult {
	int agree; /* 1: every instruction and the final state agree (every core's) */
	uint64_t instructions;
	uint64_t sim_cycles, rtl_cycles;
	double sim_energy_j, rtl_energy_j;
	uint64_t sim_counts[HW_NACTIONS], rtl_counts[HW_NACTIONS];
	double sim_host_s, rtl_host_s; /* host seconds spent in each model */
	char report[16384];            /* the first mismatch (agree = 0) */
	uint32_t ncores;               /* the cores co-simulated, one run each */
	struct {
		uint32_t tile, core;
		int agree;
		uint64_t instructions, cycles; /* cycles: the core's halt cycle (RTL) */
	} cores[RTL_COSIM_MAX_CORES];
} RtlCosimResult;

void rtl_cosim_options_default(RtlCosimOptions *o);
/* rtl_cosim: run prog on arch in the C simulator and the RTL in lockstep. Returns 0 with
 * r->agree 1 (agreement) or 0 (r->report: the first mismatch with cycle, pc, disassembly,
 * expected and actual values and the last agreeing instructions), or -1 on an error that stops
 * the comparison before it starts or a fault of the C simulator (d; faults are checked against
 * the RTL, which must fault at the same instruction). */
int rtl_cosim(const HwArch *arch, const KProg *prog, const RtlCosimOptions *o, RtlCosimResult *r,
              Diag *d);

/* ---- constrained-random programs ---- */

/* rtl_randprog: a random single-core program for arch (legal operands, aligned in-range
 * addresses, terminating loops, MVMs on programmed units with a wait before their results are
 * read), fully determined by seed. ninsns: about how many instructions. */
KProg *rtl_randprog(const HwArch *arch, uint64_t seed, unsigned ninsns);

#endif
