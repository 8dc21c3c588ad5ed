/* interp.h: the float interpreter of whole graphs: every op of ir/ops.def on float tensors
 * (row-major; i8 masks as 0/1), following reference/kan.md and reference/sparse_attention.md.
 * It is the float reference for models the compiler does not lower yet (attention blocks) and a
 * cross-check of the compiler's chain reference and of the LLVM reference. */
#ifndef KOLMO_INTERP_H
#define KOLMO_INTERP_H

#include "ir.h"

/* cc_interp: evaluate g. inputs[i] holds the i-th input tensor (in tensor order), outputs[k] gets
 * a malloc'd array for graph output k (free each with free()). Returns 0 or -1 with d. */
int cc_interp(Graph *g, const float *const *inputs, float **outputs, Diag *d);
/* cc_interp_amax: evaluate g and record max |value| of every tensor in amax[ntensors]. */
int cc_interp_amax(Graph *g, const float *const *inputs, double *amax, Diag *d);

/* cc_block_mask_ref: SpargeAttn stage 1 on one head: q [N, D], k [M, D] -> mask [nq, nk] (0/1).
 * mode 0 top-k (rho), 1 top-p (tau), 2 hybrid (union). */
void cc_block_mask_ref(const float *q, const float *k, int64_t N, int64_t M, int64_t D,
                       int64_t blkq, int64_t blkk, int mode, double rho, double tau, double theta,
                       int causal, int sink, uint8_t *mask);

/* cc_attention_head: dense softmax(q k^T * scale) v of one head (causal: keys after the query
 * masked): q [N, D], k [M, D], v [M, Dv] -> o [N, Dv]. */
void cc_attention_head(const float *q, const float *k, const float *v, int64_t N, int64_t M,
                       int64_t D, int64_t Dv, double scale, int causal, float *o);

/* cc_bspline_basis: the nknots-k-1 B-spline basis values of order k at x by the Cox-de Boor
 * recursion (half-open intervals, 0/0 := 0, zero outside the knots) into out, which needs
 * nknots-1 doubles. */
double cc_bspline_basis(const double *knots, uint32_t nknots, uint32_t k, double x, double *out);

#endif
