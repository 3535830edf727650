/*
 * ref-drain-pg.c -- figure 9's reference: ref-drain.c's minimal batch
 * queue on corp's own PostgreSQL schema, with libpq only.
 *
 *	ref-drain-pg [-a] [-n max] [-w worker] CONNINFO BATCH
 *
 * Claims and acks the ready, due, unleased PENDING telegram rows, BATCH
 * rows at a time, until none is left (or max rows are acked), the way a
 * small hand-written PostgreSQL queue does it:
 *
 *   claim: one prepared statement, its own transaction: UPDATE ... WHERE
 *     id IN (SELECT id ... ORDER BY event_id, user_id LIMIT BATCH FOR
 *     UPDATE SKIP LOCKED) RETURNING ...  (several of these programs at
 *     once pass over each other's rows instead of waiting).  Like
 *     ref-drain it does not keep one user's rows to one worker (corp
 *     does, with an advisory lock per user) and reads no user, bind or
 *     event.
 *   ack: one prepared statement, its own transaction: UPDATE ... WHERE id
 *     = ANY($1::bigint[]) setting corp's "sent" columns, compare-and-set
 *     on the lease; with -a the statement is a WITH ... UPDATE RETURNING
 *     whose ids an INSERT ... SELECT turns into delivery_attempts rows,
 *     still one round trip and one transaction.
 *
 * So a batch costs two round trips and two commits, whatever its size.
 * The server's settings are the cluster's (synchronous_commit on, fsync
 * on under tests/pg/cluster --durable).  Prints "ACKED MS".  Exits 1 with
 * a message on any error, or when an ack changed fewer rows than the
 * claim took.
 */
#include <libpq-fe.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define NOW	"1767607200"	/* 2026-01-05T10:00:00Z, the bench's CORP_NOW */
#define UNTIL	"1767607320"	/* NOW + a 120 s lease */

static const char CLAIM[] =
    "UPDATE deliveries SET lease_token = $1, lease_until = $2, worker = $3, "
    "updated_at = $4 "
    "WHERE id IN (SELECT id FROM deliveries WHERE channel = 'telegram' "
    "AND status = 'PENDING' AND readiness = 'ready' AND not_before <= $4 "
    "AND (lease_token IS NULL OR lease_until < $4) "
    "ORDER BY event_id, user_id LIMIT $5 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, event_id, user_id, role, template, attempts";
static const char ACK[] =
    "UPDATE deliveries SET status = 'SENT', sent_at = $2, "
    "provider_message_id = 'p', error = NULL, attempts = attempts + 1, "
    "lease_token = NULL, lease_until = NULL, updated_at = $2 "
    "WHERE id = ANY($1::bigint[]) AND lease_token = $3";
static const char ACK_ATTEMPTS[] =
    "WITH u AS (UPDATE deliveries SET status = 'SENT', sent_at = $2, "
    "provider_message_id = 'p', error = NULL, attempts = attempts + 1, "
    "lease_token = NULL, lease_until = NULL, updated_at = $2 "
    "WHERE id = ANY($1::bigint[]) AND lease_token = $3 RETURNING id) "
    "INSERT INTO delivery_attempts (delivery_id, at, worker, result, "
    "attempted, stored, provider_message_id) "
    "SELECT id, $2, $4, 'sent', 1, 'sent', 'p' FROM u";

static PGconn *pg;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("ref-drain-pg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (pg != NULL && *PQerrorMessage(pg) != '\0')
		fprintf(stderr, ": %s", PQerrorMessage(pg));
	else
		fputc('\n', stderr);
	exit(1);
}

static void
prep(const char *name, const char *sql)
{
	PGresult *r = PQprepare(pg, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("prepare %s", name);
	PQclear(r);
}

static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char **argv)
{
	PGresult *r;
	unsigned char rnd[16];
	char token[33], worker[64], want_s[24], *ids;
	const char *p[5];
	size_t cap, len;
	long long max = -1, acked = 0, t0;
	int c, batch, with_attempts = 0, n, i;

	snprintf(worker, sizeof(worker), "ref:%ld", (long)getpid());
	while ((c = getopt(argc, argv, "an:w:")) != -1)
		switch (c) {
		case 'a':
			with_attempts = 1;
			break;
		case 'n':
			max = strtoll(optarg, NULL, 10);
			break;
		case 'w':
			snprintf(worker, sizeof(worker), "%s", optarg);
			break;
		default:
			goto usage;
		}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
usage:
		fputs("usage: ref-drain-pg [-a] [-n max] [-w worker] CONNINFO "
		    "BATCH\n", stderr);
		return 64;
	}
	batch = atoi(argv[1]);
	if (batch < 1 || batch > 100000)
		goto usage;
	pg = PQconnectdb(argv[0]);
	if (PQstatus(pg) != CONNECTION_OK)
		die("connect");
	prep("claim", CLAIM);
	prep("ack", with_attempts ? ACK_ATTEMPTS : ACK);
	/* "{" + batch x (up to 20 digits + ",") + "}" */
	cap = (size_t)batch * 21 + 3;
	if ((ids = malloc(cap)) == NULL)
		die("out of memory");

	t0 = mono_us();
	while (max < 0 || acked < max) {
		int want = batch;

		if (max >= 0 && max - acked < want)
			want = (int)(max - acked);
		snprintf(want_s, sizeof(want_s), "%d", want);
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			die("getrandom");
		for (i = 0; i < 16; i++)
			snprintf(token + 2 * i, 3, "%02x", rnd[i]);
		p[0] = token;
		p[1] = UNTIL;
		p[2] = worker;
		p[3] = NOW;
		p[4] = want_s;
		r = PQexecPrepared(pg, "claim", 5, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			die("claim");
		n = PQntuples(r);
		len = 0;
		ids[len++] = '{';
		for (i = 0; i < n; i++)
			len += (size_t)snprintf(ids + len, cap - len, "%s%s",
			    i ? "," : "", PQgetvalue(r, i, 0));
		ids[len++] = '}';
		ids[len] = '\0';
		PQclear(r);
		if (n == 0)
			break;

		/* The no-op sender: every row was sent. */
		p[0] = ids;
		p[1] = NOW;
		p[2] = token;
		p[3] = worker;
		r = PQexecPrepared(pg, "ack", with_attempts ? 4 : 3, p, NULL,
		    NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("ack");
		if (atoi(PQcmdTuples(r)) != n)
			die("ack changed %s of %d rows", PQcmdTuples(r), n);
		PQclear(r);
		acked += n;
	}
	printf("%lld %.3f\n", acked, (double)(mono_us() - t0) / 1000);
	free(ids);
	PQfinish(pg);
	return fflush(stdout) == 0 ? 0 : 1;
}
