/*
 * pg-rtt.c -- what one PostgreSQL round trip costs, and what libpq's
 * pipeline mode (libpq >= 14) saves of it (PROFILE section 12).  Not run
 * by make bench.
 *
 *	cc -O2 -o pg-rtt tests/bench/pg-rtt.c -I"$(pg_config --includedir)" -lpq
 *	pg-rtt CONNINFO N GROUP
 *
 * Runs N prepared one-row SELECTs one at a time (a round trip each), then
 * the same N in pipeline mode with a sync every GROUP statements (what a
 * pipelined ack group would send at once: UPDATE, INSERT, upsert,
 * COMMIT), twice over.  Prints per statement the wall time, the client's
 * CPU (getrusage) and the backend's (/proc/PID/stat of PQbackendPID: run
 * it on the server's machine).  Exits 1 with a message on any error.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void
die(PGconn *c, const char *what)
{
	fprintf(stderr, "pg-rtt: %s: %s", what, c ? PQerrorMessage(c) : "\n");
	exit(1);
}

static double
wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double
cpu_us(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
	    r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

/* utime + stime of process pid, in us (-1: not readable here). */
static double
proc_us(int pid)
{
	char path[64];
	unsigned long u, s;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &u, &s);
	fclose(f);
	return n == 2 ? (u + s) * 1e6 / sysconf(_SC_CLK_TCK) : -1;
}

static void
report(const char *how, int n, double w, double c, double b)
{
	printf("%s: wall %.1f us, client cpu %.1f us, backend cpu %.1f us "
	    "per statement\n", how, w / n, c / n, b < 0 ? -1.0 : b / n);
}

int
main(int argc, char **argv)
{
	const char *v[1] = { "1" };
	PGconn *c;
	PGresult *r;
	double w0, c0, b0;
	char how[64];
	int n, g, i, j, pid, rep;

	if (argc != 4 || (n = atoi(argv[2])) <= 0 || (g = atoi(argv[3])) <= 0 ||
	    n % g != 0) {
		fprintf(stderr, "usage: pg-rtt CONNINFO N GROUP (N a multiple "
		    "of GROUP)\n");
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK)
		die(c, "connect");
	pid = PQbackendPID(c);
	r = PQprepare(c, "s", "SELECT CAST($1 AS integer)", 1, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die(c, "prepare");
	PQclear(r);
	for (rep = 0; rep < 2; rep++) {
		w0 = wall_us(), c0 = cpu_us(), b0 = proc_us(pid);
		for (i = 0; i < n; i++) {
			r = PQexecPrepared(c, "s", 1, v, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK)
				die(c, "execute");
			PQclear(r);
		}
		report("one round trip each", n, wall_us() - w0, cpu_us() - c0,
		    b0 < 0 ? -1 : proc_us(pid) - b0);
		if (!PQenterPipelineMode(c))
			die(c, "pipeline mode");
		w0 = wall_us(), c0 = cpu_us(), b0 = proc_us(pid);
		for (i = 0; i < n; i += g) {
			for (j = 0; j < g; j++)
				if (!PQsendQueryPrepared(c, "s", 1, v, NULL,
				    NULL, 0))
					die(c, "send");
			if (!PQpipelineSync(c))
				die(c, "sync");
			for (j = 0; j < g; j++) {
				r = PQgetResult(c);
				if (PQresultStatus(r) != PGRES_TUPLES_OK)
					die(c, "pipelined result");
				PQclear(r);
				if ((r = PQgetResult(c)) != NULL)
					die(c, "end of a pipelined result");
			}
			r = PQgetResult(c);
			if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
				die(c, "pipeline sync");
			PQclear(r);
		}
		snprintf(how, sizeof(how), "pipelined, %d per sync", g);
		report(how, n, wall_us() - w0, cpu_us() - c0,
		    b0 < 0 ? -1 : proc_us(pid) - b0);
		if (!PQexitPipelineMode(c))
			die(c, "leave pipeline mode");
	}
	PQfinish(c);
	return 0;
}
