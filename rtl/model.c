/* model.c: an RtlCore: the verilated core configured from an architecture through its host port
 * (rtl_regs.def), loaded with one core of a program, clocked until instructions retire, with the
 * DRAM behind its DMA port held here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_shim.h"
#include "rtl.h"

enum {
#define RTL_SEL(name) SEL_##name,
#include "rtl_regs.def"
};
enum {
#define RTL_PARAM(name) P_##name,
#include "rtl_regs.def"
	NPARAMS
};

struct RtlCore {
	RtlModel *m;
	int own;
	uint8_t *dram;
	uint64_t dram_bytes;
	uint32_t spad_bytes, tmem_bytes;
	int halted;
	uint64_t cycle;
	RtlPorts p;
};

static const char *const fault_names[] = {
    "none",
    "pc outside the program",
    "illegal instruction",
    "scratchpad access out of range or unaligned",
    "tile-memory access out of range",
    "DRAM access out of range",
    "missing or unprogrammed MVMU",
    "mvm input wider than its bits (or more bits than the MVMU takes)",
    "bad operand (sbu descriptor, topk/topp input, send target)",
    "DMA queue full (RTL limit: 16 transfers in flight)",
    "recv without a replayed release (the harness gives it from the C simulator)",
    "xbw rows or weights out of range",
};

const char *
rtl_fault_name(unsigned code)
{
	return code < sizeof fault_names / sizeof *fault_names ? fault_names[code]
	                                                       : "unknown fault";
}

/* The DRAM rate as an exact fraction num/den of bytes per cycle (den <= 4096), or -1. */
static int
dram_fraction(double bpc, uint32_t *num, uint32_t *den)
{
	uint32_t q;
	for (q = 1; q <= 4096; q++) {
		double p = bpc * q, rp = floor(p + 0.5);
		if (rp >= 1 && rp < 4294967296.0 && fabs(p - rp) < 1e-9 * q) {
			*num = (uint32_t)rp;
			*den = q;
			return 0;
		}
	}
	return -1;
}

int
rtl_arch_check(const HwArch *a, Diag *d)
{
	uint32_t num, den;
#define LIMIT(cond, what, val, max)                                                                \
	if (!(cond))                                                                               \
		return diag_err(                                                                   \
		    d, NULL,                                                                       \
		    "architecture '%s': %s %lld is beyond the RTL core's maximum %lld "            \
		    "(rtl/kolmo_core.sv parameters)",                                              \
		    a->name, what, (long long)(val), (long long)(max));
	LIMIT(a->core.imem_words <= RTL_MAX_IMEM, "core.imem_words", a->core.imem_words,
	      RTL_MAX_IMEM)
	LIMIT(a->core.spad_bytes <= RTL_MAX_SPAD, "core.spad_bytes", a->core.spad_bytes,
	      RTL_MAX_SPAD)
	LIMIT(a->tile.mem_bytes <= RTL_MAX_TMEM, "tile.mem_bytes", a->tile.mem_bytes, RTL_MAX_TMEM)
	LIMIT(a->core.mvmus <= RTL_MAX_MVMUS, "core.mvmus", a->core.mvmus, RTL_MAX_MVMUS)
	LIMIT(a->d.slices <= RTL_MAX_SLICES, "weight slices (weight_bits / cell_bits)", a->d.slices,
	      RTL_MAX_SLICES)
	LIMIT(a->mvmu.rows <= RTL_MAX_ROWS, "mvmu.rows", a->mvmu.rows, RTL_MAX_ROWS)
	LIMIT(a->mvmu.cols <= RTL_MAX_COLS, "mvmu.cols", a->mvmu.cols, RTL_MAX_COLS)
	LIMIT(a->d.dram_bytes_per_cycle <= RTL_MAX_DRAM_BPC, "DRAM bytes per cycle",
	      a->d.dram_bytes_per_cycle, RTL_MAX_DRAM_BPC)
#undef LIMIT
	if (dram_fraction(a->d.dram_bytes_per_cycle, &num, &den))
		return diag_err(
		    d, NULL,
		    "architecture '%s': DRAM rate %.17g bytes per cycle is not a fraction "
		    "with a denominator up to 4096, which the RTL's DMA engine needs",
		    a->name, a->d.dram_bytes_per_cycle);
	return 0;
}

RtlModel *
rtl_model_create(void)
{
	return rtl_model_new(NULL);
}

void
rtl_model_destroy(RtlModel *m)
{
	rtl_model_free(m);
}

static void
param(RtlCore *c, unsigned idx, uint64_t v)
{
	rtl_model_host_write(c->m, SEL_PARAM, idx, v > 0xffffffffu ? 0xffffffffu : v);
}

/* Write a memory image through the host port, 8 bytes at a time, skipping zero words (the
 * memory was cleared). */
static void
load_image(RtlCore *c, unsigned sel, const uint8_t *img, uint32_t size)
{
	uint32_t a;
	for (a = 0; a < size; a += 8) {
		uint64_t w = 0;
		memcpy(&w, img + a, size - a < 8 ? size - a : 8);
		if (w)
			rtl_model_host_write(c->m, sel, a, w);
	}
}

static void
apply_segs(uint8_t *mem, const KSegs *sg)
{
	uint32_t i;
	for (i = 0; i < sg->n; i++)
		memcpy(mem + sg->v[i].addr, sg->v[i].bytes, sg->v[i].len);
}

static int
segs_fit(const KSegs *sg, uint64_t size, const char *what, Diag *d)
{
	uint32_t i;
	for (i = 0; i < sg->n; i++)
		if ((uint64_t)sg->v[i].addr + sg->v[i].len > size)
			return diag_err(
			    d, NULL, "%s init data [0x%x, 0x%llx) exceeds its size 0x%llx", what,
			    sg->v[i].addr, (unsigned long long)sg->v[i].addr + sg->v[i].len,
			    (unsigned long long)size);
	return 0;
}

int
rtl_core_new(const HwArch *a, const KProg *prog, uint32_t tile, uint32_t core, RtlModel *model,
             const char *vcd_path, int bug_op, int bug_kind, RtlCore **out, Diag *d)
{
	const KCore *kc = kprog_find_core(prog, tile, core);
	const KTile *kt = kprog_find_tile(prog, tile);
	RtlCore *c;
	uint8_t *img;
	uint32_t num = 1, den = 1, i, r, j;
	*out = NULL;
	if (rtl_arch_check(a, d))
		return -1;
	if (!kc)
		return diag_err(d, NULL, "the program has no code for tile %u core %u", tile, core);
	if (kc->ncode > (uint32_t)a->core.imem_words)
		return diag_err(d, NULL,
		                "tile %u core %u has %u instructions; the instruction memory "
		                "holds %d",
		                tile, core, kc->ncode, a->core.imem_words);
	if (segs_fit(&kc->spad, (uint64_t)a->core.spad_bytes, "scratchpad", d) ||
	    (kt && segs_fit(&kt->tmem, (uint64_t)a->tile.mem_bytes, "tile memory", d)) ||
	    segs_fit(&prog->dram, (uint64_t)a->dram.size_bytes, "DRAM", d))
		return -1;
	for (i = 0; i < kc->nxbar; i++) {
		const KXbar *x = &kc->xbar[i];
		if (x->unit >= (uint32_t)a->core.mvmus || x->rows > (uint32_t)a->mvmu.rows ||
		    x->cols > (uint32_t)a->mvmu.cols || x->rows == 0 || x->cols == 0)
			return diag_err(d, NULL,
			                "MVMU %u image %ux%u does not fit the architecture",
			                x->unit, x->rows, x->cols);
	}
	dram_fraction(a->d.dram_bytes_per_cycle, &num, &den);
	c = xcalloc(1, sizeof *c);
	c->m = model;
	if (!c->m) {
		c->m = rtl_model_new(vcd_path);
		c->own = 1;
		if (!c->m) {
			free(c);
			return diag_err(d, vcd_path, "cannot open the waveform file for writing");
		}
	}
	c->spad_bytes = (uint32_t)a->core.spad_bytes;
	c->tmem_bytes = (uint32_t)a->tile.mem_bytes;
	c->dram_bytes = (uint64_t)a->dram.size_bytes;
	c->dram = calloc(c->dram_bytes ? c->dram_bytes : 1, 1);
	if (!c->dram) {
		rtl_core_free(c);
		return diag_err(d, NULL, "out of memory for %llu bytes of DRAM",
		                (unsigned long long)c->dram_bytes);
	}
	apply_segs(c->dram, &prog->dram);

	rtl_model_set_reset(c->m, 1);
	rtl_model_host_write(c->m, SEL_CLEAR, 0, 0);
	param(c, P_NCODE, kc->ncode);
	param(c, P_ENTRY, kc->entry);
	param(c, P_SPAD_BYTES, c->spad_bytes);
	param(c, P_TMEM_BYTES, c->tmem_bytes);
	param(c, P_DRAM_BYTES, c->dram_bytes);
	param(c, P_NMVMU, (uint64_t)a->core.mvmus);
	param(c, P_CELL_BITS, (uint64_t)a->mvmu.cell_bits);
	param(c, P_WEIGHT_BITS, (uint64_t)a->mvmu.weight_bits);
	param(c, P_INPUT_BITS, (uint64_t)a->mvmu.input_bits);
	param(c, P_DAC_BITS, (uint64_t)a->mvmu.dac_bits);
	param(c, P_ADC_BITS, (uint64_t)a->mvmu.adc_bits);
	param(c, P_ADCS, (uint64_t)(a->mvmu.adcs_per_xbar > 0 ? a->mvmu.adcs_per_xbar : 1));
	param(c, P_SLICES, (uint64_t)a->d.slices);
	param(c, P_READ_CYC, (uint64_t)a->d.read_cycles);
	param(c, P_ADC_CYC, (uint64_t)a->d.adc_cycles);
	param(c, P_WRITE_CYC, (uint64_t)a->d.write_row_cycles);
	param(c, P_DIGITAL, (uint64_t)(a->d.digital != 0));
	param(c, P_LANES, (uint64_t)a->core.vfu_lanes);
	param(c, P_HAS_SBU, (uint64_t)(a->core.has_sbu != 0));
	param(c, P_HAS_SEL, (uint64_t)(a->core.has_sel != 0));
	param(c, P_TMEM_BPC, (uint64_t)a->d.tmem_bytes_per_cycle);
	param(c, P_TMEM_LAT, (uint64_t)a->d.tmem_latency_cycles);
	param(c, P_DRAM_NUM, num);
	param(c, P_DRAM_DEN, den);
	param(c, P_DRAM_LAT, (uint64_t)a->d.dram_latency_cycles);
	param(c, P_TILE, tile);
	param(c, P_TILES, (uint64_t)a->chip.tiles);
	param(c, P_MESH_COLS, (uint64_t)a->chip.mesh_cols);
	param(c, P_LINK_BITS, (uint64_t)a->noc.flit_bits);
	param(c, P_BUG_OP, bug_op >= 0 && bug_op < 256 ? (uint64_t)bug_op : 256u);
	param(c, P_BUG_KIND, (uint64_t)(bug_kind != 0));
	for (i = 0; i < kc->ncode; i++)
		rtl_model_host_write(c->m, SEL_IMEM, i, kc->code[i]);
	img = xcalloc(c->tmem_bytes > c->spad_bytes ? c->tmem_bytes : c->spad_bytes, 1);
	apply_segs(img, &kc->spad);
	load_image(c, SEL_SPAD, img, c->spad_bytes);
	memset(img, 0, c->spad_bytes);
	if (kt) {
		apply_segs(img, &kt->tmem);
		load_image(c, SEL_TMEM, img, c->tmem_bytes);
	}
	free(img);
	for (i = 0; i < kc->nxbar; i++) {
		const KXbar *x = &kc->xbar[i];
		rtl_model_host_write(c->m, SEL_SHAPE, x->unit, x->rows | (uint64_t)x->cols << 16);
		for (r = 0; r < x->rows; r++)
			for (j = 0; j < x->cols; j++)
				rtl_model_host_write(c->m, SEL_WEIGHT, x->unit << 16 | r << 8 | j,
				                     (uint32_t)x->w[(size_t)r * x->cols + j]);
	}
	/* One more clock in reset latches the entry pc from the parameters. */
	rtl_model_host_write(c->m, SEL_PARAM, 0xffffffffu, 0);
	rtl_model_set_reset(c->m, 0);
	*out = c;
	return 0;
}

void
rtl_core_free(RtlCore *c)
{
	if (!c)
		return;
	if (c->own)
		rtl_model_free(c->m);
	else if (c->m)
		rtl_model_set_reset(c->m, 1);
	free(c->dram);
	free(c);
}

/* Serve the DRAM port request of the last rising edge. */
static void
dram_service(RtlCore *c)
{
	uint8_t buf[64];
	uint64_t a = c->p.dram_addr, n = c->p.dram_len > 64 ? 64 : c->p.dram_len;
	if (!c->p.dram_req)
		return;
	if (a + n > c->dram_bytes)
		n = a < c->dram_bytes ? c->dram_bytes - a : 0;
	if (c->p.dram_we) {
		memcpy(c->dram + a, c->p.dram_wdata, n);
		return;
	}
	memset(buf, 0, sizeof buf);
	memcpy(buf, c->dram + a, n);
	rtl_model_set_dram_rdata(c->m, buf);
}

int
rtl_core_step(RtlCore *c, uint64_t max_cycle, RtlRetire *r, Diag *d)
{
	if (c->halted)
		return 0;
	for (;;) {
		rtl_model_clock(c->m, &c->p);
		dram_service(c);
		c->cycle = c->p.cycle;
		if (c->p.retire_valid) {
			r->pc = c->p.retire_pc;
			r->op = c->p.retire_op;
			r->cycle = c->p.retire_cycle;
			r->next_cycle = c->p.cycle;
			r->reg = c->p.retire_wen ? c->p.retire_reg : -1;
			r->value = (int32_t)c->p.retire_value;
			c->halted = c->p.halted;
			return 1;
		}
		if (c->p.fault)
			return diag_err(d, NULL, "the RTL core faults at cycle %llu: %s (code %u)",
			                (unsigned long long)c->p.cycle - 1,
			                rtl_fault_name(c->p.fault_code), c->p.fault_code);
		if (c->p.cycle > max_cycle)
			return diag_err(d, NULL, "the RTL core passed cycle %llu without retiring",
			                (unsigned long long)max_cycle);
	}
}

void
rtl_core_write(RtlCore *c, int space, uint32_t addr, const uint8_t *buf, uint32_t n)
{
	uint32_t i;
	if (space == KSP_DRAM) {
		if ((uint64_t)addr + n <= c->dram_bytes)
			memcpy(c->dram + addr, buf, n);
		return;
	}
	for (i = 0; i < n; i += 8) {
		uint32_t k = n - i;
		uint64_t w = 0;
		if (k >= 8)
			k = 8; /* a whole word: nothing to keep */
		else
			w = rtl_model_host_read(c->m, SEL_TMEM,
			                        addr + i); /* keep the bytes past k */
		memcpy(&w, buf + i, k);
		rtl_model_host_write(c->m, SEL_TMEM, addr + i, w);
	}
}

void
rtl_core_sync(RtlCore *c, uint64_t next_cycle, uint32_t recv_bytes)
{
	rtl_model_host_write(c->m, SEL_SYNC, recv_bytes, next_cycle);
}

void
rtl_core_busy(RtlCore *c, unsigned which, uint64_t until)
{
	rtl_model_host_write(c->m, SEL_BUSY, which, until);
}

uint64_t
rtl_core_cycles(const RtlCore *c)
{
	return c->cycle;
}

int32_t
rtl_core_reg(RtlCore *c, unsigned r)
{
	return (int32_t)(uint32_t)rtl_model_host_read(c->m, SEL_REG, r & 31);
}

void
rtl_core_read(RtlCore *c, int space, uint32_t addr, uint8_t *buf, uint32_t n)
{
	unsigned sel = space == KSP_TMEM ? SEL_TMEM : SEL_SPAD;
	uint32_t i;
	for (i = 0; i < n; i += 8) {
		uint64_t w = rtl_model_host_read(c->m, sel, addr + i);
		memcpy(buf + i, &w, n - i < 8 ? n - i : 8);
	}
}

void
rtl_core_counts(RtlCore *c, uint64_t counts[HW_NACTIONS])
{
	unsigned i;
	for (i = 0; i < HW_NACTIONS; i++)
		counts[i] = rtl_model_host_read(c->m, SEL_COUNT, i);
}
