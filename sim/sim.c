/* sim.c: building a simulator from a binary and an architecture, the run loop (cores in cycle
 * order), faults, inputs and outputs. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

void
sim_options_default(SimOptions *o)
{
	memset(o, 0, sizeof *o);
}

int
sim_fault(Sim *s, Core *c, const char *fmt, ...)
{
	char msg[1024], dis[128] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c) {
		if (c->pc < c->ncode)
			isa_disasm(&c->code[c->pc], dis, sizeof dis);
		diag_err(&s->fault, NULL, "tile %u core %u pc %u cycle %llu `%s`: %s", c->tile,
		         c->idx, c->pc, (unsigned long long)c->now, dis, msg);
		c->state = CORE_FAULT;
	} else {
		diag_err(&s->fault, NULL, "%s", msg);
	}
	s->faulted = 1;
	return -1;
}

/* ---- building ---- */

static int
seg_fits(const KSegs *sg, uint64_t size, const char *what, uint32_t tile, uint32_t core, Diag *d)
{
	uint32_t i;
	for (i = 0; i < sg->n; i++)
		if ((uint64_t)sg->v[i].addr + sg->v[i].len > size)
			return diag_err(
			    d, NULL,
			    "%s init data [0x%x, 0x%llx) of tile %u core %u exceeds its size "
			    "0x%llx",
			    what, sg->v[i].addr, (unsigned long long)sg->v[i].addr + sg->v[i].len,
			    tile, core, (unsigned long long)size);
	return 0;
}

uint8_t *
sim_dram(Sim *s, uint64_t end)
{
	enum { DRAM_MIN_GROW = 1 << 16 };
	uint64_t n;
	KASSERT(end <= s->p.dram_bytes);
	if (s->dram && end <= s->dram_len)
		return s->dram;
	n = s->dram_len * 2 > DRAM_MIN_GROW ? s->dram_len * 2 : DRAM_MIN_GROW;
	if (n < end)
		n = end;
	if (n > s->p.dram_bytes)
		n = s->p.dram_bytes;
	s->dram = xrealloc(s->dram, (size_t)(n ? n : 1));
	memset(s->dram + s->dram_len, 0, (size_t)(n - s->dram_len));
	s->dram_len = n;
	return s->dram;
}

/* segs_end: the end of the highest segment. */
static uint64_t
segs_end(const KSegs *sg)
{
	uint64_t end = 0;
	uint32_t i;
	for (i = 0; i < sg->n; i++)
		if ((uint64_t)sg->v[i].addr + sg->v[i].len > end)
			end = (uint64_t)sg->v[i].addr + sg->v[i].len;
	return end;
}

static void
seg_load(uint8_t *mem, const KSegs *sg)
{
	uint32_t i;
	for (i = 0; i < sg->n; i++)
		memcpy(mem + sg->v[i].addr, sg->v[i].bytes, sg->v[i].len);
}

/* The layer a symbol belongs to: NAME@K (K digits) is another code range of layer NAME. */
static size_t
layer_base_len(const char *name)
{
	const char *at = strrchr(name, '@');
	size_t n = strlen(name);
	if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1))
		n = (size_t)(at - name);
	return n;
}

static uint32_t
layer_index(Sim *s, const char *name)
{
	uint32_t i;
	size_t n = layer_base_len(name);
	for (i = 1; i < s->nlayers; i++)
		if (layer_base_len(s->layer_names[i]) == n &&
		    strncmp(s->layer_names[i], name, n) == 0)
			return i;
	s->layer_names[s->nlayers] = arena_strndup(s->arena, name, n);
	return s->nlayers++;
}

static int
load_core(Sim *s, const KCore *kc, Diag *d)
{
	const SimParams *p = &s->p;
	Core *c;
	uint32_t i;
	if (kc->tile >= p->tiles || kc->core >= p->cores_per_tile)
		return diag_err(
		    d, NULL,
		    "the binary has code for tile %u core %u, but the architecture has %u "
		    "tiles of %u cores",
		    kc->tile, kc->core, p->tiles, p->cores_per_tile);
	if (kc->ncode > p->imem_words)
		return diag_err(
		    d, NULL, "tile %u core %u has %u instructions; the instruction memory holds %u",
		    kc->tile, kc->core, kc->ncode, p->imem_words);
	if (seg_fits(&kc->spad, p->spad_bytes, "scratchpad", kc->tile, kc->core, d))
		return -1;
	c = &s->tiles[kc->tile].cores[kc->core];
	c->ncode = kc->ncode;
	c->pc = kc->entry;
	c->code = xcalloc(kc->ncode, sizeof(Insn));
	for (i = 0; i < kc->ncode; i++)
		if (isa_decode(kc->code[i], &c->code[i]) != 0)
			return diag_err(d, NULL, "tile %u core %u: illegal instruction word %u",
			                kc->tile, kc->core, i);
	c->spad = xcalloc(p->spad_bytes, 1);
	seg_load(c->spad, &kc->spad);
	for (i = 0; i < kc->nxbar; i++) {
		const KXbar *x = &kc->xbar[i];
		Mvmu *u;
		if (x->unit >= p->mvmus_per_core)
			return diag_err(d, NULL,
			                "tile %u core %u programs MVMU %u; a core has %u MVMUs",
			                kc->tile, kc->core, x->unit, p->mvmus_per_core);
		if (x->rows > p->xbar_rows || x->cols > p->xbar_cols)
			return diag_err(
			    d, NULL,
			    "tile %u core %u MVMU %u image is %ux%u; the crossbars are %ux%u",
			    kc->tile, kc->core, x->unit, x->rows, x->cols, p->xbar_rows,
			    p->xbar_cols);
		if (x->wbits > p->weight_bits)
			return diag_err(
			    d, NULL,
			    "tile %u core %u MVMU %u holds %u-bit weights; the architecture "
			    "stores %u bits",
			    kc->tile, kc->core, x->unit, x->wbits, p->weight_bits);
		u = &c->mvmu[x->unit];
		u->programmed = 1;
		u->rows = x->rows;
		u->cols = x->cols;
		u->w = xmalloc((size_t)x->rows * x->cols * sizeof(int32_t));
		memcpy(u->w, x->w, (size_t)x->rows * x->cols * sizeof(int32_t));
	}
	return 0;
}

static int
check_io(Sim *s, const KTensor *t, Diag *d)
{
	uint64_t size = ktensor_bytes(t), lim;
	const SimParams *p = &s->p;
	switch (t->space) {
	case KSP_DRAM:
		lim = p->dram_bytes;
		break;
	case KSP_TMEM:
		if (t->tile >= p->tiles)
			return diag_err(d, NULL,
			                "tensor '%s' lives in tile %u, which does not exist",
			                t->name, t->tile);
		lim = p->tmem_bytes;
		break;
	default:
		if (t->tile >= p->tiles || t->core >= p->cores_per_tile ||
		    !s->tiles[t->tile].cores[t->core].spad)
			return diag_err(
			    d, NULL,
			    "tensor '%s' lives in the scratchpad of tile %u core %u, which "
			    "runs no code",
			    t->name, t->tile, t->core);
		lim = p->spad_bytes;
		break;
	}
	if ((uint64_t)t->addr + size > lim)
		return diag_err(
		    d, NULL, "tensor '%s' [0x%x, 0x%llx) exceeds its memory (0x%llx bytes)",
		    t->name, t->addr, (unsigned long long)t->addr + size, (unsigned long long)lim);
	if (t->space == KSP_DRAM)
		sim_dram(s, (uint64_t)t->addr + size);
	return 0;
}

int
sim_new(const HwArch *arch, const KProg *prog, const SimOptions *opt, Sim **out, Diag *d)
{
	Sim *s = xcalloc(1, sizeof *s);
	uint32_t i, t, k;
	s->arena = arena_new();
	*out = NULL;
	if (opt)
		s->opt = *opt;
	if (!s->opt.max_cycles)
		s->opt.max_cycles = 1000000000000ull;
	if (!s->opt.max_insns)
		s->opt.max_insns = 100000000000ull;
	s->rng = s->opt.seed ^ 0x6b6f6c6d6fULL;
	s->prog = prog;
	if (sim_params(arch, &s->p, d))
		goto fail;
	if (prog->arch_fp != 0 && prog->arch_fp != hw_arch_fingerprint(arch)) {
		diag_err(d, NULL,
		         "the binary was compiled for architecture '%s' (fingerprint %016llx), not "
		         "for '%s' (%016llx)",
		         prog->arch_name, (unsigned long long)prog->arch_fp, arch->name,
		         (unsigned long long)hw_arch_fingerprint(arch));
		goto fail;
	}
	s->tiles = xcalloc(s->p.tiles, sizeof(Tile));
	for (t = 0; t < s->p.tiles; t++) {
		s->tiles[t].tmem = xcalloc(s->p.tmem_bytes, 1);
		s->tiles[t].cores = xcalloc(s->p.cores_per_tile, sizeof(Core));
		for (k = 0; k < s->p.cores_per_tile; k++) {
			Core *c = &s->tiles[t].cores[k];
			c->tile = t;
			c->idx = k;
			c->state = CORE_HALTED;
			c->mvmu = xcalloc(s->p.mvmus_per_core, sizeof(Mvmu));
		}
	}
	if (prog->dram.n) {
		if (seg_fits(&prog->dram, s->p.dram_bytes, "DRAM", 0, 0, d))
			goto fail;
	}
	seg_load(sim_dram(s, segs_end(&prog->dram)), &prog->dram);
	for (i = 0; i < prog->ntiles; i++) {
		const KTile *kt = prog->tiles[i];
		if (kt->tile >= s->p.tiles) {
			diag_err(d, NULL,
			         "the binary initialises tile %u; the architecture has %u tiles",
			         kt->tile, s->p.tiles);
			goto fail;
		}
		if (seg_fits(&kt->tmem, s->p.tmem_bytes, "tile memory", kt->tile, 0, d))
			goto fail;
		seg_load(s->tiles[kt->tile].tmem, &kt->tmem);
	}
	for (i = 0; i < prog->ncores; i++)
		if (load_core(s, prog->cores[i], d))
			goto fail;
	for (i = 0; i < prog->nio; i++)
		if (check_io(s, &prog->io[i], d))
			goto fail;
	s->link_free = xcalloc((size_t)s->p.tiles * 4, sizeof(uint64_t));

	/* Layers: index 0 is code outside any symbol; one index per distinct symbol name. */
	s->layer_names = xcalloc(prog->nsyms + 1, sizeof(char *));
	s->layer_names[0] = "(none)";
	s->nlayers = 1;
	for (i = 0; i < prog->ncores; i++) {
		Core *c = &s->tiles[prog->cores[i]->tile].cores[prog->cores[i]->core];
		c->pc_layer = xcalloc(c->ncode + 1, sizeof(uint16_t));
	}
	for (i = 0; i < prog->nsyms; i++) {
		const KSym *y = &prog->syms[i];
		Core *c = &s->tiles[y->tile].cores[y->core];
		uint32_t li = layer_index(s, y->name), pc;
		if (li > 65535) {
			diag_err(d, NULL, "more than 65535 layers");
			goto fail;
		}
		for (pc = y->pc; pc < y->pc + y->len && pc < c->ncode; pc++)
			c->pc_layer[pc] = (uint16_t)li;
	}
	s->all = xcalloc(prog->ncores + 1, sizeof(Core *));
	s->heap = xcalloc(prog->ncores + 1, sizeof(Core *));
	s->woken = xcalloc(prog->ncores + 1, sizeof(Core *));
	for (i = 0; i < prog->ncores; i++) {
		Core *c = &s->tiles[prog->cores[i]->tile].cores[prog->cores[i]->core];
		c->counts = xcalloc(s->nlayers, sizeof(SimCounts));
		c->lspan = xcalloc(2 * (size_t)s->nlayers, sizeof(uint64_t));
		for (k = 0; k < s->nlayers; k++)
			c->lspan[2 * k] = UINT64_MAX;
		c->state = c->ncode ? CORE_RUN : CORE_HALTED;
		s->all[s->nall++] = c;
	}
	s->stats.ncores = s->nall;
	s->stats.cores = xcalloc(s->p.tiles * s->p.cores_per_tile + 1, sizeof(SimCoreStats));
	/* Non-ideal devices: draw each cell's deviation once, in (tile, core, unit) order. */
	for (i = 0; i < s->nall; i++)
		for (k = 0; k < s->p.mvmus_per_core; k++)
			if (s->all[i]->mvmu[k].programmed)
				sim_mvmu_nonideal(s, &s->all[i]->mvmu[k]);
	if (s->opt.trace_path && sim_trace_open(s, s->opt.trace_path, d))
		goto fail;
	*out = s;
	return 0;
fail:
	sim_free(s);
	return -1;
}

void
sim_free(Sim *s)
{
	uint32_t t, k, u;
	if (!s)
		return;
	if (s->trace)
		sim_trace_close(s, 0, NULL);
	if (s->tiles) {
		for (t = 0; t < s->p.tiles; t++) {
			Tile *tl = &s->tiles[t];
			Msg *m, *n;
			for (m = tl->inbox; m; m = n) {
				n = m->next;
				free(m->data);
				free(m);
			}
			for (k = 0; tl->cores && k < s->p.cores_per_tile; k++) {
				Core *c = &tl->cores[k];
				for (u = 0; c->mvmu && u < s->p.mvmus_per_core; u++) {
					free(c->mvmu[u].w);
					free(c->mvmu[u].g);
				}
				free(c->mvmu);
				free(c->code);
				free(c->spad);
				free(c->pc_layer);
				free(c->counts);
				free(c->lspan);
			}
			free(tl->cores);
			free(tl->tmem);
		}
		free(s->tiles);
	}
	free(s->dram);
	free(s->link_free);
	free(s->layer_names);
	free(s->all);
	free(s->heap);
	free(s->woken);
	free(s->stats.cores);
	free(s->stats.layers);
	arena_free(s->arena);
	free(s);
}

/* ---- I/O ---- */

static const KTensor *
find_io(Sim *s, const char *name, int dir, Diag *d)
{
	uint32_t i;
	for (i = 0; i < s->prog->nio; i++)
		if (strcmp(s->prog->io[i].name, name) == 0 && s->prog->io[i].dir == dir)
			return &s->prog->io[i];
	diag_err(d, NULL, "the binary has no %s tensor named '%s'",
	         dir == KDIR_IN ? "input" : "output", name);
	return NULL;
}

static uint8_t *
io_ptr(Sim *s, const KTensor *t)
{
	switch (t->space) {
	case KSP_DRAM:
		return s->dram + t->addr;
	case KSP_TMEM:
		return s->tiles[t->tile].tmem + t->addr;
	default:
		return s->tiles[t->tile].cores[t->core].spad + t->addr;
	}
}

int
sim_set_input(Sim *s, const char *name, const void *data, size_t bytes, Diag *d)
{
	const KTensor *t = find_io(s, name, KDIR_IN, d);
	if (!t)
		return -1;
	if (bytes != ktensor_bytes(t))
		return diag_err(d, NULL, "input '%s' needs %llu bytes, got %zu", name,
		                (unsigned long long)ktensor_bytes(t), bytes);
	memcpy(io_ptr(s, t), data, bytes);
	return 0;
}

const void *
sim_output(Sim *s, const char *name, size_t *bytes, Diag *d)
{
	const KTensor *t = find_io(s, name, KDIR_OUT, d);
	if (!t)
		return NULL;
	*bytes = (size_t)ktensor_bytes(t);
	return io_ptr(s, t);
}

/* ---- run queue: a binary heap of runnable cores keyed by (now, tile, core) ---- */

static int
before(const Core *a, const Core *b)
{
	if (a->now != b->now)
		return a->now < b->now;
	if (a->tile != b->tile)
		return a->tile < b->tile;
	return a->idx < b->idx;
}

static void
heap_set(Sim *s, uint32_t i, Core *c)
{
	s->heap[i] = c;
	c->heap_pos = i;
}

static void
sift_up(Sim *s, uint32_t i)
{
	Core *c = s->heap[i];
	while (i > 0 && before(c, s->heap[(i - 1) / 2])) {
		heap_set(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(s, i, c);
}

static void
sift_down(Sim *s, uint32_t i)
{
	Core *c = s->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, best = i;
		Core *bc = c;
		if (l < s->nheap && before(s->heap[l], bc))
			best = l, bc = s->heap[l];
		if (l + 1 < s->nheap && before(s->heap[l + 1], bc))
			best = l + 1, bc = s->heap[l + 1];
		if (best == i)
			break;
		heap_set(s, i, bc);
		i = best;
	}
	heap_set(s, i, c);
}

static void
heap_push(Sim *s, Core *c)
{
	c->in_heap = 1;
	heap_set(s, s->nheap++, c);
	sift_up(s, s->nheap - 1);
}

static void
heap_pop(Sim *s)
{
	s->heap[0]->in_heap = 0;
	if (--s->nheap > 0) {
		heap_set(s, 0, s->heap[s->nheap]);
		sift_down(s, 0);
	}
}

void
sim_wake(Sim *s, Core *c)
{
	if (c->state == CORE_RUN && c->in_heap)
		return;
	c->state = CORE_RUN;
	s->woken[s->nwoken++] = c;
}

static int
deadlock(Sim *s)
{
	uint32_t i, nb = 0;
	Core *first = NULL;
	char list[512] = "";
	size_t len = 0;
	for (i = 0; i < s->nall; i++) {
		Core *c = s->all[i];
		if (c->state != CORE_BLOCKED)
			continue;
		if (!first)
			first = c;
		nb++;
		if (len < sizeof list - 64)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%u.%u@%u",
			                        nb > 1 ? ", " : "", c->tile, c->idx, c->pc);
	}
	if (!first)
		return 0;
	return sim_fault(
	    s, first,
	    "deadlock: %u core(s) blocked forever (tile.core@pc: %s); no send or barrier "
	    "arrival can release them",
	    nb, list);
}

static void
finish_stats(Sim *s)
{
	SimStats *st = &s->stats;
	uint32_t i, l, a;
	st->layers = xcalloc(s->nlayers, sizeof(SimLayerStats));
	st->nlayers = s->nlayers;
	for (l = 0; l < s->nlayers; l++) {
		st->layers[l].name = s->layer_names[l];
		st->layers[l].first_cycle = UINT64_MAX;
	}
	for (i = 0; i < s->nall; i++) {
		Core *c = s->all[i];
		SimCoreStats *cs = &st->cores[i];
		SimCoreStats *src = &st->cores[c->tile * s->p.cores_per_tile + c->idx];
		if (cs != src)
			*cs = *src; /* compact: entry i is the i-th core with code */
		cs->tile = c->tile;
		cs->core = c->idx;
		cs->cycles = c->now;
		cs->instructions = c->icount;
		st->instructions += c->icount;
		if (c->now > st->cycles)
			st->cycles = c->now;
		for (l = 0; l < s->nlayers; l++) {
			SimLayerStats *ls = &st->layers[l];
			for (a = 0; a < HW_NACTIONS; a++) {
				ls->counts.act[a] += c->counts[l].act[a];
				st->counts.act[a] += c->counts[l].act[a];
			}
			if (c->lspan[2 * l] < ls->first_cycle)
				ls->first_cycle = c->lspan[2 * l];
			if (c->lspan[2 * l + 1] > ls->last_cycle)
				ls->last_cycle = c->lspan[2 * l + 1];
		}
	}
	/* Instructions per layer: from the per-pc layer map and per-layer fetch counts. */
	for (l = 0; l < s->nlayers; l++)
		st->layers[l].instructions = st->layers[l].counts.act[HW_ACT_imem_fetch];
	st->latency_s = (double)st->cycles / s->p.clock_hz;
}

static void
sim_start(Sim *s)
{
	uint32_t i;
	if (s->started)
		return;
	s->started = 1;
	for (i = 0; i < s->nall; i++)
		if (s->all[i]->state == CORE_RUN)
			heap_push(s, s->all[i]);
}

int
sim_step(Sim *s, SimRetire *rt, Diag *d)
{
	Core *c;
	int32_t regs_before[ISA_NREGS];
	unsigned k;
	sim_start(s);
	memset(rt, 0, sizeof *rt);
	rt->reg = -1;
	if (s->faulted) {
		*d = s->fault;
		return -1;
	}
	if (s->nheap == 0)
		return 0;
	c = s->heap[0];
	if (c->now > s->opt.max_cycles)
		sim_fault(s, c, "cycle limit of %llu reached",
		          (unsigned long long)s->opt.max_cycles);
	else if (++s->total_insns > s->opt.max_insns)
		sim_fault(s, c, "instruction limit of %llu reached",
		          (unsigned long long)s->opt.max_insns);
	if (s->faulted) {
		*d = s->fault;
		return -1;
	}
	rt->tile = c->tile;
	rt->core = c->idx;
	rt->pc = c->pc;
	rt->cycle = c->now;
	memcpy(regs_before, c->r, sizeof regs_before);
	if (sim_exec(s, c)) {
		*d = s->fault;
		return -1;
	}
	rt->op = c->code[rt->pc].op;
	rt->blocked = c->state == CORE_BLOCKED;
	rt->next_cycle = c->now;
	if (rt->op == OP_recv && !rt->blocked) {
		rt->rx_addr = c->rx_addr;
		rt->rx_len = c->rx_len;
	}
	for (k = 1; k < ISA_NREGS; k++)
		if (c->r[k] != regs_before[k]) {
			rt->reg = (int)k;
			rt->value = c->r[k];
		}
	if (c->state != CORE_RUN)
		heap_pop(s);
	else
		sift_down(s, 0);
	while (s->nwoken > 0) {
		Core *w = s->woken[--s->nwoken];
		if (!w->in_heap && w->state == CORE_RUN)
			heap_push(s, w);
	}
	return 1;
}

int
sim_finish(Sim *s, Diag *d)
{
	uint32_t i;
	if (!s->faulted && s->nheap > 0)
		return diag_err(d, NULL, "sim_finish: cores are still running");
	if (!s->faulted)
		deadlock(s);
	if (!s->faulted) {
		for (i = 0; i < s->p.tiles; i++)
			if (s->tiles[i].inbox) {
				Msg *m = s->tiles[i].inbox;
				sim_fault(
				    s, NULL,
				    "a message from tile %u to tile %u on channel %u was sent but "
				    "never received",
				    m->src_tile, m->dst_tile, m->chan);
				break;
			}
	}
	if (s->faulted) {
		if (s->trace)
			sim_trace_close(s, 0, NULL);
		*d = s->fault;
		return -1;
	}
	finish_stats(s);
	if (s->trace && sim_trace_close(s, 1, d))
		return -1;
	return 0;
}

int
sim_run(Sim *s, Diag *d)
{
	SimRetire rt;
	int r;
	while ((r = sim_step(s, &rt, d)) > 0)
		;
	if (r < 0) {
		if (s->trace)
			sim_trace_close(s, 0, NULL);
		return -1;
	}
	return sim_finish(s, d);
}

int32_t
sim_reg(const Sim *s, uint32_t tile, uint32_t core, unsigned r)
{
	if (tile >= s->p.tiles || core >= s->p.cores_per_tile || r >= ISA_NREGS)
		return 0;
	return s->tiles[tile].cores[core].r[r];
}

const uint8_t *
sim_mem(const Sim *s, int space, uint32_t tile, uint32_t core, size_t *size)
{
	if (space == KSP_DRAM) {
		*size = (size_t)s->dram_len;
		return s->dram;
	}
	if (tile >= s->p.tiles || (space == KSP_SPAD && core >= s->p.cores_per_tile))
		return NULL;
	if (space == KSP_TMEM) {
		*size = s->p.tmem_bytes;
		return s->tiles[tile].tmem;
	}
	*size = s->p.spad_bytes;
	return s->tiles[tile].cores[core].spad;
}

void
sim_core_counts(const Sim *s, uint32_t tile, uint32_t core, SimCounts *out)
{
	const Core *c;
	uint32_t l, a;
	memset(out, 0, sizeof *out);
	if (tile >= s->p.tiles || core >= s->p.cores_per_tile)
		return;
	c = &s->tiles[tile].cores[core];
	if (!c->counts)
		return;
	for (l = 0; l < s->nlayers; l++)
		for (a = 0; a < HW_NACTIONS; a++)
			out->act[a] += c->counts[l].act[a];
}

void
sim_shared_busy(const Sim *s, uint32_t tile, uint64_t *port_free, uint64_t *dma_free,
                uint64_t *dram_free)
{
	*port_free = tile < s->p.tiles ? s->tiles[tile].port_free : 0;
	*dma_free = tile < s->p.tiles ? s->tiles[tile].dma_free : 0;
	*dram_free = s->dram_free;
}

const SimStats *
sim_stats(const Sim *s)
{
	return &s->stats;
}

void
sim_energy(const Sim *s, const HwArch *arch, HwEnergy *out)
{
	HwErt ert;
	hw_ert_build(arch, &ert);
	hw_energy(&ert, s->stats.counts.act, s->stats.latency_s, out);
}

int32_t
sim_output_int(const void *out, uint32_t i, unsigned sz)
{
	const unsigned char *o = out;
	if (sz == 1)
		return (int8_t)o[i];
	if (sz == 2) {
		int16_t h;
		memcpy(&h, o + 2 * (size_t)i, 2);
		return h;
	}
	{
		int32_t v;
		memcpy(&v, o + 4 * (size_t)i, 4);
		return v;
	}
}
