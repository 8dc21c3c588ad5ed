/* testutil.h: helpers shared by the Check suites: running the kolmo CLI, temporary paths, files. */
#ifndef KOLMO_TESTUTIL_H
#define KOLMO_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KOLMO_BIN KOLMO_BINARY_DIR "/bin/kolmo"
#define SRC(path) KOLMO_SOURCE_DIR "/" path

/* run: run a shell command line, capturing stdout+stderr into a malloc'd string (*out, may be
 * NULL to discard). Returns the exit status (or 128+signal). */
static inline int
run(const char *cmdline, char **out)
{
	char full[8192];
	FILE *p;
	size_t cap = 4096, n = 0, r;
	char *buf = malloc(cap);
	int st;
	snprintf(full, sizeof full, "%s 2>&1", cmdline);
	p = popen(full, "r");
	if (!p) {
		free(buf);
		return -1;
	}
	while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = 0;
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* tmpdir: a fresh temporary directory (static buffer per call site is the caller's). */
static inline void
make_tmpdir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/kolmo-test-XXXXXX");
	if (!mkdtemp(buf))
		buf[0] = 0;
}

static inline int
file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static inline int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

#endif
