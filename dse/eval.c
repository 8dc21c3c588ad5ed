/* eval.c: evaluating one design point: architecture, compile, simulate (or estimate), price.
 * Everything a point needs is built here and freed here; the sweep is only read, so workers in
 * different threads never share mutable state. */
#include "dse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "isa.h"
#include "onnx.h"
#include "sim.h"

/* reason: the first line of a diagnostic, without its "error: " tag: the reason column wants
 * one readable line ("what: file:line:col: text" or "what: text"). */
static void
reason(DseResult *r, const char *what, const Diag *d)
{
	char line[420];
	const char *m = d->msg, *e;
	size_t n = strcspn(m, "\n");
	snprintf(line, sizeof line, "%.*s", (int)(n < 400 ? n : 400), m);
	e = strstr(line, "error: ");
	if (e)
		memmove((char *)e, e + 7, strlen(e + 7) + 1);
	snprintf(r->reason, sizeof r->reason, "%s: %s", what, line);
	r->feasible = 0;
}

/* ---- seeded input and its quantisation (as kolmo run does) ---- */

static void
make_input(const CcOptions *o, float *x, uint32_t n)
{
	uint64_t s = o->seed ^ 0x696e707574ull;
	uint32_t i;
	for (i = 0; i < n; i++) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		x[i] = (float)(o->input_lo +
		               (o->input_hi - o->input_lo) * (double)(z >> 11) * 0x1.0p-53);
	}
}

static int32_t
quant(double v, unsigned ty)
{
	int64_t lo = ty == TY_I8 ? INT8_MIN : INT16_MIN, hi = ty == TY_I8 ? INT8_MAX : INT16_MAX;
	int64_t q = (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
	return (int32_t)(q < lo ? lo : q > hi ? hi : q);
}

/* One workload on one architecture. Returns 0, or -1 with r->reason set. */
static int
eval_workload(const DseWorkload *w, const HwArch *arch, int fast, DseResult *r, DseWlResult *wr)
{
	Diag d = {0};
	Graph *g = NULL;
	KProg *p = NULL;
	CcModel *m = NULL;
	Sim *sim = NULL;
	const KTensor *tin = NULL, *tout = NULL;
	uint32_t nin, nout, i;
	double sin, sout, maxerr = 0, maxref = 0;
	float *x = NULL, *yf = NULL;
	int32_t *xq = NULL, *yq = NULL;
	unsigned char *buf = NULL;
	char what[160];
	int rc = -1;

	/* A private graph: the compiler allocates into the graph's arena, so a Graph must not be
	 * shared between concurrent compilations (and reusing one grows it by every compile). */
	g = onnx_model_load_mem(w->text, w->len, w->shown, w->base_dir, IR_PARSE_LOAD_WEIGHTS, &d);
	if (!g) {
		snprintf(what, sizeof what, "%s: parse", w->name);
		reason(r, what, &d);
		goto out;
	}
	if (cc_compile(g, arch, &w->opt, &p, &m, &d)) {
		snprintf(what, sizeof what, "%s: compile", w->name);
		reason(r, what, &d);
		goto out;
	}
	cc_model_io(m, &nin, &sin, &nout, &sout);
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN)
			tin = &p->io[i];
		else
			tout = &p->io[i];
	KASSERT(tin && tout);
	x = xmalloc(sizeof(float) * nin);
	yf = xmalloc(sizeof(float) * nout);
	xq = xmalloc(sizeof(int32_t) * nin);
	yq = xmalloc(sizeof(int32_t) * nout);
	buf = xmalloc((size_t)nin * 4);
	make_input(&w->opt, x, nin);
	for (i = 0; i < nin; i++) {
		int32_t q = quant(x[i] / sin, tin->type);
		xq[i] = q;
		memcpy(buf + (size_t)i * isa_type_size(tin->type), &q, isa_type_size(tin->type));
	}
	if (cc_eval_float(g, x, yf, &d)) {
		snprintf(what, sizeof what, "%s: float reference", w->name);
		reason(r, what, &d);
		goto out;
	}
	if (fast) {
		/* The integer reference is bit-exact with the ideal simulator: it gives the
		 * output error without simulating. */
		if (cc_qref(m, xq, yq, &d)) {
			snprintf(what, sizeof what, "%s: integer reference", w->name);
			reason(r, what, &d);
			goto out;
		}
		dse_estimate(arch, p, w, w->opt.row_gating, &wr->cycles, &wr->latency_s,
		             &wr->energy_j);
	} else {
		HwEnergy e;
		const SimStats *st;
		size_t bytes;
		const unsigned char *o;
		if (sim_new(arch, p, NULL, &sim, &d) ||
		    sim_set_input(sim, tin->name, buf, (size_t)nin * isa_type_size(tin->type),
		                  &d) ||
		    sim_run(sim, &d)) {
			snprintf(what, sizeof what, "%s: simulate", w->name);
			reason(r, what, &d);
			goto out;
		}
		st = sim_stats(sim);
		sim_energy(sim, arch, &e);
		wr->cycles = st->cycles;
		wr->latency_s = st->latency_s;
		wr->energy_j = e.total_j;
		o = sim_output(sim, tout->name, &bytes, &d);
		if (!o) {
			snprintf(what, sizeof what, "%s: output", w->name);
			reason(r, what, &d);
			goto out;
		}
		for (i = 0; i < nout; i++)
			yq[i] = sim_output_int(o, i, isa_type_size(tout->type));
	}
	for (i = 0; i < nout; i++) {
		maxerr = fmax(maxerr, fabs(yq[i] * sout - yf[i]));
		maxref = fmax(maxref, fabs(yf[i]));
	}
	wr->output_error = maxref > 0 ? maxerr / maxref : maxerr;
	wr->accuracy = NAN;
	if (w->has_eval) {
		EvalScore sc;
		const SimOptions *so = &w->eval_so;
		/* The integer reference is bit-exact with the ideal simulator (ADC rounding
		 * included): --fast uses it unless a device mode needs the simulator. */
		int ideal = so->g_sigma <= 0 && so->stuck_prob <= 0 && so->read_noise <= 0;
		if (fast && ideal
		        ? eval_qref(m, p, &w->data, w->eval_samples, &sc, &d)
		        : eval_sim(arch, p, so, &w->data, w->eval_samples, NULL, NULL, &sc, &d)) {
			snprintf(what, sizeof what, "%s: accuracy", w->name);
			reason(r, what, &d);
			goto out;
		}
		wr->accuracy = eval_accuracy(&sc);
	}
	rc = 0;
out:
	sim_free(sim);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	free(x), free(yf), free(xq), free(yq), free(buf);
	return rc;
}

void
dse_eval(const DseSweep *s, const DsePoint *pt, int fast, DseResult *r)
{
	const char *keys[HW_MAXPARAMS];
	const char *vals[HW_MAXPARAMS];
	HwArch arch = s->base;
	HwReport rep;
	Diag d = {0};
	int n = 0, j, k;

	memset(r, 0, sizeof *r);
	r->index = pt->index;
	r->hash = pt->hash;
	r->estimate = fast;
	r->feasible = 1;
	r->nwl = s->nwl;
	for (k = 0; k < DSE_NOBJ; k++)
		r->obj[k] = NAN;
	for (j = 0; j < s->ncols && n < HW_MAXPARAMS; j++)
		if (pt->val[j]) {
			keys[n] = hw_params[s->cols[j]].path;
			vals[n++] = pt->val[j];
		}
	if (hw_arch_set_many(&arch, keys, vals, n, &d)) {
		reason(r, "architecture", &d);
		return;
	}
	for (k = 0; k < s->nwl; k++)
		if (eval_workload(&s->wl[k], &arch, fast, r, &r->wl[k]))
			return;
	hw_report(&arch, &rep);
	r->obj[DSE_O_LATENCY] = 0;
	r->obj[DSE_O_ENERGY] = 0;
	r->obj[DSE_O_ERROR] = 0;
	for (k = 0; k < s->nwl; k++) {
		r->obj[DSE_O_LATENCY] += r->wl[k].latency_s;
		r->obj[DSE_O_ENERGY] += r->wl[k].energy_j;
		r->obj[DSE_O_ERROR] = fmax(r->obj[DSE_O_ERROR], r->wl[k].output_error);
		if (s->wl[k].has_eval)
			r->obj[DSE_O_ACCURACY] =
			    isnan(r->obj[DSE_O_ACCURACY])
			        ? r->wl[k].accuracy
			        : fmin(r->obj[DSE_O_ACCURACY], r->wl[k].accuracy);
	}
	r->obj[DSE_O_AREA] = rep.chip_area_mm2;
	r->obj[DSE_O_POWER] = rep.chip_power_w;
	r->obj[DSE_O_EDP] = r->obj[DSE_O_ENERGY] * r->obj[DSE_O_LATENCY];
}

/* ---- the --fast estimate ---- */

static int
layer_of(const DseWorkload *w, const char *name)
{
	int i;
	for (i = 0; w && i < w->nlayers; i++)
		if (!strcmp(w->layer_names[i], name))
			return i;
	return -1;
}

static uint64_t
cdiv(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : a;
}

static uint32_t
clog2(uint64_t n)
{
	uint32_t k = 0;
	while (k < 63 && (1ull << k) < n)
		k++;
	return k;
}

/* A message of the estimate: sent by a core, matched in order by the receiver. */
typedef struct Msg {
	uint32_t src_tile, dst_tile, chan;
	uint64_t arrive;
} Msg;

static uint32_t
hops(const HwArch *a, uint32_t t0, uint32_t t1)
{
	int c = a->chip.mesh_cols;
	int dr = (int)(t0 / (uint32_t)c) - (int)(t1 / (uint32_t)c);
	int dc = (int)(t0 % (uint32_t)c) - (int)(t1 % (uint32_t)c);
	return (uint32_t)((dr < 0 ? -dr : dr) + (dc < 0 ? -dc : dc));
}

/* walk: one pass over every core's code with the arrival times of the previous pass (prev,
 * nprev; 0 = not known yet: no wait). Fills the counts, this pass's messages and the latency. */
static uint64_t
walk(const HwArch *a, const KProg *p, const DseWorkload *w, int row_gating, const Msg *prev,
     uint32_t nprev, Msg **msgs, uint32_t *nmsgs, size_t *mcap, uint64_t *counts)
{
	uint64_t worst = 0, lanes = (uint64_t)a->core.vfu_lanes;
	uint64_t S = (uint64_t)a->d.slices;
	uint32_t c;
	memset(counts, 0, sizeof(uint64_t) * HW_NACTIONS);
	*nmsgs = 0;
	for (c = 0; c < p->ncores; c++) {
		const KCore *core = p->cores[c];
		uint64_t t = 0, busy[ISA_NMVMU] = {0};
		int32_t reg[ISA_NREGS] = {0};
		uint32_t pc, s, nrecv = 0;
		uint32_t *seen = NULL; /* recvs already matched, per previous message */
		seen = xcalloc(nprev + 1, sizeof(uint32_t));
		for (pc = 0; pc < core->ncode; pc++) {
			Insn in;
			const IsaInfo *info;
			double frac = 1;
			int nb = 8, li = -1;
			uint64_t n;
			if (isa_decode(core->code[pc], &in))
				continue; /* validated programs decode; be defensive */
			info = isa_info(in.op);
			for (s = 0; s < p->nsyms; s++) {
				const KSym *y = &p->syms[s];
				if (y->tile == core->tile && y->core == core->core && pc >= y->pc &&
				    pc < y->pc + y->len)
					li = layer_of(w, y->name);
			}
			if (li >= 0) {
				frac = w->layer_active[li];
				if (w->layer_nb[li])
					nb = w->layer_nb[li];
			}
			counts[HW_ACT_imem_fetch]++;
			n = (uint64_t)(uint32_t)reg[in.d];
			switch (info->unit) {
			case U_SCALAR:
				counts[HW_ACT_scalar_op]++;
				if (in.op == OP_addi)
					reg[in.a] = in.a ? reg[in.b] + in.imm : 0;
				else if (in.a && !(info->flags & (F_STORE | F_BRANCH)))
					reg[in.a] = 0; /* unknown */
				if (in.op == OP_halt) {
					int u;
					for (u = 0; u < ISA_NMVMU; u++)
						t = busy[u] > t ? busy[u] : t;
				}
				t += 1;
				break;
			case U_VFU:
				counts[HW_ACT_vfu_op] += n;
				if (in.op == OP_vredsum || in.op == OP_vredmax || in.op == OP_vdot)
					t += 2 + cdiv(n, lanes) + clog2(lanes);
				else if (in.op == OP_vrecip)
					t += 2 + 4 * cdiv(n, lanes);
				else
					t += 2 + cdiv(n, lanes);
				break;
			case U_SBU:
				counts[HW_ACT_sbu_op] += n * 4;
				t += 2 + n * cdiv((uint64_t)nb, lanes);
				break;
			case U_SEL:
				t += 2 + cdiv(n, lanes) * (clog2(n) > 1 ? clog2(n) : 1);
				break;
			case U_LSU: {
				uint64_t B = (uint64_t)(uint32_t)reg[in.c];
				counts[in.op == OP_tld ? HW_ACT_tilemem_read_byte
				                       : HW_ACT_tilemem_write_byte] += B;
				counts[HW_ACT_tile_bus_byte] += B;
				t += (uint64_t)a->d.tmem_latency_cycles +
				     cdiv(B, (uint64_t)a->d.tmem_bytes_per_cycle);
				break;
			}
			case U_NOC:
				if (in.op == OP_send) {
					uint64_t B = (uint64_t)(uint32_t)reg[in.c], arrive;
					uint32_t h = hops(a, core->tile, in.tile);
					uint64_t F = 1 + cdiv(8 * B, (uint64_t)a->noc.flit_bits);
					if (h == 0)
						arrive =
						    t + 1 +
						    cdiv(B, (uint64_t)a->d.tmem_bytes_per_cycle);
					else
						arrive =
						    t + 1 + h * (uint64_t)a->noc.hop_cycles + F;
					counts[HW_ACT_noc_flit_hop] += h * F;
					counts[HW_ACT_netbuf_byte] += 2 * B;
					counts[HW_ACT_tilemem_read_byte] += B;
					counts[HW_ACT_tilemem_write_byte] += B;
					*msgs = xgrow(*msgs, mcap, *nmsgs + 1, sizeof(Msg));
					(*msgs)[*nmsgs].src_tile = core->tile;
					(*msgs)[*nmsgs].dst_tile = in.tile;
					(*msgs)[*nmsgs].chan = in.chan;
					(*msgs)[(*nmsgs)++].arrive = arrive;
				} else if (in.op == OP_recv) {
					/* The first message of the previous pass from (tile, chan)
					 * to this tile not yet matched by this core. */
					uint32_t k;
					for (k = 0; k < nprev; k++)
						if (!seen[k] && prev[k].src_tile == in.tile &&
						    prev[k].dst_tile == core->tile &&
						    prev[k].chan == in.chan) {
							seen[k] = 1;
							t = prev[k].arrive > t ? prev[k].arrive : t;
							break;
						}
					nrecv++;
				}
				t += 1;
				break;
			case U_SYNC:
				if (in.op == OP_wait) {
					int u;
					for (u = 0; u < ISA_NMVMU; u++)
						if (in.mask & (1u << u))
							t = busy[u] > t ? busy[u] : t;
				}
				t += 1;
				break;
			case U_MVMU: {
				const KXbar *x = kprog_find_xbar(core, in.unit);
				uint64_t start = t > busy[in.unit & 15] ? t : busy[in.unit & 15];
				uint64_t cin, R, C, active;
				if (in.op != OP_mvm || !x) {
					t += 1;
					break;
				}
				R = x->rows;
				C = x->cols;
				cin = (uint64_t)hw_mvm_input_cycles(a, in.nbits);
				active =
				    row_gating && in.gate ? (uint64_t)llround((double)R * frac) : R;
				counts[HW_ACT_xbar_row_activate] += active * cin * S;
				counts[HW_ACT_dac_drive] += active * cin * S;
				if (a->d.digital)
					counts[HW_ACT_adder_tree_op] += C * cin * S;
				else {
					counts[HW_ACT_adc_convert] += C * cin * S;
					counts[HW_ACT_sh_sample] += C * cin * S;
				}
				counts[HW_ACT_shift_add] += C * cin * S;
				counts[HW_ACT_in_reg_byte] += R * isa_type_size(in.tin);
				counts[HW_ACT_out_reg_byte] += C * 4;
				busy[in.unit & 15] =
				    start + (uint64_t)hw_mvm_cycles(a, (int)R, (int)C, in.nbits);
				t = start + 1;
				break;
			}
			default: /* DMA: issue cost only */
				t += 1;
				break;
			}
		}
		(void)nrecv;
		free(seen);
		if (t > worst)
			worst = t;
	}
	return worst;
}

/* same_msgs: field by field (Msg has padding that memcmp would read). */
static int
same_msgs(const Msg *a, const Msg *b, uint32_t na, uint32_t nb)
{
	uint32_t i;
	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].src_tile != b[i].src_tile || a[i].dst_tile != b[i].dst_tile ||
		    a[i].chan != b[i].chan || a[i].arrive != b[i].arrive)
			return 0;
	return 1;
}

void
dse_estimate(const HwArch *a, const KProg *p, const DseWorkload *w, int row_gating,
             uint64_t *cycles_out, double *latency_s, double *energy_j)
{
	uint64_t counts[HW_NACTIONS], worst = 0;
	Msg *prev = NULL, *cur = NULL;
	uint32_t nprev = 0, ncur = 0, it;
	size_t pcap = 0, ccap = 0;
	HwErt ert;
	HwEnergy e;

	/* Messages link the cores' timelines (the leader waits for partial sums, the others for
	 * their inputs): walk all cores with the previous pass's arrival times until the times
	 * settle (one pass per layer of dependencies; bounded). */
	for (it = 0; it < 16; it++) {
		Msg *t;
		size_t tc;
		worst = walk(a, p, w, row_gating, prev, nprev, &cur, &ncur, &ccap, counts);
		if (it > 0 && same_msgs(cur, prev, ncur, nprev))
			break;
		t = prev, prev = cur, cur = t;
		tc = pcap, pcap = ccap, ccap = tc;
		nprev = ncur;
	}
	free(prev);
	free(cur);
	hw_ert_build(a, &ert);
	*cycles_out = worst;
	*latency_s = (double)worst * a->d.clock_ns * 1e-9;
	hw_energy(&ert, counts, *latency_s, &e);
	*energy_j = e.total_j;
}
