/* test_limits.c: huge or malicious inputs are refused with a clear error, a non-zero exit and in
 * bounded time, never by an out-of-memory kill or a hang (docs/hardening.md section 3). */
#include <check.h>
#include <elf.h>
#include <time.h>

#include "cc.h"
#include "kelf.h"
#include "testutil.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A 10^9-element random weight would take 4 GB when loaded: the weight budget refuses it. */
static const char *huge_weight = "kir 1\n"
                                 "graph huge {\n"
                                 "  input x : f32[1, 1000]\n"
                                 "  weight w : f32[1000000, 1000] = random(normal, 0, 1, seed=1)\n"
                                 "  %y = linear(x, w) : f32[1, 1000000]\n"
                                 "  output y = %y\n"
                                 "}\n";

START_TEST(weight_budget_api)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(huge_weight, strlen(huge_weight), "huge.kir", NULL,
	                        IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_ptr_null(g);
	ck_assert_msg(strstr(d.msg, "huge.kir:4:") && strstr(d.msg, "1000000000 elements") &&
	                  strstr(d.msg, "budget of 268435456"),
	              "%s", d.msg);
	/* a raised budget is honoured (checked on a small graph with a tiny budget) */
	d.set = 0;
	g = ir_parse_mem(huge_weight, strlen(huge_weight), "huge.kir", NULL, 0, &d);
	ck_assert_ptr_nonnull(g);
	g->max_weight_elems = 10;
	ck_assert_int_eq(ir_load_weights(g, &d), -1);
	ck_assert_msg(strstr(d.msg, "budget of 10 "), "%s", d.msg);
	ir_free(g);
}
END_TEST

START_TEST(weight_budget_cli)
{
	char dir[64], path[128], cmd[512], *out;
	double t0 = now_s();
	int rc;
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/huge.kir", dir);
	ck_assert_int_eq(write_text(path, huge_weight), 0);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s/h.kelf", KOLMO_BIN, path,
	         SRC("hwmodels/configs/edge-kan.yaml"), dir);
	rc = run(cmd, &out);
	ck_assert_int_ne(rc, 0);
	ck_assert_msg(rc < 128, "killed by a signal: %s", out);
	ck_assert_msg(strstr(out, "over the budget") && strstr(out, "--max-weight-elems"), "%s",
	              out);
	ck_assert_msg(now_s() - t0 < 5, "took %.1f s", now_s() - t0);
	free(out);
	remove(path);
	rmdir(dir);
}
END_TEST

/* A compile whose estimated memory is over CcOptions.max_mem_bytes stops before the passes. */
START_TEST(compile_memory_budget)
{
	Diag d = {0};
	HwArch arch;
	CcOptions o;
	KProg *p;
	Graph *g = ir_parse_file(SRC("examples/kan/digits_kan.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_int_eq(hw_arch_load(&arch, SRC("hwmodels/configs/edge-kan.yaml"), &d), 0);
	cc_options_default(&o);
	ck_assert_uint_gt(cc_mem_estimate(g, &o), 1u << 16);
	o.max_mem_bytes = 1u << 16;
	ck_assert_int_eq(cc_compile(g, &arch, &o, &p, NULL, &d), -1);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(d.msg, "over the budget of 0 MiB") || strstr(d.msg, "over the budget"),
	              "%s", d.msg);
	d.set = 0;
	o.max_mem_bytes = 0; /* the default is ample for the bundled model */
	ck_assert_msg(cc_compile(g, &arch, &o, &p, NULL, &d) == 0, "%s", d.msg);
	kprog_free(p);
	ir_free(g);
}
END_TEST

/* A section header claiming 4 GiB is refused by the reader without allocating it. */
START_TEST(kelf_huge_section)
{
	Diag d = {0};
	KProg *p;
	size_t n, i, patched = 0;
	char *img = read_file(SRC("tests/fuzz/corpus/fuzz_kelf/basic.kelf"), 1 << 20, &n, &d);
	Elf64_Ehdr eh;
	ck_assert_msg(img != NULL, "%s", d.msg);
	memcpy(&eh, img, sizeof eh);
	for (i = 1; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		size_t at = eh.e_shoff + i * eh.e_shentsize;
		ck_assert_uint_le(at + sizeof sh, n);
		memcpy(&sh, img + at, sizeof sh);
		if (sh.sh_type == SHT_PROGBITS) {
			sh.sh_size = (Elf64_Xword)1 << 32;
			memcpy(img + at, &sh, sizeof sh);
			patched++;
		}
	}
	ck_assert_uint_gt(patched, 0);
	ck_assert_int_eq(kelf_read_mem(img, n, "huge.kelf", &p, &d), -1);
	ck_assert_msg(strstr(d.msg, "huge.kelf: error: ") &&
	                  strstr(d.msg, "exceeds the 1 GiB limit"),
	              "%s", d.msg);
	free(img);
}
END_TEST

/* A tight infinite loop stops at --max-insns with the limit message, within a second. */
START_TEST(sim_max_insns)
{
	char dir[64], s[128], k[128], cmd[1024], *out;
	double t0;
	int rc;
	make_tmpdir(dir, sizeof dir);
	snprintf(s, sizeof s, "%s/spin.s", dir);
	snprintf(k, sizeof k, "%s/spin.kelf", dir);
	ck_assert_int_eq(write_text(s, ".core 0 0\nspin:\n\tjmp spin\n"), 0);
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s", KOLMO_BIN, s, k);
	rc = run(cmd, &out);
	ck_assert_msg(rc == 0, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s --max-insns 1000000", KOLMO_BIN, k,
	         SRC("tests/sim/sim-test.yaml"));
	t0 = now_s();
	rc = run(cmd, &out);
	ck_assert_msg(rc != 0 && rc < 128, "rc %d: %s", rc, out);
	ck_assert_msg(strstr(out, "instruction limit of 1000000 reached"), "%s", out);
	ck_assert_msg(now_s() - t0 < 1.0, "took %.2f s", now_s() - t0);
	free(out);
	remove(s);
	remove(k);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, weight_budget_api);
	tcase_add_test(tc, weight_budget_cli);
	tcase_add_test(tc, compile_memory_budget);
	tcase_add_test(tc, kelf_huge_section);
	tcase_add_test(tc, sim_max_insns);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
