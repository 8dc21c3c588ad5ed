/* irdot.c: the graph through Graphviz (cgraph + gvc): ops as boxes labelled with their result,
 * op name and given attributes; inputs (ellipses), weights (grey notes) and outputs (double
 * octagons) distinct; edges are tensors labelled with their types. Rendered to memory with
 * gvRenderData and written atomically. Graphviz 2.42 takes char *, hence the casts. */
#include "irint.h"

#include <gvc.h>
#include <stdlib.h>
#include <string.h>

#define S(x) ((char *)(x))

static void
set(void *obj, const char *name, const char *val)
{
	agsafeset(obj, S(name), S(val), S(""));
}

/* The given attributes of node n, compactly ("G=5 k=3" style: name=value, lists shortened). */
static void
attr_summary(const Graph *g, const IrNode *n, IrBuf *b)
{
	const IrOpInfo *oi = &ir_ops[n->op];
	uint32_t i, k, shown = 0;
	char num[40];
	for (i = 0; i < oi->nattr; i++) {
		const IrAttr *a = &n->attr[i];
		if (!a->given || !a->set)
			continue;
		irbuf_printf(b, "%s%s=",
		             shown == 0       ? "\\n"
		             : shown % 3 == 0 ? "\\n"
		                              : " ",
		             oi->attrs[i].name);
		shown++;
		switch (a->type) {
		case IR_A_INT:
			irbuf_printf(b, "%lld", (long long)a->i);
			break;
		case IR_A_FLOAT:
			ir_fmt_double(num, sizeof num, a->f);
			irbuf_puts(b, num);
			break;
		case IR_A_BOOL:
			irbuf_puts(b, a->i ? "true" : "false");
			break;
		case IR_A_ENUM:
			irbuf_puts(b, ir_enum_name(oi->attrs[i].enums, a->i, num, sizeof num));
			break;
		default:
			irbuf_puts(b, "[");
			for (k = 0; k < a->n && k < 6; k++) {
				if (a->type == IR_A_INTS)
					snprintf(num, sizeof num, "%lld", (long long)a->ints[k]);
				else
					ir_fmt_double(num, sizeof num, a->floats[k]);
				irbuf_printf(b, "%s%s", k ? "," : "", num);
			}
			irbuf_puts(b, a->n > 6 ? ",...]" : "]");
		}
	}
	(void)g;
}

int
ir_dot_render(const Graph *g, const char *format, char **out, size_t *len, Diag *d)
{
	GVC_t *gvc;
	Agraph_t *G;
	Agnode_t **tn, **nn;
	uint32_t i, k;
	char name[64], tb[160];
	char *data = NULL;
	unsigned int dlen = 0;
	int r = 0;

	*out = NULL;
	*len = 0;
	gvc = gvContext();
	if (!gvc)
		return diag_err(d, g->file, "graphviz: cannot create a context");
	G = agopen(S(g->name), Agdirected, NULL);
	agattr(G, AGRAPH, S("rankdir"), S("TB"));
	agattr(G, AGRAPH, S("fontname"), S("Helvetica"));
	agattr(G, AGRAPH, S("label"), S(g->name));
	agattr(G, AGNODE, S("shape"), S("box"));
	agattr(G, AGNODE, S("style"), S("filled"));
	agattr(G, AGNODE, S("fillcolor"), S("#fff2cc"));
	agattr(G, AGNODE, S("fontname"), S("Helvetica"));
	agattr(G, AGNODE, S("fontsize"), S("11"));
	agattr(G, AGNODE, S("label"), S("\\N"));
	agattr(G, AGEDGE, S("label"), S(""));
	agattr(G, AGEDGE, S("fontname"), S("Helvetica"));
	agattr(G, AGEDGE, S("fontsize"), S("9"));

	tn = xcalloc(g->ntensors + 1u, sizeof *tn);
	nn = xcalloc(g->nnodes + 1u, sizeof *nn);
	for (i = 0; i < g->ntensors; i++) {
		const IrTensor *x = &g->tensors[i];
		if (x->kind != IR_INPUT && x->kind != IR_WEIGHT)
			continue;
		snprintf(name, sizeof name, "t%u", i);
		tn[i] = agnode(G, name, 1);
		snprintf(tb, sizeof tb, "%s\\n", x->name);
		{
			size_t l = strlen(tb);
			ir_type_str(&x->type, tb + l, sizeof tb - l);
		}
		set(tn[i], "label", tb);
		if (x->kind == IR_INPUT) {
			set(tn[i], "shape", "ellipse");
			set(tn[i], "fillcolor", "#cfe2f3");
		} else {
			set(tn[i], "shape", "note");
			set(tn[i], "fillcolor", "#eeeeee");
			set(tn[i], "fontsize", "9");
		}
	}
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *n = &g->nodes[i];
		IrBuf lb = {0};
		snprintf(name, sizeof name, "n%u", i);
		nn[i] = agnode(G, name, 1);
		for (k = 0; k < n->nout; k++)
			if (n->out[k] < g->ntensors)
				irbuf_printf(&lb, "%s%%%s", k ? ", " : "",
				             g->tensors[n->out[k]].name);
		irbuf_printf(&lb, " = %s", ir_ops[n->op].name);
		attr_summary(g, n, &lb);
		set(nn[i], "label", lb.p);
		if (n->op == IR_OP_kan_linear)
			set(nn[i], "fillcolor", "#d9ead3");
		else if (n->op == IR_OP_sparse_attention || n->op == IR_OP_attention ||
		         n->op == IR_OP_linear_attention || n->op == IR_OP_block_mask)
			set(nn[i], "fillcolor", "#f4cccc");
		free(lb.p);
	}
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *n = &g->nodes[i];
		for (k = 0; k < n->nin; k++) {
			IrTensorId t = n->in[k];
			Agnode_t *src;
			Agedge_t *e;
			if (t >= g->ntensors)
				continue;
			src =
			    g->tensors[t].producer < g->nnodes ? nn[g->tensors[t].producer] : tn[t];
			if (!src)
				continue;
			snprintf(name, sizeof name, "e%u_%u", i, k);
			e = agedge(G, src, nn[i], name, 1);
			set(e, "label", ir_type_str(&g->tensors[t].type, tb, sizeof tb));
		}
	}
	for (i = 0; i < g->noutputs; i++) {
		IrTensorId t = g->outputs[i].t;
		Agnode_t *o, *src;
		Agedge_t *e;
		if (t >= g->ntensors)
			continue;
		snprintf(name, sizeof name, "o%u", i);
		o = agnode(G, name, 1);
		set(o, "label", g->outputs[i].name);
		set(o, "shape", "doubleoctagon");
		set(o, "fillcolor", "#b6d7a8");
		src = g->tensors[t].producer < g->nnodes ? nn[g->tensors[t].producer] : tn[t];
		if (src) {
			snprintf(name, sizeof name, "eo%u", i);
			e = agedge(G, src, o, name, 1);
			set(e, "label", ir_type_str(&g->tensors[t].type, tb, sizeof tb));
		}
	}
	free(tn);
	free(nn);

	if (gvLayout(gvc, G, "dot") != 0) {
		r = diag_err(
		    d, g->file,
		    "graphviz: dot layout failed (is the plugin configuration written? try "
		    "'dot -c')");
	} else {
		if (gvRenderData(gvc, G, format, &data, &dlen) != 0 || !data) {
			r = diag_err(d, g->file, "graphviz: cannot render format '%s'", format);
		} else {
			*out = xmalloc(dlen + 1u);
			memcpy(*out, data, dlen);
			(*out)[dlen] = 0;
			*len = dlen;
		}
		if (data)
			gvFreeRenderData(data);
		gvFreeLayout(gvc, G);
	}
	agclose(G);
	gvFreeContext(gvc);
	return r;
}

int
ir_dot_write(const Graph *g, const char *path, Diag *d)
{
	static const char *const fmts[][2] = {
	    {".svg", "svg"}, {".png", "png"}, {".dot", "dot"}, {".gv", "dot"}, {".pdf", "pdf"}};
	const char *dot = strrchr(path, '.'), *fmt = NULL;
	char *buf;
	size_t len, i;
	int r;
	for (i = 0; dot && i < NELEM(fmts); i++)
		if (strcmp(dot, fmts[i][0]) == 0)
			fmt = fmts[i][1];
	if (!fmt)
		return diag_err(d, path,
		                "unknown output format '%s' (use .svg, .png, .pdf, .dot or .gv)",
		                dot ? dot : "(no extension)");
	if (ir_dot_render(g, fmt, &buf, &len, d) != 0)
		return -1;
	r = write_file_atomic(path, buf, len, d);
	free(buf);
	return r;
}
