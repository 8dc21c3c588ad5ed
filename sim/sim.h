/* sim.h: the cycle-level simulator of a kolmo CIM chip. Public API of sim/.
 *
 * A Sim runs one binary (KProg) on one architecture (HwArch): every tile and core, functionally
 * exact and timed by the rules of docs/timing.md. It counts actions (crossbar row activations,
 * ADC conversions, bytes moved, ...); hwmodels/ prices them into joules. Each Sim is a context of
 * its own: several can run at once in one process (one per thread). */
#ifndef KOLMO_SIM_H
#define KOLMO_SIM_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hw.h"
#include "isa.h"
#include "kelf.h"
#include "util.h"

typedef struct Sim Sim;
typedef struct SimTrace SimTrace;

/* Action counters, indexed by the energy reference table's actions (hw.h). */
typedef struct SimCounts {
	uint64_t act[HW_NACTIONS];
} SimCounts;

typedef struct SimOptions {
	uint64_t max_cycles; /* stop with a fault past this cycle (0: default 10^12) */
	uint64_t max_insns;  /* stop with a fault past this many instructions (0: default 10^11) */
	/* Non-ideal device modes; all zero is the ideal, bit-exact mode. */
	double g_sigma;    /* relative conductance variation per cell (lognormal-free Gaussian) */
	double stuck_prob; /* probability that a cell slice is stuck at 0 or at its maximum */
	double read_noise; /* Gaussian noise on each ADC input, in LSBs of the partial sum */
	uint64_t seed;     /* RNG seed for the non-ideal modes */
	const char *trace_path; /* Chrome trace-event JSON, or NULL */
	int force_bitlevel;     /* emulate the bit-level MVM datapath even when the result is exact
	                           (tests compare it with the plain product) */
} SimOptions;

typedef struct SimCoreStats {
	uint32_t tile, core;
	uint64_t cycles; /* cycle at which the core halted */
	uint64_t instructions;
	uint64_t unit_busy[U_COUNT]; /* cycles each unit class was busy */
	uint64_t by_opcode[OP_LIMIT];
} SimCoreStats;

typedef struct SimLayerStats {
	const char *name; /* "(none)" for code outside any layer symbol */
	uint64_t instructions;
	SimCounts counts;
	/* the layer's time on the chip: the first cycle any core issued one of its instructions and
	 * the last cycle one of them completed (UINT64_MAX and 0 when none ran) */
	uint64_t first_cycle, last_cycle;
} SimLayerStats;

typedef struct SimStats {
	uint64_t cycles; /* chip latency in cycles: the last core's halt */
	double latency_s;
	uint64_t instructions;
	SimCounts counts; /* whole chip */
	uint32_t ncores;
	SimCoreStats *cores;
	uint32_t nlayers;
	SimLayerStats *layers;
	uint64_t noc_messages, noc_flit_hops;
} SimStats;

/* sim_options_default: the ideal mode with default limits. */
void sim_options_default(SimOptions *o);

/* sim_new: validate prog against arch (sizes, units, addresses, I/O map) and build a simulator
 * with the program's memories and crossbars loaded. Returns 0, or -1 with the reason in d. */
int sim_new(const HwArch *arch, const KProg *prog, const SimOptions *opt, Sim **out, Diag *d);
void sim_free(Sim *s);

/* sim_set_input: copy an input tensor (raw little-endian elements of the I/O map's type, in
 * row-major order) into its place. bytes must equal the tensor's size. */
int sim_set_input(Sim *s, const char *name, const void *data, size_t bytes, Diag *d);

/* sim_run: run every core until all halt. Returns 0, or -1 on an architectural fault (illegal
 * access, deadlock, cycle limit...) with a message naming tile, core, pc and instruction. */
int sim_run(Sim *s, Diag *d);

/* One retired (or blocked) instruction, for lockstep co-simulation. */
typedef struct SimRetire {
	uint32_t tile, core, pc;
	uint8_t op;
	uint8_t blocked;     /* the instruction blocked (recv, bar) and will be re-executed */
	uint64_t cycle;      /* issue cycle */
	uint64_t next_cycle; /* cycle at which the core's next instruction issues */
	int reg;             /* scalar register written (-1: none) */
	int32_t value;
	uint32_t rx_addr, rx_len; /* a completed recv: the tile-memory range its payload filled */
} SimRetire;

/* sim_step: execute the next instruction in cycle order (the core with the earliest next-issue
 * cycle). Returns 1 with *r filled, 0 when every core has halted or blocked (then call
 * sim_finish), -1 on a fault (d filled). */
int sim_step(Sim *s, SimRetire *r, Diag *d);
/* sim_finish: after the last step: detect deadlocks and unreceived messages, total the
 * statistics, write the trace. sim_run = sim_step until done + sim_finish. */
int sim_finish(Sim *s, Diag *d);

/* sim_output: pointer to an output tensor's bytes (valid until sim_free) and its size. */
const void *sim_output(Sim *s, const char *name, size_t *bytes, Diag *d);
/* sim_output_int: element i of an output of sz-byte signed integers (1, 2 or 4). */
int32_t sim_output_int(const void *out, uint32_t i, unsigned sz);

const SimStats *sim_stats(const Sim *s);

/* sim_reg: register r of core (tile, core) (0 for a core without code). */
int32_t sim_reg(const Sim *s, uint32_t tile, uint32_t core, unsigned r);
/* sim_mem: a memory's bytes: space KSP_DRAM (tile, core ignored), KSP_TMEM (core ignored) or
 * KSP_SPAD; NULL when it does not exist. DRAM is allocated as the run touches it: *size is the
 * allocated prefix, which covers every byte loaded, written or read so far (the rest is zero). */
const uint8_t *sim_mem(const Sim *s, int space, uint32_t tile, uint32_t core, size_t *size);

/* sim_core_counts: the action counts of core (tile, core) alone (all layers), so far. */
void sim_core_counts(const Sim *s, uint32_t tile, uint32_t core, SimCounts *out);
/* sim_shared_busy: the resources a tile's cores share (docs/timing.md): the cycle at which the
 * tile-memory port and the tile's DMA engine are next free, and the chip's DRAM channel. */
void sim_shared_busy(const Sim *s, uint32_t tile, uint64_t *port_free, uint64_t *dma_free,
                     uint64_t *dram_free);

/* sim_energy: price the run's action counts with arch's energy reference table. */
void sim_energy(const Sim *s, const HwArch *arch, HwEnergy *out);

/* sim_stats_json: the statistics as a JSON object (keys documented in docs/sim.md): at least
 * cycles, latency_s, energy_j.total, energy_j.by_component, instructions. */
json_t *sim_stats_json(const Sim *s, const HwArch *arch);
/* sim_report: the human-readable summary: latency, energy, top components, per-layer table. */
void sim_report(const Sim *s, const HwArch *arch, FILE *f);

#endif
