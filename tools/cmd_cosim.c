/* cmd_cosim.c: `kolmo cosim M.kelf --arch A.yaml`: the C simulator and the Verilator RTL core in
 * lockstep; the first divergence is reported with its cycle, pc and disassembly. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtl.h"

static const CliOpt opts[] = {
    {"arch", 'a', "A.yaml", "architecture config (required)"},
    {"core", 0, "T.C", "the core to co-simulate (default: every core with code, in turn)"},
    {"vcd", 0, "W.vcd", "write the RTL's waveform (VCD) there"},
    {"json", 0, NULL, "print the result as JSON"},
    {"set", 0, "KEY=VAL,..", "override architecture parameters, e.g. mvmu.adc_bits=4"},
    {"max-cycles", 0, "N", "stop past this many cycles (default 10^9)"},
    {"inject-bug", 0, "MNEM[:late]",
     "test hook: corrupt one instruction in the RTL (its result's low bit, or one cycle late)"},
    {NULL, 0, NULL, NULL},
};

static int
parse_core(const char *s, int *tile, int *core, Diag *d)
{
	char *end;
	long t = strtol(s, &end, 10), c;
	if (end == s || *end != '.')
		return diag_err(d, "kolmo", "cosim: --core wants T.C (tile.core), not '%s'", s);
	s = end + 1;
	c = strtol(s, &end, 10);
	if (end == s || *end || t < 0 || c < 0 || t > 65535 || c > 1023)
		return diag_err(d, "kolmo", "cosim: --core wants T.C (tile.core), not '%s'", s);
	*tile = (int)t;
	*core = (int)c;
	return 0;
}

static int
apply_sets(HwArch *arch, const char *list, Diag *d)
{
	char *buf = xstrdup(list), *save = NULL, *tok;
	int r = 0;
	for (tok = strtok_r(buf, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			r = diag_err(d, "kolmo", "cosim: --set wants KEY=VALUE, not '%s'", tok);
			break;
		}
		*eq = 0;
		r = hw_arch_set(arch, tok, eq + 1, d);
	}
	free(buf);
	return r;
}

static int
load_prog(const char *path, KProg **prog, Diag *d)
{
	size_t n = strlen(path);
	if (n > 2 && strcmp(path + n - 2, ".s") == 0)
		return kasm_file(path, prog, d);
	return kelf_read_file(path, prog, d);
}

static json_t *
result_json(const RtlCosimResult *r, const HwArch *arch)
{
	json_t *j = json_object(), *acts = json_object();
	double hz = arch->clock.core_ghz * 1e9;
	int i;
	json_object_set_new(j, "agree", json_boolean(r->agree));
	json_object_set_new(j, "instructions", json_integer((json_int_t)r->instructions));
	json_object_set_new(j, "cycles",
	                    json_pack("{s:I,s:I}", "sim", (json_int_t)r->sim_cycles, "rtl",
	                              (json_int_t)r->rtl_cycles));
	json_object_set_new(j, "latency_s",
	                    json_pack("{s:f,s:f}", "sim", (double)r->sim_cycles / hz, "rtl",
	                              (double)r->rtl_cycles / hz));
	json_object_set_new(j, "energy_j",
	                    json_pack("{s:f,s:f}", "sim", r->sim_energy_j, "rtl", r->rtl_energy_j));
	for (i = 0; i < HW_NACTIONS; i++)
		json_object_set_new(acts, hw_actions[i].name,
		                    json_pack("{s:I,s:I}", "sim", (json_int_t)r->sim_counts[i],
		                              "rtl", (json_int_t)r->rtl_counts[i]));
	json_object_set_new(j, "actions", acts);
	json_object_set_new(j, "host_s",
	                    json_pack("{s:f,s:f}", "sim", r->sim_host_s, "rtl", r->rtl_host_s));
	{
		json_t *cores = json_array();
		uint32_t k;
		for (k = 0; k < r->ncores; k++) {
			char tc[32];
			snprintf(tc, sizeof tc, "%u.%u", r->cores[k].tile, r->cores[k].core);
			json_array_append_new(cores,
			                      json_pack("{s:s,s:b,s:I,s:I}", "core", tc, "agree",
			                                r->cores[k].agree, "instructions",
			                                (json_int_t)r->cores[k].instructions,
			                                "cycles", (json_int_t)r->cores[k].cycles));
		}
		json_object_set_new(j, "cores", cores);
	}
	json_object_set_new(j, "mismatch", r->agree ? json_null() : json_string(r->report));
	return j;
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	HwArch arch;
	KProg *prog = NULL;
	Diag d = {0};
	RtlCosimOptions o;
	RtlCosimResult *r;
	const char *v;
	int st;
	rtl_cosim_options_default(&o);
	if (!cli_opt(cmd, a, "arch")) {
		diag_err(&d, "kolmo", "cosim: --arch A.yaml is required");
		return cli_fail(&d);
	}
	if ((v = cli_opt(cmd, a, "core")) && parse_core(v, &o.tile, &o.core, &d))
		return cli_fail(&d);
	if ((v = cli_opt(cmd, a, "max-cycles"))) {
		char *end;
		o.max_cycles = strtoull(v, &end, 10);
		if (end == v || *end || o.max_cycles == 0) {
			diag_err(&d, "kolmo",
			         "cosim: --max-cycles wants a positive integer, not '%s'", v);
			return cli_fail(&d);
		}
	}
	if ((v = cli_opt(cmd, a, "inject-bug"))) {
		const char *colon = strchr(v, ':');
		size_t n = colon ? (size_t)(colon - v) : strlen(v);
		o.bug_op = isa_lookup(v, n);
		o.bug_kind = colon && strcmp(colon + 1, "late") == 0;
		if (o.bug_op < 0 || (colon && !o.bug_kind)) {
			diag_err(&d, "kolmo",
			         "cosim: --inject-bug wants MNEMONIC or MNEMONIC:late, not "
			         "'%s'",
			         v);
			return cli_fail(&d);
		}
	}
	o.vcd_path = cli_opt(cmd, a, "vcd");
	if (hw_arch_load(&arch, cli_opt(cmd, a, "arch"), &d))
		return cli_fail(&d);
	if ((v = cli_opt(cmd, a, "set")) && apply_sets(&arch, v, &d))
		return cli_fail(&d);
	if (load_prog(a->pos[0], &prog, &d))
		return cli_fail(&d);
	r = xcalloc(1, sizeof *r);
	st = rtl_cosim(&arch, prog, &o, r, &d);
	kprog_free(prog);
	if (st) {
		free(r);
		if (o.vcd_path)
			remove(o.vcd_path);
		return cli_fail(&d);
	}
	if (cli_opt(cmd, a, "json")) {
		json_t *j = result_json(r, &arch);
		char *txt =
		    json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
		puts(txt);
		free(txt);
		json_decref(j);
	} else if (r->agree) {
		double hz = arch.clock.core_ghz * 1e9;
		uint32_t k;
		if (r->ncores > 1)
			printf("cosim: agree: %llu instructions on %u cores\n",
			       (unsigned long long)r->instructions, r->ncores);
		else
			printf("cosim: agree: %llu instructions\n",
			       (unsigned long long)r->instructions);
		for (k = 0; r->ncores > 1 && k < r->ncores; k++)
			printf("  core %u.%u: %llu instructions, halt cycle %llu\n",
			       r->cores[k].tile, r->cores[k].core,
			       (unsigned long long)r->cores[k].instructions,
			       (unsigned long long)r->cores[k].cycles);
		printf("  %-9s %12s %14s %16s\n", "", r->ncores > 1 ? "last halt" : "cycles",
		       "latency (s)", "energy (J)");
		printf("  %-9s %12llu %14.6g %16.9g\n", "C sim", (unsigned long long)r->sim_cycles,
		       (double)r->sim_cycles / hz, r->sim_energy_j);
		printf("  %-9s %12llu %14.6g %16.9g\n", "RTL", (unsigned long long)r->rtl_cycles,
		       (double)r->rtl_cycles / hz, r->rtl_energy_j);
		printf("  host time: C sim %.3f s, RTL %.3f s\n", r->sim_host_s, r->rtl_host_s);
	} else
		fputs(r->report, stdout);
	st = r->agree ? 0 : 1;
	free(r);
	return st;
}

const CliCmd cmd_cosim = {
    .name = "cosim",
    .summary = "run a binary on the C simulator and the Verilator RTL core in lockstep",
    .usage = "M.kelf --arch A.yaml [--core T.C] [--vcd W.vcd] [--json]",
    .details = "Compares every retired instruction (pc, issue cycle, next issue cycle, register\n"
               "write), then the halt cycle, registers, scratchpad, tile memory, action counts\n"
               "and energy. Exit status 0 when they agree; 1 on the first mismatch, which is\n"
               "printed with the last agreeing instructions (docs/rtl.md). M may be a .s file.\n"
               "Multi-core programs: the RTL runs one core (--core T.C, or each in turn), the\n"
               "other cores' messages, barrier releases and tile-memory writes are replayed from\n"
               "the C simulator. A C-simulator fault must be an RTL fault at the same pc.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
