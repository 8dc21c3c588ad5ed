/* dsempi.h: internal to dse/: the MPI calls of the driver (mpi.c). Without mpirun, dsempi_on()
 * is 0 and the driver never calls the others except the no-op-safe ones (rank, bcast, abort). */
#ifndef KOLMO_DSEMPI_H
#define KOLMO_DSEMPI_H

#include <stddef.h>
#include <stdint.h>

#include "dse.h"

int dsempi_on(void);
void dsempi_rank(int *rank, int *size);
/* dsempi_bcast: rank 0's bytes to every rank (no-op without MPI). */
void dsempi_bcast(void *buf, size_t bytes);
/* Work sharing: a rank asks rank 0 for points (dsempi_request), rank 0 answers with a chunk of
 * point indices (dsempi_send_work; an empty chunk: no more work). Results go to rank 0 as
 * journal lines; a rank says it is done after its last result. */
void dsempi_request(void);
void dsempi_send_work(int dst, const uint32_t *idx, uint32_t n);
void dsempi_send_result(const char *line);
void dsempi_send_done(void);

typedef enum DseMsgKind {
	DSEMSG_NONE,
	DSEMSG_RESULT,
	DSEMSG_DONE,
	DSEMSG_REQUEST,
	DSEMSG_WORK
} DseMsgKind;
typedef struct DseMsg {
	DseMsgKind kind;
	int src;
	char *line;    /* DSEMSG_RESULT: malloc'd */
	uint32_t *idx; /* DSEMSG_WORK: malloc'd, n indices */
	uint32_t n;
} DseMsg;
/* dsempi_poll: the next message for this rank, if any (DSEMSG_NONE otherwise). */
DseMsgKind dsempi_poll(DseMsg *m);
void dsempi_abort(int code);

#endif
