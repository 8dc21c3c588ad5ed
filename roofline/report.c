/* report.c: the roofline report of a model: the text table (per op and whole model) and the JSON
 * document (keys in docs/roofline.md). */
#include "roofline.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *
res_name(int r)
{
	return r >= 0 && r < RF_NRES ? rf_res[r].name : "-";
}

static const char *
mvm_limit(const RfCeilings *c)
{
	return c->digital ? "adder-tree" : c->mvm_adc_limited ? "adc" : "read";
}

/* The memory level that takes longest for o (-1: none moves data). */
static int
worst_level(const RfOpCost *o)
{
	int r, best = -1;
	for (r = 0; r < RF_NRES; r++)
		if (rf_res[r].kind == RF_MEMORY && o->demand[r] > 0 &&
		    (best < 0 || o->t_s[r] > o->t_s[best]))
			best = r;
	return best;
}

static void
si(char *buf, size_t n, double v)
{
	static const char *const pre[] = {"", "k", "M", "G", "T", "P", "E"};
	int k = 0;
	if (v == 0) {
		snprintf(buf, n, "0");
		return;
	}
	while (fabs(v) >= 1000 && k < 6) {
		v /= 1000;
		k++;
	}
	snprintf(buf, n, "%.3g%s", v, pre[k]);
}

static void
print_row(FILE *f, const RfOpCost *o, int sim)
{
	char w[16], wd[16], q[RF_NRES][16], t[16], e[16], in[24] = "-";
	int r, lv = worst_level(o);
	si(w, sizeof w, o->work_ops);
	si(wd, sizeof wd, o->work_dense_ops);
	for (r = 0; r < RF_NRES; r++)
		si(q[r], sizeof q[r], o->demand[r]);
	snprintf(t, sizeof t, "%.3g", o->latency_s);
	snprintf(e, sizeof e, "%.3g", o->energy_j);
	/* intensity at the most constraining memory level */
	if (lv >= 0 && o->work_ops > 0)
		snprintf(in, sizeof in, "%.3g@%s", o->work_ops / o->demand[lv], rf_res[lv].name);
	fprintf(f, "%-14.14s %-16.16s %8s %8s %7s %7s %7s %7s %7s %-13s %-6s %10s %10s", o->d.name,
	        o->d.op, w, wd, q[RF_R_array], q[RF_R_spad], q[RF_R_tmem], q[RF_R_noc],
	        q[RF_R_dram], in, o->binding >= 0 ? rf_res[o->binding].name : "-", t, e);
	if (sim) {
		if (o->sim_matched)
			fprintf(f, "  %10.3g %6.2fx", o->sim_energy_j,
			        o->energy_dyn_j > 0 ? o->sim_energy_j / o->energy_dyn_j : 0);
		else
			fprintf(f, "  %10s %7s", "-", "");
		if (o->sim_matched && o->sim_latency_s > 0)
			fprintf(f, " %10.3g %7.1f%%", o->sim_latency_s,
			        100 * o->latency_s / o->sim_latency_s);
		else
			fprintf(f, " %10s %8s", "-", "-");
	}
	fputc('\n', f);
}

void
rf_model_print(const RfModel *m, FILE *f)
{
	const RfCeilings *c = &m->c;
	char b[RF_NRES][16];
	uint32_t i;
	int r;

	fprintf(f, "roofline: %s on %s (%d nm, %.3g GHz)\n", m->name, c->arch.name, c->arch.node_nm,
	        c->clock_hz * 1e-9);
	fprintf(f, "compute roofs: MVM %.4g TOPS (%s-limited, %db x %db)",
	        c->roof_ops_per_s[RF_R_mvm] * 1e-12, mvm_limit(c), c->input_bits, c->weight_bits);
	if (c->rate[RF_R_adc] > 0)
		fprintf(f, ", ADC %.4g TOPS (%.4g Gconv/s)", c->roof_ops_per_s[RF_R_adc] * 1e-12,
		        c->rate[RF_R_adc] * 1e-9);
	fprintf(f, ", VFU %.4g Gop/s\n", c->roof_ops_per_s[RF_R_vfu] * 1e-9);
	fprintf(f, "bandwidth roofs (GB/s):");
	for (r = 0; r < RF_NRES; r++)
		if (rf_res[r].kind == RF_MEMORY)
			fprintf(f, " %s %.4g", rf_res[r].name, c->bw_bytes_per_s[r] * 1e-9);
	fprintf(f, "; DRAM latency %.3g ns\n", c->dram_latency_s * 1e9);
	fprintf(f,
	        "capacity roof: %lld weight bytes in %lld MVMUs; the model has %.4g bytes in %lld "
	        "MVMU blocks: %s\n\n",
	        (long long)c->capacity_bytes, (long long)c->mvmus, m->weight_bytes,
	        (long long)m->mvmus_needed,
	        m->fits ? "resident" : "does not fit, the rest is streamed from DRAM");
	fprintf(f, "%-14s %-16s %8s %8s %7s %7s %7s %7s %7s %-13s %-6s %10s %10s%s\n", "op", "kind",
	        "work", "dense", "array", "spad", "tmem", "noc", "dram", "intensity", "bound",
	        "latency", "energy", m->have_sim ? "  sim E(dyn)   ratio  sim time  of bound" : "");
	fprintf(f, "%-14s %-16s %8s %8s %7s %7s %7s %7s %7s %-13s %-6s %10s %10s%s\n", "", "",
	        "ops", "ops", "B", "B", "B", "B", "B", "ops/B@level", "", "s", "J",
	        m->have_sim ? "           J                 s" : "");
	for (i = 0; i < m->nops; i++)
		print_row(f, &m->ops[i], m->have_sim);
	print_row(f, &m->total, 0);
	fprintf(f,
	        "\nlatency bound: %.4g s (ops in sequence; mostly %s-bound); %.4g s if ops "
	        "overlapped perfectly (%s)\n",
	        m->latency_s, res_name(m->total.binding), m->latency_overlap_s,
	        res_name(m->binding_overlap));
	fprintf(f, "energy bound: %.4g J = %.4g J dynamic + %.4g J leakage (%.4g W x %.4g s)\n",
	        m->energy_j, m->total.energy_dyn_j, m->total.energy_leak_j, c->leak_w,
	        m->latency_s);
	fprintf(f, "energy by resource (J):");
	for (r = 0; r < RF_NRES; r++)
		if (m->total.energy_res_j[r] > 0) {
			snprintf(b[r], sizeof b[r], "%.3g", m->total.energy_res_j[r]);
			fprintf(f, " %s %s", rf_res[r].name, b[r]);
		}
	fprintf(f, "\n");
	if (m->have_sim) {
		fprintf(f,
		        "\nsimulated: %.4g s (%.3gx the bound), %.4g J (%.3gx the bound); achieved "
		        "%.4g ops/s vs attainable %.4g ops/s; %u of %u layers matched ops\n",
		        m->sim_latency_s, m->latency_s > 0 ? m->sim_latency_s / m->latency_s : 0,
		        m->sim_energy_j, m->energy_j > 0 ? m->sim_energy_j / m->energy_j : 0,
		        m->sim_latency_s > 0 ? m->total.work_ops / m->sim_latency_s : 0,
		        m->latency_s > 0 ? m->total.work_ops / m->latency_s : 0, m->sim_matched,
		        m->sim_layers);
		for (i = 0; i < NELEM(m->sim_unmatched) && m->sim_unmatched[i][0]; i++)
			fprintf(f, "  warning: simulator layer '%s' matches no op\n",
			        m->sim_unmatched[i]);
		if (m->sim_latency_s < m->latency_s * (1 - 1e-9))
			fprintf(f,
			        "  warning: the simulated latency is below the bound: the model or "
			        "the simulator is wrong\n");
	}
}

static json_t *
per_res(const double *v, int kind)
{
	json_t *o = json_object();
	int r;
	for (r = 0; r < RF_NRES; r++)
		if (kind < 0 || (int)rf_res[r].kind == kind)
			json_object_set_new(o, rf_res[r].name, json_real(v[r]));
	return o;
}

static json_t *
op_json(const RfOpCost *o, int with_sim)
{
	json_t *j = json_object(), *in = json_object();
	int r;
	json_object_set_new(j, "name", json_string(o->d.name));
	json_object_set_new(j, "op", json_string(o->d.op));
	json_object_set_new(j, "work_ops", json_real(o->work_ops));
	json_object_set_new(j, "work_dense_ops", json_real(o->work_dense_ops));
	json_object_set_new(j, "macs_dense", json_real(o->macs_dense));
	json_object_set_new(j, "macs_gated", json_real(o->macs_gated));
	json_object_set_new(j, "weight_bytes", json_real(o->weight_bytes));
	json_object_set_new(j, "mvmus", json_integer((json_int_t)o->mvmus));
	json_object_set_new(j, "resident", json_real(o->resident));
	json_object_set_new(j, "traffic_bytes", per_res(o->demand, RF_MEMORY));
	for (r = 0; r < RF_NRES; r++)
		if (rf_res[r].kind == RF_MEMORY)
			json_object_set_new(in, rf_res[r].name,
			                    o->demand[r] > 0 ? json_real(o->work_ops / o->demand[r])
			                                     : json_null());
	json_object_set_new(j, "intensity_ops_per_byte", in);
	json_object_set_new(j, "demand", per_res(o->demand, -1));
	json_object_set_new(j, "time_s", per_res(o->t_s, -1));
	json_object_set_new(j, "binding",
	                    o->binding >= 0 ? json_string(rf_res[o->binding].name) : json_null());
	json_object_set_new(j, "latency_s", json_real(o->latency_s));
	json_object_set_new(j, "energy_j", json_real(o->energy_j));
	json_object_set_new(j, "energy_dynamic_j", json_real(o->energy_dyn_j));
	json_object_set_new(j, "energy_leakage_j", json_real(o->energy_leak_j));
	json_object_set_new(j, "energy_by_resource_j", per_res(o->energy_res_j, -1));
	if (with_sim && o->sim_matched) {
		json_t *sj = json_pack("{s:f,s:o}", "energy_dynamic_j", o->sim_energy_j,
		                       "traffic_bytes", per_res(o->sim_bytes, RF_MEMORY));
		if (o->sim_latency_s > 0) {
			/* achieved / attainable: the bound's share of the simulated time */
			json_object_set_new(sj, "latency_s", json_real(o->sim_latency_s));
			json_object_set_new(sj, "of_bound",
			                    json_real(o->latency_s / o->sim_latency_s));
		}
		json_object_set_new(j, "sim", sj);
	}
	return j;
}

char *
rf_model_json(const RfModel *m)
{
	const RfCeilings *c = &m->c;
	json_t *root = json_object(), *ops = json_array(), *ce = json_object(), *b = json_object();
	uint32_t i;
	char *s;

	json_object_set_new(root, "model", json_string(m->name));
	json_object_set_new(root, "arch", json_string(c->arch.name));
	json_object_set_new(ce, "roof_ops_per_s", per_res(c->roof_ops_per_s, RF_COMPUTE));
	json_object_set_new(ce, "bandwidth_bytes_per_s", per_res(c->bw_bytes_per_s, RF_MEMORY));
	json_object_set_new(ce, "rate", per_res(c->rate, -1));
	json_object_set_new(ce, "mvm_limit", json_string(mvm_limit(c)));
	json_object_set_new(ce, "capacity_bytes", json_integer((json_int_t)c->capacity_bytes));
	json_object_set_new(ce, "capacity_mvmus", json_integer((json_int_t)c->mvmus));
	json_object_set_new(ce, "dram_latency_s", json_real(c->dram_latency_s));
	json_object_set_new(ce, "leakage_w", json_real(c->leak_w));
	json_object_set_new(root, "ceilings", ce);

	json_object_set_new(b, "latency_s", json_real(m->latency_s));
	json_object_set_new(b, "latency_overlap_s", json_real(m->latency_overlap_s));
	json_object_set_new(b, "binding",
	                    m->total.binding >= 0 ? json_string(rf_res[m->total.binding].name)
	                                          : json_null());
	json_object_set_new(b, "binding_overlap",
	                    m->binding_overlap >= 0 ? json_string(rf_res[m->binding_overlap].name)
	                                            : json_null());
	json_object_set_new(b, "energy_j", json_real(m->energy_j));
	json_object_set_new(b, "energy_dynamic_j", json_real(m->total.energy_dyn_j));
	json_object_set_new(b, "energy_leakage_j", json_real(m->total.energy_leak_j));
	json_object_set_new(b, "energy_by_resource_j", per_res(m->total.energy_res_j, -1));
	json_object_set_new(b, "work_ops", json_real(m->total.work_ops));
	json_object_set_new(b, "work_dense_ops", json_real(m->total.work_dense_ops));
	json_object_set_new(b, "traffic_bytes", per_res(m->total.demand, RF_MEMORY));
	json_object_set_new(b, "time_s", per_res(m->total.t_s, -1));
	json_object_set_new(b, "weight_bytes", json_real(m->weight_bytes));
	json_object_set_new(b, "mvmus_needed", json_integer((json_int_t)m->mvmus_needed));
	json_object_set_new(b, "resident_fraction", json_real(m->total.resident));
	json_object_set_new(b, "fits", json_boolean(m->fits));
	json_object_set_new(root, "bound", b);

	for (i = 0; i < m->nops; i++)
		json_array_append_new(ops, op_json(&m->ops[i], m->have_sim));
	json_object_set_new(root, "ops", ops);
	if (m->have_sim) {
		json_t *sim = json_object(), *um = json_array();
		json_object_set_new(sim, "latency_s", json_real(m->sim_latency_s));
		json_object_set_new(sim, "energy_j", json_real(m->sim_energy_j));
		json_object_set_new(sim, "energy_dynamic_j", json_real(m->sim_energy_dyn_j));
		json_object_set_new(
		    sim, "achieved_ops_per_s",
		    json_real(m->sim_latency_s > 0 ? m->total.work_ops / m->sim_latency_s : 0));
		json_object_set_new(
		    sim, "attainable_ops_per_s",
		    json_real(m->latency_s > 0 ? m->total.work_ops / m->latency_s : 0));
		json_object_set_new(
		    sim, "latency_over_bound",
		    json_real(m->latency_s > 0 ? m->sim_latency_s / m->latency_s : 0));
		json_object_set_new(sim, "layers", json_integer(m->sim_layers));
		json_object_set_new(sim, "matched", json_integer(m->sim_matched));
		for (i = 0; i < NELEM(m->sim_unmatched) && m->sim_unmatched[i][0]; i++)
			json_array_append_new(um, json_string(m->sim_unmatched[i]));
		json_object_set_new(sim, "unmatched", um);
		json_object_set_new(root, "sim", sim);
	}
	s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	return s;
}
