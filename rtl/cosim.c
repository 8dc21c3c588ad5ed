/* cosim.c: lockstep co-simulation of the C simulator and the RTL core: per retired instruction
 * (pc, opcode, issue cycle, next issue cycle, register write), then the final state (halt cycle,
 * registers, scratchpad, tile memory, action counts, energy). Reports the first divergence with
 * the last agreeing instructions. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtl.h"

enum { HIST_MAX = 64 };

typedef struct Hist {
	SimRetire rt;
	char dis[96];
} Hist;

typedef struct Ctx {
	const KProg *prog;
	const KCore *kc;
	RtlCosimResult *r;
	size_t len;
	Hist hist[HIST_MAX];
	uint64_t nhist;
	int history;
	/* replay of the other cores (docs/rtl.md, "Multi-core programs") */
	uint32_t tile, core;
	int multi;
	uint8_t *fresh;      /* per tile-memory byte: 1 if the RTL's copy must equal the C sim's */
	uint32_t tmem_bytes; /* (0: the bytes another core wrote since, to copy before a read) */
	uint32_t nstale;
	uint64_t busy[3]; /* the C simulator's port, DMA engine and DRAM channel busy-until */
	int dirty[3];     /* another core moved it since the RTL last saw it */
	int bar_pending;
	SimRetire bar;
} Ctx;

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void say(Ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(Ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (x->len >= sizeof x->r->report - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->r->report + x->len, sizeof x->r->report - x->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		x->len += (size_t)n;
	if (x->len > sizeof x->r->report - 1)
		x->len = sizeof x->r->report - 1;
}

static void
disasm(const Ctx *x, uint32_t pc, char *buf, size_t n)
{
	Insn in;
	if (pc >= x->kc->ncode || isa_decode(x->kc->code[pc], &in) != 0)
		snprintf(buf, n, "(no instruction)");
	else
		isa_disasm(&in, buf, n);
}

static void
reg_text(int reg, int32_t v, char *buf, size_t n)
{
	if (reg < 0)
		snprintf(buf, n, "no register written");
	else
		snprintf(buf, n, "r%d = %d (0x%08x)", reg, v, (uint32_t)v);
}

/* The last agreeing instructions, oldest first. */
static void
show_history(Ctx *x)
{
	uint64_t k, first = x->nhist > (uint64_t)x->history ? x->nhist - (uint64_t)x->history : 0;
	if (x->nhist == 0) {
		say(x, "  (no instruction agreed before)\n");
		return;
	}
	say(x, "last agreeing instructions:\n");
	for (k = first; k < x->nhist; k++) {
		const Hist *h = &x->hist[k % HIST_MAX];
		char rb[64];
		reg_text(h->rt.reg, h->rt.value, rb, sizeof rb);
		say(x, "  #%-6llu cycle %-8llu pc %-5u %-34s -> next %llu, %s\n",
		    (unsigned long long)k, (unsigned long long)h->rt.cycle, h->rt.pc, h->dis,
		    (unsigned long long)h->rt.next_cycle, rb);
	}
}

static void
mismatch_head(Ctx *x, const SimRetire *rt, const char *what)
{
	char dis[96];
	disasm(x, rt->pc, dis, sizeof dis);
	say(x, "cosim: MISMATCH (%s) at instruction #%llu of tile %u core %u\n", what,
	    (unsigned long long)x->nhist, rt->tile, rt->core);
	say(x, "  cycle %llu, pc %u: `%s`\n", (unsigned long long)rt->cycle, rt->pc, dis);
}

static void
row(Ctx *x, const char *field, const char *exp, const char *act)
{
	say(x, "  %-14s expected (C simulator) %-28s actual (RTL) %s%s\n", field, exp, act,
	    strcmp(exp, act) ? "   <-- differs" : "");
}

/* Compare one retired instruction; 0 when they agree. */
static int
compare_retire(Ctx *x, const Sim *s, const SimRetire *rt, const RtlRetire *rr)
{
	char e[64], a[64];
	int bad = rt->pc != rr->pc || rt->op != rr->op || rt->cycle != rr->cycle ||
	          rt->next_cycle != rr->next_cycle;
	if (rt->reg >= 0)
		bad |= rr->reg != rt->reg || rr->value != rt->value;
	else if (rr->reg > 0)
		bad |= rr->value != sim_reg(s, rt->tile, rt->core, (unsigned)rr->reg);
	if (!bad)
		return 0;
	mismatch_head(x, rt, "retired instruction");
	snprintf(e, sizeof e, "%u", rt->pc);
	snprintf(a, sizeof a, "%u", rr->pc);
	row(x, "pc", e, a);
	snprintf(e, sizeof e, "%s", isa_info(rt->op)->name ? isa_info(rt->op)->name : "?");
	snprintf(a, sizeof a, "%s", isa_info(rr->op)->name ? isa_info(rr->op)->name : "?");
	row(x, "opcode", e, a);
	snprintf(e, sizeof e, "%llu", (unsigned long long)rt->cycle);
	snprintf(a, sizeof a, "%llu", (unsigned long long)rr->cycle);
	row(x, "issue cycle", e, a);
	snprintf(e, sizeof e, "%llu", (unsigned long long)rt->next_cycle);
	snprintf(a, sizeof a, "%llu", (unsigned long long)rr->next_cycle);
	row(x, "next issue", e, a);
	if (rt->reg < 0 && rr->reg > 0) {
		reg_text(rr->reg, sim_reg(s, rt->tile, rt->core, (unsigned)rr->reg), e, sizeof e);
		snprintf(e + strlen(e), sizeof e - strlen(e), " (unchanged)");
	} else
		reg_text(rt->reg, rt->value, e, sizeof e);
	reg_text(rr->reg, rr->value, a, sizeof a);
	row(x, "register", e, a);
	show_history(x);
	return 1;
}

/* Compare a memory byte by byte; 0 when equal. */
static int
compare_mem(Ctx *x, RtlCore *c, int space, const uint8_t *exp, uint32_t size, const uint8_t *only)
{
	uint8_t *act = xmalloc(size + 8);
	uint32_t i, first = 0, ndiff = 0;
	rtl_core_read(c, space, 0, act, size);
	for (i = 0; i < size; i++)
		if (exp[i] != act[i] && (!only || only[i]) && ndiff++ == 0)
			first = i;
	if (ndiff) {
		say(x,
		    "cosim: MISMATCH in the final %s: %u byte(s) differ, the first at 0x%x: "
		    "expected (C simulator) 0x%02x, actual (RTL) 0x%02x\n",
		    space == KSP_TMEM ? "tile memory" : "scratchpad", ndiff, first, exp[first],
		    act[first]);
		say(x, "  bytes at 0x%x:\n    C sim:", first & ~15u);
		for (i = first & ~15u; i < (first & ~15u) + 16 && i < size; i++)
			say(x, " %02x", exp[i]);
		say(x, "\n    RTL:  ");
		for (i = first & ~15u; i < (first & ~15u) + 16 && i < size; i++)
			say(x, " %02x", act[i]);
		say(x, "\n");
		show_history(x);
	}
	free(act);
	return ndiff != 0;
}

void
rtl_cosim_options_default(RtlCosimOptions *o)
{
	memset(o, 0, sizeof *o);
	o->tile = -1;
	o->core = -1;
	o->bug_op = -1;
#ifdef KOLMO_RTL_BUG
	o->bug_op = isa_lookup(KOLMO_RTL_BUG, strlen(KOLMO_RTL_BUG));
#endif
}

/* After a C-simulator fault: the RTL must fault at the same instruction without retiring it. */
static int
check_fault(Ctx *x, RtlCore *c, const Diag *sd, Diag *d)
{
	RtlRetire rr;
	Diag rd = {0};
	int st;
	if (strstr(sd->msg, "limit of")) /* a limit of the run, not of the hardware */
		return diag_err(
		    d, NULL,
		    "the C simulator faults: %s\n  (a simulation limit; the RTL agreed on "
		    "all %llu instructions before it)",
		    sd->msg, (unsigned long long)x->nhist);
	st = rtl_core_step(c, rtl_core_cycles(c) + 1000000, &rr, &rd);
	if (st < 0)
		return diag_err(d, NULL, "the C simulator faults: %s\n  the RTL agrees: %s",
		                sd->msg, rd.msg);
	say(x, "cosim: MISMATCH: the C simulator faults but the RTL %s\n  C simulator: %s\n",
	    st == 0 ? "has halted" : "retires the instruction", sd->msg);
	if (st == 1)
		say(x, "  RTL: pc %u retires at cycle %llu\n", rr.pc, (unsigned long long)rr.cycle);
	show_history(x);
	return 0;
}

/* ---- replay of the other cores' traffic ---- */

/* Another core (or a DMA) wrote [a, a + n) of the tile memory in the C simulator. */
static void
mark_stale(Ctx *x, uint32_t a, uint32_t n)
{
	uint32_t i;
	for (i = a; i < x->tmem_bytes && i - a < n; i++)
		if (x->fresh[i]) {
			x->fresh[i] = 0;
			x->nstale++;
		}
}

/* This core wrote [a, a + n) in both models. */
static void
mark_fresh(Ctx *x, uint32_t a, uint32_t n)
{
	uint32_t i;
	for (i = a; i < x->tmem_bytes && i - a < n; i++)
		if (!x->fresh[i]) {
			x->fresh[i] = 1;
			x->nstale--;
		}
}

/* Before this core reads [a, a + n) of the tile memory: copy the bytes other cores wrote since
 * from the C simulator into the RTL; the bytes this core wrote must already agree. */
static int
mirror_tmem(Ctx *x, const Sim *s, RtlCore *c, const SimRetire *rt, uint32_t a, uint32_t n)
{
	size_t size;
	const uint8_t *cm = sim_mem(s, KSP_TMEM, x->tile, 0, &size);
	uint8_t *rm;
	uint32_t i, lo = UINT32_MAX, hi = 0;
	if (x->nstale == 0 || n == 0 || (uint64_t)a + n > size)
		return 0;
	for (i = a; i - a < n; i++)
		if (!x->fresh[i]) {
			lo = lo < i ? lo : i;
			hi = i + 1;
		}
	if (hi == 0)
		return 0;
	rm = xmalloc(n);
	rtl_core_read(c, KSP_TMEM, a, rm, n);
	for (i = a; i - a < n; i++)
		if (x->fresh[i] && rm[i - a] != cm[i]) {
			mismatch_head(x, rt, "tile memory this core wrote, read back");
			say(x, "  byte 0x%x: expected (C simulator) 0x%02x, actual (RTL) 0x%02x\n",
			    i, cm[i], rm[i - a]);
			show_history(x);
			free(rm);
			return 1;
		}
	free(rm);
	rtl_core_write(c, KSP_TMEM, lo, cm + lo, hi - lo);
	mark_fresh(x, lo, hi - lo);
	return 0;
}

/* Another core's retired instruction: what it changed that this core may see. */
static void
note_other(Ctx *x, const Sim *s, const SimRetire *rt)
{
	uint64_t b[3];
	int k;
	if (rt->blocked)
		return;
	if (rt->tile == x->tile) {
		int32_t ra = sim_reg(s, rt->tile, rt->core, 0), rb = 0, rc = 0;
		Insn in;
		const KCore *kc = kprog_find_core(x->prog, rt->tile, rt->core);
		if (kc && rt->pc < kc->ncode && isa_decode(kc->code[rt->pc], &in) == 0) {
			ra = sim_reg(s, rt->tile, rt->core, in.a);
			rb = sim_reg(s, rt->tile, rt->core, in.b);
			rc = sim_reg(s, rt->tile, rt->core, in.c);
		}
		if (rt->op == OP_tst)
			mark_stale(x, (uint32_t)rb, (uint32_t)rc);
		else if (rt->op == OP_dld)
			mark_stale(x, (uint32_t)ra, (uint32_t)rc);
		else if (rt->op == OP_recv)
			mark_stale(x, rt->rx_addr, rt->rx_len);
	}
	if (rt->op != OP_tld && rt->op != OP_tst && rt->op != OP_dld && rt->op != OP_dst)
		return;
	sim_shared_busy(s, x->tile, &b[0], &b[1], &b[2]);
	for (k = 0; k < 3; k++)
		if (b[k] != x->busy[k]) {
			x->busy[k] = b[k];
			x->dirty[k] = 1;
		}
}

/* Before this core's instruction rt runs in the RTL: what the C simulator's other cores did that
 * it depends on (shared busy times, tile memory and DRAM contents, a release). 0, or 1 after a
 * mismatch (reported). */
static int
replay_before(Ctx *x, const Sim *s, RtlCore *c, const SimRetire *rt)
{
	Insn in;
	uint32_t ra, rb, rc;
	int k;
	if (rt->op == OP_recv || rt->op == OP_bar) {
		if (rt->op == OP_recv && rt->rx_len) {
			size_t size;
			const uint8_t *cm = sim_mem(s, KSP_TMEM, x->tile, 0, &size);
			rtl_core_write(c, KSP_TMEM, rt->rx_addr, cm + rt->rx_addr, rt->rx_len);
			mark_fresh(x, rt->rx_addr, rt->rx_len);
		}
		rtl_core_sync(c, rt->next_cycle, rt->op == OP_recv ? rt->rx_len : 0);
		return 0;
	}
	if (!x->multi || isa_decode(x->kc->code[rt->pc], &in) != 0)
		return 0;
	ra = (uint32_t)sim_reg(s, x->tile, x->core, in.a);
	rb = (uint32_t)sim_reg(s, x->tile, x->core, in.b);
	rc = (uint32_t)sim_reg(s, x->tile, x->core, in.c);
	switch (rt->op) {
	case OP_tld:
	case OP_tst:
	case OP_dld:
	case OP_dst:
	case OP_wait:
	case OP_halt:
		for (k = 0; k < 3; k++)
			if (x->dirty[k]) {
				rtl_core_busy(c, (unsigned)k, x->busy[k]);
				x->dirty[k] = 0;
			}
		break;
	default:
		break;
	}
	switch (rt->op) {
	case OP_tld:
		return mirror_tmem(x, s, c, rt, rb, rc);
	case OP_send:
	case OP_dst:
		return mirror_tmem(x, s, c, rt, ra, rc);
	case OP_tst:
		mark_fresh(x, rb, rc);
		break;
	case OP_dld: {
		size_t size;
		const uint8_t *dm = sim_mem(s, KSP_DRAM, 0, 0, &size);
		if ((uint64_t)rb + rc <= size)
			rtl_core_write(c, KSP_DRAM, rb, dm + rb, rc);
		mark_fresh(x, ra, rc);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* After this core's instruction: its own use of the shared resources is the RTL's too. */
static void
replay_after(Ctx *x, const Sim *s, const SimRetire *rt)
{
	if (x->multi &&
	    (rt->op == OP_tld || rt->op == OP_tst || rt->op == OP_dld || rt->op == OP_dst))
		sim_shared_busy(s, x->tile, &x->busy[0], &x->busy[1], &x->busy[2]);
}

/* Step the RTL through this core's instruction rt and compare; 0 when they agree. */
static int
lockstep(Ctx *x, Sim *s, RtlCore *c, const SimRetire *rt)
{
	RtlRetire rr;
	Diag rd = {0};
	double t0;
	int st;
	if (replay_before(x, s, c, rt))
		return 1;
	t0 = now_s();
	st = rtl_core_step(c, rt->next_cycle + 64, &rr, &rd);
	x->r->rtl_host_s += now_s() - t0;
	if (st != 1) {
		mismatch_head(x, rt, "the RTL does not retire it");
		say(x, "  C simulator: issue cycle %llu, next issue %llu\n  RTL: %s\n",
		    (unsigned long long)rt->cycle, (unsigned long long)rt->next_cycle,
		    st == 0 ? "has halted" : rd.msg);
		show_history(x);
		return 1;
	}
	if (compare_retire(x, s, rt, &rr))
		return 1;
	replay_after(x, s, rt);
	x->hist[x->nhist % HIST_MAX].rt = *rt;
	disasm(x, rt->pc, x->hist[x->nhist % HIST_MAX].dis, sizeof x->hist[0].dis);
	x->nhist++;
	return 0;
}

/* Co-simulate core (tile, core) of prog: the C simulator runs the whole chip, the RTL this core,
 * with the other cores' traffic replayed. */
static int
cosim_one(const HwArch *arch, const KProg *prog, const RtlCosimOptions *o, uint32_t tile,
          uint32_t core, RtlModel *model, RtlCosimResult *r, Diag *d)
{
	Ctx x;
	Sim *s = NULL;
	RtlCore *c = NULL;
	SimOptions so;
	HwErt ert;
	HwEnergy es, er;
	Diag sd = {0};
	uint64_t max_cycles = o->max_cycles ? o->max_cycles : 1000000000ull;
	int ret = -1, st, i;
	double t0;

	memset(r, 0, sizeof *r);
	memset(&x, 0, sizeof x);
	x.prog = prog;
	x.r = r;
	x.tile = tile;
	x.core = core;
	x.multi = prog->ncores > 1;
	x.history = o->history > 0 ? (o->history < HIST_MAX ? o->history : HIST_MAX) : 8;
	x.kc = kprog_find_core(prog, tile, core);
	if (!x.kc)
		return diag_err(d, NULL, "the program has no code for tile %u core %u", tile, core);
	if (rtl_arch_check(arch, d))
		return -1;
	sim_options_default(&so);
	so.max_cycles = max_cycles;
	if (sim_new(arch, prog, &so, &s, d))
		return -1;
	if (rtl_core_new(arch, prog, tile, core, model, o->vcd_path, o->bug_op, o->bug_kind, &c, d))
		goto out;
	x.tmem_bytes = (uint32_t)arch->tile.mem_bytes;
	x.fresh = xmalloc(x.tmem_bytes ? x.tmem_bytes : 1);
	memset(x.fresh, 1, x.tmem_bytes);

	for (;;) {
		SimRetire rt;
		t0 = now_s();
		st = sim_step(s, &rt, &sd);
		r->sim_host_s += now_s() - t0;
		if (st < 0) {
			char who[64];
			snprintf(who, sizeof who, "tile %u core %u pc", tile, core);
			if (x.multi && !strstr(sd.msg, who)) {
				diag_err(
				    d, NULL,
				    "the C simulator faults in another core: %s\n  (the RTL "
				    "agreed on all %llu instructions of tile %u core %u before)",
				    sd.msg, (unsigned long long)x.nhist, tile, core);
				goto out;
			}
			if (check_fault(&x, c, &sd, d))
				goto out;
			goto done;
		}
		if (st == 0)
			break;
		if (rt.tile != tile || rt.core != core) {
			note_other(&x, s, &rt);
			continue;
		}
		if (x.bar_pending) { /* released silently by the last arrival: now we know when */
			x.bar.next_cycle = rt.cycle;
			x.bar.blocked = 0;
			x.bar_pending = 0;
			if (lockstep(&x, s, c, &x.bar))
				goto done;
		}
		if (rt.blocked) {
			if (rt.op == OP_bar) {
				x.bar = rt;
				x.bar_pending = 1;
			}
			continue;
		}
		if (lockstep(&x, s, c, &rt))
			goto done;
	}
	if (sim_finish(s, &sd)) {
		diag_err(d, NULL, "the C simulator faults: %s", sd.msg);
		goto out;
	}
	r->instructions = x.nhist;
	r->rtl_cycles = rtl_core_cycles(c);
	rtl_core_counts(c, r->rtl_counts);
	hw_ert_build(arch, &ert);
	if (x.multi) {
		/* this core's halt cycle and actions; both priced at that latency */
		const SimStats *ss = sim_stats(s);
		SimCounts cc;
		uint32_t k;
		for (k = 0; k < ss->ncores; k++)
			if (ss->cores[k].tile == tile && ss->cores[k].core == core)
				r->sim_cycles = ss->cores[k].cycles;
		sim_core_counts(s, tile, core, &cc);
		memcpy(r->sim_counts, cc.act, sizeof r->sim_counts);
		hw_energy(&ert, r->sim_counts, (double)r->sim_cycles / (arch->clock.core_ghz * 1e9),
		          &es);
	} else {
		r->sim_cycles = sim_stats(s)->cycles;
		memcpy(r->sim_counts, sim_stats(s)->counts.act, sizeof r->sim_counts);
		sim_energy(s, arch, &es);
	}
	hw_energy(&ert, r->rtl_counts, (double)r->rtl_cycles / (arch->clock.core_ghz * 1e9), &er);
	r->sim_energy_j = es.total_j;
	r->rtl_energy_j = er.total_j;
	{
		RtlRetire rr;
		Diag rd = {0};
		if (rtl_core_step(c, r->rtl_cycles + 1, &rr, &rd) != 0) {
			say(&x, "cosim: MISMATCH: the C simulator has halted, the RTL has not\n");
			show_history(&x);
			goto done;
		}
	}
	if (r->sim_cycles != r->rtl_cycles) {
		say(&x,
		    "cosim: MISMATCH in the halt cycle: expected (C simulator) %llu, actual (RTL) "
		    "%llu\n",
		    (unsigned long long)r->sim_cycles, (unsigned long long)r->rtl_cycles);
		show_history(&x);
		goto done;
	}
	for (i = 1; i < ISA_NREGS; i++) {
		int32_t e = sim_reg(s, tile, core, (unsigned)i), a = rtl_core_reg(c, (unsigned)i);
		if (e != a) {
			say(&x,
			    "cosim: MISMATCH in the final register r%d: expected (C simulator) %d, "
			    "actual (RTL) %d\n",
			    i, e, a);
			show_history(&x);
			goto done;
		}
	}
	{
		size_t n;
		const uint8_t *m = sim_mem(s, KSP_SPAD, tile, core, &n);
		if (compare_mem(&x, c, KSP_SPAD, m, (uint32_t)n, NULL))
			goto done;
		m = sim_mem(s, KSP_TMEM, tile, core, &n);
		if (compare_mem(&x, c, KSP_TMEM, m, (uint32_t)n, x.nstale ? x.fresh : NULL))
			goto done;
	}
	for (i = 0; i < HW_NACTIONS; i++)
		if (r->sim_counts[i] != r->rtl_counts[i]) {
			say(&x,
			    "cosim: MISMATCH in the action count %s: expected (C simulator) %llu, "
			    "actual (RTL) %llu\n",
			    hw_actions[i].name, (unsigned long long)r->sim_counts[i],
			    (unsigned long long)r->rtl_counts[i]);
			goto done;
		}
	if (r->sim_energy_j != r->rtl_energy_j) {
		say(&x,
		    "cosim: MISMATCH in the energy: expected (C simulator) %.17g J, actual (RTL) "
		    "%.17g J\n",
		    r->sim_energy_j, r->rtl_energy_j);
		goto done;
	}
	r->agree = 1;
done:
	ret = 0;
out:
	free(x.fresh);
	rtl_core_free(c);
	sim_free(s);
	return ret;
}

int
rtl_cosim(const HwArch *arch, const KProg *prog, const RtlCosimOptions *o, RtlCosimResult *r,
          Diag *d)
{
	RtlCosimResult *one;
	RtlModel *model;
	uint32_t k;
	size_t len = 0;
	int ret = 0;
	if (o->tile >= 0) {
		ret = cosim_one(arch, prog, o, (uint32_t)o->tile,
		                (uint32_t)(o->core >= 0 ? o->core : 0), o->model, r, d);
		if (ret == 0) {
			r->ncores = 1;
			r->cores[0].tile = (uint32_t)o->tile;
			r->cores[0].core = (uint32_t)(o->core >= 0 ? o->core : 0);
			r->cores[0].agree = r->agree;
			r->cores[0].instructions = r->instructions;
			r->cores[0].cycles = r->rtl_cycles;
		}
		return ret;
	}
	if (prog->ncores == 0)
		return diag_err(d, NULL, "the program has no code");
	if (prog->ncores == 1) {
		ret = cosim_one(arch, prog, o, prog->cores[0]->tile, prog->cores[0]->core, o->model,
		                r, d);
		if (ret == 0) {
			r->ncores = 1;
			r->cores[0].tile = prog->cores[0]->tile;
			r->cores[0].core = prog->cores[0]->core;
			r->cores[0].agree = r->agree;
			r->cores[0].instructions = r->instructions;
			r->cores[0].cycles = r->rtl_cycles;
		}
		return ret;
	}
	/* every core with code in turn, each against a fresh run of the whole chip */
	if (o->vcd_path)
		return diag_err(d, NULL,
		                "a waveform is one core's: with %u cores, pick it with --core T.C",
		                prog->ncores);
	if (prog->ncores > RTL_COSIM_MAX_CORES)
		return diag_err(d, NULL,
		                "the program has %u cores; co-simulation of all takes at "
		                "most %d (pick one with --core T.C)",
		                prog->ncores, RTL_COSIM_MAX_CORES);
	if (rtl_arch_check(arch, d))
		return -1;
	memset(r, 0, sizeof *r);
	one = xcalloc(1, sizeof *one);
	model = o->model ? o->model : rtl_model_create();
	r->agree = 1;
	for (k = 0; k < prog->ncores; k++) {
		const KCore *kc = prog->cores[k];
		Diag cd = {0};
		int i;
		if (cosim_one(arch, prog, o, kc->tile, kc->core, model, one, &cd)) {
			const char *m = cd.msg;
			if (strncmp(m, "error: ", 7) == 0)
				m += 7;
			ret = diag_err(d, NULL, "core %u.%u: %s", kc->tile, kc->core, m);
			break;
		}
		r->cores[k].tile = kc->tile;
		r->cores[k].core = kc->core;
		r->cores[k].agree = one->agree;
		r->cores[k].instructions = one->instructions;
		r->cores[k].cycles = one->rtl_cycles;
		r->ncores = k + 1;
		r->instructions += one->instructions;
		if (one->sim_cycles > r->sim_cycles)
			r->sim_cycles = one->sim_cycles;
		if (one->rtl_cycles > r->rtl_cycles)
			r->rtl_cycles = one->rtl_cycles;
		for (i = 0; i < HW_NACTIONS; i++) {
			r->sim_counts[i] += one->sim_counts[i];
			r->rtl_counts[i] += one->rtl_counts[i];
		}
		r->sim_energy_j += one->sim_energy_j;
		r->rtl_energy_j += one->rtl_energy_j;
		r->sim_host_s += one->sim_host_s;
		r->rtl_host_s += one->rtl_host_s;
		if (!one->agree) {
			int n;
			if (r->agree) /* the first disagreeing core's report */
				n = snprintf(r->report + len, sizeof r->report - len,
				             "core %u.%u:\n%s", kc->tile, kc->core, one->report);
			else
				n = snprintf(r->report + len, sizeof r->report - len,
				             "core %u.%u: MISMATCH as well\n", kc->tile, kc->core);
			if (n > 0)
				len = len + (size_t)n < sizeof r->report ? len + (size_t)n
				                                         : sizeof r->report - 1;
			r->agree = 0;
		}
	}
	if (!o->model)
		rtl_model_destroy(model);
	free(one);
	return ret;
}
