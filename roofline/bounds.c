/* bounds.c: lower bounds from demands: time per resource, the latency bound and binding resource
 * of an op, energy (compulsory actions priced by the ERT + leakage x latency bound), and a whole
 * model: weights mapped greedily in op order onto the MVMUs, per-op bounds summed (ops in
 * sequence) and the weaker fully-overlapped bound. */
#include "roofline.h"

#include <stdlib.h>
#include <string.h>

/* Which resource an action's energy is charged to (-1: control, not a roofline resource). */
static int
action_res(int act)
{
	switch (act) {
	case HW_ACT_xbar_row_activate:
	case HW_ACT_dac_drive:
	case HW_ACT_sh_sample:
	case HW_ACT_adder_tree_op:
	case HW_ACT_shift_add:
	case HW_ACT_in_reg_byte:
	case HW_ACT_out_reg_byte:
		return RF_R_mvm;
	case HW_ACT_adc_convert:
		return RF_R_adc;
	case HW_ACT_xbar_write_row:
		return RF_R_array;
	case HW_ACT_vfu_op:
		return RF_R_vfu;
	case HW_ACT_sbu_op:
		return RF_R_sbu;
	case HW_ACT_sel_op:
		return RF_R_sel;
	case HW_ACT_spad_read_byte:
	case HW_ACT_spad_write_byte:
		return RF_R_spad;
	case HW_ACT_tilemem_read_byte:
	case HW_ACT_tilemem_write_byte:
	case HW_ACT_tile_bus_byte:
		return RF_R_tmem;
	case HW_ACT_netbuf_byte:
	case HW_ACT_noc_flit_hop:
		return RF_R_noc;
	case HW_ACT_dram_byte:
		return RF_R_dram;
	default:
		return -1;
	}
}

void
rf_op_bound(const RfCeilings *c, RfOpCost *o)
{
	int r, k;
	o->latency_s = 0;
	o->binding = -1;
	for (r = 0; r < RF_NRES; r++) {
		o->t_s[r] = rf_res_time(c, r, o->demand[r]);
		if (o->t_s[r] > o->latency_s) {
			o->latency_s = o->t_s[r];
			o->binding = r;
		}
	}
	memset(o->energy_res_j, 0, sizeof o->energy_res_j);
	o->energy_dyn_j = 0;
	for (k = 0; k < HW_NACTIONS; k++) {
		double j = o->actions[k] * c->ert.energy_pj[k] * 1e-12;
		int res = action_res(k);
		o->energy_dyn_j += j;
		if (res >= 0)
			o->energy_res_j[res] += j;
	}
	o->energy_leak_j = c->leak_w * o->latency_s;
	o->energy_j = o->energy_dyn_j + o->energy_leak_j;
}

void
rf_model_build(RfModel *m, const RfCeilings *c, const char *name, const RfOpDesc *ops, uint32_t n)
{
	int64_t left;
	double by_binding[RF_NRES] = {0}, best;
	uint32_t i;
	int r, k;

	memset(m, 0, sizeof *m);
	m->c = *c;
	snprintf(m->name, sizeof m->name, "%s", name ? name : "model");
	m->ops = xcalloc(n ? n : 1, sizeof *m->ops);
	m->nops = n;
	left = c->mvmus;
	m->fits = 1;
	for (i = 0; i < n; i++) {
		int64_t need = rf_op_mvmus(c, ops[i].rows, ops[i].cols), got;
		double res = 1;
		if (need > 0 && ops[i].m > 0) {
			got = need < left ? need : left;
			left -= got;
			res = (double)got / (double)need;
			m->mvmus_needed += need;
			if (got < need)
				m->fits = 0;
		}
		rf_op_cost(c, &ops[i], res, &m->ops[i]);
	}
	snprintf(m->total.d.name, sizeof m->total.d.name, "%s", "total");
	for (i = 0; i < n; i++) {
		const RfOpCost *o = &m->ops[i];
		RfOpCost *t = &m->total;
		t->work_ops += o->work_ops;
		t->work_dense_ops += o->work_dense_ops;
		t->macs_dense += o->macs_dense;
		t->macs_gated += o->macs_gated;
		t->weight_bytes += o->weight_bytes;
		t->mvmus += o->mvmus;
		for (r = 0; r < RF_NRES; r++) {
			t->demand[r] += o->demand[r];
			t->t_s[r] += o->t_s[r];
			t->energy_res_j[r] += o->energy_res_j[r];
		}
		for (k = 0; k < HW_NACTIONS; k++)
			t->actions[k] += o->actions[k];
		t->energy_dyn_j += o->energy_dyn_j;
		t->energy_leak_j += o->energy_leak_j;
		m->latency_s += o->latency_s;
		if (o->binding >= 0)
			by_binding[o->binding] += o->latency_s;
	}
	m->total.latency_s = m->latency_s;
	m->total.energy_j = m->total.energy_dyn_j + m->total.energy_leak_j;
	m->energy_j = m->total.energy_j;
	m->weight_bytes = m->total.weight_bytes;
	m->total.resident = m->fits ? 1 : (double)(c->mvmus) / (double)m->mvmus_needed;
	m->binding_overlap = -1;
	m->total.binding = -1;
	/* Ops overlapping perfectly: each resource's total time, except the latency floor, which
	 * does not add up across independent ops (its largest per-op value stands). */
	for (r = 0; r < RF_NRES; r++) {
		double t = m->total.t_s[r];
		if (r == RF_R_floor)
			for (i = 0, t = 0; i < n; i++)
				t = m->ops[i].t_s[r] > t ? m->ops[i].t_s[r] : t;
		if (t > m->latency_overlap_s) {
			m->latency_overlap_s = t;
			m->binding_overlap = r;
		}
	}
	for (r = 0, best = 0; r < RF_NRES; r++)
		if (by_binding[r] > best) {
			best = by_binding[r];
			m->total.binding = r;
		}
}

void
rf_model_free(RfModel *m)
{
	free(m->ops);
	m->ops = NULL;
	m->nops = 0;
}

int
rf_analyze(const Graph *g, const HwArch *a, RfModel *m, Diag *d)
{
	RfCeilings c;
	RfOpDesc *ops;
	uint32_t n;
	memset(m, 0, sizeof *m);
	rf_ceilings(a, &c);
	if (rf_graph_descs(g, &c, &ops, &n, d))
		return -1;
	rf_model_build(m, &c, g->name, ops, n);
	free(ops);
	return 0;
}
