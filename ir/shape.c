/* shape.c: the shape rule of every op in ops.def (shape_<name>): operand ranks, dims and
 * attributes checked, result types computed. Errors name the operand or attribute at fault. */
#include "irint.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static int fail(IrShapeCtx *c, int where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(IrShapeCtx *c, int where, const char *fmt, ...)
{
	va_list ap;
	c->where = where;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
oname(IrShapeCtx *c, int i, char *buf, size_t n)
{
	return ir_op_operand_name(c->n->op, (unsigned)i, buf, n);
}

/* The type of operand i as text, in a rotating set of buffers. */
static const char *
ts(IrShapeCtx *c, int i)
{
	c->tk = (c->tk + 1) & 3;
	return ir_type_str(c->in[i], c->tbuf[c->tk], sizeof c->tbuf[c->tk]);
}

static int
aslot(IrShapeCtx *c, const char *name)
{
	int k = ir_attr_index(c->n->op, name, strlen(name));
	KASSERT(k >= 0);
	return k;
}
#define AT(name) (IR_WHERE_ATTR + aslot(c, name))

static const IrAttr *
attr(IrShapeCtx *c, const char *name)
{
	return &c->n->attr[aslot(c, name)];
}
static int64_t
ai(IrShapeCtx *c, const char *name)
{
	return attr(c, name)->i;
}
static double
af(IrShapeCtx *c, const char *name)
{
	return attr(c, name)->f;
}

static int
need_rank(IrShapeCtx *c, int i, unsigned lo, unsigned hi)
{
	char nb[32];
	const IrType *t = c->in[i];
	if (t->rank < lo || t->rank > hi) {
		if (lo == hi)
			return fail(c, i, "operand '%s' must have rank %u, got %s",
			            oname(c, i, nb, 32), lo, ts(c, i));
		return fail(c, i, "operand '%s' must have rank %u..%u, got %s", oname(c, i, nb, 32),
		            lo, hi, ts(c, i));
	}
	return 0;
}

/* Operand i must have exactly dims want[0..rank-1] (described by `what`, e.g. "[O, I]"). */
static int
need_dims(IrShapeCtx *c, int i, unsigned rank, const int64_t *want, const char *what)
{
	char nb[32];
	unsigned k;
	int bad = c->in[i]->rank != rank;
	for (k = 0; !bad && k < rank; k++)
		bad = c->in[i]->dim[k] != want[k];
	if (bad) {
		IrType w = ir_type((IrDtype)c->in[i]->dtype, rank, want);
		char wb[96];
		return fail(c, i, "operand '%s' must be %s = %s, got %s", oname(c, i, nb, 32), what,
		            ir_type_str(&w, wb, sizeof wb), ts(c, i));
	}
	return 0;
}

static void
set_out(IrShapeCtx *c, const IrType *like, unsigned rank, const int64_t *dims)
{
	c->out[0] = ir_type((IrDtype)like->dtype, rank, dims);
}

static int
norm_axis(IrShapeCtx *c, const char *name, unsigned rank, unsigned *axis)
{
	int64_t a = ai(c, name);
	if (a < -(int64_t)rank || a >= (int64_t)rank)
		return fail(c, AT(name), "%s %lld out of range for rank %u", name, (long long)a,
		            rank);
	*axis = (unsigned)(a < 0 ? a + (int64_t)rank : a);
	return 0;
}

/* numpy broadcasting of the trailing dims of a and b (ranks ra, rb) into out (rank max). */
static int
broadcast(IrShapeCtx *c, const int64_t *a, unsigned ra, const int64_t *b, unsigned rb, int64_t *out,
          unsigned *ro)
{
	unsigned r = ra > rb ? ra : rb, i;
	for (i = 0; i < r; i++) {
		int64_t x = i < r - ra ? 1 : a[i - (r - ra)];
		int64_t y = i < r - rb ? 1 : b[i - (r - rb)];
		if (x != y && x != 1 && y != 1)
			return fail(c, 1, "cannot broadcast %s with %s (axis %u: %lld vs %lld)",
			            ts(c, 0), ts(c, 1), i, (long long)x, (long long)y);
		out[i] = x == 1 ? y : x;
	}
	*ro = r;
	return 0;
}

/* ---- KAN ---- */

static int
shape_kan_linear(IrShapeCtx *c)
{
	int64_t G = ai(c, "grid_size"), k = ai(c, "spline_order"), I, O, want[3];
	const IrAttr *gr = attr(c, "grid_range"), *kn = attr(c, "knots");
	int64_t nknots;
	uint32_t j;
	if (G < 1 || G > 4096)
		return fail(c, AT("grid_size"), "grid_size must be in 1..4096, got %lld",
		            (long long)G);
	if (k < 0 || k > 16)
		return fail(c, AT("spline_order"), "spline_order must be in 0..16, got %lld",
		            (long long)k);
	nknots = G + 2 * k + 1;
	if (gr->n != 2 || !isfinite(gr->floats[0]) || !isfinite(gr->floats[1]) ||
	    !(gr->floats[0] < gr->floats[1]))
		return fail(c, AT("grid_range"), "grid_range must be [lo, hi] with lo < hi");
	if (kn->set) {
		if (kn->n != (uint32_t)nknots)
			return fail(c, AT("knots"),
			            "knots must have G+2k+1 = %lld values (G=%lld, k=%lld), got %u",
			            (long long)nknots, (long long)G, (long long)k, kn->n);
		for (j = 0; j < kn->n; j++)
			if (!isfinite(kn->floats[j]) || (j && kn->floats[j] < kn->floats[j - 1]))
				return fail(c, AT("knots"),
				            "knots must be finite and non-decreasing");
		if (!(kn->floats[0] < kn->floats[kn->n - 1]))
			return fail(c, AT("knots"), "knots must not all be equal");
		if (c->n->nin > 4 && c->in[4])
			return fail(c, 4, "give knots as an attribute or as an operand, not both");
	}
	if (need_rank(c, 0, 1, IR_MAXRANK) || need_rank(c, 1, 2, 2))
		return -1;
	I = c->in[0]->dim[c->in[0]->rank - 1];
	O = c->in[1]->dim[0];
	want[0] = O, want[1] = I;
	if (need_dims(c, 1, 2, want, "[O, I]"))
		return -1;
	want[2] = G + k;
	if (need_dims(c, 2, 3, want, "[O, I, G+k]"))
		return -1;
	if (c->n->nin > 3 && c->in[3] && need_dims(c, 3, 2, want, "[O, I]"))
		return -1;
	if (c->n->nin > 4 && c->in[4]) {
		want[0] = I, want[1] = nknots;
		if (need_dims(c, 4, 2, want, "[I, G+2k+1]"))
			return -1;
	}
	c->out[0] = *c->in[0];
	c->out[0].q.nscale = 0, c->out[0].q.scale = NULL, c->out[0].q.axis = -1;
	c->out[0].dim[c->out[0].rank - 1] = O;
	return 0;
}

/* pykan KANLayer: coef [I, O, G+k], scale_base and scale_sp [I, O], optional mask [I, O]. */
static int
shape_pykan_linear(IrShapeCtx *c)
{
	int64_t G = ai(c, "grid_size"), k = ai(c, "spline_order"), I, O, want[3];
	const IrAttr *gr = attr(c, "grid_range");
	unsigned i;
	if (G < 1 || G > 4096)
		return fail(c, AT("grid_size"), "grid_size must be in 1..4096, got %lld",
		            (long long)G);
	if (k < 0 || k > 16)
		return fail(c, AT("spline_order"), "spline_order must be in 0..16, got %lld",
		            (long long)k);
	if (gr->n != 2 || !isfinite(gr->floats[0]) || !isfinite(gr->floats[1]) ||
	    !(gr->floats[0] < gr->floats[1]))
		return fail(c, AT("grid_range"), "grid_range must be [lo, hi] with lo < hi");
	if (need_rank(c, 0, 1, IR_MAXRANK) || need_rank(c, 1, 3, 3))
		return -1;
	I = c->in[0]->dim[c->in[0]->rank - 1];
	O = c->in[1]->dim[1];
	want[0] = I, want[1] = O, want[2] = G + k;
	if (need_dims(c, 1, 3, want, "[I, O, G+k]"))
		return -1;
	for (i = 2; i < c->n->nin; i++)
		if (c->in[i] && need_dims(c, (int)i, 2, want, "[I, O]"))
			return -1;
	c->out[0] = *c->in[0];
	c->out[0].q.nscale = 0, c->out[0].q.scale = NULL, c->out[0].q.axis = -1;
	c->out[0].dim[c->out[0].rank - 1] = O;
	return 0;
}

/* ---- dense algebra ---- */

static int
shape_linear(IrShapeCtx *c)
{
	int64_t want[2];
	if (need_rank(c, 0, 1, IR_MAXRANK) || need_rank(c, 1, 2, 2))
		return -1;
	want[0] = c->in[1]->dim[0], want[1] = c->in[0]->dim[c->in[0]->rank - 1];
	if (need_dims(c, 1, 2, want, "[O, I]"))
		return -1;
	if (c->n->nin > 2 && c->in[2] && need_dims(c, 2, 1, want, "[O]"))
		return -1;
	set_out(c, c->in[0], c->in[0]->rank, c->in[0]->dim);
	c->out[0].dim[c->out[0].rank - 1] = want[0];
	return 0;
}

static int
shape_matmul(IrShapeCtx *c)
{
	const IrType *a = c->in[0], *b = c->in[1];
	int64_t M, Ka, Kb, N, dims[IR_MAXRANK];
	unsigned r;
	if (need_rank(c, 0, 2, IR_MAXRANK) || need_rank(c, 1, 2, IR_MAXRANK))
		return -1;
	M = a->dim[a->rank - 2], Ka = a->dim[a->rank - 1];
	if (ai(c, "transpose_a"))
		M = a->dim[a->rank - 1], Ka = a->dim[a->rank - 2];
	Kb = b->dim[b->rank - 2], N = b->dim[b->rank - 1];
	if (ai(c, "transpose_b"))
		Kb = b->dim[b->rank - 1], N = b->dim[b->rank - 2];
	if (Ka != Kb)
		return fail(c, 1, "inner dimensions differ: %s x %s (%lld vs %lld)", ts(c, 0),
		            ts(c, 1), (long long)Ka, (long long)Kb);
	if (broadcast(c, a->dim, a->rank - 2u, b->dim, b->rank - 2u, dims, &r))
		return -1;
	dims[r] = M, dims[r + 1] = N;
	set_out(c, a, r + 2, dims);
	return 0;
}

static int
elementwise2(IrShapeCtx *c)
{
	int64_t dims[IR_MAXRANK];
	unsigned r;
	if (broadcast(c, c->in[0]->dim, c->in[0]->rank, c->in[1]->dim, c->in[1]->rank, dims, &r))
		return -1;
	set_out(c, c->in[0], r, dims);
	return 0;
}
static int
shape_add(IrShapeCtx *c)
{
	return elementwise2(c);
}
static int
shape_mul(IrShapeCtx *c)
{
	return elementwise2(c);
}
static int
shape_sub(IrShapeCtx *c)
{
	return elementwise2(c);
}
static int
shape_div(IrShapeCtx *c)
{
	return elementwise2(c);
}

static int
unary(IrShapeCtx *c)
{
	set_out(c, c->in[0], c->in[0]->rank, c->in[0]->dim);
	return 0;
}
static int
shape_silu(IrShapeCtx *c)
{
	return unary(c);
}
static int
shape_relu(IrShapeCtx *c)
{
	return unary(c);
}
static int
shape_exp(IrShapeCtx *c)
{
	return unary(c);
}
static int
shape_sigmoid(IrShapeCtx *c)
{
	return unary(c);
}
static int
shape_tanh(IrShapeCtx *c)
{
	return unary(c);
}

static int
shape_softmax(IrShapeCtx *c)
{
	unsigned axis;
	if (need_rank(c, 0, 1, IR_MAXRANK) || norm_axis(c, "axis", c->in[0]->rank, &axis))
		return -1;
	return unary(c);
}

static int
norm(IrShapeCtx *c)
{
	int64_t D;
	int i;
	double eps = af(c, "eps");
	if (!(eps >= 0) || !isfinite(eps))
		return fail(c, AT("eps"), "eps must be finite and >= 0");
	if (need_rank(c, 0, 1, IR_MAXRANK))
		return -1;
	D = c->in[0]->dim[c->in[0]->rank - 1];
	for (i = 1; i < c->n->nin; i++)
		if (c->in[i] && need_dims(c, i, 1, &D, "[D] (the last axis of x)"))
			return -1;
	return unary(c);
}
static int
shape_layernorm(IrShapeCtx *c)
{
	return norm(c);
}
static int
shape_rmsnorm(IrShapeCtx *c)
{
	return norm(c);
}

/* ---- layout ---- */

static int
shape_reshape(IrShapeCtx *c)
{
	const IrAttr *s = attr(c, "shape");
	int64_t dims[IR_MAXRANK], prod = 1, total = ir_type_elems(c->in[0]);
	int infer = -1;
	uint32_t i;
	if (s->n > IR_MAXRANK)
		return fail(c, AT("shape"), "shape has rank %u, more than %d", s->n, IR_MAXRANK);
	for (i = 0; i < s->n; i++) {
		int64_t v = s->ints[i];
		if (v == -1) {
			if (infer >= 0)
				return fail(c, AT("shape"), "shape may contain -1 only once");
			infer = (int)i;
			dims[i] = 1;
		} else if (v < 1 || v > IR_MAX_ELEMS) {
			return fail(c, AT("shape"), "shape dim %u is %lld; dims must be >= 1 or -1",
			            i, (long long)v);
		} else {
			dims[i] = v;
		}
		prod *= dims[i];
		if (prod > IR_MAX_ELEMS)
			return fail(c, AT("shape"), "shape has more than 2^31 elements");
	}
	if (infer >= 0) {
		if (total % prod != 0)
			return fail(c, AT("shape"),
			            "cannot infer -1: %lld elements not divisible by %lld",
			            (long long)total, (long long)prod);
		dims[infer] = total / prod;
		prod = total;
	}
	if (prod != total)
		return fail(c, AT("shape"), "shape has %lld elements but %s has %lld",
		            (long long)prod, ts(c, 0), (long long)total);
	set_out(c, c->in[0], s->n, dims);
	return 0;
}

static int
shape_transpose(IrShapeCtx *c)
{
	const IrAttr *p = attr(c, "perm");
	int64_t dims[IR_MAXRANK];
	unsigned seen = 0, i;
	if (p->n != c->in[0]->rank)
		return fail(c, AT("perm"), "perm has %u entries but x has rank %u", p->n,
		            c->in[0]->rank);
	for (i = 0; i < p->n; i++) {
		int64_t v = p->ints[i];
		if (v < 0 || v >= (int64_t)p->n || (seen >> v & 1))
			return fail(c, AT("perm"), "perm must be a permutation of 0..%u", p->n - 1);
		seen |= 1u << v;
		dims[i] = c->in[0]->dim[v];
	}
	set_out(c, c->in[0], p->n, dims);
	return 0;
}

static int
shape_concat(IrShapeCtx *c)
{
	unsigned axis, r, i, k;
	int64_t dims[IR_MAXRANK];
	char nb[32];
	if (need_rank(c, 0, 1, IR_MAXRANK))
		return -1;
	r = c->in[0]->rank;
	if (norm_axis(c, "axis", r, &axis))
		return -1;
	memcpy(dims, c->in[0]->dim, sizeof dims);
	for (i = 1; i < c->n->nin; i++) {
		if (c->in[i]->rank != r)
			return fail(c, (int)i, "operand '%s' has rank %u, expected %u like x0",
			            oname(c, (int)i, nb, 32), c->in[i]->rank, r);
		for (k = 0; k < r; k++)
			if (k != axis && c->in[i]->dim[k] != dims[k])
				return fail(
				    c, (int)i,
				    "operand '%s' is %s; all dims but axis %u must match %s",
				    oname(c, (int)i, nb, 32), ts(c, (int)i), axis, ts(c, 0));
		dims[axis] += c->in[i]->dim[axis];
		if (dims[axis] > IR_MAX_ELEMS)
			return fail(c, (int)i, "concatenated axis too large");
	}
	set_out(c, c->in[0], r, dims);
	return 0;
}

/* ---- attention ---- */

/* q [B,H,N,D], k [B,H,M,D], v [B,H,M,Dv]; out [B,H,N,Dv]. */
static int
qkv(IrShapeCtx *c, int with_v)
{
	const IrType *q = c->in[0];
	int64_t want[4];
	if (need_rank(c, 0, 4, 4) || need_rank(c, 1, 4, 4))
		return -1;
	want[0] = q->dim[0], want[1] = q->dim[1], want[2] = c->in[1]->dim[2], want[3] = q->dim[3];
	if (need_dims(c, 1, 4, want, "[B, H, M, D] (B, H, D as q)"))
		return -1;
	if (with_v) {
		if (need_rank(c, 2, 4, 4))
			return -1;
		want[3] = c->in[2]->dim[3];
		if (need_dims(c, 2, 4, want, "[B, H, M, Dv] (B, H, M as k)"))
			return -1;
		want[2] = q->dim[2];
		set_out(c, q, 4, want);
	}
	return 0;
}

static int
scale_ok(IrShapeCtx *c)
{
	const IrAttr *s = attr(c, "scale");
	if (s->set && (!isfinite(s->f) || s->f == 0))
		return fail(c, AT("scale"), "scale must be finite and nonzero");
	return 0;
}

static int
mask_attrs_ok(IrShapeCtx *c)
{
	int64_t bq = ai(c, "blkq"), bk = ai(c, "blkk");
	double rho = af(c, "rho"), tau = af(c, "tau"), th = af(c, "simthresh");
	if (bq < 1 || bq > 65536)
		return fail(c, AT("blkq"), "blkq must be in 1..65536, got %lld", (long long)bq);
	if (bk < 1 || bk > 65536)
		return fail(c, AT("blkk"), "blkk must be in 1..65536, got %lld", (long long)bk);
	if (!(rho > 0 && rho <= 1))
		return fail(c, AT("rho"), "rho must be in (0, 1]");
	if (!(tau > 0 && tau <= 1))
		return fail(c, AT("tau"), "tau must be in (0, 1]");
	if (!(th >= -1 && th <= 1))
		return fail(c, AT("simthresh"), "simthresh must be in [-1, 1] (a mean cosine)");
	return 0;
}

static int64_t
ceil_div(int64_t a, int64_t b)
{
	return (a + b - 1) / b;
}

static int
shape_attention(IrShapeCtx *c)
{
	return scale_ok(c) || qkv(c, 1);
}

static int
shape_block_mask(IrShapeCtx *c)
{
	int64_t d[4];
	if (mask_attrs_ok(c) || qkv(c, 0))
		return -1;
	d[0] = c->in[0]->dim[0], d[1] = c->in[0]->dim[1];
	d[2] = ceil_div(c->in[0]->dim[2], ai(c, "blkq"));
	d[3] = ceil_div(c->in[1]->dim[2], ai(c, "blkk"));
	c->out[0] = ir_type(IR_I8, 4, d);
	return 0;
}

static int
shape_sparse_attention(IrShapeCtx *c)
{
	int64_t combine = ai(c, "combine"), Dv, want[4];
	int has3 = c->n->nin > 3 && c->in[3], has4 = c->n->nin > 4 && c->in[4];
	double pv = af(c, "pv_threshold"), eps = af(c, "eps");
	unsigned r;
	if (mask_attrs_ok(c) || scale_ok(c) || qkv(c, 1))
		return -1;
	if (isnan(pv))
		return fail(c, AT("pv_threshold"), "pv_threshold must be a number or inf");
	if (!(eps >= 0) || !isfinite(eps))
		return fail(c, AT("eps"), "eps must be finite and >= 0");
	Dv = c->out[0].dim[3];
	if (combine == 0 && (has3 || has4))
		return fail(c, has3 ? 3 : 4, "combine = none takes only q, k, v");
	if (combine == 1) { /* sla: o_s + o_l W^T + b */
		want[0] = want[1] = Dv;
		if (!has3)
			return fail(c, IR_WHERE_OP, "combine = sla needs combine_w [Dv, Dv]");
		if (need_dims(c, 3, 2, want, "[Dv, Dv]") ||
		    (has4 && need_dims(c, 4, 1, want, "[Dv]")))
			return -1;
	}
	if (combine == 2) { /* sla2: alpha o_s + (1 - alpha) o_l, alpha broadcast to [B,H,N,1] */
		unsigned k;
		int bad;
		if (!has3)
			return fail(c, IR_WHERE_OP, "combine = sla2 needs combine_w (alpha)");
		if (has4)
			return fail(c, 4, "combine = sla2 takes no combine_b");
		want[0] = c->out[0].dim[0], want[1] = c->out[0].dim[1], want[2] = c->out[0].dim[2];
		want[3] = 1;
		r = c->in[3]->rank;
		bad = r > 4;
		for (k = 0; !bad && k < r; k++) {
			int64_t a = c->in[3]->dim[k], t = want[4 - r + k];
			bad = a != 1 && a != t;
		}
		if (bad)
			return fail(c, 3, "alpha %s must broadcast to [B, H, N, 1]", ts(c, 3));
	}
	return 0;
}

static int
shape_linear_attention(IrShapeCtx *c)
{
	int complement = ai(c, "region") == 1;
	int has_mask = c->n->nin > 3 && c->in[3];
	int64_t bq = ai(c, "blkq"), bk = ai(c, "blkk"), want[4];
	double eps = af(c, "eps");
	if (bq < 1 || bq > 65536)
		return fail(c, AT("blkq"), "blkq must be in 1..65536");
	if (bk < 1 || bk > 65536)
		return fail(c, AT("blkk"), "blkk must be in 1..65536");
	if (!(eps >= 0) || !isfinite(eps))
		return fail(c, AT("eps"), "eps must be finite and >= 0");
	if (qkv(c, 1))
		return -1;
	if (complement && !has_mask)
		return fail(c, AT("region"), "region = complement needs the mask operand");
	if (!complement && has_mask)
		return fail(c, 3, "a mask is used only with region = complement");
	if (has_mask) {
		want[0] = c->in[0]->dim[0], want[1] = c->in[0]->dim[1];
		want[2] = ceil_div(c->in[0]->dim[2], bq), want[3] = ceil_div(c->in[1]->dim[2], bk);
		if (c->in[3]->dtype != IR_I8)
			return fail(c, 3, "mask must be i8, got %s", ts(c, 3));
		if (need_dims(c, 3, 4, want, "[B, H, ceil(N/blkq), ceil(M/blkk)]"))
			return -1;
	}
	return 0;
}

/* ---- dispatch ---- */

static int (*const rules[IR_OP_COUNT])(IrShapeCtx *) = {
#define IR_OP(name, nmin, nmax, nout, operands, summary, attrs) [IR_OP_##name] = shape_##name,
#include "ops.def"
};

static int
is_float(const IrType *t)
{
	return t->dtype == IR_F32;
}

int
ir_shape_rule(IrShapeCtx *c)
{
	const IrOpInfo *oi = &ir_ops[c->n->op];
	char nb[32];
	unsigned i;
	if (c->n->nin < oi->nin_min || c->n->nin > oi->nin_max) {
		if (oi->nin_min == oi->nin_max)
			return fail(c, IR_WHERE_OP, "takes %u operands, got %u", oi->nin_min,
			            c->n->nin);
		return fail(c, IR_WHERE_OP, "takes %u to %u operands, got %u", oi->nin_min,
		            oi->nin_max, c->n->nin);
	}
	for (i = 0; i < c->n->nin; i++) {
		if (!c->in[i]) {
			if (i < oi->nin_min)
				return fail(c, (int)i, "operand '%s' is required",
				            oname(c, (int)i, nb, sizeof nb));
			continue;
		}
		if (c->in[i]->dtype >= IR_DTYPE_COUNT || c->in[i]->rank > IR_MAXRANK)
			return fail(c, (int)i, "operand '%s' has an invalid type",
			            oname(c, (int)i, nb, sizeof nb));
		if (i > 0 && is_float(c->in[i]) != is_float(c->in[0]) &&
		    !(c->n->op == IR_OP_linear_attention && i == 3))
			return fail(c, (int)i,
			            "operand '%s' is %s but x is %s: cannot mix float and "
			            "integer operands",
			            oname(c, (int)i, nb, sizeof nb), ts(c, (int)i), ts(c, 0));
	}
	for (i = 0; i < oi->nattr; i++)
		if ((oi->attrs[i].flags & IR_AF_REQUIRED) && !c->n->attr[i].set)
			return fail(c, IR_WHERE_OP, "attribute '%s' is required",
			            oi->attrs[i].name);
	if (rules[c->n->op](c) != 0)
		return -1;
	for (i = 0; i < oi->nout; i++) {
		int64_t e = ir_type_elems(&c->out[i]);
		if (e > IR_MAX_ELEMS)
			return fail(c, IR_WHERE_OP, "result has more than 2^31 elements");
	}
	return 0;
}
