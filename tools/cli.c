/* cli.c: option parsing and help text from each command's option registration. */
#include "cli.h"

#include <string.h>

static int
find_opt(const CliCmd *cmd, const char *name, size_t len, char shortc)
{
	int i;
	for (i = 0; cmd->opts && cmd->opts[i].name; i++) {
		const CliOpt *o = &cmd->opts[i];
		if (shortc && o->shortc == shortc)
			return i;
		if (!shortc && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return i;
	}
	return -1;
}

int
cli_parse(const CliCmd *cmd, int argc, char **argv, CliArgs *out, Diag *d)
{
	int i, k;
	memset(out, 0, sizeof *out);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *eq;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_help(cmd, stdout);
			return 1;
		}
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (out->npos >= CLI_MAXPOS)
					return diag_err(d, "kolmo", "too many arguments");
				out->pos[out->npos++] = argv[i];
			}
			break;
		}
		if (a[0] == '-' && a[1] != 0) {
			const char *name = a + 1 + (a[1] == '-');
			size_t len;
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
			k = find_opt(cmd, name, len, 0);
			if (k < 0 && a[1] != '-' && len == 1)
				k = find_opt(cmd, NULL, 0, a[1]);
			if (k < 0)
				return diag_err(d, "kolmo",
				                "%s: unknown option '%s' (see 'kolmo help %s')",
				                cmd->name, a, cmd->name);
			if (cmd->opts[k].arg) {
				if (eq)
					out->val[k] = eq + 1;
				else if (i + 1 < argc)
					out->val[k] = argv[++i];
				else
					return diag_err(d, "kolmo",
					                "%s: option '%s' needs a value (%s)",
					                cmd->name, a, cmd->opts[k].arg);
			} else {
				if (eq)
					return diag_err(d, "kolmo",
					                "%s: option '%s' takes no value", cmd->name,
					                a);
				out->val[k] = "1";
			}
			continue;
		}
		if (out->npos >= CLI_MAXPOS)
			return diag_err(d, "kolmo", "too many arguments");
		out->pos[out->npos++] = a;
	}
	if (out->npos < cmd->min_pos || out->npos > cmd->max_pos)
		return diag_err(d, "kolmo", "%s: usage: kolmo %s %s", cmd->name, cmd->name,
		                cmd->usage);
	return 0;
}

const char *
cli_opt(const CliCmd *cmd, const CliArgs *a, const char *name)
{
	int k = find_opt(cmd, name, strlen(name), 0);
	KASSERT(k >= 0);
	return a->val[k];
}

void
cli_help(const CliCmd *cmd, FILE *f)
{
	int i;
	fprintf(f, "usage: kolmo %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	if (cmd->opts && cmd->opts[0].name) {
		fprintf(f, "\noptions:\n");
		for (i = 0; cmd->opts[i].name; i++) {
			const CliOpt *o = &cmd->opts[i];
			char left[64];
			int dashes = strlen(o->name) > 1 &&
			             !(o->name[0] == 'O' && o->name[1] >= '0' && o->name[1] <= '9');
			if (o->shortc)
				snprintf(left, sizeof left, "-%c, %s%s%s%s", o->shortc,
				         dashes ? "--" : "-", o->name, o->arg ? " " : "",
				         o->arg ? o->arg : "");
			else
				snprintf(left, sizeof left, "%s%s%s%s", dashes ? "--" : "-",
				         o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "  %-26s %s\n", left, o->help);
		}
	}
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

int
cli_fail(const Diag *d)
{
	fprintf(stderr, "%s\n", d->set ? d->msg : "error: failed");
	return 1;
}
