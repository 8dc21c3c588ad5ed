/* cc.c: the compiler's pipeline, a flat list of passes, and the I/O map of the program. */
#include <stdlib.h>
#include <string.h>

#include "attn.h"

void
cc_options_default(CcOptions *o)
{
	memset(o, 0, sizeof *o);
	o->opt_level = 2;
	o->row_gating = 1;
	o->adc_exact = 1;
	o->input_lo = -1;
	o->input_hi = 1;
	o->nsynth = 256;
}

static void
add_io(const CcModel *m, KProg *p, const char *name, int dir, unsigned ty, uint32_t core, int space,
       uint32_t addr, double scale, IrTensorId t)
{
	KTensor k;
	const IrType *it = &m->g->tensors[t].type;
	uint32_t i;
	memset(&k, 0, sizeof k);
	k.name = (char *)name;
	k.dir = (uint8_t)dir;
	k.type = (uint8_t)ty;
	k.space = (uint8_t)space;
	k.rank = it->rank;
	for (i = 0; i < it->rank; i++)
		k.dims[i] = (uint32_t)it->dim[i];
	k.tile = m->cores[core].tile;
	k.core = m->cores[core].core;
	k.addr = addr;
	k.scale = scale;
	kprog_add_io(p, &k);
}

static IrTensorId
input_tensor(const Graph *g)
{
	uint32_t i;
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_INPUT)
			return i;
	return IR_NONE;
}

uint64_t
cc_mem_estimate(const Graph *g, const CcOptions *o)
{
	uint64_t weights = 0, acts = 0, samples = o->calib ? o->ncalib : o->nsynth;
	uint32_t t;
	if (cc_is_attention(g))
		samples = 1; /* the attention pipeline holds one copy of each tensor */
	for (t = 0; t < g->ntensors; t++) {
		uint64_t n = (uint64_t)ir_type_elems(&g->tensors[t].type);
		if (g->tensors[t].kind == IR_WEIGHT)
			weights += n;
		else
			acts += n;
	}
	return 16 * weights + 4 * acts * (samples ? samples : 1);
}

int
cc_is_attention(const Graph *g)
{
	uint32_t i;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == IR_OP_attention || g->nodes[i].op == IR_OP_sparse_attention)
			return 1;
	return 0;
}

int
cc_attention_core(const Graph *g)
{
	uint32_t i, k;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == IR_OP_attention || g->nodes[i].op == IR_OP_sparse_attention) {
			for (k = 0; k < 3; k++)
				if (g->tensors[g->nodes[i].in[k]].kind != IR_INPUT)
					return 0;
			return 1;
		}
	return 0;
}

static int
check_imem(const CcModel *m, const KProg *p, Diag *d)
{
	uint32_t c;
	for (c = 0; c < p->ncores; c++)
		if (p->cores[c]->ncode > (uint32_t)m->arch->core.imem_words)
			return cc_layer_error(
			    m, m->nlayers ? &m->layers[0] : NULL, d,
			    "the program of tile %u core %u has %u instructions; '%s' holds %d per "
			    "core%s",
			    p->cores[c]->tile, p->cores[c]->core, p->cores[c]->ncode, m->arch->name,
			    m->arch->core.imem_words,
			    m->batch > 1 ? " (the batch loop is unrolled: use a smaller batch)"
			                 : "");
	return 0;
}

int
cc_compile(Graph *g, const HwArch *arch, const CcOptions *o, KProg **out, CcModel **model, Diag *d)
{
	CcModel *m = xcalloc(1, sizeof *m);
	KProg *p = NULL;
	*out = NULL;
	if (model)
		*model = NULL;
	m->g = g;
	m->arena = arena_new();
	m->arch = arch;
	if (o)
		m->opt = *o;
	else
		cc_options_default(&m->opt);
	if (ir_verify(g, d) || cc_canonicalize(g, d))
		goto fail;
	{
		uint64_t need = cc_mem_estimate(g, &m->opt),
		         max = m->opt.max_mem_bytes ? m->opt.max_mem_bytes : CC_MEM_DEFAULT;
		if (need > max) {
			diag_err(
			    d, g->file,
			    "compiling this model needs an estimated %.0f MiB, over the budget of "
			    "%.0f MiB (raise it with --max-mem-mib)",
			    (double)need / 1048576.0, (double)max / 1048576.0);
			goto fail;
		}
	}
	if (cc_is_attention(g)) {
		/* the attention pipeline (attn.h): check and formats, then code and I/O map */
		if (cc_attn_check(m, d))
			goto fail;
		if (m->opt.dump) {
			fprintf(m->opt.dump, "# ---- after check: the attention model\n");
			cc_attn_dump(m, m->opt.dump);
		}
		p = kprog_new();
		kprog_set_arch(p, arch->name, hw_arch_fingerprint(arch));
		if (cc_attn_codegen(m, p, d) || check_imem(m, p, d))
			goto fail;
		goto done;
	}
	if (m->opt.dump) {
		char *t = ir_print(g);
		fprintf(m->opt.dump, "# ---- after canon: the graph (.kir)\n%s", t);
		free(t);
	}
	if (cc_pass_check(m, d) || cc_pass_calib(m, d) || cc_pass_quant(m, d))
		goto fail;
	if (m->opt.dump) {
		fprintf(m->opt.dump, "# ---- after quant: formats\n");
		cc_model_dump(m, m->opt.dump);
	}
	if (cc_pass_tile(m, d) || cc_pass_alloc(m, d))
		goto fail;
	if (m->opt.dump) {
		fprintf(m->opt.dump, "# ---- after tile, place, alloc: blocks\n");
		cc_model_dump(m, m->opt.dump);
	}
	p = kprog_new();
	kprog_set_arch(p, arch->name, hw_arch_fingerprint(arch));
	if (cc_pass_codegen(m, p, d) || cc_check_memory(m, d) || check_imem(m, p, d))
		goto fail;
	add_io(m, p, m->in_name, KDIR_IN, m->aty, m->lead[0].core, KSP_SPAD, m->lead[0].x_addr,
	       m->in_scale, input_tensor(g));
	{
		const CcLead *ll =
		    &m->lead[m->nlayers - 1]; /* a wide layer's output: tile memory */
		add_io(m, p, m->out_name, KDIR_OUT, m->layers[m->nlayers - 1].yty, ll->core,
		       ll->wide ? KSP_TMEM : KSP_SPAD, ll->wide ? ll->tm_y : ll->y_addr,
		       m->out_scale, g->outputs[0].t);
	}
done:
	if (kprog_validate(p, g->name, d))
		goto fail;
	*out = p;
	if (model)
		*model = m;
	else
		cc_model_free(m);
	return 0;
fail:
	kprog_free(p);
	cc_model_free(m);
	return -1;
}

void
cc_model_free(CcModel *m)
{
	if (m)
		arena_free(m->arena);
	free(m);
}

void
cc_model_io(const CcModel *m, uint32_t *in_len, double *in_scale, uint32_t *out_len,
            double *out_scale)
{
	*in_len = m->in_len;
	*in_scale = m->in_scale;
	*out_len = m->out_len;
	*out_scale = m->out_scale;
}

void
cc_model_dump(const CcModel *m, FILE *f)
{
	uint32_t i, b;
	if (m->attn) {
		cc_attn_dump(m, f);
		return;
	}
	fprintf(f, "# quantised model for '%s': activations %s (max %d), ADC %s\n", m->arch->name,
	        isa_type_names[m->aty], m->qmax,
	        !m->nblocks   ? "not tiled yet"
	        : m->lossless ? "lossless"
	                      : "lossy (emulated)");
	fprintf(f, "input %s [%u] scale %.9g\n", m->in_name, m->in_len, m->in_scale);
	for (i = 0; i < m->nlayers; i++) {
		const CcLayer *l = &m->layers[i];
		fprintf(f,
		        "layer %s: %s %u -> %u, drive rows %u, act %s, in scale %.9g, out %s scale "
		        "%.9g, requant shift %u\n",
		        l->name, l->kind == CC_KAN ? "kan" : "linear", l->in_len, l->out_len,
		        l->rows,
		        l->act == CC_ACT_RELU   ? "relu"
		        : l->act == CC_ACT_SILU ? "silu"
		                                : "none",
		        l->sx, isa_type_names[l->yty], l->sy, l->shift);
		if (l->kind == CC_KAN)
			fprintf(
			    f,
			    "  kan G=%u k=%u h=%g: sbu t0=%d sh=%u, base scale %.9g, basis scale "
			    "%.9g\n",
			    l->G, l->k, l->h, l->sbu_t0, l->sbu_sh, l->s_base, l->s_basis);
	}
	for (b = 0; b < m->nblocks; b++) {
		const CcBlock *bl = &m->blocks[b];
		fprintf(
		    f,
		    "block %u: layer %s rows [%u, %u) cols [%u, %u) on tile %u core %u mvmu %u\n",
		    b, m->layers[bl->layer].name, bl->r0, bl->r0 + bl->rows, bl->c0,
		    bl->c0 + bl->cols, bl->tile, bl->core, bl->unit);
	}
	fprintf(f, "output %s [%u] scale %.9g\n", m->out_name, m->out_len, m->out_scale);
}

uint32_t
cc_model_batch(const CcModel *m)
{
	return m->batch;
}
