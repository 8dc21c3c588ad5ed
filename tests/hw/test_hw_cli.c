/* test_hw_cli.c: `kolmo hw`: every bundled config gives a readable report and JSON with the
 * documented keys; a bad config gives file:line:col: error, a caret and a non-zero exit. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *const bundled[] = {"isaac", "puma", "sram-cim", "edge-kan"};

static double
num(json_t *root, const char *obj, const char *key)
{
	json_t *o = json_object_get(root, obj), *v;
	ck_assert_msg(json_is_object(o), "missing object %s", obj);
	v = json_object_get(o, key);
	ck_assert_msg(json_is_number(v), "missing number %s.%s", obj, key);
	return json_number_value(v);
}

START_TEST(json_has_required_keys)
{
	char cmd[1024], *out = NULL;
	json_error_t err;
	json_t *root;
	int st;
	snprintf(cmd, sizeof cmd, "%s hw %s/hwmodels/configs/%s.yaml --json 2>/dev/null", KOLMO_BIN,
	         KOLMO_SOURCE_DIR, bundled[_i]);
	st = run(cmd, &out);
	ck_assert_msg(st == 0, "%s: exit %d: %s", cmd, st, out);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root != NULL, "%s: not JSON: %s (line %d)", bundled[_i], err.text, err.line);
	ck_assert_double_gt(num(root, "chip", "area_mm2"), 0);
	ck_assert_double_gt(num(root, "chip", "power_w"), 0);
	ck_assert_double_gt(num(root, "peak", "ops_per_s"), 0);
	ck_assert_double_gt(num(root, "peak", "tops_per_w"), 0);
	ck_assert_double_gt(num(root, "peak", "tops_per_mm2"), 0);
	ck_assert_double_gt(num(root, "capacity", "weight_bytes"), 0);
	ck_assert_double_gt(num(root, "tile", "area_mm2"), 0);
	ck_assert_double_gt(num(root, "timing", "mvm_ns"), 0);
	ck_assert(json_is_array(json_object_get(root, "warnings")));
	ck_assert(json_is_array(json_object_get(root, "components")));
	ck_assert(json_is_number(json_object_get(
	    json_object_get(json_object_get(root, "ert"), "energy_pj"), "adc_convert")));
	ck_assert(json_is_string(json_object_get(root, "fingerprint")));
	/* consistency: TOPS/W = ops/s / W */
	ck_assert_double_eq_tol(num(root, "peak", "tops_per_w"),
	                        num(root, "peak", "ops_per_s") / num(root, "chip", "power_w") *
	                            1e-12,
	                        1e-6 * num(root, "peak", "tops_per_w"));
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(text_report)
{
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof cmd, "%s hw %s/hwmodels/configs/isaac.yaml", KOLMO_BIN,
	         KOLMO_SOURCE_DIR);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "isaac-ce"));
	ck_assert_ptr_nonnull(strstr(out, "TOPS/W"));
	ck_assert_ptr_nonnull(strstr(out, "ADCs"));
	ck_assert_ptr_nonnull(strstr(out, "adc_convert"));
	free(out);
}
END_TEST

START_TEST(bad_config_fails)
{
	char dir[64], path[128], cmd[1024], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	write_text(path, "name: x\nnode_nm: 32\nchip:\n  tilez: 4\n");
	snprintf(cmd, sizeof cmd, "%s hw %s --json", KOLMO_BIN, path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "bad.yaml:4:3: error: unknown key 'chip.tilez' (did you mean "
	                          "'chip.tiles'?)"),
	              "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "  tilez: 4\n    ^"));
	ck_assert_ptr_null(strstr(out, "{")); /* no partial JSON */
	free(out);
	snprintf(cmd, sizeof cmd, "%s hw %s/missing.yaml", KOLMO_BIN, dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	free(out);
	remove(path);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hw_cli");
	TCase *t = tcase_create("cli");
	SRunner *r;
	int nf;
	tcase_add_loop_test(t, json_has_required_keys, 0,
	                    (int)(sizeof bundled / sizeof bundled[0]));
	tcase_add_test(t, text_report);
	tcase_add_test(t, bad_config_fails);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? 1 : 0;
}
