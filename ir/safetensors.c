/* safetensors.c: reading safetensors files: the JSON header (with jansson) validated in full, then
 * tensor data converted to float on demand. Format: u64 little-endian header size N, N bytes of
 * JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__":
 * {...}}, then the data section that the offsets index. */
#include "irint.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { ST_MAX_HEADER = 100 << 20, ST_MAX_TENSORS = 1 << 20 };

const char *const ir_st_dtype_names[IR_ST_COUNT] = {"F64", "F32", "F16", "BF16", "I64",
                                                    "I32", "I16", "I8",  "U8",   "BOOL"};
static const unsigned st_size[IR_ST_COUNT] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};

struct IrSafetensors {
	FILE *f;
	uint64_t data_start, data_size;
	IrStTensor *t;
	uint32_t n;
};

static IrSafetensors *st_fail(IrSafetensors *st, char *msg, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static IrSafetensors *
st_fail(IrSafetensors *st, char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	ir_st_close(st);
	return NULL;
}

/* st_fail_json: as st_fail, formatting before the JSON (which may own the arguments) is freed. */
static IrSafetensors *st_fail_json(IrSafetensors *st, json_t *root, char *msg, size_t n,
                                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static IrSafetensors *
st_fail_json(IrSafetensors *st, json_t *root, char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	json_decref(root);
	ir_st_close(st);
	return NULL;
}

static int
cmp_begin(const void *a, const void *b)
{
	const IrStTensor *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* st_parse: read and validate the header of st->f, a stream of fsize bytes positioned at its
 * start. Takes st (closed on error). */
static IrSafetensors *
st_parse(IrSafetensors *st, uint64_t fsize, char *msg, size_t mn)
{
	unsigned char hb[8];
	uint64_t hlen = 0;
	char *hdr;
	json_t *root, *val;
	json_error_t jerr;
	const char *key;
	uint32_t i;
	int k;

	if (fsize < 8 || fread(hb, 1, 8, st->f) != 8)
		return st_fail(st, msg, mn, "truncated: %llu bytes, too short for the header size",
		               (unsigned long long)fsize);
	for (k = 7; k >= 0; k--)
		hlen = hlen << 8 | hb[k];
	if (hlen > ST_MAX_HEADER)
		return st_fail(st, msg, mn, "header size %llu exceeds the %d-byte limit",
		               (unsigned long long)hlen, ST_MAX_HEADER);
	if (8 + hlen > fsize)
		return st_fail(st, msg, mn,
		               "truncated: header size %llu but only %llu bytes follow",
		               (unsigned long long)hlen, (unsigned long long)(fsize - 8));
	hdr = xmalloc((size_t)hlen + 1);
	if (fread(hdr, 1, (size_t)hlen, st->f) != hlen) {
		free(hdr);
		return st_fail(st, msg, mn, "read error in the header");
	}
	hdr[hlen] = 0;
	root = json_loadb(hdr, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
	free(hdr);
	if (!root)
		return st_fail(st, msg, mn, "bad JSON header: %s (header line %d, column %d)",
		               jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		return st_fail_json(st, root, msg, mn, "bad header: not a JSON object");
	}
	st->data_start = 8 + hlen;
	st->data_size = fsize - st->data_start;
	if (json_object_size(root) > ST_MAX_TENSORS) {
		return st_fail_json(st, root, msg, mn, "more than %d tensors", ST_MAX_TENSORS);
	}
	st->t = xcalloc(json_object_size(root) + 1, sizeof *st->t);
	json_object_foreach(root, key, val)
	{
		IrStTensor *t = &st->t[st->n];
		json_t *dt = json_object_get(val, "dtype"), *sh = json_object_get(val, "shape"),
		       *off = json_object_get(val, "data_offsets"), *e;
		uint64_t nbytes;
		size_t j;
		int d = -1;
		if (strcmp(key, "__metadata__") == 0)
			continue;
		if (!json_is_object(val) || !json_is_string(dt) || !json_is_array(sh) ||
		    !json_is_array(off) || json_array_size(off) != 2) {
			return st_fail_json(
			    st, root, msg, mn,
			    "bad header entry '%s': needs dtype, shape and data_offsets [begin, "
			    "end]",
			    key);
		}
		for (k = 0; k < IR_ST_COUNT; k++)
			if (strcmp(json_string_value(dt), ir_st_dtype_names[k]) == 0)
				d = k;
		if (d < 0) {
			snprintf(msg, mn, "tensor '%s': unsupported dtype '%s'", key,
			         json_string_value(dt));
			json_decref(root);
			ir_st_close(st);
			return NULL;
		}
		if (json_array_size(sh) > IR_MAXRANK) {
			return st_fail_json(st, root, msg, mn,
			                    "tensor '%s': rank %zu greater than %d", key,
			                    json_array_size(sh), IR_MAXRANK);
		}
		t->dtype = (uint8_t)d;
		t->rank = (uint8_t)json_array_size(sh);
		nbytes = st_size[d];
		json_array_foreach(sh, j, e)
		{
			json_int_t v = json_is_integer(e) ? json_integer_value(e) : -1;
			if (v < 0 || (uint64_t)v > st->data_size) {
				return st_fail_json(st, root, msg, mn,
				                    "tensor '%s': bad shape entry %zu", key, j);
			}
			t->dim[j] = v;
			if (v &&
			    nbytes > st->data_size / (uint64_t)v) /* cannot fit: mismatch below */
				nbytes = st->data_size + 1;
			else
				nbytes *= (uint64_t)v;
		}
		for (j = 0; j < 2; j++) {
			json_t *o = json_array_get(off, j);
			json_int_t v = json_is_integer(o) ? json_integer_value(o) : -1;
			if (v < 0) {
				return st_fail_json(st, root, msg, mn,
				                    "tensor '%s': bad data_offsets", key);
			}
			if (j == 0)
				t->begin = (uint64_t)v;
			else
				t->end = (uint64_t)v;
		}
		if (t->begin > t->end || t->end > st->data_size) {
			snprintf(
			    msg, mn,
			    "tensor '%s': data_offsets [%llu, %llu] out of range (data section "
			    "is %llu bytes)",
			    key, (unsigned long long)t->begin, (unsigned long long)t->end,
			    (unsigned long long)st->data_size);
			json_decref(root);
			ir_st_close(st);
			return NULL;
		}
		if (t->end - t->begin != nbytes) {
			snprintf(
			    msg, mn,
			    "tensor '%s': data_offsets span %llu bytes but dtype %s x shape needs "
			    "%llu",
			    key, (unsigned long long)(t->end - t->begin), ir_st_dtype_names[d],
			    (unsigned long long)nbytes);
			json_decref(root);
			ir_st_close(st);
			return NULL;
		}
		t->name = xstrdup(key);
		st->n++;
	}
	json_decref(root);
	{
		IrStTensor *sorted = xcalloc(st->n + 1, sizeof *sorted);
		memcpy(sorted, st->t, st->n * sizeof *sorted);
		qsort(sorted, st->n, sizeof *sorted, cmp_begin);
		for (i = 1; i < st->n; i++)
			if (sorted[i].begin < sorted[i - 1].end) {
				snprintf(msg, mn,
				         "tensors '%s' and '%s' overlap in the data section",
				         sorted[i - 1].name, sorted[i].name);
				free(sorted);
				ir_st_close(st);
				return NULL;
			}
		free(sorted);
	}
	return st;
}

IrSafetensors *
ir_st_open_msg(const char *path, char *msg, size_t mn)
{
	IrSafetensors *st = xcalloc(1, sizeof *st);
	struct stat sb;
	st->f = fopen(path, "rb");
	if (!st->f)
		return st_fail(st, msg, mn, "cannot open: %s", strerror(errno));
	if (fstat(fileno(st->f), &sb) != 0 || !S_ISREG(sb.st_mode))
		return st_fail(st, msg, mn, "not a regular file");
	return st_parse(st, (uint64_t)sb.st_size, msg, mn);
}

IrSafetensors *
ir_st_open_mem(const void *buf, size_t len, const char *name, Diag *d)
{
	char msg[1024];
	IrSafetensors *st;
	if (len < 8) { /* also: fmemopen refuses an empty buffer */
		diag_err(d, name, "truncated: %zu bytes, too short for the header size", len);
		return NULL;
	}
	st = xcalloc(1, sizeof *st);
	st->f = fmemopen((void *)(uintptr_t)buf, len, "rb");
	if (!st->f)
		st = st_fail(st, msg, sizeof msg, "cannot open the buffer: %s", strerror(errno));
	else
		st = st_parse(st, len, msg, sizeof msg);
	if (!st)
		diag_err(d, name, "%s", msg);
	return st;
}

IrSafetensors *
ir_st_open(const char *path, Diag *d)
{
	char msg[1024];
	IrSafetensors *st = ir_st_open_msg(path, msg, sizeof msg);
	if (!st)
		diag_err(d, path, "%s", msg);
	return st;
}

void
ir_st_close(IrSafetensors *st)
{
	uint32_t i;
	if (!st)
		return;
	if (st->f)
		fclose(st->f);
	for (i = 0; i < st->n; i++)
		free(st->t[i].name);
	free(st->t);
	free(st);
}

uint32_t
ir_st_count(const IrSafetensors *st)
{
	return st->n;
}

const IrStTensor *
ir_st_at(const IrSafetensors *st, uint32_t i)
{
	return i < st->n ? &st->t[i] : NULL;
}

const IrStTensor *
ir_st_find(const IrSafetensors *st, const char *name)
{
	uint32_t i;
	for (i = 0; i < st->n; i++)
		if (strcmp(st->t[i].name, name) == 0)
			return &st->t[i];
	return NULL;
}

static float
half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 0x3ff, bits;
	float f;
	if (e == 0) {
		/* zero or subnormal: m * 2^-24 */
		f = (float)m * (1.0f / 16777216.0f);
		return s ? -f : f;
	}
	if (e == 31)
		bits = s | 0x7f800000u | (m << 13);
	else
		bits = s | ((e + 112) << 23) | (m << 13);
	memcpy(&f, &bits, 4);
	return f;
}

static float
convert_one(const unsigned char *p, unsigned dt)
{
	uint64_t u = 0;
	unsigned k, n = st_size[dt];
	float f;
	double d;
	for (k = n; k-- > 0;)
		u = u << 8 | p[k];
	switch (dt) {
	case IR_ST_F64:
		memcpy(&d, &u, 8);
		return (float)d;
	case IR_ST_F32: {
		uint32_t b = (uint32_t)u;
		memcpy(&f, &b, 4);
		return f;
	}
	case IR_ST_F16:
		return half_to_float((uint16_t)u);
	case IR_ST_BF16: {
		uint32_t b = (uint32_t)u << 16;
		memcpy(&f, &b, 4);
		return f;
	}
	case IR_ST_I64:
		return (float)(int64_t)u;
	case IR_ST_I32:
		return (float)(int32_t)(uint32_t)u;
	case IR_ST_I16:
		return (float)(int16_t)(uint16_t)u;
	case IR_ST_I8:
		return (float)(int8_t)(uint8_t)u;
	default: /* U8, BOOL */
		return (float)(uint8_t)u;
	}
}

int
ir_st_read_f32(IrSafetensors *st, const IrStTensor *t, float *dst, Diag *d)
{
	unsigned es = st_size[t->dtype];
	uint64_t total = t->end - t->begin, done = 0;
	unsigned char *buf;
	enum { CHUNK = 1 << 20 };
	if (fseeko(st->f, (off_t)(st->data_start + t->begin), SEEK_SET) != 0)
		return diag_err(d, NULL, "safetensors: seek failed for '%s'", t->name);
	buf = xmalloc(CHUNK);
	while (done < total) {
		size_t want = total - done > CHUNK ? CHUNK : (size_t)(total - done), i;
		if (fread(buf, 1, want, st->f) != want) {
			free(buf);
			return diag_err(d, NULL, "safetensors: truncated data for '%s'", t->name);
		}
		for (i = 0; i < want; i += es)
			dst[(done + i) / es] = convert_one(buf + i, t->dtype);
		done += want;
	}
	free(buf);
	return 0;
}
