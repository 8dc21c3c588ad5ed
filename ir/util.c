/* util.c: diagnostics, allocation choke point, arenas, atomic output files. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
kolmo_die(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: internal error: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void append(Diag *d, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(Diag *d, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (*len >= sizeof d->msg)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->msg + *len, sizeof d->msg - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
	if (*len >= sizeof d->msg)
		*len = sizeof d->msg - 1;
}

int
diag_at(Diag *d, const char *file, int line, int col, const char *src_line, const char *fmt, ...)
{
	va_list ap;
	size_t len = 0;
	int i, n;

	if (d->set)
		return -1;
	d->set = 1;
	append(d, &len, "%s:%d:%d: error: ", file ? file : "<input>", line, col);
	va_start(ap, fmt);
	n = vsnprintf(d->msg + len, sizeof d->msg - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n;
	if (len >= sizeof d->msg)
		len = sizeof d->msg - 1;
	if (src_line) {
		int w = 0;
		while (src_line[w] && src_line[w] != '\n' && src_line[w] != '\r' && w < 400)
			w++;
		append(d, &len, "\n  %.*s\n  ", w, src_line);
		for (i = 1; i < col && i <= w; i++)
			append(d, &len, "%c", src_line[i - 1] == '\t' ? '\t' : ' ');
		append(d, &len, "^");
	}
	return -1;
}

int
diag_verr(Diag *d, const char *file, const char *fmt, va_list ap)
{
	size_t len = 0;
	int n;
	if (d->set)
		return -1;
	d->set = 1;
	if (file)
		append(d, &len, "%s: error: ", file);
	else
		append(d, &len, "error: ");
	n = vsnprintf(d->msg + len, sizeof d->msg - len, fmt, ap);
	(void)n;
	return -1;
}

int
diag_err(Diag *d, const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verr(d, file, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
diag_src_line(const char *buf, int line)
{
	int l = 1;
	if (!buf || line < 1)
		return NULL;
	while (l < line) {
		const char *nl = strchr(buf, '\n');
		if (!nl)
			return NULL;
		buf = nl + 1;
		l++;
	}
	return buf;
}

/* ---- allocation ---- */

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		kolmo_die(__FILE__, __LINE__, "out of memory allocating %zu bytes", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		kolmo_die(__FILE__, __LINE__, "out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		kolmo_die(__FILE__, __LINE__, "out of memory reallocating %zu bytes", n);
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

void *
xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;
	if (need <= c)
		return p;
	if (c < 8)
		c = 8;
	while (c < need) {
		KASSERT(c <= SIZE_MAX / 2);
		c *= 2;
	}
	KASSERT(elem == 0 || c <= SIZE_MAX / elem);
	*cap = c;
	return xrealloc(p, c * elem);
}

/* ---- arenas ---- */

typedef struct Chunk Chunk;
struct Chunk {
	Chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct Arena {
	Chunk *head;
};

Arena *
arena_new(void)
{
	return xcalloc(1, sizeof(Arena));
}

void *
arena_alloc(Arena *a, size_t n)
{
	Chunk *c = a->head;
	void *p;
	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->used < n) {
		size_t sz = n > 65536 ? n : 65536;
		c = xmalloc(sizeof(Chunk) + sz);
		c->used = 0;
		c->size = sz;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(Arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void
arena_free(Arena *a)
{
	Chunk *c, *n;
	if (!a)
		return;
	for (c = a->head; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

/* ---- files ---- */

char *
read_file(const char *path, size_t max_bytes, size_t *len, Diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f) {
		diag_err(d, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t r;
		buf = xgrow(buf, &cap, n + 65536 + 1, 1);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (n > max_bytes) {
			diag_err(d, path, "file larger than the %zu-byte limit", max_bytes);
			fclose(f);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		diag_err(d, path, "read error: %s", strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int
outfile_open(OutFile *o, const char *path, Diag *d)
{
	if (strlen(path) >= sizeof o->path)
		return diag_err(d, path, "path too long");
	strcpy(o->path, path);
	snprintf(o->tmp, sizeof o->tmp, "%s.tmpXXXXXX", path);
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0)
		return diag_err(d, path, "cannot create: %s", strerror(errno));
	return 0;
}

int
outfile_write(OutFile *o, const void *buf, size_t n, Diag *d)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return diag_err(d, o->path, "write error: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
outfile_commit(OutFile *o, Diag *d)
{
	if (fchmod(o->fd, 0644) != 0 || close(o->fd) != 0) {
		o->fd = -1;
		diag_err(d, o->path, "cannot finish writing: %s", strerror(errno));
		unlink(o->tmp);
		return -1;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) != 0) {
		diag_err(d, o->path, "cannot rename into place: %s", strerror(errno));
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

void
outfile_abort(OutFile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	unlink(o->tmp);
}

int
write_file_atomic(const char *path, const void *buf, size_t n, Diag *d)
{
	OutFile o;
	if (outfile_open(&o, path, d))
		return -1;
	if (outfile_write(&o, buf, n, d)) {
		outfile_abort(&o);
		return -1;
	}
	return outfile_commit(&o, d);
}

uint64_t
fnv1a64(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

size_t
edit_distance(const char *s, const char *t)
{
	size_t n = strlen(s), m = strlen(t), i, j, row[128];
	if (n > 120 || m > 120)
		return 1000;
	for (j = 0; j <= m; j++)
		row[j] = j;
	for (i = 1; i <= n; i++) {
		size_t prev = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= m; j++) {
			size_t best = prev + (s[i - 1] != t[j - 1]);
			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[m];
}
