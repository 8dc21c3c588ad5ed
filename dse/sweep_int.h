/* sweep_int.h: what the parts of the sweep loader share (dse/ only): the loading context, the
 * located errors and the checked accessors of YAML nodes. */
#ifndef KOLMO_SWEEP_INT_H
#define KOLMO_SWEEP_INT_H

#include <yaml.h>

#include "dse.h"

enum { MAX_SWEEP_BYTES = 1 << 20, MAX_LEVELS = 1 << 20, MAX_MODEL_BYTES = 64 << 20 };

typedef struct Ctx {
	const char *file;
	const char *text;
	const char *dir;
	yaml_document_t *doc;
	DseSweep *s;
	Diag *d;
} Ctx;

/* sw_err: an error at node n (file:line:col, source line, caret); returns -1. */
int sw_err(Ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* sw_node: node id of the document; sw_scalar: its text, or NULL if not a scalar. */
yaml_node_t *sw_node(Ctx *c, int id);
const char *sw_scalar(const yaml_node_t *n);
/* Checked scalars: 0, or -1 with a located error naming `what`. */
int sw_want_scalar(Ctx *c, yaml_node_t *n, const char *what);
int sw_get_int(Ctx *c, yaml_node_t *n, const char *what, long long lo, long long hi,
               long long *out);
int sw_get_bool(Ctx *c, yaml_node_t *n, const char *what, int *out);
int sw_get_double(Ctx *c, yaml_node_t *n, const char *what, double *out);
/* sw_closest_of: the closest of NULL-terminated names to key, or NULL; sw_dym: " (did you mean
 * 'x'?)" into buf, or "" when sug is NULL. */
const char *sw_closest_of(const char *key, const char *const *names);
const char *sw_dym(char *buf, size_t n, const char *sug);
/* sw_resolve: a path of the sweep file, relative to its folder (malloc'd). */
char *sw_resolve(Ctx *c, const char *p);
/* sw_load_workloads: the `workloads` list (sweep_workload.c). */
int sw_load_workloads(Ctx *c, yaml_node_t *vn);

#endif
