/* cli.h: the kolmo command-line front end: subcommand table, option registry, --help text.
 *
 * Each subcommand lives in its own file cmd_<name>.c and is listed once in commands.def. Its
 * options are registered once (name, argument, help); parsing, `kolmo help CMD` and
 * `kolmo CMD --help` all come from that registration. */
#ifndef KOLMO_CLI_H
#define KOLMO_CLI_H

#include <stdio.h>

#include "util.h"

enum { CLI_MAXOPT = 32, CLI_MAXPOS = 16 };

typedef struct CliOpt {
	const char *name; /* long name without dashes, e.g. "arch"; "O2" for -O2 style */
	char shortc;      /* single-letter alias or 0, e.g. 'o' */
	const char *arg;  /* metavariable if the option takes a value, else NULL */
	const char *help;
} CliOpt;

typedef struct CliArgs {
	const char *val[CLI_MAXOPT]; /* value of option i (or "1" for a flag), NULL if not given */
	const char *pos[CLI_MAXPOS];
	int npos;
} CliArgs;

typedef struct CliCmd {
	const char *name;
	const char *summary; /* one line for `kolmo help` */
	const char *usage;   /* e.g. "M.kelf --arch A.yaml [options]" */
	const char *details; /* paragraphs for `kolmo help CMD`, may be NULL */
	const CliOpt *opts;  /* terminated by a {NULL} row */
	int min_pos, max_pos;
	int (*run)(const struct CliCmd *cmd, CliArgs *args);
} CliCmd;

/* cli_parse: parse argv (after the command name) against cmd's options. Returns 0, 1 when --help
 * was asked (help already printed), or -1 with the error in d. */
int cli_parse(const CliCmd *cmd, int argc, char **argv, CliArgs *out, Diag *d);
/* cli_opt: the value of option `name` (NULL if absent). Asserts that name is registered. */
const char *cli_opt(const CliCmd *cmd, const CliArgs *a, const char *name);
void cli_help(const CliCmd *cmd, FILE *f);
/* cli_fail: print a diagnostic to stderr and return the exit status 1. */
int cli_fail(const Diag *d);

#define CMD(name, var) extern const CliCmd var;
#include "commands.def"
#undef CMD

#endif
