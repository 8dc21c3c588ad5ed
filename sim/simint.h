/* simint.h: the simulator's internal state. Only sim/ includes this; the public API is sim.h. */
#ifndef KOLMO_SIMINT_H
#define KOLMO_SIMINT_H

#include <stdint.h>

#include "isa.h"
#include "sim.h"

/* Timing constants fixed by the hardware template (docs/timing.md). */
enum {
	BRANCH_PENALTY = 1,
	VFU_STARTUP = 2,
	RECIP_CYCLES = 4,
	SBU_STARTUP = 2,
	SEL_STARTUP = 2,
	SA_CYCLES = 2,
};

/* The numbers the simulator needs, derived once from the arch config (params.c). Durations are
 * already in core cycles. */
typedef struct SimParams {
	uint32_t tiles, mesh_rows, mesh_cols, cores_per_tile;
	uint32_t spad_bytes, imem_words, tmem_bytes;
	uint64_t dram_bytes;
	uint32_t tmem_bytes_per_cycle, tmem_latency;
	double dram_bytes_per_cycle;
	uint32_t dram_latency;
	uint32_t noc_link_bits, noc_hop_cycles;
	uint32_t mvmus_per_core, xbar_rows, xbar_cols;
	uint32_t cell_bits, weight_bits, input_bits, dac_bits, adc_bits, adcs_per_xbar;
	uint32_t slices; /* ceil(weight_bits / cell_bits) */
	uint32_t read_cycles, adc_cycles, write_row_cycles;
	int digital; /* SRAM-CIM: adder trees, no ADC */
	uint32_t vfu_lanes;
	int has_sbu, has_sel;
	double clock_hz;
} SimParams;

typedef struct Mvmu {
	int programmed;
	uint32_t rows, cols; /* programmed size */
	int32_t *w;          /* rows x cols signed weights */
	float *g;            /* non-ideal: slices x rows x cols effective cell levels, or NULL */
	uint64_t busy_until;
} Mvmu;

enum CoreState { CORE_RUN, CORE_BLOCKED, CORE_HALTED, CORE_FAULT };

typedef struct Core {
	uint32_t tile, idx;
	int32_t r[ISA_NREGS];
	uint32_t pc;
	uint64_t now; /* cycle at which the next instruction issues */
	enum CoreState state;
	Insn *code;
	uint32_t ncode;
	uint16_t *pc_layer; /* layer index per pc (0 = no layer) */
	uint8_t *spad;
	Mvmu *mvmu;
	/* blocking state */
	int wait_kind; /* OP_recv or OP_bar while blocked */
	int in_heap;   /* scheduled in the run queue */
	uint32_t heap_pos;
	uint64_t icount;
	uint32_t rx_addr, rx_len; /* the last completed recv's payload range */
	SimCounts *counts;        /* per layer: nlayers + 1 rows */
	uint64_t *lspan;          /* per layer: first issue cycle, last completion cycle */
} Core;

typedef struct Msg {
	uint32_t src_tile, dst_tile, chan, dst_addr, len;
	uint64_t deliver;
	uint8_t *data;
	struct Msg *next;
} Msg;

typedef struct Tile {
	uint8_t *tmem;
	Core *cores;
	uint64_t port_free, dma_free;
	uint32_t bar_count;
	uint64_t bar_time;
	Msg *inbox; /* delivered-or-in-flight messages, in send order */
} Tile;

struct Sim {
	SimParams p;
	SimOptions opt;
	const KProg *prog;
	Tile *tiles;
	uint8_t *dram;     /* DRAM bytes [0, dram_len); the rest of p.dram_bytes is zero, not */
	uint64_t dram_len; /* yet allocated (sim_dram grows it on first use) */
	uint64_t dram_free;
	uint64_t *link_free; /* 4 links per tile: E, W, N, S outputs */
	uint32_t nlayers;
	const char **layer_names; /* layer base names (arena) */
	Arena *arena;
	uint64_t rng;
	SimTrace *trace;
	SimStats stats;
	Diag fault;
	int faulted, started;
	uint64_t total_insns;
	Core **heap; /* run queue: cores ordered by (now, tile, core) */
	uint32_t nheap;
	Core **woken; /* cores made runnable by another core's send or barrier */
	uint32_t nwoken;
	Core **all; /* every core of the chip that has code, in (tile, core) order */
	uint32_t nall;
};

/* sim_dram: DRAM with at least its first `end` bytes allocated (end <= p.dram_bytes): a chip with
 * GiBs of DRAM costs only what the program touches, and no checker has to zero it all. */
uint8_t *sim_dram(Sim *s, uint64_t end);

/* exec.c */
int sim_exec(Sim *s, Core *c);
/* mvmu.c */
int sim_mvm(Sim *s, Core *c, const Insn *in, Mvmu *u, const uint8_t *x, int32_t *out,
            SimCounts *cnt);
/* timing.c */
uint64_t t_vfu(const SimParams *p, uint32_t n);
uint64_t t_vfu_reduce(const SimParams *p, uint32_t n);
uint64_t t_recip(const SimParams *p, uint32_t n);
uint64_t t_sbu(const SimParams *p, uint32_t n, uint32_t nb);
uint64_t t_sel(const SimParams *p, uint32_t n);
uint64_t t_mvm(const SimParams *p, uint32_t rows, uint32_t cols, uint32_t nbits);
uint32_t mvm_input_cycles(const SimParams *p, uint32_t nbits);
uint64_t t_xbw(const SimParams *p, uint32_t rows);
uint64_t ceil_div_u64(uint64_t a, uint64_t b);
uint32_t ceil_log2(uint64_t n);
/* noc.c */
uint64_t noc_route(Sim *s, uint32_t src, uint32_t dst, uint32_t bytes, uint64_t inject,
                   uint64_t *hops);

/* sim_wake: make a blocked core runnable again (it re-executes its blocking instruction). */
void sim_wake(Sim *s, Core *c);
/* mvmu.c */
int sim_mvmu_nonideal(Sim *s, Mvmu *u);
uint64_t sim_rng_next(uint64_t *state);
double sim_rng_uniform(uint64_t *state);
double sim_rng_gauss(uint64_t *state);
/* trace.c */
int sim_trace_open(Sim *s, const char *path, Diag *d);
void sim_trace_insn(Sim *s, const Core *c, const Insn *in, uint64_t start, uint64_t cycles);
int sim_trace_close(Sim *s, int commit, Diag *d);
/* params.c */
int sim_params(const HwArch *arch, SimParams *p, Diag *d);

/* fault: stop core c with a message naming tile, core, pc and the instruction. Returns -1. */
int sim_fault(Sim *s, Core *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
