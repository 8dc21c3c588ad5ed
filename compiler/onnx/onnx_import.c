/* onnx_import.c: an ONNX ModelProto to the graph IR: opset checks, graph inputs (static shapes),
 * initializers as constants, the nodes in file order through the op table (onnx_ops.c), the
 * outputs, then the verifier. Also the value table and the helpers the op handlers share. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "onnxint.h"

int
ox_err(Ox *x, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->node)
		return diag_err(x->d, x->file, "node %u '%s' (%s%s%s): %s", x->node_idx,
		                x->node->name ? x->node->name : "",
		                x->node->domain && *x->node->domain ? x->node->domain : "",
		                x->node->domain && *x->node->domain ? "." : "",
		                x->node->op_type ? x->node->op_type : "?", msg);
	return diag_err(x->d, x->file, "%s", msg);
}

OxVal *
ox_find(Ox *x, const char *name)
{
	uint32_t i;
	for (i = x->nv; i-- > 0;)
		if (strcmp(x->v[i].name, name) == 0)
			return &x->v[i];
	return NULL;
}

OxVal *
ox_input(Ox *x, unsigned i, int required)
{
	const Onnx__NodeProto *n = x->node;
	OxVal *v;
	if (i >= n->n_input || !n->input[i][0]) {
		if (required)
			ox_err(x, "input %u is required", i);
		return NULL;
	}
	v = ox_find(x, n->input[i]);
	if (!v)
		ox_err(x, "input '%s' is not defined before this node", n->input[i]);
	else if (v->consumed)
		ox_err(x, "input '%s' was folded into a silu and cannot be used here", n->input[i]);
	else if (v->unsupported)
		ox_err(x, "input '%s': %s", n->input[i], v->unsupported);
	return v && !v->consumed && !v->unsupported ? v : NULL;
}

static OxVal *
new_val(Ox *x, const char *name)
{
	OxVal *v;
	x->v = xgrow(x->v, &x->capv, x->nv + 1, sizeof *x->v);
	v = &x->v[x->nv++];
	memset(v, 0, sizeof *v);
	v->name = name;
	v->t = IR_NONE;
	return v;
}

static int
out_slot(Ox *x, unsigned out, const char **name)
{
	if (out >= x->node->n_output || !x->node->output[out][0])
		return -1;
	*name = x->node->output[out];
	if (ox_find(x, *name))
		return ox_err(x, "output '%s' is defined twice", *name);
	return 0;
}

int
ox_def_tensor(Ox *x, unsigned out, IrTensorId t)
{
	const char *name;
	if (out_slot(x, out, &name))
		return x->d->set ? -1 : 0;
	new_val(x, name)->t = t;
	return 0;
}

int
ox_def_const(Ox *x, unsigned out, OnnxTensor *c)
{
	const char *name;
	if (out_slot(x, out, &name)) {
		onnx_tensor_free(c);
		return x->d->set ? -1 : 0;
	}
	OxVal *v = new_val(x, name);
	v->is_const = 1;
	v->c = *c;
	memset(c, 0, sizeof *c);
	return 0;
}

/* sanitize: s with every character an IR name cannot hold replaced by '_', into buf; a name
 * starting with a digit (legal in ONNX, a number in .kir) gets a leading '_'. */
static const char *
sanitize(const char *s, char *buf, size_t n)
{
	size_t i;
	snprintf(buf, n, "%s%s", s && *s >= '0' && *s <= '9' ? "_" : "", s && *s ? s : "t");
	if (strlen(buf) > 200)
		buf[200] = 0;
	for (i = 0; buf[i]; i++) {
		char ch = buf[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || (ch == '.' && i > 0)))
			buf[i] = '_';
	}
	return buf;
}

static int
name_used(const Graph *g, const char *s)
{
	uint32_t i;
	for (i = 0; i < g->ntensors; i++)
		if (strcmp(g->tensors[i].name, s) == 0)
			return 1;
	return 0;
}

const char *
ox_unique_name(Ox *x, const char *s, char *buf, size_t n)
{
	size_t len;
	unsigned k;
	sanitize(s, buf, n);
	len = strlen(buf);
	for (k = 1; name_used(x->g, buf); k++)
		snprintf(buf + len, n - len, "_%u", k);
	return buf;
}

const char *
ox_out_name(Ox *x, unsigned out, char *buf, size_t n)
{
	return ox_unique_name(x, out < x->node->n_output ? x->node->output[out] : NULL, buf, n);
}

IrTensorId
ox_tensor(Ox *x, OxVal *v)
{
	char nb[256];
	IrWeight w;
	IrType ty;
	if (!v->is_const || v->t != IR_NONE)
		return v->t;
	ty = ir_type(IR_F32, v->c.rank, v->c.dim);
	memset(&w, 0, sizeof w);
	w.src = IR_W_DATA;
	w.data = v->c.f;
	v->t = ir_add_weight(x->g, ox_unique_name(x, v->name, nb, sizeof nb), &ty, &w);
	return v->t;
}

IrTensorId
ox_finish(Ox *x, IrNodeId n, const char *name)
{
	Diag sub = {0};
	const char *names[1] = {name};
	IrTensorId t = ir_node_finish(x->g, n, names, &sub);
	if (t == IR_NONE) {
		const char *m = strstr(sub.msg, "error: ");
		ox_err(x, "%s", m ? m + 7 : sub.msg);
	}
	return t;
}

IrTensorId
ox_emit(Ox *x, IrOpcode op, const IrTensorId *in, unsigned nin, const char *name)
{
	unsigned i;
	for (i = 0; i < nin && i < ir_ops[op].nin_min; i++)
		if (in[i] == IR_NONE) {
			if (!x->d->set)
				ox_err(x, "operand %u of %s is missing", i, ir_ops[op].name);
			return IR_NONE;
		}
	return ox_finish(x, ir_node_new(x->g, op, in, nin), name);
}

const Onnx__AttributeProto *
ox_attr(Ox *x, const char *name)
{
	size_t i;
	for (i = 0; i < x->node->n_attribute; i++)
		if (x->node->attribute[i]->name && strcmp(x->node->attribute[i]->name, name) == 0)
			return x->node->attribute[i];
	return NULL;
}

int
ox_attr_int(Ox *x, const char *name, int64_t dflt, int64_t *v)
{
	const Onnx__AttributeProto *a = ox_attr(x, name);
	*v = dflt;
	if (!a)
		return 0;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		return ox_err(x, "attribute '%s' must be an int", name);
	*v = a->i;
	return 0;
}

int
ox_attr_float(Ox *x, const char *name, double dflt, double *v)
{
	const Onnx__AttributeProto *a = ox_attr(x, name);
	*v = dflt;
	if (!a)
		return 0;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
		return ox_err(x, "attribute '%s' must be a float", name);
	*v = a->f;
	return 0;
}

int
ox_attr_ints(Ox *x, const char *name, const int64_t **v, size_t *n)
{
	const Onnx__AttributeProto *a = ox_attr(x, name);
	*v = NULL, *n = 0;
	if (!a)
		return 0;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
		return ox_err(x, "attribute '%s' must be a list of ints", name);
	*v = a->ints, *n = a->n_ints;
	return 0;
}

int
ox_check_attrs(Ox *x, const char *const *names)
{
	size_t i, k;
	for (i = 0; i < x->node->n_attribute; i++) {
		const char *an = x->node->attribute[i]->name ? x->node->attribute[i]->name : "";
		for (k = 0; names[k] && strcmp(names[k], an) != 0; k++)
			;
		if (!names[k])
			return ox_err(x, "attribute '%s' is not supported", an);
	}
	return 0;
}

/* The opsets: default domain 13..17, ai.kolmo 1; other domains are refused when a node uses
 * them (ox_import_node). */
static int
check_opsets(Ox *x, const Onnx__ModelProto *m)
{
	size_t i;
	x->opset = -1;
	for (i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = m->opset_import[i];
		const char *dom = o->domain ? o->domain : "";
		if (!*dom || strcmp(dom, "ai.onnx") == 0) {
			x->opset = o->version;
			if (o->version < ONNX_OPSET_MIN || o->version > ONNX_OPSET_MAX)
				return ox_err(
				    x,
				    "opset %lld of the default ONNX domain is not supported "
				    "(supported: %d to %d; convert the model with "
				    "onnx.version_converter)",
				    (long long)o->version, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
		} else if (strcmp(dom, ONNX_KOLMO_DOMAIN) == 0 &&
		           o->version != ONNX_KOLMO_DOMAIN_VERSION) {
			return ox_err(x, "domain %s version %lld is not supported (supported: %d)",
			              ONNX_KOLMO_DOMAIN, (long long)o->version,
			              ONNX_KOLMO_DOMAIN_VERSION);
		}
	}
	if (x->opset < 0)
		return ox_err(x, "the model imports no opset of the default ONNX domain");
	return 0;
}

static int
add_input(Ox *x, const Onnx__ValueInfoProto *vi, const OnnxOptions *opt)
{
	const char *name = vi->name ? vi->name : "";
	const Onnx__TypeProto__Tensor *tt;
	IrType ty;
	char nb[256];
	uint32_t k;
	OxVal *v;
	if (ox_find(x, name))
		return 0; /* an initializer with a default value: the constant wins */
	for (k = 0; opt && k < opt->nconsts; k++)
		if (strcmp(opt->consts[k].name, name) == 0) {
			v = new_val(x, name);
			v->is_const = 1;
			v->c = opt->consts[k];
			v->c.f = xmalloc(sizeof(float) * (size_t)(v->c.n ? v->c.n : 1));
			memcpy(v->c.f, opt->consts[k].f, sizeof(float) * (size_t)v->c.n);
			if (opt->consts[k].i) {
				v->c.i = xmalloc(sizeof(int64_t) * (size_t)(v->c.n ? v->c.n : 1));
				memcpy(v->c.i, opt->consts[k].i, sizeof(int64_t) * (size_t)v->c.n);
			}
			return 0;
		}
	if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !(tt = vi->type->tensor_type))
		return ox_err(x, "graph input '%s' is not a tensor", name);
	if (tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
	    tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
		/* a shape, axis or index known only at run time: an error where it is used */
		new_val(x, name)->unsupported =
		    "an integer graph input is known only at run time; kolmo needs shapes, axes "
		    "and indices as constants (initializers or Constant nodes)";
		return 0;
	}
	if (tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
		return ox_err(x,
		              "graph input '%s' has element type %s; kolmo imports float32 inputs",
		              name, ox_dtype_name(tt->elem_type));
	if (!tt->shape)
		return ox_err(x, "graph input '%s' has no shape (kolmo needs static shapes)", name);
	if (tt->shape->n_dim > IR_MAXRANK)
		return ox_err(x, "graph input '%s' has rank %zu > %d", name, tt->shape->n_dim,
		              IR_MAXRANK);
	memset(&ty, 0, sizeof ty);
	ty.dtype = IR_F32;
	ty.rank = (uint8_t)tt->shape->n_dim;
	for (k = 0; k < ty.rank; k++) {
		const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[k];
		if (dm->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			return ox_err(
			    x,
			    "graph input '%s': dimension %u is dynamic ('%s'); kolmo needs "
			    "static shapes (fix it when exporting, e.g. without "
			    "dynamic_axes, or with onnx.tools.update_model_dims)",
			    name, k,
			    dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
			        ? dm->dim_param
			        : "unset");
		if (dm->dim_value < 0 || dm->dim_value > IR_MAX_ELEMS)
			return ox_err(x, "graph input '%s': bad dimension %lld", name,
			              (long long)dm->dim_value);
		ty.dim[k] = dm->dim_value;
	}
	if (ir_type_elems(&ty) > IR_MAX_ELEMS)
		return ox_err(x, "graph input '%s' has more than 2^31 elements", name);
	new_val(x, name)->t = ir_add_input(x->g, ox_unique_name(x, name, nb, sizeof nb), &ty);
	return 0;
}

static int
import_graph(Ox *x, const Onnx__ModelProto *m, const OnnxOptions *opt)
{
	const Onnx__GraphProto *gp = m->graph;
	size_t i;
	if (!gp)
		return ox_err(x, "the model has no graph");
	if (check_opsets(x, m))
		return -1;
	if (gp->n_sparse_initializer)
		return ox_err(x, "sparse initializers are not supported");
	for (i = 0; i < gp->n_initializer; i++) {
		const Onnx__TensorProto *p = gp->initializer[i];
		char what[300];
		OxVal *v;
		snprintf(what, sizeof what, "initializer '%s'", p->name ? p->name : "");
		v = new_val(x, p->name ? p->name : "");
		v->is_const = 1;
		if (ox_tensor_from_proto(p, x->file, what, &v->c, x->d))
			return -1;
	}
	for (i = 0; i < gp->n_input; i++)
		if (add_input(x, gp->input[i], opt))
			return -1;
	x->silu = xcalloc(gp->n_node + 1, 1);
	ox_mark_silu(x, gp);
	for (i = 0; i < gp->n_node; i++) {
		x->node = gp->node[i];
		x->node_idx = (uint32_t)i;
		if (ox_import_node(x))
			return -1;
	}
	x->node = NULL;
	if (!gp->n_output)
		return ox_err(x, "the graph has no outputs");
	for (i = 0; i < gp->n_output; i++) {
		const char *name = gp->output[i]->name ? gp->output[i]->name : "";
		OxVal *v = ox_find(x, name);
		char nb[256];
		uint32_t k;
		for (k = 0; opt && k < opt->noutputs && strcmp(opt->outputs[k], name) != 0; k++)
			;
		if (opt && opt->noutputs && k == opt->noutputs)
			continue;
		if (!v)
			return ox_err(x, "graph output '%s' is not computed by any node", name);
		if (v->unsupported)
			return ox_err(x, "graph output '%s': %s", name, v->unsupported);
		if (v->is_const || x->g->tensors[v->t].producer == IR_NONE)
			return ox_err(
			    x,
			    "graph output '%s' is a constant or an input, not computed by "
			    "an op",
			    name);
		ir_add_output(x->g, sanitize(name, nb, sizeof nb), v->t);
	}
	return 0;
}

Graph *
onnx_import_mem(const uint8_t *buf, size_t len, const char *fname, const OnnxOptions *opt, Diag *d)
{
	Onnx__ModelProto *m;
	Ox x;
	Graph *g;
	uint32_t i;
	int r;
	char gname[256], gsafe[256];
	m = onnx__model_proto__unpack(NULL, len, buf);
	if (!m) {
		diag_err(d, fname, "not a valid ONNX model (corrupt or truncated protobuf)");
		return NULL;
	}
	memset(&x, 0, sizeof x);
	x.file = fname;
	x.d = d;
	snprintf(gname, sizeof gname, "%s",
	         m->graph && m->graph->name && *m->graph->name ? m->graph->name : "onnx_model");
	x.g = g = ir_new(sanitize(gname, gsafe, sizeof gsafe));
	g->file = arena_strdup(g->arena, fname);
	r = import_graph(&x, m, opt);
	for (i = 0; i < x.nv; i++)
		if (x.v[i].is_const)
			onnx_tensor_free(&x.v[i].c);
	free(x.v);
	free(x.silu);
	onnx__model_proto__free_unpacked(m, NULL);
	if (!r && ir_verify(g, d))
		r = -1;
	if (r) {
		ir_free(g);
		return NULL;
	}
	return g;
}

Graph *
onnx_import_file(const char *path, const OnnxOptions *opt, Diag *d)
{
	size_t len;
	char *buf = read_file(path, ONNX_MAX_FILE_BYTES, &len, d);
	Graph *g;
	if (!buf)
		return NULL;
	g = onnx_import_mem((const uint8_t *)buf, len, path, opt, d);
	free(buf);
	return g;
}
