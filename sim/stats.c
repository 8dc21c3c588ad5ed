/* stats.c: the run's statistics as JSON (documented keys, docs/sim.md) and as a report a person
 * reads in ten seconds. Metric names and their help text live in one table. */
#include <jansson.h>
#include <string.h>

#include "simint.h"

/* Scalar metrics: key, help, and how each is derived from the stats and the energy. */
typedef struct Metric {
	const char *key;
	const char *help;
	double (*get)(const SimStats *st, const HwEnergy *e, const SimParams *p);
} Metric;

static double
m_cycles(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)e;
	(void)p;
	return (double)st->cycles;
}
static double
m_latency(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)e;
	(void)p;
	return st->latency_s;
}
static double
m_insns(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)e;
	(void)p;
	return (double)st->instructions;
}
static double
m_clock(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)st;
	(void)e;
	return p->clock_hz;
}
static double
m_power(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)p;
	return st->latency_s > 0 ? e->total_j / st->latency_s : 0;
}
static double
m_edp(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)p;
	return e->total_j * st->latency_s;
}
static double
m_ips(const SimStats *st, const HwEnergy *e, const SimParams *p)
{
	(void)e;
	(void)p;
	return st->latency_s > 0 ? 1.0 / st->latency_s : 0;
}

static const Metric metrics[] = {
    {"cycles", "chip latency in core cycles (the last core to halt)", m_cycles},
    {"latency_s", "chip latency in seconds", m_latency},
    {"instructions", "instructions retired by all cores", m_insns},
    {"clock_hz", "core clock", m_clock},
    {"power_w", "average power: energy_j.total / latency_s", m_power},
    {"edp_js", "energy-delay product: energy_j.total x latency_s", m_edp},
    {"inferences_per_s", "1 / latency_s (one inference per run, not pipelined)", m_ips},
};

static json_t *
counts_json(const SimCounts *c)
{
	json_t *o = json_object();
	unsigned a;
	for (a = 0; a < HW_NACTIONS; a++)
		json_object_set_new(o, hw_actions[a].name, json_integer((json_int_t)c->act[a]));
	return o;
}

json_t *
sim_stats_json(const Sim *s, const HwArch *arch)
{
	const SimStats *st = &s->stats;
	HwEnergy e;
	HwErt ert;
	json_t *root = json_object(), *en = json_object(), *bc = json_object(), *ba = json_object();
	json_t *layers = json_array(), *cores = json_array(), *ops = json_object();
	unsigned i, k;
	uint64_t total_ops[OP_LIMIT] = {0};

	hw_ert_build(arch, &ert);
	hw_energy(&ert, st->counts.act, st->latency_s, &e);
	for (i = 0; i < NELEM(metrics); i++)
		json_object_set_new(root, metrics[i].key, json_real(metrics[i].get(st, &e, &s->p)));
	json_object_set_new(root, "cycles", json_integer((json_int_t)st->cycles));
	json_object_set_new(root, "instructions", json_integer((json_int_t)st->instructions));
	json_object_set_new(en, "total", json_real(e.total_j));
	json_object_set_new(en, "dynamic", json_real(e.dynamic_j));
	json_object_set_new(en, "leakage", json_real(e.leakage_j));
	for (i = 0; i < HW_NCOMPS; i++)
		json_object_set_new(bc, hw_comps[i].name, json_real(e.comp_j[i]));
	for (i = 0; i < HW_NACTIONS; i++)
		json_object_set_new(ba, hw_actions[i].name, json_real(e.action_j[i]));
	json_object_set_new(en, "by_component", bc);
	json_object_set_new(en, "by_action", ba);
	json_object_set_new(root, "energy_j", en);
	json_object_set_new(root, "actions", counts_json(&st->counts));
	for (i = 0; i < st->nlayers; i++) {
		json_t *l;
		double dyn = 0;
		if (i == 0 && st->layers[i].instructions == 0)
			continue;
		l = json_object();
		for (k = 0; k < HW_NACTIONS; k++)
			dyn += (double)st->layers[i].counts.act[k] * ert.energy_pj[k] * 1e-12;
		json_object_set_new(l, "name", json_string(st->layers[i].name));
		json_object_set_new(l, "instructions",
		                    json_integer((json_int_t)st->layers[i].instructions));
		json_object_set_new(l, "energy_j", json_real(dyn));
		if (st->layers[i].last_cycle > 0) {
			json_object_set_new(l, "first_cycle",
			                    json_integer((json_int_t)st->layers[i].first_cycle));
			json_object_set_new(l, "last_cycle",
			                    json_integer((json_int_t)st->layers[i].last_cycle));
			json_object_set_new(l, "latency_s",
			                    json_real((double)(st->layers[i].last_cycle -
			                                       st->layers[i].first_cycle) /
			                              s->p.clock_hz));
		}
		json_object_set_new(l, "actions", counts_json(&st->layers[i].counts));
		json_array_append_new(layers, l);
	}
	json_object_set_new(root, "layers", layers);
	for (i = 0; i < st->ncores; i++) {
		const SimCoreStats *c = &st->cores[i];
		json_t *o = json_object(), *u = json_object();
		json_object_set_new(o, "tile", json_integer(c->tile));
		json_object_set_new(o, "core", json_integer(c->core));
		json_object_set_new(o, "cycles", json_integer((json_int_t)c->cycles));
		json_object_set_new(o, "instructions", json_integer((json_int_t)c->instructions));
		for (k = 0; k < U_COUNT; k++)
			json_object_set_new(
			    u, isa_unit_names[k],
			    json_real(st->cycles ? (double)c->unit_busy[k] /
			                               ((double)st->cycles *
			                                (k == U_MVMU ? s->p.mvmus_per_core : 1))
			                         : 0));
		json_object_set_new(o, "utilization", u);
		json_array_append_new(cores, o);
		for (k = 0; k < OP_LIMIT; k++)
			total_ops[k] += c->by_opcode[k];
	}
	json_object_set_new(root, "cores", cores);
	for (k = 0; k < OP_LIMIT; k++)
		if (total_ops[k])
			json_object_set_new(ops, isa_info(k)->name,
			                    json_integer((json_int_t)total_ops[k]));
	json_object_set_new(root, "by_opcode", ops);
	{
		json_t *n = json_object();
		json_object_set_new(n, "messages", json_integer((json_int_t)st->noc_messages));
		json_object_set_new(n, "flit_hops", json_integer((json_int_t)st->noc_flit_hops));
		json_object_set_new(root, "noc", n);
	}
	json_object_set_new(root, "arch", json_string(arch->name));
	return root;
}

static void
eng(FILE *f, double v, const char *unit)
{
	const char *pre[] = {"", "m", "u", "n", "p", "f"};
	int i = 0;
	while (v != 0 && v < 1.0 && i < 5) {
		v *= 1000;
		i++;
	}
	fprintf(f, "%.3g %s%s", v, pre[i], unit);
}

void
sim_report(const Sim *s, const HwArch *arch, FILE *f)
{
	const SimStats *st = &s->stats;
	HwEnergy e;
	HwErt ert;
	unsigned i, top[5] = {0}, ntop = 0, k;
	hw_ert_build(arch, &ert);
	hw_energy(&ert, st->counts.act, st->latency_s, &e);
	fprintf(f, "latency     %llu cycles = ", (unsigned long long)st->cycles);
	eng(f, st->latency_s, "s");
	fprintf(f, "  (%s at %.3g GHz)\nenergy      ", arch->name, s->p.clock_hz / 1e9);
	eng(f, e.total_j, "J");
	fprintf(f, "  (dynamic ");
	eng(f, e.dynamic_j, "J");
	fprintf(f, ", leakage ");
	eng(f, e.leakage_j, "J");
	fprintf(f, ")\npower       ");
	eng(f, st->latency_s > 0 ? e.total_j / st->latency_s : 0, "W");
	fprintf(f, "\nthroughput  %.4g inferences/s, %llu instructions on %u cores\n",
	        st->latency_s > 0 ? 1 / st->latency_s : 0, (unsigned long long)st->instructions,
	        st->ncores);
	/* Top components by energy. */
	for (k = 0; k < 5; k++) {
		int best = -1;
		for (i = 0; i < HW_NCOMPS; i++) {
			unsigned j, used = 0;
			for (j = 0; j < ntop; j++)
				used |= top[j] == i;
			if (!used && (best < 0 || e.comp_j[i] > e.comp_j[best]))
				best = (int)i;
		}
		if (best < 0 || e.comp_j[best] <= 0)
			break;
		top[ntop++] = (unsigned)best;
	}
	fprintf(f, "top energy ");
	for (k = 0; k < ntop; k++)
		fprintf(f, " %s %.1f%%%s", hw_comps[top[k]].name,
		        100.0 * e.comp_j[top[k]] / (e.total_j > 0 ? e.total_j : 1),
		        k + 1 < ntop ? "," : "\n");
	if (st->nlayers > 1) {
		fprintf(f, "\n%-24s %12s %12s\n", "layer", "instructions", "energy");
		for (i = 0; i < st->nlayers; i++) {
			double dyn = 0;
			if (st->layers[i].instructions == 0)
				continue;
			for (k = 0; k < HW_NACTIONS; k++)
				dyn +=
				    (double)st->layers[i].counts.act[k] * ert.energy_pj[k] * 1e-12;
			fprintf(f, "%-24s %12llu %10.4g J\n", st->layers[i].name,
			        (unsigned long long)st->layers[i].instructions, dyn);
		}
	}
}
