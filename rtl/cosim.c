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
compare_mem(Ctx *x, RtlCore *c, int space, const uint8_t *exp, uint32_t size)
{
	uint8_t *act = xmalloc(size + 8);
	uint32_t i, first = 0, ndiff = 0;
	rtl_core_read(c, space, 0, act, size);
	for (i = 0; i < size; i++)
		if (exp[i] != act[i] && ndiff++ == 0)
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

int
rtl_cosim(const HwArch *arch, const KProg *prog, const RtlCosimOptions *o, RtlCosimResult *r,
          Diag *d)
{
	Ctx x;
	Sim *s = NULL;
	RtlCore *c = NULL;
	SimOptions so;
	uint32_t tile, core;
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
	x.history = o->history > 0 ? (o->history < HIST_MAX ? o->history : HIST_MAX) : 8;
	if (o->tile >= 0) {
		tile = (uint32_t)o->tile;
		core = (uint32_t)(o->core >= 0 ? o->core : 0);
	} else {
		if (prog->ncores != 1)
			return diag_err(
			    d, NULL,
			    "the program has %u cores; co-simulation runs one core: pick it "
			    "with --core T.C",
			    prog->ncores);
		tile = prog->cores[0]->tile;
		core = prog->cores[0]->core;
	}
	x.kc = kprog_find_core(prog, tile, core);
	if (!x.kc)
		return diag_err(d, NULL, "the program has no code for tile %u core %u", tile, core);
	if (prog->ncores != 1)
		return diag_err(
		    d, NULL,
		    "multi-core programs (%u cores) are not co-simulated yet: the replay of "
		    "messages and barrier releases from the C simulator is future work",
		    prog->ncores);
	if (rtl_arch_check(arch, d))
		return -1;
	sim_options_default(&so);
	so.max_cycles = max_cycles;
	if (sim_new(arch, prog, &so, &s, d))
		return -1;
	if (rtl_core_new(arch, prog, tile, core, o->model, o->vcd_path, o->bug_op, o->bug_kind, &c,
	                 d))
		goto out;

	for (;;) {
		SimRetire rt;
		RtlRetire rr;
		Diag rd = {0};
		t0 = now_s();
		st = sim_step(s, &rt, &sd);
		r->sim_host_s += now_s() - t0;
		if (st < 0) {
			if (check_fault(&x, c, &sd, d))
				goto out;
			goto done;
		}
		if (st == 0)
			break;
		if (rt.blocked)
			continue;
		t0 = now_s();
		st = rtl_core_step(c, rt.next_cycle + 64, &rr, &rd);
		r->rtl_host_s += now_s() - t0;
		if (st != 1) {
			mismatch_head(&x, &rt, "the RTL does not retire it");
			say(&x, "  C simulator: issue cycle %llu, next issue %llu\n  RTL: %s\n",
			    (unsigned long long)rt.cycle, (unsigned long long)rt.next_cycle,
			    st == 0 ? "has halted" : rd.msg);
			show_history(&x);
			goto done;
		}
		if (compare_retire(&x, s, &rt, &rr))
			goto done;
		x.hist[x.nhist % HIST_MAX].rt = rt;
		disasm(&x, rt.pc, x.hist[x.nhist % HIST_MAX].dis, sizeof x.hist[0].dis);
		x.nhist++;
	}
	if (sim_finish(s, &sd)) {
		diag_err(d, NULL, "the C simulator faults: %s", sd.msg);
		goto out;
	}
	r->instructions = x.nhist;
	r->sim_cycles = sim_stats(s)->cycles;
	r->rtl_cycles = rtl_core_cycles(c);
	memcpy(r->sim_counts, sim_stats(s)->counts.act, sizeof r->sim_counts);
	rtl_core_counts(c, r->rtl_counts);
	sim_energy(s, arch, &es);
	hw_ert_build(arch, &ert);
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
		if (compare_mem(&x, c, KSP_SPAD, m, (uint32_t)n))
			goto done;
		m = sim_mem(s, KSP_TMEM, tile, core, &n);
		if (compare_mem(&x, c, KSP_TMEM, m, (uint32_t)n))
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
	rtl_core_free(c);
	sim_free(s);
	return ret;
}
