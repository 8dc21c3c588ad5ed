/* npy.c: reading and writing NumPy .npy files. */
#include "npy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const npy_type_names[NPY_NTYPES] = {"float32", "float64", "int8", "uint8",
                                                "int16",   "int32",   "int64"};
static const char *const descrs[NPY_NTYPES] = {"<f4", "<f8", "|i1", "|u1", "<i2", "<i4", "<i8"};
static const size_t sizes[NPY_NTYPES] = {4, 8, 1, 1, 2, 4, 8};

size_t
npy_type_size(int type)
{
	return sizes[type];
}

/* A tiny parser for the header: a Python dict literal with keys 'descr', 'fortran_order' and
 * 'shape'. */
typedef struct Hp {
	const char *p, *end;
} Hp;

static void
hws(Hp *h)
{
	while (h->p < h->end && isspace((unsigned char)*h->p))
		h->p++;
}

static int
hstr(Hp *h, char *out, size_t n)
{
	char q;
	size_t i = 0;
	hws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return -1;
	q = *h->p++;
	while (h->p < h->end && *h->p != q) {
		if (i + 1 >= n)
			return -1;
		out[i++] = *h->p++;
	}
	if (h->p >= h->end)
		return -1;
	h->p++;
	out[i] = 0;
	return 0;
}

static int
hchar(Hp *h, char c)
{
	hws(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return 0;
	}
	return -1;
}

static int
parse_header(const char *s, size_t n, Npy *out, const char *name, Diag *d)
{
	Hp h = {s, s + n};
	char key[32], val[32];
	int have_descr = 0, have_order = 0, have_shape = 0, i;
	if (hchar(&h, '{'))
		return diag_err(d, name, "npy header is not a dict");
	for (;;) {
		hws(&h);
		if (hchar(&h, '}') == 0)
			break;
		if (hstr(&h, key, sizeof key) || hchar(&h, ':'))
			return diag_err(d, name, "malformed npy header");
		if (strcmp(key, "descr") == 0) {
			if (hstr(&h, val, sizeof val))
				return diag_err(d, name, "npy 'descr' is not a string");
			for (i = 0; i < NPY_NTYPES; i++)
				if (strcmp(val, descrs[i]) == 0 ||
				    (val[0] == '<' && descrs[i][0] == '|' &&
				     !strcmp(val + 1, descrs[i] + 1)))
					break;
			if (i == NPY_NTYPES)
				return diag_err(
				    d, name,
				    "npy dtype '%s' is not supported (float32, float64, "
				    "int8, uint8, int16, int32, int64, little-endian)",
				    val);
			out->type = i;
			have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			hws(&h);
			if ((size_t)(h.end - h.p) >= 5 && strncmp(h.p, "False", 5) == 0)
				h.p += 5;
			else if ((size_t)(h.end - h.p) >= 4 && strncmp(h.p, "True", 4) == 0)
				return diag_err(d, name,
				                "npy arrays in Fortran order are not supported");
			else
				return diag_err(d, name, "npy 'fortran_order' must be False");
			have_order = 1;
		} else if (strcmp(key, "shape") == 0) {
			if (hchar(&h, '('))
				return diag_err(d, name, "npy 'shape' is not a tuple");
			out->rank = 0;
			out->count = 1;
			for (;;) {
				char *e;
				unsigned long long v;
				hws(&h);
				if (hchar(&h, ')') == 0)
					break;
				if (h.p >= h.end || !isdigit((unsigned char)*h.p))
					return diag_err(d, name, "malformed npy shape");
				v = strtoull(h.p, &e, 10);
				if (e > h.end)
					return diag_err(d, name, "malformed npy shape");
				h.p = e;
				if (out->rank >= NPY_MAX_RANK)
					return diag_err(d, name, "npy rank above %d", NPY_MAX_RANK);
				if (v > (1ull << 40) || (v && out->count > (1ull << 40) / v))
					return diag_err(d, name, "npy shape too large");
				out->dims[out->rank++] = v;
				out->count *= v;
				hws(&h);
				if (hchar(&h, ',') && (hws(&h), h.p < h.end && *h.p != ')'))
					return diag_err(d, name, "malformed npy shape");
			}
			have_shape = 1;
		} else {
			return diag_err(d, name, "unknown key '%s' in npy header", key);
		}
		hws(&h);
		if (hchar(&h, ',') == 0)
			continue;
		if (hchar(&h, '}') == 0)
			break;
		return diag_err(d, name, "malformed npy header");
	}
	if (!have_descr || !have_order || !have_shape)
		return diag_err(d, name, "npy header lacks descr, fortran_order or shape");
	return 0;
}

int
npy_read_mem(const void *buf, size_t len, const char *name, uint64_t max_elems, Npy *out, Diag *d)
{
	const unsigned char *b = buf;
	size_t hlen, off;
	uint64_t bytes;
	memset(out, 0, sizeof *out);
	if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
		return diag_err(d, name, "not a .npy file (bad magic)");
	if (b[6] == 1) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
		off = 10;
	} else if (b[6] == 2 || b[6] == 3) {
		if (len < 12)
			return diag_err(d, name, "truncated .npy header");
		hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		off = 12;
	} else {
		return diag_err(d, name, "unsupported .npy version %u.%u", b[6], b[7]);
	}
	if (hlen > len - off)
		return diag_err(d, name, "truncated .npy header");
	if (parse_header((const char *)b + off, hlen, out, name, d))
		return -1;
	off += hlen;
	if (out->count > max_elems)
		return diag_err(d, name, "npy array of %llu elements exceeds the limit of %llu",
		                (unsigned long long)out->count, (unsigned long long)max_elems);
	bytes = out->count * sizes[out->type];
	if (bytes != len - off)
		return diag_err(d, name, "npy data is %zu bytes; the header says %llu", len - off,
		                (unsigned long long)bytes);
	out->data = xmalloc(bytes ? bytes : 1);
	memcpy(out->data, b + off, bytes);
	return 0;
}

int
npy_read_file(const char *path, uint64_t max_elems, Npy *out, Diag *d)
{
	size_t len;
	char *buf = read_file(path, (size_t)max_elems * 8 + 65536, &len, d);
	int r;
	if (!buf)
		return -1;
	r = npy_read_mem(buf, len, path, max_elems, out, d);
	free(buf);
	return r;
}

int
npy_write_file(const char *path, int type, uint32_t rank, const uint64_t *dims, const void *data,
               Diag *d)
{
	char hdr[512];
	int n;
	uint32_t i;
	uint64_t count = 1;
	size_t total, hl;
	unsigned char *buf;
	int r;
	KASSERT(type >= 0 && type < NPY_NTYPES && rank <= NPY_MAX_RANK);
	n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
	             descrs[type]);
	for (i = 0; i < rank; i++) {
		n +=
		    snprintf(hdr + n, sizeof hdr - (size_t)n, "%llu%s", (unsigned long long)dims[i],
		             rank == 1 ? "," : (i + 1 < rank ? ", " : ""));
		count *= dims[i];
	}
	n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
	/* Pad with spaces so that magic + length + header + '\n' is a multiple of 64. */
	hl = (size_t)n + 1;
	while ((10 + hl) % 64)
		hl++;
	total = 10 + hl + count * sizes[type];
	buf = xmalloc(total);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)(hl & 0xff);
	buf[9] = (unsigned char)(hl >> 8);
	memset(buf + 10, ' ', hl);
	memcpy(buf + 10, hdr, (size_t)n);
	buf[10 + hl - 1] = '\n';
	memcpy(buf + 10 + hl, data, count * sizes[type]);
	r = write_file_atomic(path, buf, total, d);
	free(buf);
	return r;
}

double
npy_get_f64(const Npy *a, uint64_t i)
{
	const unsigned char *p = (const unsigned char *)a->data + i * sizes[a->type];
	switch (a->type) {
	case NPY_F32: {
		float f;
		memcpy(&f, p, 4);
		return f;
	}
	case NPY_F64: {
		double v;
		memcpy(&v, p, 8);
		return v;
	}
	case NPY_I8:
		return (int8_t)p[0];
	case NPY_U8:
		return p[0];
	case NPY_I16: {
		int16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case NPY_I32: {
		int32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		int64_t v;
		memcpy(&v, p, 8);
		return (double)v;
	}
	}
}

void
npy_free(Npy *a)
{
	free(a->data);
	a->data = NULL;
}
