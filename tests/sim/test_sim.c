/* test_sim.c: the cycle-level simulator.
 *
 * Each tests/sim/progs/NAME.s is a test: a program with its expectations in comments, derived by
 * hand from docs/timing.md and computed independently (exact integer math, the Cox-de Boor
 * recursion, a bit-level ADC model, the SpargeAttn block-mask vector):
 *   # expect: cycles N                 chip latency
 *   # expect: core T.C cycles N        one core's halt cycle
 *   # expect: reg T.C rN = V           a register after the run
 *   # expect: spad T.C ADDR TYPE = V.. scratchpad contents (TYPE i8, i16 or i32)
 *   # expect: tmem T ADDR TYPE = V..   tile-memory contents
 *   # expect: count ACTION = N         an action count of the whole chip
 *   # expect: fault TEXT               the run stops with a fault whose message contains TEXT
 *   # set: KEY VALUE                   override an arch parameter (or max_cycles) for this test
 * Other tests: random MVMs against the plain integer product, determinism, two simulators in one
 * process, non-ideal modes and their seeds, loader validation. */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "kelf.h"
#include "sim.h"
#include "testutil.h"

#define ARCH SRC("tests/sim/sim-test.yaml")

static char *progs[64];
static int nprogs;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_progs(void)
{
	DIR *d = opendir(SRC("tests/sim/progs"));
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) && nprogs < 64) {
		size_t n = strlen(e->d_name);
		if (n > 2 && strcmp(e->d_name + n - 2, ".s") == 0)
			progs[nprogs++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(progs, (size_t)nprogs, sizeof *progs, cmp_str);
}

static int64_t
elem(const uint8_t *p, const char *ty, size_t i)
{
	if (strcmp(ty, "i8") == 0)
		return (int8_t)p[i];
	if (strcmp(ty, "i16") == 0) {
		int16_t v;
		memcpy(&v, p + 2 * i, 2);
		return v;
	}
	{
		int32_t v;
		memcpy(&v, p + 4 * i, 4);
		return v;
	}
}

static void
check_values(const uint8_t *mem, size_t size, unsigned long addr, const char *ty, const char *vals,
             const char *what)
{
	size_t i = 0, sz = ty[1] == '8' ? 1 : ty[1] == '1' ? 2 : 4;
	char *end;
	const char *p = vals;
	for (;;) {
		long long want = strtoll(p, &end, 0);
		if (end == p)
			break;
		ck_assert_msg(addr + (i + 1) * sz <= size, "%s: address out of range", what);
		ck_assert_msg(elem(mem + addr, ty, i) == want,
		              "%s element %zu: got %lld, want %lld", what, i,
		              (long long)elem(mem + addr, ty, i), want);
		i++;
		p = end;
	}
	ck_assert_msg(i > 0, "%s: no values", what);
}

START_TEST(program)
{
	const char *name = progs[_i];
	char path[512], *src, *line, *save = NULL;
	Diag d = {0};
	HwArch arch;
	KProg *prog = NULL;
	Sim *s = NULL;
	SimOptions o;
	const char *fault = NULL;
	int r;

	snprintf(path, sizeof path, "%s/tests/sim/progs/%s", KOLMO_SOURCE_DIR, name);
	src = read_file(path, 1 << 20, NULL, &d);
	ck_assert_msg(src != NULL, "%s", d.msg);
	ck_assert_msg(hw_arch_load(&arch, ARCH, &d) == 0, "%s", d.msg);
	sim_options_default(&o);
	/* First pass: settings and the expected fault. */
	{
		char *copy = strdup(src), *l2, *sv = NULL;
		for (l2 = strtok_r(copy, "\n", &sv); l2; l2 = strtok_r(NULL, "\n", &sv)) {
			char key[64], val[64];
			if (sscanf(l2, "# set: %63s %63s", key, val) == 2) {
				if (strcmp(key, "max_cycles") == 0)
					o.max_cycles = strtoull(val, NULL, 0);
				else
					ck_assert_msg(hw_arch_set(&arch, key, val, &d) == 0, "%s",
					              d.msg);
			}
			if (strncmp(l2, "# expect: fault ", 16) == 0)
				fault = strstr(src, l2) + 16;
		}
		free(copy);
	}
	ck_assert_msg(kasm_file(path, &prog, &d) == 0, "%s", d.msg);
	r = sim_new(&arch, prog, &o, &s, &d);
	if (r == 0)
		r = sim_run(s, &d);
	if (fault) {
		size_t n = strcspn(fault, "\n");
		char want[512];
		snprintf(want, sizeof want, "%.*s", (int)n, fault);
		ck_assert_msg(r != 0, "%s: expected a fault '%s', the run succeeded", name, want);
		ck_assert_msg(strstr(d.msg, want) != NULL, "%s: fault '%s' lacks '%s'", name, d.msg,
		              want);
		goto done;
	}
	ck_assert_msg(r == 0, "%s: %s", name, d.msg);
	for (line = strtok_r(src, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const SimStats *st = sim_stats(s);
		unsigned t, c, reg;
		unsigned long long n;
		unsigned long addr;
		long long v;
		char ty[8], act[64];
		int off = 0;
		if (sscanf(line, "# expect: cycles %llu", &n) == 1 && !strstr(line, "core")) {
			ck_assert_msg(st->cycles == n, "%s: cycles %llu, want %llu", name,
			              (unsigned long long)st->cycles, n);
		} else if (sscanf(line, "# expect: core %u.%u cycles %llu", &t, &c, &n) == 3) {
			uint32_t i, found = 0;
			for (i = 0; i < st->ncores; i++)
				if (st->cores[i].tile == t && st->cores[i].core == c) {
					ck_assert_msg(st->cores[i].cycles == n,
					              "%s: core %u.%u cycles %llu, want %llu", name,
					              t, c, (unsigned long long)st->cores[i].cycles,
					              n);
					found = 1;
				}
			ck_assert_msg(found, "%s: no core %u.%u", name, t, c);
		} else if (sscanf(line, "# expect: reg %u.%u r%u = %lld", &t, &c, &reg, &v) == 4) {
			ck_assert_msg(sim_reg(s, t, c, reg) == v, "%s: r%u = %d, want %lld", name,
			              reg, sim_reg(s, t, c, reg), v);
		} else if (sscanf(line, "# expect: spad %u.%u %li %7s =%n", &t, &c, &addr, ty,
		                  &off) == 4 &&
		           off) {
			size_t size;
			const uint8_t *m = sim_mem(s, KSP_SPAD, t, c, &size);
			ck_assert_ptr_nonnull(m);
			check_values(m, size, addr, ty, line + off, name);
		} else if (sscanf(line, "# expect: tmem %u %li %7s =%n", &t, &addr, ty, &off) ==
		               3 &&
		           off) {
			size_t size;
			const uint8_t *m = sim_mem(s, KSP_TMEM, t, 0, &size);
			ck_assert_ptr_nonnull(m);
			check_values(m, size, addr, ty, line + off, name);
		} else if (sscanf(line, "# expect: count %63s = %llu", act, &n) == 2) {
			int a, found = -1;
			for (a = 0; a < HW_NACTIONS; a++)
				if (strcmp(hw_actions[a].name, act) == 0)
					found = a;
			ck_assert_msg(found >= 0, "%s: unknown action %s", name, act);
			ck_assert_msg(st->counts.act[found] == n, "%s: %s = %llu, want %llu", name,
			              act, (unsigned long long)st->counts.act[found], n);
		} else {
			ck_assert_msg(strncmp(line, "# expect:", 9) != 0, "%s: unparsed '%s'", name,
			              line);
		}
	}
done:
	sim_free(s);
	kprog_free(prog);
	free(src);
}
END_TEST

/* ---- random MVMs against the plain integer product ---- */

static uint64_t rs = 12345;
static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)rs;
}

/* A one-instruction program: mvm of a rows x cols image (random weights of the arch's width) on
 * random n-bit inputs, some zero; compare with sum_r W[r][j] x[r]. */
static void
random_mvm(const char *arch_path, const char *const *sets, int bitlevel)
{
	Diag d = {0};
	HwArch arch;
	int k;
	ck_assert_msg(hw_arch_load(&arch, arch_path, &d) == 0, "%s", d.msg);
	for (; sets && sets[0]; sets += 2)
		ck_assert_msg(hw_arch_set(&arch, sets[0], sets[1], &d) == 0, "%s", d.msg);
	for (k = 0; k < 60; k++) {
		uint32_t rows = 1 + rnd() % (uint32_t)arch.mvmu.rows;
		uint32_t cols = 1 + rnd() % (uint32_t)arch.mvmu.cols;
		uint32_t nb = 1 + rnd() % (uint32_t)arch.mvmu.input_bits,
		         wb = (uint32_t)arch.mvmu.weight_bits;
		int gate = (int)(rnd() & 1), acc = (int)(rnd() & 1), ty = nb > 8 ? TY_I16 : TY_I8;
		int32_t *w = malloc(rows * cols * sizeof *w), x[4096];
		int64_t want[4096];
		uint8_t in[8192];
		KProg *p = kprog_new();
		KCore *c = kprog_core(p, 0, 0);
		Insn ins[4];
		uint64_t words[4];
		Sim *s = NULL;
		SimOptions o;
		const uint8_t *spad;
		size_t size;
		uint32_t r, j, i;
		int32_t init[4096];
		for (i = 0; i < rows * cols; i++)
			w[i] = (int32_t)(rnd() % (1u << wb)) - (1 << (wb - 1));
		for (r = 0; r < rows; r++) {
			x[r] =
			    (rnd() % 4 == 0) ? 0 : (int32_t)(rnd() % (1u << nb)) - (1 << (nb - 1));
			if (ty == TY_I8)
				in[r] = (uint8_t)x[r];
			else {
				int16_t h = (int16_t)x[r];
				memcpy(in + 2 * r, &h, 2);
			}
		}
		for (j = 0; j < cols; j++) {
			init[j] = (int32_t)(rnd() % 2001) - 1000;
			want[j] = acc ? init[j] : 0;
			for (r = 0; r < rows; r++)
				want[j] += (int64_t)w[r * cols + j] * x[r];
		}
		kprog_add_xbar(c, 0, rows, cols, wb, w);
		kprog_add_spad(c, 0x100, in, rows * (ty == TY_I8 ? 1 : 2));
		kprog_add_spad(c, 0x4000, init, cols * 4);
		memset(ins, 0, sizeof ins);
		ins[0].op = OP_addi, ins[0].a = 1, ins[0].imm = 0x100;
		ins[1].op = OP_addi, ins[1].a = 2, ins[1].imm = 0x4000;
		ins[2].op = OP_mvm, ins[2].a = 2, ins[2].b = 1, ins[2].nbits = (uint8_t)nb,
		ins[2].gate = (uint8_t)gate, ins[2].acc = (uint8_t)acc,
		ins[2].tin = ins[2].tout = (uint8_t)ty;
		ins[3].op = OP_halt;
		for (i = 0; i < 4; i++)
			words[i] = isa_encode(&ins[i]);
		kprog_add_code(c, words, 4);
		sim_options_default(&o);
		o.force_bitlevel = bitlevel;
		ck_assert_msg(sim_new(&arch, p, &o, &s, &d) == 0, "%s", d.msg);
		ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
		spad = sim_mem(s, KSP_SPAD, 0, 0, &size);
		for (j = 0; j < cols; j++) {
			int32_t got;
			memcpy(&got, spad + 0x4000 + 4 * j, 4);
			ck_assert_msg(
			    got == want[j],
			    "case %d (%ux%u, %u-bit in, gate %d, acc %d): col %u got %d want %lld",
			    k, rows, cols, nb, gate, acc, j, got, (long long)want[j]);
		}
		sim_free(s);
		kprog_free(p);
		free(w);
	}
}

START_TEST(mvm_plain_product)
{
	random_mvm(ARCH, NULL, 0);
}
END_TEST

START_TEST(mvm_bitlevel_equals_product)
{
	/* The bit-level datapath (slices, digits, offset correction) with a lossless ADC. */
	static const char *const dac2[] = {"mvmu.adc_bits", "8", "mvmu.dac_bits", "2", NULL};
	static const char *const cell1[] = {"mvmu.cell_bits", "1", NULL};
	static const char *const cell4[] = {"mvmu.adc_bits", "8", "mvmu.cell_bits", "4", NULL};
	static const char *const wide[] = {"mvmu.weight_bits",
	                                   "16",
	                                   "mvmu.input_bits",
	                                   "16",
	                                   "mvmu.adc_bits",
	                                   "8",
	                                   "mvmu.cell_bits",
	                                   "4",
	                                   NULL};
	random_mvm(ARCH, NULL, 1);
	random_mvm(ARCH, dac2, 1);
	random_mvm(ARCH, cell1, 1);
	random_mvm(ARCH, cell4, 1);
	random_mvm(ARCH, wide, 1);
}
END_TEST

START_TEST(mvm_digital_exact)
{
	random_mvm(SRC("tests/sim/sim-test-digital.yaml"), NULL, 1);
}
END_TEST

/* ---- whole-run properties ---- */

static char *
run_json(const char *prog_name, const SimOptions *o, const char *out_mem_note)
{
	char path[512];
	Diag d = {0};
	HwArch arch;
	KProg *p = NULL;
	Sim *s = NULL;
	json_t *j;
	char *txt;
	(void)out_mem_note;
	snprintf(path, sizeof path, "%s/tests/sim/progs/%s", KOLMO_SOURCE_DIR, prog_name);
	ck_assert_msg(hw_arch_load(&arch, ARCH, &d) == 0, "%s", d.msg);
	ck_assert_msg(kasm_file(path, &p, &d) == 0, "%s", d.msg);
	ck_assert_msg(sim_new(&arch, p, o, &s, &d) == 0, "%s", d.msg);
	ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
	j = sim_stats_json(s, &arch);
	{
		size_t size;
		const uint8_t *m = sim_mem(s, KSP_SPAD, 0, 0, &size);
		json_object_set_new(j, "out0", json_integer(m[0x200] | m[0x201] << 8));
	}
	txt = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(j);
	sim_free(s);
	kprog_free(p);
	return txt;
}

START_TEST(deterministic_stats)
{
	SimOptions o;
	char *a, *b;
	sim_options_default(&o);
	a = run_json("mvm.s", &o, NULL);
	b = run_json("mvm.s", &o, NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(nonideal_seeded)
{
	SimOptions o;
	char *a, *b, *c, *ideal;
	sim_options_default(&o);
	ideal = run_json("mvm.s", &o, NULL);
	o.g_sigma = 0.2;
	o.read_noise = 1.0;
	o.seed = 7;
	a = run_json("mvm.s", &o, NULL);
	b = run_json("mvm.s", &o, NULL);
	o.seed = 8;
	c = run_json("mvm.s", &o, NULL);
	ck_assert_str_eq(a, b);     /* same seed: byte-identical */
	ck_assert_str_ne(a, c);     /* another seed: another draw */
	ck_assert_str_ne(a, ideal); /* the noise changes the result */
	free(a);
	free(b);
	free(c);
	free(ideal);
}
END_TEST

START_TEST(two_simulators_interleaved)
{
	/* Two contexts in one process do not share state: run both, each matches a solo run. */
	char path[512];
	Diag d = {0};
	HwArch arch;
	KProg *p1 = NULL, *p2 = NULL;
	Sim *s1 = NULL, *s2 = NULL;
	SimOptions o;
	sim_options_default(&o);
	ck_assert(hw_arch_load(&arch, ARCH, &d) == 0);
	snprintf(path, sizeof path, "%s/tests/sim/progs/scalar_loop.s", KOLMO_SOURCE_DIR);
	ck_assert(kasm_file(path, &p1, &d) == 0);
	snprintf(path, sizeof path, "%s/tests/sim/progs/noc.s", KOLMO_SOURCE_DIR);
	ck_assert(kasm_file(path, &p2, &d) == 0);
	ck_assert(sim_new(&arch, p1, &o, &s1, &d) == 0);
	ck_assert(sim_new(&arch, p2, &o, &s2, &d) == 0);
	ck_assert(sim_run(s2, &d) == 0);
	ck_assert(sim_run(s1, &d) == 0);
	ck_assert_uint_eq(sim_stats(s1)->cycles, 32);
	ck_assert_uint_eq(sim_stats(s2)->cycles, 21);
	ck_assert_int_eq(sim_reg(s1, 0, 0, 2), 30);
	sim_free(s1);
	sim_free(s2);
	kprog_free(p1);
	kprog_free(p2);
}
END_TEST

START_TEST(loader_rejects_mismatch)
{
	Diag d = {0};
	HwArch arch;
	KProg *p = kprog_new();
	KCore *c;
	Sim *s = NULL;
	uint64_t halt = (uint64_t)OP_halt << 56;
	int32_t w[64 * 4] = {0};
	ck_assert(hw_arch_load(&arch, ARCH, &d) == 0);
	/* A core beyond the chip. */
	c = kprog_core(p, 9, 0);
	kprog_add_code(c, &halt, 1);
	ck_assert_int_ne(sim_new(&arch, p, NULL, &s, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "tile 9 core 0"));
	kprog_free(p);
	/* A crossbar image larger than the arrays. */
	p = kprog_new();
	c = kprog_core(p, 0, 0);
	kprog_add_code(c, &halt, 1);
	kprog_add_xbar(c, 0, 64, 4, 8, w);
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(sim_new(&arch, p, NULL, &s, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "64x4"));
	kprog_free(p);
	/* Compiled for another architecture. */
	p = kprog_new();
	c = kprog_core(p, 0, 0);
	kprog_add_code(c, &halt, 1);
	kprog_set_arch(p, "other", 0x1234);
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(sim_new(&arch, p, NULL, &s, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "compiled for architecture 'other'"));
	kprog_free(p);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("sim");
	TCase *tp = tcase_create("programs"), *tm = tcase_create("mvm"), *tr = tcase_create("runs");
	SRunner *sr;
	int nf;
	list_progs();
	tcase_add_loop_test(tp, program, 0, nprogs);
	tcase_add_test(tm, mvm_plain_product);
	tcase_add_test(tm, mvm_bitlevel_equals_product);
	tcase_add_test(tm, mvm_digital_exact);
	tcase_set_timeout(tm, 60);
	tcase_add_test(tr, deterministic_stats);
	tcase_add_test(tr, nonideal_seeded);
	tcase_add_test(tr, two_simulators_interleaved);
	tcase_add_test(tr, loader_rejects_mismatch);
	suite_add_tcase(su, tp);
	suite_add_tcase(su, tm);
	suite_add_tcase(su, tr);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
