/* test_rf_sim.c: the roofline bounds hold for what the compiler and simulator actually achieve:
 * for every bundled chain example, the simulated latency is never below the latency bound
 * (ops in sequence for one sample; the overlapped bound for a pipelined batch) and the simulated
 * dynamic energy never below the dynamic energy bound; per op, the simulator's time for the op's
 * code is never below the op's bound. Also prints how close the compiled code comes to the bound
 * (the attainable fraction), for the model and per op. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "roofline.h"
#include "sim.h"
#include "testutil.h"

/* min_fraction: the attainable fraction (bound / simulated latency) the compiled code must reach
 * (0: none asserted). */
static const struct {
	const char *model, *arch;
	double min_fraction;
} cases[] = {
    {SRC("examples/kan/digits_kan.kir"), SRC("hwmodels/configs/edge-kan.yaml"), 0},
    {SRC("examples/kan/digits_mlp.kir"), SRC("hwmodels/configs/edge-kan.yaml"), 0},
    {SRC("examples/kan/wide_kan.kir"), SRC("hwmodels/configs/edge-kan.yaml"), 0.70},
    {SRC("tests/compiler/cases/batch_mlp.kir"), SRC("hwmodels/configs/edge-kan.yaml"), 0},
    {SRC("tests/compiler/cases/tiny_kan.kir"), SRC("tests/sim/sim-test.yaml"), 0},
    {SRC("tests/compiler/cases/batch_mlp.kir"), SRC("tests/sim/sim-test.yaml"), 0},
};

START_TEST(sim_never_below_bound)
{
	Diag d = {0};
	HwArch arch;
	Graph *g;
	KProg *p = NULL;
	CcModel *m = NULL;
	Sim *s = NULL;
	RfModel rf;
	HwEnergy e;
	const SimStats *st;
	uint32_t nin, nout, i;
	double sin, sout, bound_lat;
	int8_t *x;
	ck_assert_msg(hw_arch_load(&arch, cases[_i].arch, &d) == 0, "%s", d.msg);
	g = ir_parse_file(cases[_i].model, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_msg(cc_compile(g, &arch, NULL, &p, &m, &d) == 0, "%s", d.msg);
	cc_model_io(m, &nin, &sin, &nout, &sout);
	nin *= cc_model_batch(m);
	x = malloc(nin);
	for (i = 0; i < nin; i++)
		x[i] = (int8_t)((int)(i * 37 % 201) - 100);
	ck_assert_msg(sim_new(&arch, p, NULL, &s, &d) == 0, "%s", d.msg);
	ck_assert_msg(sim_set_input(s, p->io[0].dir == KDIR_IN ? p->io[0].name : p->io[1].name, x,
	                            nin, &d) == 0,
	              "%s", d.msg);
	ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
	st = sim_stats(s);
	sim_energy(s, &arch, &e);
	ck_assert_msg(rf_analyze(g, &arch, &rf, &d) == 0, "%s", d.msg);
	bound_lat = cc_model_batch(m) > 1 ? rf.latency_overlap_s : rf.latency_s;
	printf("%s on %s: simulated %.4g s, bound %.4g s (%.1f%% of attainable); dynamic energy "
	       "%.4g J, bound %.4g J\n",
	       cases[_i].model, arch.name, st->latency_s, bound_lat,
	       100 * bound_lat / st->latency_s, e.dynamic_j, rf.total.energy_dyn_j);
	ck_assert_msg(st->latency_s >= bound_lat * (1 - 1e-9), "latency %g below the bound %g",
	              st->latency_s, bound_lat);
	ck_assert_msg(bound_lat / st->latency_s >= cases[_i].min_fraction,
	              "%.1f%% of the attainable bound, below the %.0f%% target",
	              100 * bound_lat / st->latency_s, 100 * cases[_i].min_fraction);
	ck_assert_msg(e.dynamic_j >= rf.total.energy_dyn_j * (1 - 1e-9),
	              "dynamic energy %g below the bound %g", e.dynamic_j, rf.total.energy_dyn_j);
	/* Per op: the layer's time on the chip (first issue to last completion) lies inside the
	 * run, the layers together span it, and no op beats its own bound. */
	{
		uint64_t first = UINT64_MAX, last = 0;
		uint32_t l, k, matched = 0, named = 0;
		double cyc_s = st->latency_s / (double)st->cycles;
		for (l = 0; l < st->nlayers; l++) {
			const SimLayerStats *ls = &st->layers[l];
			if (!ls->last_cycle)
				continue;
			named += l > 0;
			ck_assert_uint_le(ls->first_cycle, ls->last_cycle);
			ck_assert_uint_le(ls->last_cycle, st->cycles);
			first = ls->first_cycle < first ? ls->first_cycle : first;
			last = ls->last_cycle > last ? ls->last_cycle : last;
			for (k = 0; k < rf.nops; k++) {
				double t = (double)(ls->last_cycle - ls->first_cycle) * cyc_s;
				if (strcmp(rf.ops[k].d.name, ls->name) != 0)
					continue;
				matched++;
				printf("  %s: %.4g s, bound %.4g s (%.1f%%)\n", ls->name, t,
				       rf.ops[k].latency_s, 100 * rf.ops[k].latency_s / t);
				ck_assert_msg(t >= rf.ops[k].latency_s * (1 - 1e-9),
				              "op %s: %g s below its bound %g s", ls->name, t,
				              rf.ops[k].latency_s);
			}
		}
		ck_assert_uint_eq(first, 0);
		ck_assert_uint_eq(last, st->cycles);
		ck_assert_uint_eq(matched, named); /* every layer is an op (fused ops have none) */
	}
	rf_model_free(&rf);
	sim_free(s);
	free(x);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("roofline vs simulator");
	TCase *t = tcase_create("bounds");
	SRunner *sr;
	int nf;
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, sim_never_below_bound, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(su, t);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
