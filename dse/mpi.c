/* mpi.c: the little MPI the driver needs. MPI is initialised only when the process was launched
 * by mpirun (the launcher's environment variables say so); otherwise every call here degrades to
 * the single-process case and MPI is never touched, so `kolmo dse` runs alone as well. Whether
 * MPI is on is asked of MPI itself (MPI_Initialized), not kept in a variable of ours. Only the
 * calling (main) thread uses MPI: MPI_THREAD_FUNNELED. */
#include "dsempi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_RESULT = 1, TAG_DONE = 2, TAG_REQUEST = 3, TAG_WORK = 4 };

/* wait_sleepy: complete a request, sleeping between tests: a blocking MPI call spins a core at
 * 100% while it waits (e.g. while rank 0 writes the outputs), which on a shared machine takes the
 * core from the ranks still working. */
static void
wait_sleepy(MPI_Request *rq)
{
	int done = 0;
	for (;;) {
		struct timespec t = {0, 500000};
		MPI_Test(rq, &done, MPI_STATUS_IGNORE);
		if (done)
			return;
		nanosleep(&t, NULL);
	}
}

static int
launched_by_mpirun(void)
{
	static const char *const vars[] = {
	    "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS", NULL};
	int i;
	for (i = 0; vars[i]; i++)
		if (getenv(vars[i]))
			return 1;
	return 0;
}

int
dsempi_on(void)
{
	int init = 0, fin = 0;
	MPI_Initialized(&init);
	MPI_Finalized(&fin);
	return init && !fin;
}

int
dse_mpi_init(int *argc, char ***argv, int *rank)
{
	int provided, size;
	*rank = 0;
	if (!launched_by_mpirun())
		return 1;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
		return 1;
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	return size;
}

void
dse_mpi_finalize(void)
{
	if (dsempi_on()) {
		/* A sleepy barrier first, so that MPI_Finalize's own does not spin. */
		MPI_Request rq;
		MPI_Ibarrier(MPI_COMM_WORLD, &rq);
		wait_sleepy(&rq);
		MPI_Finalize();
	}
}

int
dse_mpi_agree(int ok)
{
	int all = ok;
	MPI_Request rq;
	if (dsempi_on()) {
		MPI_Iallreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &rq);
		wait_sleepy(&rq);
	}
	return all;
}

int
dse_mpi_bcast_int(int v)
{
	dsempi_bcast(&v, sizeof v);
	return v;
}

void
dsempi_rank(int *rank, int *size)
{
	*rank = 0;
	*size = 1;
	if (dsempi_on()) {
		MPI_Comm_rank(MPI_COMM_WORLD, rank);
		MPI_Comm_size(MPI_COMM_WORLD, size);
	}
}

void
dsempi_bcast(void *buf, size_t bytes)
{
	MPI_Request rq;
	if (!dsempi_on() || !bytes)
		return;
	MPI_Ibcast(buf, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD, &rq);
	wait_sleepy(&rq);
}

void
dsempi_request(void)
{
	char z = 0;
	MPI_Send(&z, 1, MPI_CHAR, 0, TAG_REQUEST, MPI_COMM_WORLD);
}

void
dsempi_send_work(int dst, const uint32_t *idx, uint32_t n)
{
	uint32_t z = 0;
	MPI_Send(n ? idx : &z, (int)n, MPI_UINT32_T, dst, TAG_WORK, MPI_COMM_WORLD);
}

void
dsempi_send_result(const char *line)
{
	MPI_Send(line, (int)strlen(line) + 1, MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
}

void
dsempi_send_done(void)
{
	char z = 0;
	MPI_Send(&z, 1, MPI_CHAR, 0, TAG_DONE, MPI_COMM_WORLD);
}

DseMsgKind
dsempi_poll(DseMsg *m)
{
	MPI_Status st;
	int flag = 0, n;
	memset(m, 0, sizeof *m);
	MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
	if (!flag)
		return m->kind = DSEMSG_NONE;
	m->src = st.MPI_SOURCE;
	if (st.MPI_TAG == TAG_WORK) {
		MPI_Get_count(&st, MPI_UINT32_T, &n);
		m->idx = xmalloc(sizeof(uint32_t) * ((size_t)n + 1));
		MPI_Recv(m->idx, n, MPI_UINT32_T, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD,
		         MPI_STATUS_IGNORE);
		m->n = (uint32_t)n;
		return m->kind = DSEMSG_WORK;
	}
	MPI_Get_count(&st, MPI_CHAR, &n);
	m->line = xmalloc((size_t)n + 1);
	MPI_Recv(m->line, n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
	         MPI_STATUS_IGNORE);
	m->line[n] = 0;
	if (st.MPI_TAG == TAG_RESULT)
		return m->kind = DSEMSG_RESULT;
	free(m->line);
	m->line = NULL;
	return m->kind = st.MPI_TAG == TAG_DONE ? DSEMSG_DONE : DSEMSG_REQUEST;
}

void
dsempi_abort(int code)
{
	if (dsempi_on())
		MPI_Abort(MPI_COMM_WORLD, code);
}
