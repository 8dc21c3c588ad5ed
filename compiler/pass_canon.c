/* pass_canon.c: canonicalisation of the graph itself, before the compiler reads it.
 * Rewrites every pykan_linear into the equivalent kan_linear (reference/kan.md §5:
 * base_weight[o,i] = mask scale_base[i,o], spline_weight[o,i,c] = mask scale_sp[i,o] coef[i,o,c]),
 * with new inline weights; the node keeps its position and its result. Requires a verified graph;
 * leaves a verified graph. */
#include <string.h>

#include "cc.h"

static IrTensorId
new_weight(Graph *g, const char *base, const char *suffix, unsigned rank, const int64_t *dims,
           float *data)
{
	char name[512];
	IrType t = ir_type(IR_F32, rank, dims);
	IrWeight w;
	memset(&w, 0, sizeof w);
	w.src = IR_W_DATA;
	w.data = data;
	snprintf(name, sizeof name, "%s.%s", base, suffix);
	return ir_add_weight(g, name, &t, &w);
}

static int
rewrite(Graph *g, IrNodeId id, Diag *d)
{
	IrNode old = g->nodes[id];
	const IrType *tc = &g->tensors[old.in[1]].type;
	int64_t I = tc->dim[0], O = tc->dim[1], nb = tc->dim[2], i, o, c;
	const float *coef = ir_weight_data(g, old.in[1], d);
	const float *sb = coef ? ir_weight_data(g, old.in[2], d) : NULL;
	const float *ss = sb ? ir_weight_data(g, old.in[3], d) : NULL;
	const float *mask = NULL;
	float *base, *spline;
	int64_t db[2] = {O, I}, ds[3] = {O, I, nb};
	IrTensorId in[3];
	IrNodeId nid;
	const char *yname = g->tensors[old.out[0]].name;
	if (!ss)
		return -1;
	if (old.nin > 4 && old.in[4] != IR_NONE && !(mask = ir_weight_data(g, old.in[4], d)))
		return -1;
	base = arena_alloc(g->arena, sizeof(float) * (size_t)(O * I));
	spline = arena_alloc(g->arena, sizeof(float) * (size_t)(O * I * nb));
	for (o = 0; o < O; o++)
		for (i = 0; i < I; i++) {
			float m = mask ? mask[i * O + o] : 1.0f;
			base[o * I + i] = m * sb[i * O + o];
			for (c = 0; c < nb; c++)
				spline[(o * I + i) * nb + c] =
				    m * ss[i * O + o] * coef[(i * O + o) * nb + c];
		}
	in[0] = old.in[0];
	in[1] = new_weight(g, yname, "base_weight", 2, db, base);
	in[2] = new_weight(g, yname, "spline_weight", 3, ds, spline);
	nid = ir_node_new(g, IR_OP_kan_linear, in, 3);
	ir_attr_set_int(g, nid, "grid_size", ir_attr_int(g, id, "grid_size"));
	ir_attr_set_int(g, nid, "spline_order", ir_attr_int(g, id, "spline_order"));
	ir_attr_set_floats(g, nid, "grid_range", ir_attr(g, id, "grid_range")->floats, 2);
	ir_attr_set_enum(g, nid, "base_activation",
	                 ir_attr_int(g, id, "base_activation") ? "identity" : "silu");
	/* The new node takes the old one's place and result. */
	g->nodes[nid].out[0] = old.out[0];
	g->nodes[nid].nout = 1;
	g->nodes[nid].loc = old.loc;
	g->nodes[id] = g->nodes[nid];
	g->nnodes--;
	return 0;
}

int
cc_canonicalize(Graph *g, Diag *d)
{
	uint32_t i;
	int changed = 0;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == IR_OP_pykan_linear) {
			if (rewrite(g, i, d))
				return -1;
			changed = 1;
		}
	return changed ? ir_verify(g, d) : 0;
}
