/* util.h: diagnostics, the allocation choke point, arenas and small helpers shared by every layer.
 *
 * User errors are diagnostics: a library function fills a Diag and returns a failure status; only
 * the CLI decides to exit. Internal bugs are assertions (KASSERT) that abort with the expression,
 * file and line. Library code never calls exit(). */
#ifndef KOLMO_UTIL_H
#define KOLMO_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define KOLMO_VERSION "0.1.0"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A bug: print expression, file and line, then abort. Active in every build type. */
#define KASSERT(e) ((e) ? (void)0 : kolmo_die(__FILE__, __LINE__, "assertion failed: %s", #e))
_Noreturn void kolmo_die(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- diagnostics ---- */

enum { DIAG_MAX = 2048 };

/* The first error of an operation. msg holds the whole report, ready to print:
 *   file:line:col: error: text
 *     source line
 *         ^
 * A location-less error reads "file: error: text" (or "error: text" without a file). */
typedef struct Diag {
	int set;
	char msg[DIAG_MAX];
} Diag;

/* diag_at: record an error at file:line:col (1-based). src_line, if not NULL, is the text of that
 * line (up to a newline or NUL) and gets a caret under col. Keeps the first error only. Returns -1
 * so that callers can write `return diag_at(...)`. */
int diag_at(Diag *d, const char *file, int line, int col, const char *src_line, const char *fmt,
            ...) __attribute__((format(printf, 6, 7)));
/* diag_err: record an error with no source position; file may be NULL. Returns -1. */
int diag_err(Diag *d, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int diag_verr(Diag *d, const char *file, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* diag_src_line: pointer to the start of line `line` (1-based) in a NUL-terminated buffer, or NULL.
 */
const char *diag_src_line(const char *buf, int line);

/* ---- allocation: every heap allocation goes through these (one choke point) ---- */

/* Out of memory is fatal (kolmo_die); sizes from user input are bounded before allocating. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grow-by-doubling for vectors: ensures cap >= need; elem is the element size. */
void *xgrow(void *p, size_t *cap, size_t need, size_t elem);

/* ---- arenas: memory tied to one compilation or one simulation run, freed at once ---- */

typedef struct Arena Arena;
Arena *arena_new(void);
void *arena_alloc(Arena *a, size_t n); /* zeroed, 16-byte aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
void arena_free(Arena *a);

/* ---- files ---- */

/* read_file: whole file into a NUL-terminated heap buffer (free with free()). Returns NULL and
 * fills d on error. max_bytes bounds the size accepted. */
char *read_file(const char *path, size_t max_bytes, size_t *len, Diag *d);

/* Atomic output: data goes to "path.tmpXXXXXX" and is renamed onto path only when complete, so a
 * failed command never leaves a half-written file behind. */
typedef struct OutFile {
	char path[1024];
	char tmp[1040];
	int fd;
} OutFile;
int outfile_open(OutFile *o, const char *path, Diag *d);
int outfile_write(OutFile *o, const void *buf, size_t n, Diag *d);
int outfile_commit(OutFile *o, Diag *d); /* fsync-free rename; closes */
void outfile_abort(OutFile *o);          /* removes the temporary file */
/* write_file_atomic: whole buffer to path through an OutFile. */
int write_file_atomic(const char *path, const void *buf, size_t n, Diag *d);

/* ---- small numeric helpers ---- */

static inline int64_t
sat_i64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* edit_distance: Levenshtein distance of two strings (for "did you mean" suggestions); strings
 * over 120 bytes count as 1000 apart. */
size_t edit_distance(const char *s, const char *t);

/* fnv1a64: FNV-1a hash, used for fingerprints (architecture configs, programs). */
uint64_t fnv1a64(const void *p, size_t n, uint64_t h);
#define FNV1A64_INIT 0xcbf29ce484222325ull

#endif
