/* test_rtl_random.c: constrained-random programs (rtl_randprog) through lockstep co-simulation on
 * the test architectures and the bundled configs whose scratchpad holds the generator's layout:
 * a few hundred seeds, each a few hundred instructions of every class, must agree instruction by
 * instruction and in the final state, cycles and energy. A failing seed is printed; reproduce it
 * with the seed and `kolmo cosim` on the written binary (docs/rtl.md). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rtl.h"
#include "testutil.h"

static const struct {
	const char *arch;
	uint64_t first, count;
	unsigned ninsns;
} runs[] = {
    {"tests/sim/sim-test.yaml", 1, 400, 500},
    {"tests/sim/sim-test-digital.yaml", 1001, 250, 500},
    {"hwmodels/configs/edge-kan.yaml", 2001, 150, 400},
    {"hwmodels/configs/sram-cim.yaml", 3001, 150, 400},
    {"hwmodels/configs/isaac.yaml", 4001, 100, 300},
};

/* The sanitizer build runs every configuration on a tenth of the seeds: the bit-level datapaths
 * of the large lossy arrays (isaac) are ~30x slower there; the plain build runs them all. */
#if defined(__SANITIZE_ADDRESS__)
enum { SEED_DIVISOR = 10 };
#else
enum { SEED_DIVISOR = 1 };
#endif

START_TEST(test_random)
{
	HwArch arch;
	Diag d = {0};
	char path[512];
	RtlCosimOptions o;
	RtlCosimResult *r = calloc(1, sizeof *r);
	uint64_t s;
	snprintf(path, sizeof path, "%s/%s", KOLMO_SOURCE_DIR, runs[_i].arch);
	ck_assert_msg(hw_arch_load(&arch, path, &d) == 0, "%s", d.msg);
	rtl_cosim_options_default(&o);
	o.model = rtl_model_create(); /* one model, reset between programs */
	for (s = runs[_i].first; s < runs[_i].first + runs[_i].count / SEED_DIVISOR; s++) {
		KProg *p = rtl_randprog(&arch, s, runs[_i].ninsns);
		int st;
		ck_assert_msg(p, "%s: no program for seed %llu", runs[_i].arch,
		              (unsigned long long)s);
		st = rtl_cosim(&arch, p, &o, r, &d);
		ck_assert_msg(st == 0, "%s seed %llu: %s", runs[_i].arch, (unsigned long long)s,
		              d.msg);
		ck_assert_msg(r->agree, "%s seed %llu:\n%s", runs[_i].arch, (unsigned long long)s,
		              r->report);
		ck_assert_uint_eq(r->sim_cycles, r->rtl_cycles);
		ck_assert(r->sim_energy_j == r->rtl_energy_j);
		kprog_free(p);
	}
	rtl_model_destroy(o.model);
	free(r);
}
END_TEST

/* The generator is deterministic: the same seed gives the same program. */
START_TEST(test_deterministic)
{
	HwArch arch;
	Diag d = {0};
	KProg *a, *b;
	ck_assert(hw_arch_load(&arch, SRC("tests/sim/sim-test.yaml"), &d) == 0);
	a = rtl_randprog(&arch, 42, 300);
	b = rtl_randprog(&arch, 42, 300);
	ck_assert(a && b);
	ck_assert_uint_eq(a->cores[0]->ncode, b->cores[0]->ncode);
	ck_assert(memcmp(a->cores[0]->code, b->cores[0]->code, a->cores[0]->ncode * 8) == 0);
	ck_assert_int_eq(kprog_validate(a, "random", &d), 0);
	kprog_free(a);
	kprog_free(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rtl_random");
	TCase *tc = tcase_create("random");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 110);
	tcase_add_loop_test(tc, test_random, 0, (int)(sizeof runs / sizeof *runs));
	tcase_add_test(tc, test_deterministic);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
