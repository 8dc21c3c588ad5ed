/* test_cosim_compiled.c: compiled programs (chains and attention) run in lockstep on the C
 * simulator and the Verilator RTL core (`kolmo cosim`): every instruction, cycle, memory and action
 * count agrees, so latency and energy are equal. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const struct {
	const char *model, *arch, *opts;
} cases[] = {
    {"examples/kan/digits_kan.kir", "hwmodels/configs/edge-kan.yaml", ""},
    {"examples/kan/digits_mlp.kir", "hwmodels/configs/edge-kan.yaml", ""},
    {"examples/kan/digits_kan.kir", "hwmodels/configs/edge-kan.yaml", "--no-row-gating -O0"},
    {"examples/kan/digits_kan.kir", "hwmodels/configs/edge-kan.yaml", "--adc-lossy"},
    {"tests/compiler/cases/tiny_kan.kir", "hwmodels/configs/sram-cim.yaml", ""},
    {"tests/compiler/cases/tiny_linear.kir", "hwmodels/configs/edge-kan.yaml", ""},
    {"tests/compiler/cases/attn_sparse.kir", "hwmodels/configs/sram-cim.yaml", ""},
    {"tests/compiler/cases/attn_simthresh.kir", "hwmodels/configs/sram-cim.yaml", ""},
    {"examples/attention/dense_attn_256.kir", "hwmodels/configs/sram-cim.yaml", ""},
    {"tests/compiler/cases/attn_sla.kir", "hwmodels/configs/sram-cim.yaml", ""},
    {"tests/compiler/cases/attn_sla2.kir", "hwmodels/configs/sram-cim.yaml", ""},
};

START_TEST(compiled_program_cosim)
{
	char dir[64], kelf[128], cmd[2048], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(kelf, sizeof kelf, "%s/m.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s/%s --arch %s/%s %s -o %s", KOLMO_BIN,
	         KOLMO_SOURCE_DIR, cases[_i].model, KOLMO_SOURCE_DIR, cases[_i].arch,
	         cases[_i].opts, kelf);
	ck_assert_int_eq(run(cmd, &out), 0);
	free(out);
	snprintf(cmd, sizeof cmd, "%s cosim %s --arch %s/%s", KOLMO_BIN, kelf, KOLMO_SOURCE_DIR,
	         cases[_i].arch);
	ck_assert_msg(run(cmd, &out) == 0, "%s %s: %s", cases[_i].model, cases[_i].opts, out);
	ck_assert_ptr_nonnull(strstr(out, "agree"));
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cosim of compiled programs");
	TCase *t = tcase_create("cosim");
	SRunner *sr;
	int nf;
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, compiled_program_cosim, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
