/* opcost.c: what one op asks of the hardware: from an op descriptor (RfOpDesc) and the fraction of
 * its weights resident in the arrays, its work, its demand on every resource of resources.def and
 * the compulsory actions the simulator would count for it (priced later by the ERT).
 *
 * The counting rules (docs/roofline.md, "Op costs") follow docs/timing.md and the action
 * definitions of hwmodels/actions.def. They count what any mapping must do: each weight block
 * sees each vector once, activations cross tile memory once each way, streamed weights cross
 * DRAM once per inference. Control (scalar unit, instruction fetch) is not counted. */
#include "roofline.h"

#include <math.h>
#include <string.h>

enum {
	PSUM_BYTES = 4,    /* an MVM writes one i32 per column (docs/isa.md) */
	VFU_STARTUP = 2,   /* docs/timing.md */
	SBU_ON_VFU_OPS = 4 /* basis values computed on the VFU when there is no SBU */
};

static int64_t
cdiv(int64_t x, int64_t y)
{
	return (x + y - 1) / y;
}

int64_t
rf_op_mvmus(const RfCeilings *c, int64_t rows, int64_t cols)
{
	if (rows <= 0 || cols <= 0)
		return 0;
	return cdiv(rows, c->rows) * cdiv(cols, c->cols);
}

/* The MVM part: a rows x cols weight matrix in ceil(rows/R) x ceil(cols/C) MVMU blocks. */
static void
cost_mvm(const RfCeilings *c, const RfOpDesc *d, double res, RfOpCost *o, double *floor_s)
{
	const HwArch *a = &c->arch;
	int64_t R = c->rows, C = c->cols, nr = cdiv(d->rows, R), nc = cdiv(d->cols, C);
	int64_t rr = d->rows - (nr - 1) * R, cr = d->cols - (nc - 1) * C; /* last block sizes */
	double S = c->slices, Cin = c->input_cycles, m = d->m, blocks = (double)(nr * nc);
	double cyc_sum, l_min, streamed, copies, convs, acts;
	double *q = o->demand, *n = o->actions;
	int nb = a->mvmu.input_bits;

	o->mvmus = nr * nc;
	o->macs_dense = m * (double)d->rows * (double)d->cols;
	o->macs_gated = d->gate * o->macs_dense;
	o->weight_bytes = (double)d->rows * (double)d->cols * c->weight_bits / 8.0;
	o->resident = res;

	/* MVMU time: every vector through every block at the timing rule of its size. */
	cyc_sum = (double)((nr - 1) * (nc - 1)) * (double)hw_mvm_cycles(a, (int)R, (int)C, nb) +
	          (double)(nr - 1) * (double)hw_mvm_cycles(a, (int)R, (int)cr, nb) +
	          (double)(nc - 1) * (double)hw_mvm_cycles(a, (int)rr, (int)C, nb) +
	          (double)hw_mvm_cycles(a, (int)rr, (int)cr, nb);
	l_min = (double)hw_mvm_cycles(a, (int)rr, (int)cr, nb);
	q[RF_R_mvm] += m * cyc_sum;
	/* Floor: the block with the fewest copies runs ceil(m / copies) MVMs in sequence. */
	copies = blocks <= (double)c->mvmus ? floor((double)c->mvmus / blocks) : 1;
	if (blocks > (double)c->mvmus)
		*floor_s = fmax(*floor_s, l_min / c->clock_hz);
	else
		*floor_s = fmax(*floor_s, ceil(m / copies) * l_min / c->clock_hz);

	/* One conversion (or adder-tree reduction) per column, slice, input cycle and row block. */
	convs = m * S * Cin * (double)d->cols * (double)nr;
	acts = m * S * Cin * d->gate_min * (double)d->rows * (double)nc;
	n[HW_ACT_xbar_row_activate] += acts;
	n[HW_ACT_dac_drive] += acts;
	if (c->digital) {
		n[HW_ACT_adder_tree_op] += convs;
	} else {
		q[RF_R_adc] += convs;
		n[HW_ACT_sh_sample] += convs;
		n[HW_ACT_adc_convert] += convs;
	}
	n[HW_ACT_shift_add] += convs;
	if (a->mvmu.in_reg_bytes > 0)
		n[HW_ACT_in_reg_byte] += m * (double)d->rows * (double)nc * c->act_bytes;
	if (a->mvmu.out_reg_bytes > 0)
		n[HW_ACT_out_reg_byte] += m * (double)d->cols * (double)nr * PSUM_BYTES;
	/* Partial sums of the row blocks are added on the VFU. */
	q[RF_R_vfu] += m * (double)(nr - 1) * (double)d->cols;
	n[HW_ACT_vfu_op] += m * (double)(nr - 1) * (double)d->cols;
	/* Scratchpad: the drive is read once per column block, the i32 partial sums written once
	 * per row block; a KAN drive is first written by the SBU. */
	q[RF_R_spad] += m * (double)d->rows * (double)nc * c->act_bytes +
	                m * (double)d->cols * (double)nr * PSUM_BYTES + d->drive_bytes;
	n[HW_ACT_spad_read_byte] += m * (double)d->rows * (double)nc * c->act_bytes;
	n[HW_ACT_spad_write_byte] += m * (double)d->cols * (double)nr * PSUM_BYTES + d->drive_bytes;

	/* Streamed weights: DRAM -> tile memory -> arrays, once per inference. */
	streamed = (1 - res) * o->weight_bytes;
	if (streamed > 0) {
		q[RF_R_dram] += streamed;
		q[RF_R_tmem] += 2 * streamed;
		q[RF_R_array] += streamed;
		n[HW_ACT_dram_byte] += streamed;
		n[HW_ACT_tilemem_write_byte] += streamed;
		n[HW_ACT_tilemem_read_byte] += streamed;
		n[HW_ACT_tile_bus_byte] += streamed;
		n[HW_ACT_xbar_write_row] += (1 - res) * (double)d->rows * (double)nc * S;
	}
	/* Resident blocks spread over tiles: inputs broadcast to and outputs gathered from the
	 * other tiles. */
	o->tiles_spanned = (int)cdiv((int64_t)ceil(blocks * res), c->mvmus_per_tile);
	if (o->tiles_spanned < 1)
		o->tiles_spanned = 1;
	q[RF_R_noc] += (double)(o->tiles_spanned - 1) * (d->in_bytes + d->out_bytes);
}

/* Products of two activations (attention). */
static void
cost_dyn(const RfCeilings *c, const RfOpDesc *d, RfOpCost *o, double *floor_s)
{
	double *q = o->demand, *n = o->actions;
	double S = c->slices, Cin = c->input_cycles, R = c->rows, C = c->cols;
	if (!c->digital) {
		/* Analog arrays are not rewritten per token: one VFU multiply-accumulate per MAC.
		 */
		q[RF_R_vfu] += d->dyn_macs;
		n[HW_ACT_vfu_op] += d->dyn_macs;
		q[RF_R_spad] += d->in_bytes + d->out_bytes;
		n[HW_ACT_spad_read_byte] += d->in_bytes;
		n[HW_ACT_spad_write_byte] += d->out_bytes;
		return;
	}
	/* Digital SRAM-CIM: K and V written into the arrays (the write roof), then MVMs at best
	 * R x C MACs per full-size L_mvm. */
	q[RF_R_mvm] += d->dyn_macs / (R * C) * (double)c->mvm_cycles;
	*floor_s = fmax(*floor_s, (double)c->mvm_cycles / c->clock_hz);
	q[RF_R_array] += d->dyn_elems * c->weight_bits / 8.0;
	n[HW_ACT_xbar_write_row] += d->dyn_elems / C * S;
	n[HW_ACT_xbar_row_activate] += d->dyn_macs / C * S * Cin;
	n[HW_ACT_dac_drive] += d->dyn_macs / C * S * Cin;
	n[HW_ACT_adder_tree_op] += d->dyn_macs / R * S * Cin;
	n[HW_ACT_shift_add] += d->dyn_macs / R * S * Cin;
	q[RF_R_spad] += d->in_bytes + d->out_bytes;
	n[HW_ACT_spad_read_byte] += d->in_bytes;
	n[HW_ACT_spad_write_byte] += d->out_bytes;
}

void
rf_op_cost(const RfCeilings *c, const RfOpDesc *d, double resident, RfOpCost *o)
{
	double *q = o->demand, *n = o->actions, floor_s = 0, vec;
	const HwArch *a = &c->arch;
	int has_mvm = d->rows > 0 && d->cols > 0 && d->m > 0;

	memset(o, 0, sizeof *o);
	o->d = *d;
	o->resident = 1;
	if (has_mvm)
		cost_mvm(c, d, resident < 0 ? 0 : resident > 1 ? 1 : resident, o, &floor_s);
	if (d->dyn_macs > 0)
		cost_dyn(c, d, o, &floor_s);

	/* Vector units; SBU and SEL work falls back to the VFU when the core lacks the unit. */
	vec = d->vfu_ops;
	if (c->rate[RF_R_sbu] > 0) {
		q[RF_R_sbu] += d->sbu_values;
		n[HW_ACT_sbu_op] += d->sbu_values;
	} else {
		vec += SBU_ON_VFU_OPS * d->sbu_values;
	}
	if (c->rate[RF_R_sel] > 0) {
		q[RF_R_sel] += d->sel_ops;
		n[HW_ACT_sel_op] += d->sel_ops;
	} else {
		vec += d->sel_ops;
	}
	q[RF_R_vfu] += vec;
	n[HW_ACT_vfu_op] += vec;
	if (vec + d->sbu_values + d->sel_ops > 0)
		floor_s = fmax(floor_s, VFU_STARTUP / c->clock_hz);
	/* A purely vector op reads its operands from and writes its results to the scratchpad. */
	if (!has_mvm && d->dyn_macs <= 0 && vec + d->sbu_values + d->sel_ops > 0) {
		q[RF_R_spad] += d->in_bytes + d->out_bytes;
		n[HW_ACT_spad_read_byte] += d->in_bytes;
		n[HW_ACT_spad_write_byte] += d->out_bytes;
	}

	/* Activations: tile memory <-> scratchpad (tld/tst), once each way. */
	if (d->in_bytes + d->out_bytes > 0) {
		q[RF_R_tmem] += d->in_bytes + d->out_bytes;
		n[HW_ACT_tilemem_read_byte] += d->in_bytes;
		n[HW_ACT_tilemem_write_byte] += d->out_bytes;
		n[HW_ACT_tile_bus_byte] += d->in_bytes + d->out_bytes;
		if (has_mvm || d->dyn_macs > 0 || vec + d->sbu_values + d->sel_ops > 0) {
			q[RF_R_spad] += d->in_bytes + d->out_bytes;
			n[HW_ACT_spad_write_byte] += d->in_bytes;
			n[HW_ACT_spad_read_byte] += d->out_bytes;
		}
	}
	/* Compulsory DRAM traffic goes through tile memory by DMA. */
	if (d->dram_bytes > 0) {
		q[RF_R_dram] += d->dram_bytes;
		q[RF_R_tmem] += d->dram_bytes;
		n[HW_ACT_dram_byte] += d->dram_bytes;
		n[HW_ACT_tilemem_write_byte] += d->dram_bytes;
	}
	q[RF_R_noc] += d->noc_bytes;
	if (q[RF_R_noc] > 0) {
		double flit = a->noc.flit_bits / 8.0;
		n[HW_ACT_noc_flit_hop] += ceil(q[RF_R_noc] / flit);
		n[HW_ACT_netbuf_byte] += 2 * q[RF_R_noc];
	}
	q[RF_R_floor] = floor_s;

	o->work_ops = 2 * o->macs_gated + 2 * d->dyn_macs + d->vfu_ops + d->sbu_values + d->sel_ops;
	o->work_dense_ops = o->work_ops + 2 * (o->macs_dense - o->macs_gated);
	rf_op_bound(c, o);
}
