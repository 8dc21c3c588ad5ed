/* replay.c: main() of a fuzz target built without libFuzzer (tests/fuzz/CMakeLists.txt). It
 * replays a seed corpus through LLVMFuzzerTestOneInput, so that ctest keeps every committed
 * input (seeds and past crashes) passing, and adds cheap deterministic variety of its own.
 *
 *   fuzz_X [-v] [-n MUTATIONS] [-p PREFIXES] PATH...
 *
 * A PATH is a file or a directory (its regular files, in name order; hidden files skipped). Each
 * input runs whole, then cut at PREFIXES evenly spaced lengths (default 32), then as MUTATIONS
 * (default 200) variants made by 1 to 8 byte edits: bit flips, random bytes, deleted, repeated or
 * inserted spans. The edits come from a seed derived from the file name, so a failure repeats
 * exactly; with -v the last line printed before a crash names the input and the variant. A crash,
 * sanitizer report or abort fails the test; refusals with a diagnostic are the expected outcome. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_INPUT = 1 << 22 };

static int verbose; /* -v: name each variant on stderr before running it */

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* mutate: apply 1..8 random edits to b[0..*n) in place; cap bounds the size it may grow to. */
static void
mutate(uint8_t *b, size_t *n, size_t cap, uint64_t *s)
{
	static const uint8_t interesting[] = {0,   0xff, 0x7f, 0x80, '\n', ' ', ':', '-',
	                                      '9', '[',  ']',  '{',  '}',  '"', '#', '.'};
	int k, edits = 1 + (int)(next(s) % 8);
	for (k = 0; k < edits; k++) {
		uint64_t r = next(s);
		size_t at = *n ? (size_t)(r >> 16) % *n : 0, len;
		switch (r % 6) {
		case 0: /* flip a bit */
			if (*n)
				b[at] ^= (uint8_t)(1u << ((r >> 8) & 7));
			break;
		case 1: /* a random byte */
			if (*n)
				b[at] = (uint8_t)(r >> 40);
			break;
		case 2: /* an interesting byte */
			if (*n)
				b[at] = interesting[(r >> 8) % sizeof interesting];
			break;
		case 3: /* delete a span */
			len = 1 + (size_t)(r >> 8) % 16;
			if (at + len > *n)
				len = *n - at;
			memmove(b + at, b + at + len, *n - at - len);
			*n -= len;
			break;
		case 4: /* repeat a span */
			len = 1 + (size_t)(r >> 8) % 16;
			if (at + len > *n)
				len = *n - at;
			if (*n + len <= cap) {
				memmove(b + at + len, b + at, *n - at);
				*n += len;
			}
			break;
		default: /* insert an interesting byte */
			if (*n < cap) {
				memmove(b + at + 1, b + at, *n - at);
				b[at] = interesting[(r >> 8) % sizeof interesting];
				(*n)++;
			}
			break;
		}
	}
}

/* replay: run one input, its prefixes and its mutations. Returns 0, or -1 if unreadable. */
static int
replay(const char *path, long nmut, long npre)
{
	Diag d = {0};
	size_t n, m, cap, k;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	uint64_t s = fnv1a64(base, strlen(base), FNV1A64_INIT) | 1;
	char *img = read_file(path, MAX_INPUT, &n, &d);
	uint8_t *b;
	if (!img) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	/* each run gets its own exact-size copy, so that ASan sees reads past the end */
	b = xmalloc(n + 1);
	memcpy(b, img, n);
	LLVMFuzzerTestOneInput(b, n);
	free(b);
	for (k = 0; k < (size_t)npre && n; k++) {
		m = n * k / (size_t)npre;
		b = xmalloc(m + 1);
		memcpy(b, img, m);
		LLVMFuzzerTestOneInput(b, m);
		free(b);
	}
	cap = n + 64;
	for (k = 0; k < (size_t)nmut; k++) {
		uint8_t *w = xmalloc(cap);
		memcpy(w, img, n);
		m = n;
		mutate(w, &m, cap, &s);
		b = xmalloc(m + 1);
		memcpy(b, w, m);
		free(w);
		if (verbose)
			fprintf(stderr, "%s: mutation %zu\n", path, k);
		LLVMFuzzerTestOneInput(b, m);
		free(b);
	}
	printf("%s: %zu bytes, %ld prefixes and %ld mutations passed\n", path, n, npre, nmut);
	free(img);
	return 0;
}

/* Files of a directory are taken when their name ends in one of the -x suffixes (all files
 * when none was given), so source folders can serve as seed corpora. */
static const char *suffixes[8];
static int nsuffixes;

static int
visible(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	int k;
	if (e->d_name[0] == '.')
		return 0;
	for (k = 0; k < nsuffixes; k++) {
		size_t m = strlen(suffixes[k]);
		if (n > m && strcmp(e->d_name + n - m, suffixes[k]) == 0)
			return 1;
	}
	return nsuffixes == 0;
}

int
main(int argc, char **argv)
{
	long nmut = 200, npre = 32;
	int i, bad = 0, ninputs = 0;
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (strcmp(argv[i], "-x") == 0 && i + 1 < argc) {
			if (nsuffixes < 8)
				suffixes[nsuffixes++] = argv[i + 1];
			i++;
			continue;
		}
		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-p") == 0) && i + 1 < argc) {
			long v = strtol(argv[i + 1], NULL, 10);
			*(argv[i][1] == 'n' ? &nmut : &npre) = v < 0 ? 0 : v;
			i++;
			continue;
		}
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: cannot stat\n", argv[i]);
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			struct dirent **ents;
			int k, ne = scandir(argv[i], &ents, visible, alphasort);
			if (ne < 0) {
				fprintf(stderr, "%s: cannot list\n", argv[i]);
				bad = 1;
				continue;
			}
			for (k = 0; k < ne; k++) {
				char path[4096];
				snprintf(path, sizeof path, "%s/%s", argv[i], ents[k]->d_name);
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
					bad |= replay(path, nmut, npre) != 0;
					ninputs++;
				}
				free(ents[k]);
			}
			free(ents);
		} else {
			bad |= replay(argv[i], nmut, npre) != 0;
			ninputs++;
		}
	}
	if (ninputs == 0) {
		fprintf(stderr, "no inputs\n");
		return 1;
	}
	printf("%d inputs replayed\n", ninputs);
	return bad;
}
