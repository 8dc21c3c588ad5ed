/* onnx_tensor.c: ONNX TensorProto decoding (initializers, Constant values, test-data tensor files)
 * into OnnxTensor: float32, double, int32, int64 from typed fields or little-endian raw_data. */
#include <stdlib.h>
#include <string.h>

#include "onnxint.h"

const char *
ox_dtype_name(int32_t t)
{
	static const char *const names[] = {
	    "undefined", "float",  "uint8",     "int8",       "uint16",  "int16",
	    "int32",     "int64",  "string",    "bool",       "float16", "double",
	    "uint32",    "uint64", "complex64", "complex128", "bfloat16"};
	return t >= 0 && (size_t)t < NELEM(names) ? names[t] : "unknown";
}

void
ox_tensor_alloc(OnnxTensor *t, int integer)
{
	size_t n = (size_t)(t->n ? t->n : 1);
	t->f = xcalloc(n, sizeof(float));
	t->i = integer ? xcalloc(n, sizeof(int64_t)) : NULL;
}

static uint64_t
le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	unsigned k;
	for (k = 0; k < bytes; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

int
ox_tensor_from_proto(const Onnx__TensorProto *p, const char *file, const char *what, OnnxTensor *t,
                     Diag *d)
{
	int32_t dt = p->has_data_type ? p->data_type : 0;
	unsigned esize;
	size_t nfield;
	int64_t e;
	uint32_t k;
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", p->name ? p->name : "");
	t->elem_type = dt;
	if (p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return diag_err(d, file,
		                "%s: external tensor data is not supported (save the model with "
		                "its weights inside the .onnx file)",
		                what);
	if (p->segment)
		return diag_err(d, file, "%s: segmented tensors are not supported", what);
	if (p->n_dims > IR_MAXRANK)
		return diag_err(d, file, "%s: rank %zu exceeds %d", what, p->n_dims, IR_MAXRANK);
	t->rank = (uint32_t)p->n_dims;
	t->n = 1;
	for (k = 0; k < t->rank; k++) {
		if (p->dims[k] < 0 || p->dims[k] > IR_MAX_ELEMS)
			return diag_err(d, file, "%s: bad dimension %lld", what,
			                (long long)p->dims[k]);
		t->dim[k] = p->dims[k];
		t->n *= p->dims[k];
		if (t->n > IR_MAX_ELEMS)
			return diag_err(d, file, "%s: more than 2^31 elements", what);
	}
	switch (dt) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		esize = 4, nfield = p->n_float_data;
		break;
	case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		esize = 8, nfield = p->n_double_data;
		break;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		esize = 4, nfield = p->n_int32_data;
		break;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		esize = 8, nfield = p->n_int64_data;
		break;
	default:
		return diag_err(d, file,
		                "%s: element type %s is not supported (float, double, int32, "
		                "int64)",
		                what, ox_dtype_name(dt));
	}
	if (p->has_raw_data && p->raw_data.len) {
		if (p->raw_data.len != (size_t)t->n * esize)
			return diag_err(d, file,
			                "%s: raw_data has %zu bytes, %lld %s values need %lld",
			                what, p->raw_data.len, (long long)t->n, ox_dtype_name(dt),
			                (long long)t->n * esize);
	} else if (nfield != (size_t)t->n) {
		return diag_err(d, file, "%s: %zu values for a shape of %lld elements", what,
		                nfield, (long long)t->n);
	}
	ox_tensor_alloc(t, dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
	                       dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
	for (e = 0; e < t->n; e++) {
		const uint8_t *raw = p->has_raw_data && p->raw_data.len
		                         ? p->raw_data.data + (size_t)e * esize
		                         : NULL;
		uint64_t bits;
		switch (dt) {
		case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
			uint32_t b32;
			if (raw) {
				b32 = (uint32_t)le(raw, 4);
				memcpy(&t->f[e], &b32, 4);
			} else {
				t->f[e] = p->float_data[e];
			}
			break;
		}
		case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
			double v;
			if (raw) {
				bits = le(raw, 8);
				memcpy(&v, &bits, 8);
			} else {
				v = p->double_data[e];
			}
			t->f[e] = (float)v;
			break;
		}
		case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
			t->i[e] = raw ? (int64_t)(int32_t)(uint32_t)le(raw, 4) : p->int32_data[e];
			t->f[e] = (float)t->i[e];
			break;
		default: /* int64 */
			t->i[e] = raw ? (int64_t)le(raw, 8) : p->int64_data[e];
			t->f[e] = (float)t->i[e];
			break;
		}
	}
	return 0;
}

void
onnx_tensor_free(OnnxTensor *t)
{
	free(t->f);
	free(t->i);
	t->f = NULL;
	t->i = NULL;
}

int
onnx_tensor_read_mem(const uint8_t *buf, size_t len, const char *fname, OnnxTensor *t, Diag *d)
{
	Onnx__TensorProto *p = onnx__tensor_proto__unpack(NULL, len, buf);
	int r;
	memset(t, 0, sizeof *t);
	if (!p)
		return diag_err(d, fname, "not a valid ONNX TensorProto (corrupt or truncated)");
	r = ox_tensor_from_proto(p, fname, "tensor", t, d);
	onnx__tensor_proto__free_unpacked(p, NULL);
	if (r)
		onnx_tensor_free(t);
	return r;
}

int
onnx_tensor_read_file(const char *path, OnnxTensor *t, Diag *d)
{
	size_t len;
	char *buf = read_file(path, ONNX_MAX_FILE_BYTES, &len, d);
	int r;
	if (!buf)
		return -1;
	r = onnx_tensor_read_mem((const uint8_t *)buf, len, path, t, d);
	free(buf);
	return r;
}
