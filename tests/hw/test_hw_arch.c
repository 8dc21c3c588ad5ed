/* test_hw_arch.c: architecture configs: every bundled config loads; a table of bad configs gives
 * file:line:col errors with the right message; the fingerprint is stable and tracks parameters;
 * hw_arch_set validates and is all-or-nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "testutil.h"

static const char *const bundled[] = {"isaac", "puma", "sram-cim", "edge-kan"};

/* A minimal valid config; the bad-config table edits one line of it (1-based). */
static const char *const base[] = {
    "name: t",              /* 1 */
    "node_nm: 32",          /* 2 */
    "chip:",                /* 3 */
    "  tiles: 4",           /* 4 */
    "  mesh_rows: 2",       /* 5 */
    "  mesh_cols: 2",       /* 6 */
    "tile:",                /* 7 */
    "  cores: 1",           /* 8 */
    "core:",                /* 9 */
    "  mvmus: 2",           /* 10 */
    "mvmu:",                /* 11 */
    "  tech: reram",        /* 12 */
    "  rows: 64",           /* 13 */
    "  cols: 64",           /* 14 */
    "  cell_bits: 2",       /* 15 */
    "  weight_bits: 8",     /* 16 */
    "  input_bits: 8",      /* 17 */
    "  adcs_per_xbar: 1",   /* 18 */
    "  adc_bits: 6",        /* 19 */
    "  adc_rate_gsps: 1.0", /* 20 */
};

/* config text with line `line` replaced by `text` (line 0: text appended); caller frees */
static char *
edited(int line, const char *text)
{
	size_t cap = 4096, len = 0, i;
	char *s = malloc(cap);
	s[0] = 0;
	for (i = 0; i < NELEM(base); i++)
		len += (size_t)snprintf(s + len, cap - len, "%s\n",
		                        (int)i + 1 == line ? text : base[i]);
	if (line == 0)
		snprintf(s + len, cap - len, "%s\n", text);
	return s;
}

static int
load_text(HwArch *a, const char *text, Diag *d)
{
	return hw_arch_load_mem(a, text, strlen(text), "t.yaml", d);
}

START_TEST(bundled_configs_load)
{
	size_t i;
	for (i = 0; i < NELEM(bundled); i++) {
		char path[512];
		HwArch a;
		Diag d = {0};
		snprintf(path, sizeof path, SRC("hwmodels/configs/%s.yaml"), bundled[i]);
		ck_assert_msg(hw_arch_load(&a, path, &d) == 0, "%s: %s", path, d.msg);
		ck_assert_int_gt(a.d.mvmus, 0);
		ck_assert_int_gt(a.d.weight_capacity_bytes, 0);
		ck_assert_uint_ne(a.fingerprint, 0);
	}
}
END_TEST

START_TEST(minimal_config_and_defaults)
{
	HwArch a;
	Diag d = {0};
	char *s = edited(-1, "");
	ck_assert_msg(load_text(&a, s, &d) == 0, "%s", d.msg);
	free(s);
	ck_assert_str_eq(a.name, "t");
	ck_assert_int_eq(a.d.slices, 4);
	ck_assert_int_eq(a.mvmu.dac_bits, 1);          /* default */
	ck_assert_int_eq(a.tile.mem_bytes, 64 * 1024); /* default "64KiB" */
	ck_assert_int_eq(a.core.regs, 32);
	ck_assert_int_eq(a.d.input_cycles, 8); /* 1 + ceil(7/1) */
	/* analog Tc = max(cyc(10 ns), 64 columns x cyc(1 ns)) = 64 at 1 GHz; L = 8 x 64 + 2 */
	ck_assert_int_eq(a.d.mvm_cycles, 8 * 64 + 2);
	ck_assert_int_eq(a.d.weight_capacity_bytes, 4 * 2 * 64 * 64);
	ck_assert_int_eq(a.mark[hw_param_find("mvmu.rows")].line, 13);
	ck_assert_int_eq(a.mark[hw_param_find("mvmu.rows")].col, 9);
}
END_TEST

/* The bad-config table: the edit, the expected "line:col" and a fragment of the message. */
static const struct {
	int line;
	const char *text;
	const char *loc, *msg;
} bad[] = {
    {19, "  adc_bit: 6", ":19:3:", "unknown key 'mvmu.adc_bit' (did you mean 'mvmu.adc_bits'?)"},
    {6, "  cores: 2", ":6:3:", "did you mean 'tile.cores'?"},
    {3, "chp:", ":3:1:", "unknown section 'chp' (did you mean 'chip'?)"},
    {13, "  rows: abc", ":13:9:", "mvmu.rows: expected an integer, got 'abc'"},
    {8, "  cores: 1.5", ":8:10:", "tile.cores: expected an integer"},
    {13, "  rows: 100000", ":13:9:", "mvmu.rows: 100000 is out of range [2, 4096]"},
    {0, "  dac_bits: 9", ":21:13:", "mvmu.dac_bits: 9 is out of range [1, 8] bits"},
    {20, "  adc_rate_gsps: fast", ":20:18:", "expected a number"},
    {12, "  tech: rram", ":12:9:", "unknown value 'rram' (expected one of 'reram', 'sram')"},
    {8, "  mem_bytes: 64KB", ":8:14:", "expected a byte count"},
    {0, "clock: 3", ":21:8:", "'clock' is a section"},
    {13, "  rows: [64, 64]", ":13:9:", "mvmu.rows: expected a single value, not a list"},
    {17, "  rows: 64", ":17:3:", "duplicate key 'mvmu.rows'"},
    {17, "  # input_bits forgotten", ":11:1:", "missing required key 'mvmu.input_bits'"},
    {16, "  weight_bits: 7",
     ":16:16:", "mvmu.weight_bits (7) is not a multiple of mvmu.cell_bits (2)"},
    {18, "  adcs_per_xbar: 0", ":18:18:", "an analog (reram) array needs ADCs"},
    {19, "  adc_bits: 0", ":19:13:", "needs an ADC resolution"},
    {6, "  mesh_cols: 3", ":6:14:", "2 x 3 = 6 tiles, but chip.tiles is 4"},
    {12, "  tech: sram", ":19:13:", "mvmu.adc_bits is set (6) on a digital (sram) array"},
    {18, "  adcs_per_xbar: 65", ":18:18:", "exceeds the crossbar's columns"},
    {0, "noc:\n  tiles_per_router: 3", ":22:21:", "noc.tiles_per_router (3) does not divide"},
    {0, "tile_x:\n  a: 1", ":21:1:", "unknown section 'tile_x'"},
    {10, "  mvmus: 17", ":10:10:", "core.mvmus: 17 is out of range [1, 16]"},
    {14, "  cols: [64", ":15:", "malformed YAML"},
    {1, "name: \"unterminated", ":1:", "malformed YAML"},
    {0, "mvmu:\n  rows: 32", ":21:1:", "duplicate section 'mvmu'"},
};

START_TEST(bad_configs)
{
	HwArch a;
	Diag d = {0};
	char *s = edited(bad[_i].line, bad[_i].text);
	ck_assert_int_eq(load_text(&a, s, &d), -1);
	ck_assert_msg(strncmp(d.msg, "t.yaml:", 7) == 0, "case %d: %s", _i, d.msg);
	ck_assert_msg(strstr(d.msg, bad[_i].loc) != NULL, "case %d: want %s in: %s", _i,
	              bad[_i].loc, d.msg);
	ck_assert_msg(strstr(d.msg, "error: ") != NULL, "case %d: %s", _i, d.msg);
	ck_assert_msg(strstr(d.msg, bad[_i].msg) != NULL, "case %d: want '%s' in: %s", _i,
	              bad[_i].msg, d.msg);
	/* the source line and a caret follow */
	ck_assert_msg(strchr(d.msg, '\n') && strchr(d.msg, '^'), "case %d: no caret: %s", _i,
	              d.msg);
	free(s);
}
END_TEST

START_TEST(empty_and_non_mapping)
{
	HwArch a;
	Diag d = {0};
	ck_assert_int_eq(hw_arch_load_mem(&a, "", 0, "e.yaml", &d), -1);
	ck_assert_msg(strstr(d.msg, "e.yaml:1:1: error: empty architecture config"), "%s", d.msg);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(hw_arch_load_mem(&a, "# only a comment\n", 17, "e.yaml", &d), -1);
	ck_assert_msg(strstr(d.msg, "empty architecture config"), "%s", d.msg);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(load_text(&a, "- a\n- b\n", &d), -1);
	ck_assert_msg(strstr(d.msg, "t.yaml:1:1: error: expected a mapping"), "%s", d.msg);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(hw_arch_load(&a, "/nonexistent/arch.yaml", &d), -1);
	ck_assert_msg(strstr(d.msg, "/nonexistent/arch.yaml") != NULL, "%s", d.msg);
}
END_TEST

START_TEST(fingerprint_stable_and_tracks_parameters)
{
	HwArch a, b;
	Diag d = {0};
	char *s = edited(-1, ""), *r, buf[8192];
	uint64_t f0;
	ck_assert_int_eq(load_text(&a, s, &d), 0);
	ck_assert_int_eq(load_text(&b, s, &d), 0);
	ck_assert_uint_eq(a.fingerprint, b.fingerprint);
	ck_assert_uint_eq(a.fingerprint, hw_arch_fingerprint(&a));
	f0 = a.fingerprint;
	/* the canonical form has every key but the name, in schema order */
	ck_assert_uint_lt(hw_arch_canonical(&a, buf, sizeof buf), sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "mvmu.adc_bits=6\n"));
	ck_assert_ptr_nonnull(strstr(buf, "clock.core_ghz=1\n"));
	ck_assert_ptr_null(strstr(buf, "name="));
	/* the name and the key order do not matter; a default written out does not either */
	r = edited(1, "name: other\nclock:\n  core_ghz: 1.0");
	ck_assert_int_eq(load_text(&b, r, &d), 0);
	ck_assert_uint_eq(b.fingerprint, f0);
	free(r);
	/* any parameter does */
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bits", "7", &d), 0);
	ck_assert_uint_ne(a.fingerprint, f0);
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bits", "6", &d), 0);
	ck_assert_uint_eq(a.fingerprint, f0);
	ck_assert_int_eq(hw_arch_set(&a, "clock.core_ghz", "1.0000001", &d), 0);
	ck_assert_uint_ne(a.fingerprint, f0);
	free(s);
}
END_TEST

START_TEST(set_validates)
{
	HwArch a, before;
	Diag d = {0};
	char *s = edited(-1, ""), v[64];
	ck_assert_int_eq(load_text(&a, s, &d), 0);
	free(s);
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bits", "5", &d), 0);
	ck_assert_int_eq(a.mvmu.adc_bits, 5);
	ck_assert_int_eq(hw_arch_get(&a, "mvmu.adc_bits", v, sizeof v), 0);
	ck_assert_str_eq(v, "5");
	/* derived values follow */
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.cell_bits", "4", &d), 0);
	ck_assert_int_eq(a.d.slices, 2);
	ck_assert_int_eq(hw_arch_set(&a, "tile.mem_bytes", "1MiB", &d), 0);
	ck_assert_int_eq(a.tile.mem_bytes, 1048576);

	before = a;
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bits", "40", &d), -1);
	ck_assert_msg(strstr(d.msg, "error: mvmu.adc_bits: 40 is out of range [0, 16] bits"), "%s",
	              d.msg);
	ck_assert_int_eq(memcmp(&a, &before, sizeof a), 0);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.weight_bits", "6", &d), -1);
	ck_assert_msg(strstr(d.msg, "not a multiple of mvmu.cell_bits"), "%s", d.msg);
	ck_assert_int_eq(memcmp(&a, &before, sizeof a), 0);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bitz", "6", &d), -1);
	ck_assert_msg(strstr(d.msg, "unknown architecture parameter 'mvmu.adc_bitz' (did you mean "
	                            "'mvmu.adc_bits'?)"),
	              "%s", d.msg);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(hw_arch_set(&a, "mvmu.tech", "sram", &d), -1);
	ck_assert_msg(strstr(d.msg, "digital (sram) array"), "%s", d.msg);
	ck_assert_int_eq(memcmp(&a, &before, sizeof a), 0);
	/* switching technology takes several keys at once */
	{
		const char *const k[] = {"mvmu.tech", "mvmu.adc_bits", "mvmu.adcs_per_xbar",
		                         "mvmu.adc_rate_gsps", "mvmu.cell_bits"};
		const char *const val[] = {"sram", "0", "0", "0", "1"};
		memset(&d, 0, sizeof d);
		ck_assert_msg(hw_arch_set_many(&a, k, val, 5, &d) == 0, "%s", d.msg);
		ck_assert_int_eq(a.d.digital, 1);
		ck_assert_int_eq(a.d.slices, 8);
		ck_assert_int_eq(a.d.mvm_cycles, 8 + 6 + 2); /* Cin + log2(64) + SA drain */
	}
}
END_TEST

START_TEST(schema_table_sane)
{
	int i, j;
	ck_assert_int_le(hw_nparams, HW_MAXPARAMS);
	for (i = 0; i < hw_nparams; i++) {
		const HwParam *p = &hw_params[i];
		ck_assert_ptr_nonnull(p->help);
		ck_assert_int_eq(hw_param_find(p->path), i);
		ck_assert(p->min <= p->max || p->type == HW_T_ENUM);
		ck_assert((p->type == HW_T_ENUM) == (p->enums != NULL));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(p->path, hw_params[j].path);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("hw_arch");
	TCase *t = tcase_create("core");
	tcase_add_test(t, bundled_configs_load);
	tcase_add_test(t, minimal_config_and_defaults);
	tcase_add_loop_test(t, bad_configs, 0, (int)NELEM(bad));
	tcase_add_test(t, empty_and_non_mapping);
	tcase_add_test(t, fingerprint_stable_and_tracks_parameters);
	tcase_add_test(t, set_validates);
	tcase_add_test(t, schema_table_sane);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int nf;
	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? 1 : 0;
}
