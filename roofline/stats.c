/* stats.c: attach a simulator run (`kolmo sim --stats S.json`, docs/sim.md) to a roofline model.
 * Matching: a simulator layer belongs to the op whose name (the node's first result tensor, as
 * in `%h = linear(...)`) equals the layer symbol's name; the compiler names layer symbols so. */
#include "roofline.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum { RF_MAX_STATS_BYTES = 256 << 20 };

static double
action(json_t *acts, int k)
{
	json_t *v = json_object_get(acts, hw_actions[k].name);
	return json_is_number(v) ? json_number_value(v) : 0;
}

/* Traffic per memory level from a layer's action counts (the units of rf_op_cost). */
static void
traffic(const RfCeilings *c, json_t *acts, double *bytes)
{
	bytes[RF_R_dram] = action(acts, HW_ACT_dram_byte);
	bytes[RF_R_tmem] =
	    action(acts, HW_ACT_tilemem_read_byte) + action(acts, HW_ACT_tilemem_write_byte);
	bytes[RF_R_spad] =
	    action(acts, HW_ACT_spad_read_byte) + action(acts, HW_ACT_spad_write_byte);
	bytes[RF_R_noc] = action(acts, HW_ACT_noc_flit_hop) * c->arch.noc.flit_bits / 8.0;
	bytes[RF_R_array] = (action(acts, HW_ACT_xbar_write_row) * c->cols +
	                     action(acts, HW_ACT_xbar_write_col) * c->rows) /
	                    c->slices * c->weight_bits / 8.0;
}

static int
num(json_t *o, const char *key, double *v)
{
	json_t *x = json_object_get(o, key);
	if (!json_is_number(x))
		return -1;
	*v = json_number_value(x);
	return 0;
}

int
rf_stats_apply(RfModel *m, const char *path, Diag *d)
{
	size_t len, i;
	char *buf = read_file(path, RF_MAX_STATS_BYTES, &len, d);
	json_error_t err;
	json_t *root, *en, *layers, *l;
	uint32_t nun = 0, k;

	if (!buf)
		return -1;
	root = json_loadb(buf, len, 0, &err);
	free(buf);
	if (!root)
		return diag_at(d, path, err.line > 0 ? err.line : 1,
		               err.column > 0 ? err.column : 1, NULL,
		               "not simulator statistics JSON: %s", err.text);
	en = json_object_get(root, "energy_j");
	layers = json_object_get(root, "layers");
	if (!json_is_object(root) || num(root, "latency_s", &m->sim_latency_s) ||
	    !json_is_object(en) || num(en, "total", &m->sim_energy_j) || !json_is_array(layers)) {
		json_decref(root);
		return diag_err(d, path,
		                "not simulator statistics: expected 'latency_s', 'energy_j.total' "
		                "and 'layers' (write it with kolmo sim --stats)");
	}
	if (num(en, "dynamic", &m->sim_energy_dyn_j))
		m->sim_energy_dyn_j = 0;
	m->have_sim = 1;
	m->sim_layers = 0;
	m->sim_matched = 0;
	memset(m->sim_unmatched, 0, sizeof m->sim_unmatched);
	for (k = 0; k < m->nops; k++)
		m->ops[k].sim_matched = 0;
	json_array_foreach(layers, i, l)
	{
		json_t *nm = json_object_get(l, "name");
		const char *name = json_is_string(nm) ? json_string_value(nm) : NULL;
		double e;
		int hit = 0;
		if (!name || !*name)
			continue;
		m->sim_layers++;
		for (k = 0; k < m->nops; k++) {
			RfOpCost *o = &m->ops[k];
			if (strcmp(o->d.name, name) != 0)
				continue;
			o->sim_matched = 1;
			o->sim_energy_j = num(l, "energy_j", &e) ? 0 : e;
			o->sim_latency_s = num(l, "latency_s", &e) ? 0 : e;
			traffic(&m->c, json_object_get(l, "actions"), o->sim_bytes);
			hit = 1;
			break;
		}
		if (hit)
			m->sim_matched++;
		else if (nun < NELEM(m->sim_unmatched))
			snprintf(m->sim_unmatched[nun++], sizeof m->sim_unmatched[0], "%s", name);
	}
	json_decref(root);
	return 0;
}
