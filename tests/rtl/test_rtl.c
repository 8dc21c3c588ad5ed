/* test_rtl.c: RTL co-simulation (rtl/, kolmo cosim).
 *
 * - every program of tests/sim/progs passes co-simulation on both test architectures (analog and
 *   digital) with identical cycles, action counts and energy, and the cycles equal the program's
 *   hand-derived expectation; multi-core programs core by core (the other cores' traffic replayed
 *   from the C simulator) and all cores in turn;
 * - compiled multi-core programs (wide_kan on edge-kan, batch_mlp on sim-test): every core agrees,
 *   and an injected bug on one core of them is caught;
 * - programs that fault in the C simulator fault in the RTL at the same instruction;
 * - the injected-bug hook (data and timing bugs in several instruction classes) is caught, and the
 *   report names the cycle, pc and instruction;
 * - kolmo cosim: agreement, --json keys, --vcd waveform, bad inputs (clear error, non-zero exit,
 *   no waveform left behind).
 * The random-program test lives in test_rtl_random.c. Co-simulations run under CK_FORK. */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "rtl.h"
#include "testutil.h"

#define ARCH         SRC("tests/sim/sim-test.yaml")
#define ARCH_DIGITAL SRC("tests/sim/sim-test-digital.yaml")

static char *progs[64];
static int nprogs;

/* The program's text (malloc'd). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	return buf;
}

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

/* Apply the program's "# set: KEY VALUE" lines; max_cycles goes to *max_cycles. Returns -1 if
 * the architecture refuses a setting (e.g. ADC bits on a digital array). */
static int
apply_sets(const char *text, HwArch *arch, uint64_t *max_cycles)
{
	const char *p = text;
	while ((p = strstr(p, "# set: ")) != NULL) {
		char key[64], val[64];
		Diag d = {0};
		if (sscanf(p + 7, "%63s %63s", key, val) == 2) {
			if (strcmp(key, "max_cycles") == 0)
				*max_cycles = strtoull(val, NULL, 10);
			else if (hw_arch_set(arch, key, val, &d))
				return -1;
		}
		p += 7;
	}
	return 0;
}

static void
cosim_prog(const char *name, const char *arch_path, int check_expect)
{
	char path[512];
	char *text;
	HwArch arch;
	KProg *prog;
	Diag d = {0};
	RtlCosimOptions o;
	RtlCosimResult *r = calloc(1, sizeof *r);
	const char *ex;
	int st, i;
	snprintf(path, sizeof path, "%s/tests/sim/progs/%s", KOLMO_SOURCE_DIR, name);
	text = slurp(path);
	ck_assert(text);
	ck_assert_msg(hw_arch_load(&arch, arch_path, &d) == 0, "%s", d.msg);
	rtl_cosim_options_default(&o);
	if (apply_sets(text, &arch, &o.max_cycles)) {
		free(text);
		free(r);
		return; /* the setting does not apply to this architecture */
	}
	ck_assert_msg(kasm_file(path, &prog, &d) == 0, "%s", d.msg);
	st = rtl_cosim(&arch, prog, &o, r, &d);
	if (strstr(text, "# expect: fault")) {
		ck_assert_msg(st == -1, "%s: a faulting program must be an error", name);
		ck_assert_msg(strstr(d.msg, "the C simulator faults"), "%s: %s", name, d.msg);
		/* instruction faults: the RTL faults at the same instruction */
		if (!strstr(text, "never received") && !strstr(text, "cycle limit") &&
		    !strstr(text, "blocked forever"))
			ck_assert_msg(strstr(d.msg, "the RTL agrees"), "%s: %s", name, d.msg);
	} else {
		ck_assert_msg(st == 0, "%s: %s", name, d.msg);
		ck_assert_msg(r->agree, "%s on %s:\n%s", name, arch_path, r->report);
		ck_assert_uint_eq(r->sim_cycles, r->rtl_cycles);
		for (i = 0; i < HW_NACTIONS; i++)
			ck_assert_msg(r->sim_counts[i] == r->rtl_counts[i], "%s: %s", name,
			              hw_actions[i].name);
		ck_assert_msg(r->sim_energy_j == r->rtl_energy_j && r->rtl_energy_j > 0,
		              "%s: energy %.17g vs %.17g", name, r->sim_energy_j, r->rtl_energy_j);
		if (check_expect && (ex = strstr(text, "# expect: cycles ")) != NULL)
			ck_assert_uint_eq(r->rtl_cycles, strtoull(ex + 17, NULL, 10));
		ck_assert_uint_eq(r->ncores, prog->ncores);
		/* core by core, as --core T.C does */
		for (i = 0; prog->ncores > 1 && i < (int)prog->ncores; i++) {
			RtlCosimResult *one = calloc(1, sizeof *one);
			o.tile = (int)prog->cores[i]->tile;
			o.core = (int)prog->cores[i]->core;
			ck_assert_msg(rtl_cosim(&arch, prog, &o, one, &d) == 0, "%s: %s", name,
			              d.msg);
			ck_assert_msg(one->agree, "%s core %d.%d on %s:\n%s", name, o.tile, o.core,
			              arch_path, one->report);
			ck_assert_uint_eq(one->sim_cycles, one->rtl_cycles);
			ck_assert_uint_eq(one->rtl_cycles, r->cores[i].cycles);
			free(one);
		}
	}
	kprog_free(prog);
	free(text);
	free(r);
}

START_TEST(test_progs_analog)
{
	cosim_prog(progs[_i], ARCH, 1);
}
END_TEST

START_TEST(test_progs_digital)
{
	cosim_prog(progs[_i], ARCH_DIGITAL, 0);
}
END_TEST

/* ---- compiled multi-core programs ---- */

static const struct {
	const char *kir, *arch;
	unsigned ncores;
} compiled[] = {
    {"examples/kan/wide_kan.kir", "hwmodels/configs/edge-kan.yaml", 8},
    {"tests/compiler/cases/batch_mlp.kir", "tests/sim/sim-test.yaml", 3},
};

/* Compile case i into dir; the binary's path in kelf. */
static void
compile_case(int i, const char *dir, char *kelf, size_t n)
{
	char cmd[2048], *out = NULL;
	snprintf(kelf, n, "%s/m.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s/%s --arch %s/%s -o %s", KOLMO_BIN,
	         KOLMO_SOURCE_DIR, compiled[i].kir, KOLMO_SOURCE_DIR, compiled[i].arch, kelf);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	free(out);
}

START_TEST(test_compiled_multicore)
{
	char dir[64], kelf[128];
	HwArch arch;
	KProg *prog;
	Diag d = {0};
	RtlCosimOptions o;
	RtlCosimResult *r = calloc(1, sizeof *r);
	char path[512];
	uint32_t k;
	make_tmpdir(dir, sizeof dir);
	compile_case(_i, dir, kelf, sizeof kelf);
	snprintf(path, sizeof path, "%s/%s", KOLMO_SOURCE_DIR, compiled[_i].arch);
	ck_assert_msg(hw_arch_load(&arch, path, &d) == 0, "%s", d.msg);
	ck_assert_msg(kelf_read_file(kelf, &prog, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(prog->ncores, compiled[_i].ncores);
	rtl_cosim_options_default(&o);
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0, "%s", d.msg);
	ck_assert_msg(r->agree, "%s:\n%s", compiled[_i].kir, r->report);
	ck_assert_uint_eq(r->ncores, compiled[_i].ncores);
	ck_assert_uint_eq(r->sim_cycles, r->rtl_cycles);
	for (k = 0; k < r->ncores; k++) {
		ck_assert(r->cores[k].agree);
		ck_assert_uint_gt(r->cores[k].instructions, 0);
	}
	for (k = 0; k < HW_NACTIONS; k++)
		ck_assert_msg(r->sim_counts[k] == r->rtl_counts[k], "%s", hw_actions[k].name);
	/* an injected bug on one core: caught there, at the instruction for a timing bug */
	o.tile = (int)prog->cores[1]->tile;
	o.core = (int)prog->cores[1]->core;
	o.bug_op = isa_lookup("recv", 4);
	o.bug_kind = 1;
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0, "%s", d.msg);
	ck_assert_msg(!r->agree, "recv:late not caught on core %d.%d", o.tile, o.core);
	ck_assert_msg(strstr(r->report, "recv") && strstr(r->report, "<-- differs"), "%s",
	              r->report);
	snprintf(path, sizeof path, "of tile %d core %d", o.tile, o.core);
	ck_assert_msg(strstr(r->report, path), "%s", r->report);
	o.bug_op = isa_lookup("addi", 4);
	o.bug_kind = 0;
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0, "%s", d.msg);
	ck_assert_msg(!r->agree && strstr(r->report, "MISMATCH"), "addi bug not caught");
	/* and when every core runs in turn: the report names the core */
	o.tile = o.core = -1;
	o.bug_op = isa_lookup("tld", 3);
	o.bug_kind = 1;
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0, "%s", d.msg);
	ck_assert_msg(!r->agree && strstr(r->report, "core ") && strstr(r->report, "tld"), "%s",
	              r->report);
	kprog_free(prog);
	remove(kelf);
	rmdir(dir);
	free(r);
}
END_TEST

/* Tile memory and the DMA engine shared by two cores of a tile: core 0.0 reads what 0.1 stored
 * and loaded by DMA (copied into its RTL before the tld) and waits for 0.1's DMA (the engine's
 * busy time replayed). */
START_TEST(test_shared_tile)
{
	static const char prog_text[] = ".core 0 1\n"
	                                "\taddi r1, r0, 0\n\taddi r2, r0, 0x40\n\taddi r3, r0, 16\n"
	                                "\taddi r4, r0, 77\n\tsw r4, 0(r1)\n\ttst r1, r2, r3\n"
	                                "\taddi r2, r0, 0x80\n\tdld r2, r0, r3\n\tbar 0\n\thalt\n"
	                                ".core 0 0\n"
	                                "\taddi r1, r0, 0\n\taddi r2, r0, 0x40\n\taddi r3, r0, 32\n"
	                                "\tbar 0\n\twait 0x10000\n\ttld r1, r2, r3\n"
	                                "\tlw r5, 0(r1)\n\tlw r6, 0x10(r1)\n\thalt\n"
	                                ".dram 0x0\n.word 5 6 7 8\n";
	char dir[64], path[128];
	FILE *f;
	HwArch arch;
	KProg *prog;
	Diag d = {0};
	RtlCosimOptions o;
	RtlCosimResult *r = calloc(1, sizeof *r);
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/shared.s", dir);
	f = fopen(path, "w");
	ck_assert(f && fputs(prog_text, f) >= 0);
	fclose(f);
	ck_assert(hw_arch_load(&arch, ARCH, &d) == 0);
	ck_assert_msg(kasm_file(path, &prog, &d) == 0, "%s", d.msg);
	rtl_cosim_options_default(&o);
	o.tile = 0;
	o.core = 0;
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0, "%s", d.msg);
	ck_assert_msg(r->agree, "%s", r->report);
	o.tile = o.core = -1;
	ck_assert_msg(rtl_cosim(&arch, prog, &o, r, &d) == 0 && r->agree, "%s%s", d.msg, r->report);
	kprog_free(prog);
	remove(path);
	rmdir(dir);
	free(r);
}
END_TEST

START_TEST(test_cli_multicore)
{
	char *out = NULL, cmd[2048], dir[64], kelf[128];
	make_tmpdir(dir, sizeof dir);
	compile_case(1, dir, kelf, sizeof kelf);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s", KOLMO_BIN, kelf, ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "on 3 cores") && strstr(out, "core 0.1:"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --core 1.0 --json", KOLMO_BIN, kelf, ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"agree\": true") && strstr(out, "\"core\": \"1.0\""), "%s",
	              out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --core 0.1 --inject-bug recv:late",
	         KOLMO_BIN, kelf, ARCH);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_msg(strstr(out, "MISMATCH") && strstr(out, "tile 0 core 1"), "%s", out);
	free(out);
	/* a waveform is one core's */
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --vcd %s/w.vcd", KOLMO_BIN, kelf, ARCH,
	         dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "--core"), "%s", out);
	free(out);
	remove(kelf);
	rmdir(dir);
}
END_TEST

/* ---- injected bugs ---- */

/* A random program for arch that contains opcode op (searching seeds). */
static KProg *
prog_with(const HwArch *arch, int op, uint64_t *seed)
{
	uint64_t s;
	uint32_t i;
	for (s = 1; s < 500; s++) {
		KProg *p = rtl_randprog(arch, s, 300);
		const KCore *kc = p->cores[0];
		for (i = 0; i < kc->ncode; i++)
			if ((int)(kc->code[i] >> 56) == op) {
				*seed = s;
				return p;
			}
		kprog_free(p);
	}
	return NULL;
}

static const struct {
	const char *mnem;
	int late;
} bugs[] = {
    {"add", 0},    {"addi", 0}, {"lw", 0},   {"vadd", 0}, {"vmac", 0},    {"vdot", 0}, {"vlut", 0},
    {"vrecip", 0}, {"topk", 0}, {"topp", 0}, {"sbu", 0},  {"mvm", 0},     {"mvm", 1},  {"xbw", 1},
    {"xbwt", 1},   {"tld", 1},  {"dld", 1},  {"dbnz", 1}, {"vredsum", 1}, {"wait", 1},
};

START_TEST(test_bug_caught)
{
	HwArch arch;
	Diag d = {0};
	RtlCosimOptions o;
	RtlCosimResult *r = calloc(1, sizeof *r);
	KProg *p;
	uint64_t seed = 0;
	int op;
	op = isa_lookup(bugs[_i].mnem, strlen(bugs[_i].mnem));
	ck_assert_int_ge(op, 0);
	ck_assert(hw_arch_load(&arch, ARCH, &d) == 0);
	p = prog_with(&arch, op, &seed);
	ck_assert_msg(p, "no random program with %s", bugs[_i].mnem);
	rtl_cosim_options_default(&o);
	ck_assert_msg(rtl_cosim(&arch, p, &o, r, &d) == 0 && r->agree,
	              "seed %llu without bug: %s%s", (unsigned long long)seed, d.msg, r->report);
	o.bug_op = op;
	o.bug_kind = bugs[_i].late;
	ck_assert_int_eq(rtl_cosim(&arch, p, &o, r, &d), 0);
	ck_assert_msg(!r->agree, "injected %s%s bug not caught (seed %llu)", bugs[_i].mnem,
	              bugs[_i].late ? ":late" : "", (unsigned long long)seed);
	ck_assert(strstr(r->report, "MISMATCH"));
	if (bugs[_i].late) /* a timing bug shows at the instruction itself */
		ck_assert_msg(strstr(r->report, bugs[_i].mnem) && strstr(r->report, "<-- differs"),
		              "%s", r->report);
	kprog_free(p);
	free(r);
}
END_TEST

/* ---- the CLI ---- */

START_TEST(test_cli_agree_json_vcd)
{
	char *out = NULL, cmd[2048], dir[64], vcd[128];
	FILE *f;
	char head[16] = "";
	make_tmpdir(dir, sizeof dir);
	snprintf(vcd, sizeof vcd, "%s/w.vcd", dir);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --json --vcd %s", KOLMO_BIN,
	         SRC("tests/sim/progs/mvm.s"), ARCH, vcd);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"agree\": true"), "%s", out);
	ck_assert(strstr(out, "\"rtl\": 38"));
	ck_assert(strstr(out, "\"energy_j\""));
	ck_assert(strstr(out, "\"adc_convert\""));
	free(out);
	f = fopen(vcd, "r");
	ck_assert_msg(f, "no waveform written");
	ck_assert(fread(head, 1, 5, f) == 5);
	fclose(f);
	ck_assert_msg(strncmp(head, "$", 1) == 0, "not a VCD: %s", head);
	remove(vcd);
	rmdir(dir);

	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s", KOLMO_BIN,
	         SRC("tests/sim/progs/vector_ops.s"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "cosim: agree: 22 instructions"), "%s", out);
	free(out);
}
END_TEST

START_TEST(test_cli_mismatch_report)
{
	char *out = NULL, cmd[2048];
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --inject-bug vadd", KOLMO_BIN,
	         SRC("tests/sim/progs/vector.s"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_msg(strstr(out, "MISMATCH"), "%s", out);
	free(out);
	/* a timing bug: the report names the cycle, pc and instruction, expected and actual */
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --inject-bug mvm:late", KOLMO_BIN,
	         SRC("tests/sim/progs/mvm.s"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_msg(strstr(out, "cycle 2, pc 2: `mvm.i8 r3, r1, 0, 8, gate`"), "%s", out);
	ck_assert_msg(strstr(out, "next issue     expected (C simulator) 3"), "%s", out);
	ck_assert_msg(strstr(out, "last agreeing instructions:"), "%s", out);
	ck_assert_msg(strstr(out, "addi r3, r0, 512"), "%s", out);
	free(out);
}
END_TEST

START_TEST(test_cli_bad_input)
{
	char *out = NULL, cmd[2048], dir[64], path[128], vcd[128];
	FILE *f;
	make_tmpdir(dir, sizeof dir);
	/* missing file */
	snprintf(cmd, sizeof cmd, "%s cosim %s/none.kelf --arch %s", KOLMO_BIN, dir, ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "error"), "%s", out);
	free(out);
	/* not a binary */
	snprintf(path, sizeof path, "%s/junk.kelf", dir);
	f = fopen(path, "w");
	fputs("this is not an ELF file\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s", KOLMO_BIN, path, ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "error"), "%s", out);
	free(out);
	/* no --arch, bad --arch */
	snprintf(cmd, sizeof cmd, "%s cosim %s", KOLMO_BIN, SRC("tests/sim/progs/alu.s"));
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "--arch"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s", KOLMO_BIN, SRC("tests/sim/progs/alu.s"),
	         path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "error"), "%s", out);
	free(out);
	/* an architecture beyond the RTL's maxima: clear error, no waveform left behind */
	snprintf(vcd, sizeof vcd, "%s/w.vcd", dir);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --set mvmu.rows=512 --vcd %s", KOLMO_BIN,
	         SRC("tests/sim/progs/alu.s"), ARCH, vcd);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "mvmu.rows 512 is beyond the RTL core's maximum 256"), "%s", out);
	free(out);
	ck_assert_msg(access(vcd, F_OK) != 0, "a waveform was left behind");
	/* a core without code; bad --core and --inject-bug */
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --core 1.0", KOLMO_BIN,
	         SRC("tests/sim/progs/noc.s"), ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "no code for tile 1 core 0"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --core x", KOLMO_BIN,
	         SRC("tests/sim/progs/alu.s"), ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "T.C"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s --inject-bug nosuch", KOLMO_BIN,
	         SRC("tests/sim/progs/alu.s"), ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "inject-bug"), "%s", out);
	free(out);
	/* a faulting program: non-zero, the fault is named */
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s", KOLMO_BIN,
	         SRC("tests/sim/progs/fault_load.s"), ARCH);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "out of range") && strstr(out, "the RTL agrees"), "%s", out);
	free(out);
	remove(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_arch_limits)
{
	static const char *const cfgs[] = {"edge-kan", "isaac", "puma", "sram-cim"};
	HwArch arch;
	Diag d = {0};
	char path[512];
	unsigned i;
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/hwmodels/configs/%s.yaml", KOLMO_SOURCE_DIR,
		         cfgs[i]);
		ck_assert_msg(hw_arch_load(&arch, path, &d) == 0, "%s", d.msg);
		ck_assert_msg(rtl_arch_check(&arch, &d) == 0, "%s: %s", cfgs[i], d.msg);
	}
	ck_assert(hw_arch_set(&arch, "mvmu.cols", "1024", &d) == 0);
	ck_assert_int_eq(rtl_arch_check(&arch, &d), -1);
	ck_assert(strstr(d.msg, "mvmu.cols"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rtl");
	TCase *tc = tcase_create("progs");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_progs_analog, 0, nprogs);
	tcase_add_loop_test(tc, test_progs_digital, 0, nprogs);
	suite_add_tcase(s, tc);
	tc = tcase_create("bugs");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_bug_caught, 0, (int)(sizeof bugs / sizeof *bugs));
	suite_add_tcase(s, tc);
	tc = tcase_create("multicore");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_compiled_multicore, 0,
	                    (int)(sizeof compiled / sizeof *compiled));
	tcase_add_test(tc, test_shared_tile);
	tcase_add_test(tc, test_cli_multicore);
	suite_add_tcase(s, tc);
	tc = tcase_create("cli");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli_agree_json_vcd);
	tcase_add_test(tc, test_cli_mismatch_report);
	tcase_add_test(tc, test_cli_bad_input);
	tcase_add_test(tc, test_arch_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;
	list_progs();
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
