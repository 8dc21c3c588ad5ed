/* kolmo.c: the `kolmo` executable: git-style dispatch to the subcommands of commands.def. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const CliCmd *const commands[] = {
#define CMD(name, var) &var,
#include "commands.def"
#undef CMD
};

static void
usage(FILE *f)
{
	size_t i;
	fprintf(f,
	        "kolmo %s: compiler, simulator and co-verification for computing-in-memory "
	        "accelerators\n\nusage: kolmo <command> [args]\n\ncommands:\n",
	        KOLMO_VERSION);
	for (i = 0; i < NELEM(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "list the commands, or describe one: kolmo help CMD");
	fprintf(f, "\n'kolmo help CMD' or 'kolmo CMD --help' describes one command.\n");
}

static const CliCmd *
lookup(const char *name)
{
	size_t i;
	for (i = 0; i < NELEM(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const CliCmd *cmd;
	CliArgs args;
	Diag d = {0};
	int r;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		cmd = lookup(argv[2]);
		if (!cmd) {
			fprintf(stderr, "kolmo: error: unknown command '%s' (see 'kolmo help')\n",
			        argv[2]);
			return 2;
		}
		cli_help(cmd, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kolmo %s\n", KOLMO_VERSION);
		return 0;
	}
	cmd = lookup(argv[1]);
	if (!cmd) {
		fprintf(stderr, "kolmo: error: unknown command '%s' (see 'kolmo help')\n", argv[1]);
		return 2;
	}
	r = cli_parse(cmd, argc - 2, argv + 2, &args, &d);
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "%s\n", d.msg);
		return 2;
	}
	return cmd->run(cmd, &args);
}
