/* weights.c: weight sources: checking them, the seeded generator, and loading data on demand. */
#include "irint.h"

#include <math.h>
#include <string.h>

static const double dtype_lo[IR_DTYPE_COUNT] = {0, -128, -32768, -2147483648.0};
static const double dtype_hi[IR_DTYPE_COUNT] = {0, 127, 32767, 2147483647.0};

const char *
ir_resolve_path(const Graph *g, const char *path, char *buf, size_t n)
{
	if (path[0] == '/' || !g->base_dir)
		snprintf(buf, n, "%s", path);
	else
		snprintf(buf, n, "%s/%s", g->base_dir, path);
	return buf;
}

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
unit(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

void
ir_random_fill(float *dst, int64_t n, IrDist dist, double a, double b, uint64_t seed, IrDtype dt)
{
	uint64_t s = seed;
	int64_t i;
	const double pi = 3.14159265358979323846;
	for (i = 0; i < n; i++) {
		double v;
		if (dist == IR_UNIFORM) {
			double u = unit(&s);
			v = dt == IR_F32 ? a + (b - a) * u : floor(a + (b - a + 1) * u);
		} else {
			double u1 = unit(&s), u2 = unit(&s);
			v = a + b * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * pi * u2);
			if (dt != IR_F32)
				v = nearbyint(v);
		}
		if (dt != IR_F32)
			v = v < dtype_lo[dt] ? dtype_lo[dt] : v > dtype_hi[dt] ? dtype_hi[dt] : v;
		dst[i] = (float)v;
	}
}

/* The value v is representable in tensor dtype dt (integral and in range for integers). */
static int
fits(double v, unsigned dt)
{
	if (!isfinite(v) || !isfinite((float)v))
		return 0;
	if (dt == IR_F32)
		return 1;
	return v == floor(v) && v >= dtype_lo[dt] && v <= dtype_hi[dt];
}

int
ir_weight_check(const Graph *g, IrTensorId t, Diag *d)
{
	const IrTensor *x = &g->tensors[t];
	const IrWeight *w = &x->w;
	const char *dn = x->type.dtype < IR_DTYPE_COUNT ? ir_dtype_names[x->type.dtype] : "?";
	int64_t i, n;
	switch (w->src) {
	case IR_W_SAFETENSORS:
		if (!w->path || !w->path[0])
			return ir_diag_loc(g, w->path_loc, d, "empty safetensors file name");
		if (!w->key || !w->key[0])
			return ir_diag_loc(g, w->key_loc, d, "empty safetensors tensor key");
		return 0;
	case IR_W_RANDOM:
		if (w->dist > IR_NORMAL)
			return ir_diag_loc(g, w->src_loc, d, "bad distribution");
		if (!fits(w->a, x->type.dtype) || !fits(w->b, x->type.dtype))
			return ir_diag_loc(
			    g, w->path_loc, d, "random parameters must be finite%s",
			    x->type.dtype == IR_F32 ? "" : " integers in the dtype's range");
		if (w->dist == IR_UNIFORM && !(w->a < w->b))
			return ir_diag_loc(g, w->path_loc, d, "uniform(a, b) needs a < b");
		if (w->dist == IR_NORMAL && !(w->b >= 0))
			return ir_diag_loc(g, w->path_loc, d,
			                   "normal(mean, stddev) needs stddev >= 0");
		return 0;
	case IR_W_FILL:
		if (!fits(w->a, x->type.dtype))
			return ir_diag_loc(g, w->path_loc, d, "fill value does not fit %s", dn);
		return 0;
	case IR_W_DATA:
		if (!w->data)
			return ir_diag_loc(g, w->src_loc, d, "inline data missing");
		n = ir_type_elems(&x->type);
		for (i = 0; i < n; i++)
			if (!fits(w->data[i], x->type.dtype))
				return ir_diag_loc(g, w->src_loc, d,
				                   "data value %lld does not fit %s", (long long)i,
				                   dn);
		return 0;
	default:
		return ir_diag_loc(g, x->loc, d, "weight '%s' has no valid source", x->name);
	}
}

/* Which safetensors dtypes a tensor dtype accepts: f32 <- float formats; iN <- the same IN. */
static int
st_compatible(unsigned dt, unsigned st)
{
	switch (dt) {
	case IR_F32:
		return st == IR_ST_F32 || st == IR_ST_F16 || st == IR_ST_BF16 || st == IR_ST_F64;
	case IR_I8:
		return st == IR_ST_I8;
	case IR_I16:
		return st == IR_ST_I16;
	case IR_I32:
		return st == IR_ST_I32;
	default:
		return 0;
	}
}

int
ir_weight_check_st(const Graph *g, IrTensorId t, const IrSafetensors *st, Diag *d)
{
	const IrTensor *x = &g->tensors[t];
	const IrStTensor *e = ir_st_find(st, x->w.key);
	char b1[96], b2[96];
	IrType ft;
	unsigned k;
	if (!e) {
		char list[256] = "";
		uint32_t i;
		for (i = 0; i < ir_st_count(st) && strlen(list) < 180; i++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof list - l, "%s'%s'", i ? ", " : "",
			         ir_st_at(st, i)->name);
		}
		return ir_diag_loc(g, x->w.key_loc, d, "no tensor '%s' in '%s' (it has %s%s)",
		                   x->w.key, x->w.path, list[0] ? list : "none",
		                   i < ir_st_count(st) ? ", ..." : "");
	}
	memset(&ft, 0, sizeof ft);
	ft.dtype = x->type.dtype;
	ft.rank = e->rank;
	for (k = 0; k < e->rank; k++)
		ft.dim[k] = e->dim[k];
	if (!ir_shape_equal(&ft, &x->type)) {
		IrType ft2 = ft;
		ft2.dtype = IR_F32;
		ir_type_str(&ft2, b2, sizeof b2);
		/* show the file's shape with its own dtype name */
		memmove(b2 + strlen(ir_st_dtype_names[e->dtype]), b2 + 3, strlen(b2 + 3) + 1);
		memcpy(b2, ir_st_dtype_names[e->dtype], strlen(ir_st_dtype_names[e->dtype]));
		return ir_diag_loc(g, x->type_loc.line ? x->type_loc : x->w.key_loc, d,
		                   "weight '%s' is declared %s but '%s' in the file is %s", x->name,
		                   ir_type_str(&x->type, b1, sizeof b1), x->w.key, b2);
	}
	if (!st_compatible(x->type.dtype, e->dtype))
		return ir_diag_loc(
		    g, x->w.key_loc, d, "'%s' has dtype %s in the file, which cannot be read as %s",
		    x->w.key, ir_st_dtype_names[e->dtype], ir_dtype_names[x->type.dtype]);
	return 0;
}

const float *
ir_weight_data(Graph *g, IrTensorId t, Diag *d)
{
	IrTensor *x;
	int64_t n, i;
	float *dst;
	KASSERT(t < g->ntensors);
	x = &g->tensors[t];
	if (x->kind != IR_WEIGHT) {
		ir_diag_loc(g, x->loc, d, "'%s' is not a weight", x->name);
		return NULL;
	}
	if (x->w.data)
		return x->w.data;
	n = ir_type_elems(&x->type);
	{
		int64_t max =
		    g->max_weight_elems > 0 ? g->max_weight_elems : IR_WEIGHT_ELEMS_DEFAULT;
		if (n > max) {
			ir_diag_loc(g, x->loc, d,
			            "weight '%s' has %lld elements, over the budget of %lld per "
			            "weight (raise it with --max-weight-elems)",
			            x->name, (long long)n, (long long)max);
			return NULL;
		}
	}
	if (ir_weight_check(g, t, d))
		return NULL;
	switch (x->w.src) {
	case IR_W_SAFETENSORS: {
		char full[4096], msg[1024];
		IrSafetensors *st;
		ir_resolve_path(g, x->w.path, full, sizeof full);
		st = ir_st_open_msg(full, msg, sizeof msg);
		if (!st) {
			ir_diag_loc(g, x->w.path_loc, d, "safetensors file '%s': %s", x->w.path,
			            msg);
			return NULL;
		}
		if (ir_weight_check_st(g, t, st, d)) {
			ir_st_close(st);
			return NULL;
		}
		dst = arena_alloc(g->arena, (size_t)n * sizeof(float));
		if (ir_st_read_f32(st, ir_st_find(st, x->w.key), dst, d)) {
			ir_st_close(st);
			return NULL;
		}
		ir_st_close(st);
		break;
	}
	case IR_W_RANDOM:
		dst = arena_alloc(g->arena, (size_t)n * sizeof(float));
		ir_random_fill(dst, n, (IrDist)x->w.dist, x->w.a, x->w.b, x->w.seed,
		               (IrDtype)x->type.dtype);
		break;
	default: /* IR_W_FILL (IR_W_DATA always has data) */
		dst = arena_alloc(g->arena, (size_t)n * sizeof(float));
		for (i = 0; i < n; i++)
			dst[i] = (float)x->w.a;
		break;
	}
	x->w.data = dst;
	return dst;
}

int
ir_load_weights(Graph *g, Diag *d)
{
	IrTensorId t;
	for (t = 0; t < g->ntensors; t++)
		if (g->tensors[t].kind == IR_WEIGHT && !ir_weight_data(g, t, d))
			return -1;
	return 0;
}
