/* dsempi.h: internal to dse/: the MPI calls of the driver (mpi.c). Without mpirun, dsempi_on()
 * is 0 and the driver never calls the others except the no-op-safe ones (rank, bcast, abort). */
#ifndef KOLMO_DSEMPI_H
#define KOLMO_DSEMPI_H

#include <stddef.h>

#include "dse.h"

int dsempi_on(void);
void dsempi_rank(int *rank, int *size);
/* dsempi_bcast: rank 0's bytes to every rank (no-op without MPI). */
void dsempi_bcast(void *buf, size_t bytes);
/* dsempi_send_result / dsempi_send_done: to rank 0. */
void dsempi_send_result(const char *line);
void dsempi_send_done(void);
/* dsempi_poll: rank 0: 0 if no message, 1 with a malloc'd result line, 2 for a rank's done. */
int dsempi_poll(char **line, int *src);
void dsempi_abort(int code);

#endif
