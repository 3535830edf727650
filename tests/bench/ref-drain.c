/*
 * ref-drain.c -- the machine's limit for figure 1: a minimal hand-written
 * batch queue on corp's own SQLite schema (tests/bench/README).
 *
 *	ref-drain [-a] [-n max] [-w worker] DB SYNC BATCH
 *
 * Claims and acks the ready, due, unleased PENDING telegram rows of DB,
 * BATCH rows per transaction, until none is left (or max rows are acked),
 * the way a small C queue would do it with the sqlite3 C API and nothing
 * else:
 *
 *   claim: BEGIN IMMEDIATE; one prepared UPDATE ... WHERE id IN (SELECT
 *     id ... ORDER BY event_id, user_id LIMIT BATCH) RETURNING ...;
 *     COMMIT.  It selects what corp's claim selects, in corp's order, and
 *     sets the same lease columns; it does not skip users leased under
 *     another token (corp does), reads no user, bind or event, and builds
 *     no line.
 *   ack: BEGIN IMMEDIATE; one prepared UPDATE over the batch's ids (a
 *     JSON array through json_each) that sets the columns corp's "sent"
 *     sets, compare-and-set on the lease; with -a also one INSERT ...
 *     SELECT of a delivery_attempts row per id, as corp's ack writes;
 *     COMMIT.
 *
 * PRAGMAs are corp's: WAL, synchronous=SYNC (full|normal), foreign_keys
 * on, busy_timeout 30 s.  Prints "ACKED MS" (rows acked, milliseconds
 * between the first claim and the last commit).  Exits 1 with a message
 * on any SQLite error, or when an ack changed fewer rows than it claimed.
 *
 * The business time is the bench's CORP_NOW (2026-01-05T10:00:00Z).
 */
#include <sqlite3.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define NOW	1767607200LL	/* 2026-01-05T10:00:00Z */
#define LEASE	120

static const char CLAIM[] =
    "UPDATE deliveries SET lease_token = ?1, lease_until = ?2, worker = ?3, "
    "updated_at = ?4 "
    "WHERE id IN (SELECT id FROM deliveries WHERE channel = 'telegram' "
    "AND status = 'PENDING' AND readiness = 'ready' AND not_before <= ?4 "
    "AND (lease_token IS NULL OR lease_until < ?4) "
    "ORDER BY event_id, user_id LIMIT ?5) "
    "RETURNING id, event_id, user_id, role, template, attempts";
static const char ACK[] =
    "UPDATE deliveries SET status = 'SENT', sent_at = ?2, "
    "provider_message_id = 'p', error = NULL, attempts = attempts + 1, "
    "lease_token = NULL, lease_until = NULL, updated_at = ?2 "
    "WHERE id IN (SELECT value FROM json_each(?1)) AND lease_token = ?3";
static const char ATTEMPTS[] =
    "INSERT INTO delivery_attempts (delivery_id, at, worker, result, "
    "attempted, stored, provider_message_id) "
    "SELECT value, ?2, ?3, 'sent', 1, 'sent', 'p' FROM json_each(?1)";

static sqlite3 *db;

/* Print the message (and SQLite's, when sqlerr) and exit 1. */
static void
fail(int sqlerr, const char *fmt, ...)
{
	va_list ap;

	fputs("ref-drain: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (sqlerr && db != NULL)
		fprintf(stderr, ": %s", sqlite3_errmsg(db));
	fputc('\n', stderr);
	exit(1);
}
#define die(...)	fail(1, __VA_ARGS__)

static void
exec(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die("%s", sql);
}

static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		die("prepare");
	return st;
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
	sqlite3_stmt *claim, *ack, *att = NULL;
	unsigned char rnd[16];
	char token[33], worker[64], *ids;
	size_t cap, len;
	long long max = -1, acked = 0, t0;
	int c, batch, with_attempts = 0, n, rc, i;

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
	if (argc != 3) {
usage:
		fputs("usage: ref-drain [-a] [-n max] [-w worker] DB "
		    "full|normal BATCH\n", stderr);
		return 64;
	}
	batch = atoi(argv[2]);
	if (batch < 1 || batch > 100000)
		goto usage;
	if (sqlite3_open_v2(argv[0], &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		die("%s", argv[0]);
	sqlite3_busy_timeout(db, 30000);
	exec("PRAGMA journal_mode=WAL");
	exec(strcmp(argv[1], "full") == 0 ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL");
	exec("PRAGMA foreign_keys=ON");
	claim = prep(CLAIM);
	ack = prep(ACK);
	if (with_attempts)
		att = prep(ATTEMPTS);
	/* "[" + batch x (up to 20 digits + ",") + "]" */
	cap = (size_t)batch * 21 + 3;
	if ((ids = malloc(cap)) == NULL)
		fail(0, "out of memory");

	t0 = mono_us();
	while (max < 0 || acked < max) {
		int want = batch;

		if (max >= 0 && max - acked < want)
			want = (int)(max - acked);
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			fail(0, "getrandom");
		for (i = 0; i < 16; i++)
			snprintf(token + 2 * i, 3, "%02x", rnd[i]);

		exec("BEGIN IMMEDIATE");
		sqlite3_bind_text(claim, 1, token, -1, SQLITE_STATIC);
		sqlite3_bind_int64(claim, 2, NOW + LEASE);
		sqlite3_bind_text(claim, 3, worker, -1, SQLITE_STATIC);
		sqlite3_bind_int64(claim, 4, NOW);
		sqlite3_bind_int(claim, 5, want);
		len = 0;
		ids[len++] = '[';
		n = 0;
		while ((rc = sqlite3_step(claim)) == SQLITE_ROW) {
			len += (size_t)snprintf(ids + len, cap - len, "%s%lld",
			    n ? "," : "", sqlite3_column_int64(claim, 0));
			/* What a sender would read; a no-op here. */
			(void)sqlite3_column_text(claim, 3);
			(void)sqlite3_column_text(claim, 4);
			n++;
		}
		if (rc != SQLITE_DONE)
			die("claim");
		sqlite3_reset(claim);
		exec("COMMIT");
		if (n == 0)
			break;
		ids[len++] = ']';
		ids[len] = '\0';

		/* The no-op sender: every row was sent. */
		exec("BEGIN IMMEDIATE");
		sqlite3_bind_text(ack, 1, ids, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(ack, 2, NOW);
		sqlite3_bind_text(ack, 3, token, -1, SQLITE_STATIC);
		if (sqlite3_step(ack) != SQLITE_DONE)
			die("ack");
		sqlite3_reset(ack);
		if (sqlite3_changes(db) != n)
			fail(0, "ack changed %d of %d rows", sqlite3_changes(db), n);
		if (att != NULL) {
			sqlite3_bind_text(att, 1, ids, (int)len, SQLITE_STATIC);
			sqlite3_bind_int64(att, 2, NOW);
			sqlite3_bind_text(att, 3, worker, -1, SQLITE_STATIC);
			if (sqlite3_step(att) != SQLITE_DONE)
				die("attempts");
			sqlite3_reset(att);
		}
		exec("COMMIT");
		acked += n;
	}
	printf("%lld %.3f\n", acked, (double)(mono_us() - t0) / 1000);
	sqlite3_finalize(claim);
	sqlite3_finalize(ack);
	sqlite3_finalize(att);
	free(ids);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	return fflush(stdout) == 0 ? 0 : 1;
}
