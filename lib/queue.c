/*
 * queue.c -- the delivery queue's state machine (queue.h): insert,
 * claim (and the PostgreSQL claim), release, ack, refresh, mute.  The
 * line a claim prints is queueline.c; the operator's verbs (requeue,
 * cancel, dlq, prune, stats, explain) are queueadmin.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corp.h"
#include "clock.h"
#include "binds.h"
#include "db.h"
#include "event.h"
#include "jsonl.h"
#include "prefs.h"
#include "pushsub.h"
#include "queue.h"
#include "queue_int.h"
#include "rand.h"
#include "settings.h"

#define MAX_LEASE_EXPIRIES 5

/* A delivery row's values ?1..?12, as both INSERTs below name them. */
static void
bind_row(struct corp_stmt *st, long long eid, long long uid,
    const char *channel, const char *role, const char *roles,
    const char *priority, const char *msgkey, int ready, time_t nb,
    const char *fallback, time_t now)
{
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	corp_bind_text(st, 3, channel);
	corp_bind_text(st, 4, role);
	corp_bind_text(st, 5, roles);
	corp_bind_text(st, 6, priority);
	corp_bind_text(st, 7, msgkey);
	corp_bind_text(st, 8, ready ? "ready" : "waiting_bind");
	if (ready)
		corp_bind_null(st, 9);
	else
		corp_bind_int64(st, 9, (long long)now);
	corp_bind_int64(st, 10, (long long)nb);
	corp_bind_int64(st, 11, (long long)now);
	corp_bind_text(st, 12, fallback);
}

/*
 * One delivery row, unless (event, user, channel) has one: *id its id,
 * 0 when it had.  A route row names its fallback channel, a digest's
 * row its digest (the other NULL).
 */
static int
insert_row(struct corp_db *db, long long eid, long long uid,
    const char *channel, const char *role, const char *roles,
    const char *priority, const char *msgkey, int ready, time_t nb,
    const char *fallback, const char *digest, time_t now, long long *id,
    const char *what, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO deliveries (event_id, "
	    "user_id, channel, role, roles, priority, template, readiness, "
	    "waiting_since, not_before, created_at, updated_at, fallback, "
	    "digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	    "?11, ?12, ?13) "
	    "ON CONFLICT (event_id, user_id, channel) DO NOTHING RETURNING id",
	    err)) != 0)
		return rc;
	bind_row(st, eid, uid, channel, role, roles, priority, msgkey, ready,
	    nb, fallback, now);
	corp_bind_text(st, 13, digest);
	return corp_db_insert(db, st, id, what, err);
}

/*
 * route's row: insert_row's statement without RETURNING, for no caller
 * reads the id.  On SQLite a RETURNING clause collects its rows in an
 * ephemeral table and makes the INSERT a statement that may abort
 * after writing, so each one wrote the pages it touched (deliveries
 * and its 8 indexes) to a statement journal in a temp file: ~15
 * pwrite(2) and ~140 k instructions per row in a fan-out of 20 000
 * rows (tests/bench/PROFILE 10).
 */
int
corp_queue_insert(struct corp_db *db, long long eid, long long uid,
    const char *channel, const char *role, const char *roles,
    const char *priority, const char *msgkey, int ready, time_t nb,
    const char *fallback, time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO deliveries (event_id, "
	    "user_id, channel, role, roles, priority, template, readiness, "
	    "waiting_since, not_before, created_at, updated_at, fallback) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12) "
	    "ON CONFLICT (event_id, user_id, channel) DO NOTHING",
	    err)) != 0)
		return rc;
	bind_row(st, eid, uid, channel, role, roles, priority, msgkey, ready,
	    nb, fallback, now);
	return corp_db_exec(db, st, "insert delivery", err);
}

/* The 13 values of one row; QROW_SQL32: CORP_QROWS of them. */
#define QROW_SQL	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define QROW_SQL4	QROW_SQL ", " QROW_SQL ", " QROW_SQL ", " QROW_SQL
#define QROW_SQL16	QROW_SQL4 ", " QROW_SQL4 ", " QROW_SQL4 ", " QROW_SQL4
#define QROW_SQL32	QROW_SQL16 ", " QROW_SQL16
#define QROW_NCOL	13

int
corp_queue_insert_rows(struct corp_db *db, const struct corp_qrow *v,
    size_t n, time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	size_t i, j;
	int rc, k;

	for (i = 0; i + CORP_QROWS <= n; i += CORP_QROWS) {
		if ((rc = corp_db_prep(db, &st, "INSERT INTO deliveries "
		    "(event_id, user_id, channel, role, roles, priority, "
		    "template, readiness, waiting_since, not_before, "
		    "created_at, updated_at, fallback) VALUES " QROW_SQL32
		    " ON CONFLICT (event_id, user_id, channel) DO NOTHING",
		    err)) != 0)
			return rc;
		for (j = 0; j < CORP_QROWS; j++) {
			const struct corp_qrow *r = &v[i + j];

			k = (int)j * QROW_NCOL;
			corp_bind_int64(st, k + 1, r->event_id);
			corp_bind_int64(st, k + 2, r->user_id);
			corp_bind_text(st, k + 3, r->channel);
			corp_bind_text(st, k + 4, r->role);
			corp_bind_text(st, k + 5, r->roles);
			corp_bind_text(st, k + 6, r->priority);
			corp_bind_text(st, k + 7, r->msgkey);
			corp_bind_text(st, k + 8, r->ready ? "ready" :
			    "waiting_bind");
			if (r->ready)
				corp_bind_null(st, k + 9);
			else
				corp_bind_int64(st, k + 9, (long long)now);
			corp_bind_int64(st, k + 10, (long long)r->not_before);
			corp_bind_int64(st, k + 11, (long long)now);
			corp_bind_int64(st, k + 12, (long long)now);
			corp_bind_text(st, k + 13, r->fallback);
		}
		if ((rc = corp_db_exec(db, st, "insert delivery", err)) != 0)
			return rc;
	}
	for (; i < n; i++)
		if ((rc = corp_queue_insert(db, v[i].event_id, v[i].user_id,
		    v[i].channel, v[i].role, v[i].roles, v[i].priority,
		    v[i].msgkey, v[i].ready, v[i].not_before, v[i].fallback,
		    now, err)) != 0)
			return rc;
	return 0;
}

int
corp_queue_insert_digest(struct corp_db *db, long long eid, long long uid,
    const char *channel, const char *role, const char *roles, int ready,
    time_t nb, const char *digest, time_t now, long long *id,
    struct corp_err *err)
{
	return insert_row(db, eid, uid, channel, role, roles, "broadcast",
	    "digest", ready, nb, NULL, digest, now, id,
	    "insert digest delivery", err);
}

static int
changes(struct corp_db *db)
{
	return corp_db_changes(db);
}

void
corp_qcounts_add(struct corp_qcounts *q, const char *channel,
    const char *result, long long n)
{
	int i;

	if (n <= 0 || channel == NULL)
		return;
	for (i = 0; i < q->n; i++)
		if (strcmp(q->c[i].channel, channel) == 0 &&
		    strcmp(q->c[i].result, result) == 0) {
			q->c[i].n += n;
			return;
		}
	if (q->n == QCOUNTS_MAX || strlen(channel) >= sizeof(q->c[0].channel)) {
		q->overflow = 1;
		return;
	}
	strlcpy(q->c[q->n].channel, channel, sizeof(q->c[0].channel));
	q->c[q->n].result = result;
	q->c[q->n++].n = n;
}

static int
by_counter(const void *a, const void *b)
{
	const struct corp_qcount *x = a, *y = b;
	int c = strcmp(x->channel, y->channel);

	return c != 0 ? c : strcmp(x->result, y->result);
}

int
corp_qcounts_flush(struct corp_db *db, struct corp_qcounts *q, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int i, rc;

	if (q->overflow)
		return corp_errf(err, CORP_EINTERNAL,
		    "delivery counters: too many channels in one transaction");
	qsort(q->c, (size_t)q->n, sizeof(q->c[0]), by_counter);
	for (i = 0; i < q->n; i++) {
		if ((rc = corp_db_prep(db, &st, "INSERT INTO delivery_counters "
		    "(channel, result, n, last_at) VALUES (?1, ?2, ?3, ?4) "
		    "ON CONFLICT (channel, result) DO UPDATE SET "
		    "n = delivery_counters.n + excluded.n, "
		    "last_at = excluded.last_at", err)) != 0)
			return rc;
		corp_bind_text(st, 1, q->c[i].channel);
		corp_bind_text(st, 2, q->c[i].result);
		corp_bind_int64(st, 3, q->c[i].n);
		corp_bind_int64(st, 4, (long long)now);
		if ((rc = corp_db_exec(db, st, "count deliveries", err)) != 0)
			return rc;
	}
	q->n = 0;
	return 0;
}

/* ?2: now - hold_max_age, ?3: the channel (NULL: all). */
#define EXPIRE_WHERE \
	"WHERE status = 'PENDING' AND readiness = 'waiting_bind' " \
	"AND waiting_since <= ?2 AND (?3 IS NULL OR channel = ?3)"

/* The rows expire_held fails, by channel, counted as dead-lettered. */
static int
count_expired(struct corp_db *db, long long age, time_t now,
    const char *channel, struct corp_qcounts *q, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT channel, count(*) "
	    "FROM deliveries INDEXED BY deliveries_waiting "
	    "WHERE status = 'PENDING' AND readiness = 'waiting_bind' "
	    "AND waiting_since <= ?1 AND (?2 IS NULL OR channel = ?2) "
	    "GROUP BY channel", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)(now - age));
	corp_bind_text(st, 2, channel);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		corp_qcounts_add(q, corp_col_text(st, 0), "dead_lettered",
		    corp_col_int64(st, 1));
	corp_reset(st);
	return rc == SQLITE_DONE ? 0 : corp_db_fail(db, rc, "expire held rows",
	    err);
}

/* expire_held, counted in q (flushed by the caller). */
static int
expire_held(struct corp_db *db, time_t now, const char *channel,
    long long *n, struct corp_qcounts *q, struct corp_err *err)
{
	struct corp_stmt *st;
	long long age;
	int rc;

	*n = 0;
	if ((rc = corp_setting_duration(db, "hold_max_age", &age, err)) != 0)
		return rc;
	if ((rc = count_expired(db, age, now, channel, q, err)) != 0)
		return rc;
	/*
	 * Every claim runs this: INDEXED BY keeps it on the held rows (the
	 * partial index deliveries_waiting).  Left to itself the planner
	 * walks every PENDING row through deliveries_status, or scans the
	 * table once ANALYZE has seen that status has few values: O(queue)
	 * per claim instead of O(held rows).
	 */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries "
	    "INDEXED BY deliveries_waiting SET "
	    "status = 'FAILED', error = 'expired_unbound', updated_at = ?1 "
	    EXPIRE_WHERE, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)now);
	corp_bind_int64(st, 2, (long long)(now - age));
	corp_bind_text(st, 3, channel);
	if ((rc = corp_db_exec(db, st, "expire held rows", err)) != 0)
		return rc;
	*n = changes(db);
	return 0;
}

int
corp_queue_expire_held(struct corp_db *db, time_t now, const char *channel,
    long long *n, struct corp_err *err)
{
	struct corp_qcounts q = { .n = 0 };
	int rc, own = !corp_db_in_tx(db);

	*n = 0;
	if (own && (rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = expire_held(db, now, channel, n, &q, err)) != 0)
		goto fail;
	if ((rc = corp_qcounts_flush(db, &q, now, err)) != 0)
		goto fail;
	if (own)
		return corp_db_commit(db, err);
	return 0;
fail:
	if (own)
		corp_db_rollback(db);
	return rc;
}

/* Housekeeping at the start of a claim, inside its transaction. */
static int
claim_prepare(struct corp_db *db, const char *channel, time_t now,
    struct corp_err *err)
{
	struct corp_qcounts q = { .n = 0 };
	struct corp_stmt *st;
	long long n;
	int rc;

	/*
	 * A poison message guard: the expiry that would be the fifth fails
	 * the row instead.  Only an expiry raises lease_expiries, and only
	 * PENDING rows hold a lease, so this finds every such row through
	 * deliveries_leased (the rows under a lease) instead of scanning
	 * the whole table on every claim.
	 */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', error = 'lease expired 5 times', "
	    "lease_token = NULL, lease_until = NULL, "
	    "lease_expiries = lease_expiries + 1, updated_at = ?2 "
	    "WHERE channel = ?1 AND lease_token IS NOT NULL "
	    "AND lease_until < ?2 AND lease_expiries + 1 >= ?3", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_int(st, 3, MAX_LEASE_EXPIRIES);
	if ((rc = corp_db_exec(db, st, "fail poison rows", err)) != 0)
		return rc;
	corp_qcounts_add(&q, channel, "dead_lettered", changes(db));
	/* An expired lease returns the row without counting an attempt. */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "lease_token = NULL, lease_until = NULL, "
	    "lease_expiries = lease_expiries + 1, updated_at = ?2 "
	    "WHERE channel = ?1 AND lease_token IS NOT NULL "
	    "AND lease_until < ?2", err)) != 0 ||
	    (corp_bind_text(st, 1, channel),
	    corp_bind_int64(st, 2, (long long)now),
	    rc = corp_db_exec(db, st, "expire leases", err)) != 0)
		return rc;
	/*
	 * From the inactive users to their rows (CROSS JOIN fixes that
	 * order): the planner's own choice walks every PENDING row of the
	 * channel through deliveries_status on every claim.
	 */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', error = 'user_inactive', updated_at = ?2 "
	    "WHERE id IN (SELECT d.id FROM users u CROSS JOIN deliveries d "
	    "WHERE u.active = 0 AND d.user_id = u.id "
	    "AND d.status = 'PENDING' AND d.channel = ?1 "
	    "AND d.lease_token IS NULL)", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_int64(st, 2, (long long)now);
	if ((rc = corp_db_exec(db, st, "fail rows of inactive users",
	    err)) != 0)
		return rc;
	corp_qcounts_add(&q, channel, "dead_lettered", changes(db));
	if ((rc = expire_held(db, now, channel, &n, &q, err)) != 0)
		return rc;
	return corp_qcounts_flush(db, &q, now, err);
}

/*
 * Rows of one user stay in order (corp-deliver.1 "Order"): a row is not
 * claimable while an earlier row of its user and channel is PENDING and
 * not yet due (a retry's backoff, a hold), or leased (the NOT EXISTS
 * after it): the earlier row's retry holds the later ones, where they
 * were held only until the chat's pause ended and went out ahead of it
 * (sec-review-11 finding 2).  Earlier is run's order, priority
 * (urgent > p2p > broadcast, their byte order) then event_id, for both
 * claims: a higher-priority row is not held by a lower one (quiet hours
 * defer every row but urgent ones).  deliveries_user_due (migration
 * 0021) holds, per (channel, user), the rows by not_before: the check
 * reads only the user's rows not yet due, none in a drain.
 */
#define CLAIM_HELD_FROM(y) \
	"AND NOT EXISTS (SELECT 1 FROM " y " WHERE y.channel = ?1 " \
	"AND y.user_id = d.user_id AND y.status = 'PENDING' " \
	"AND y.readiness = 'ready' AND y.not_before > ?2 " \
	"AND (y.priority > d.priority OR (y.priority = d.priority " \
	"AND y.event_id < d.event_id))) "
/* SQLite's planner may take deliveries_priority for the OR: INDEXED BY. */
#define CLAIM_HELD \
	CLAIM_HELD_FROM("deliveries y INDEXED BY deliveries_user_due")
#define CLAIM_HELD_PG CLAIM_HELD_FROM("deliveries y")

#define CLAIM_WHERE \
	"WHERE d.channel = ?1 AND d.status = 'PENDING' " \
	"AND d.readiness = 'ready' AND d.not_before <= ?2 " \
	"AND (d.lease_token IS NULL OR d.lease_until < ?2) " \
	"AND (?7 IS NULL OR d.priority = ?7) " \
	"AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.channel = ?1 " \
	"AND x.user_id = d.user_id AND x.lease_token IS NOT NULL " \
	"AND x.lease_token <> ?8 AND x.lease_until >= ?2) " CLAIM_HELD

static const char SQL_CLAIM_BEFORE[] = CLAIM_COLS CLAIM_WHERE
    "AND (d.event_id, d.user_id) <= (?3, ?4) "
    "ORDER BY d.event_id, d.user_id LIMIT ?5";
static const char SQL_CLAIM_AFTER[] = CLAIM_COLS CLAIM_WHERE
    "AND (d.event_id, d.user_id) > (?3, ?4) "
    "ORDER BY d.event_id, d.user_id LIMIT ?5";
/*
 * By priority (urgent, p2p, broadcast), then event_id, user_id: that
 * rank is priority's byte order descending (the CHECK allows no other
 * value), so deliveries_priority (migration 0014) holds the rows in the
 * claim's order and the claim reads its batch and stops, however long
 * the queue.  INDEXED BY keeps it there: with ANALYZE's figures the
 * planner may take deliveries_status and sort every PENDING row of the
 * channel, O(queue) per claim.
 */
static const char SQL_CLAIM_PRIO[] = CLAIM_SELECT
    "FROM deliveries d INDEXED BY deliveries_priority " CLAIM_JOINS
    CLAIM_WHERE "AND ?3 IS NOT NULL AND ?4 IS NOT NULL "
    "ORDER BY d.priority DESC, d.event_id, d.user_id LIMIT ?5";

/*
 * PostgreSQL, several hosts: the lease is one statement.  Candidate rows
 * are locked FOR UPDATE SKIP LOCKED (a row another claim holds is passed
 * over, not waited for) and leased only where
 * pg_try_advisory_xact_lock(channel, user) succeeds, so two claims never
 * lease rows of one user at once; the order is SQLite's (the rows at or
 * before the cursor, then after it; or by priority).  The lock is tried
 * on the candidates only (l, materialized): as a condition of the UPDATE
 * the planner may test it on every row of the table it scans, locking
 * every user of every channel until the commit.
 */
#define CLAIM_PG_PICK \
    "SELECT d.id, d.channel, d.user_id FROM deliveries d " \
    "WHERE d.channel = ?1 AND d.status = 'PENDING' " \
    "AND d.readiness = 'ready' AND d.not_before <= ?2 " \
    "AND (d.lease_token IS NULL OR d.lease_until < ?2) " \
    "AND (CAST(?7 AS TEXT) IS NULL OR d.priority = ?7) " \
    "AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.channel = ?1 " \
    "AND x.user_id = d.user_id AND x.lease_token IS NOT NULL " \
    "AND x.lease_until >= ?2) " CLAIM_HELD_PG
#define CLAIM_PG_LOCK "FOR UPDATE OF d SKIP LOCKED"
#define CLAIM_PG_LEASE \
    "), l AS MATERIALIZED (SELECT c.id FROM c " \
    "WHERE pg_try_advisory_xact_lock(hashtext('corp.lease.' || c.channel), " \
    "CAST(c.user_id % 2147483647 AS INTEGER))) " \
    "UPDATE deliveries d SET lease_token = ?8, lease_until = ?9, " \
    "worker = ?10, updated_at = ?2, " LEASE_TOKENS_SET("?8") \
    " FROM l WHERE d.id = l.id"
/*
 * By event (?6 = 0, pending's claim): SQLite's order, the rows at or
 * before the cursor and then those after it, each in (event_id,
 * user_id) order, is (event_id, user_id) order itself, which is
 * deliveries_ready's: PostgreSQL walks that index and stops after ?5
 * rows, where an ORDER BY led by "CASE WHEN (event_id, user_id) <=
 * cursor" (served by no index) read and sorted every candidate of the
 * channel on each claim (300 ms at 100 000 PENDING rows, issue 18).
 * not_before ends the ORDER BY only so that no other index can give
 * that order (the unique (event_id, user_id, channel) would walk SENT
 * rows too); (event_id, user_id) is unique within a channel, so the
 * order is the same.  ?3, ?4 and ?6 are named for their types only.
 */
static const char SQL_CLAIM_PG[] = "WITH c AS (" CLAIM_PG_PICK
    "AND CAST(?3 AS BIGINT) IS NOT NULL AND CAST(?4 AS BIGINT) IS NOT NULL "
    "AND CAST(?6 AS INTEGER) = 0 "
    "ORDER BY d.event_id, d.user_id, d.not_before LIMIT ?5 "
    CLAIM_PG_LOCK CLAIM_PG_LEASE;
/*
 * The same by priority (?6 = 1, run's claim), in the order of
 * deliveries_priority (SQL_CLAIM_PRIO): PostgreSQL walks that index and
 * stops after ?5 rows instead of sorting every candidate of the channel.
 * ?3, ?4 and ?6 are named only so that PostgreSQL knows their types
 * (a parameter it cannot type fails the prepare); as constants they are
 * tested once, not per row.
 */
static const char SQL_CLAIM_PG_PRIO[] = "WITH c AS (" CLAIM_PG_PICK
    "AND CAST(?3 AS BIGINT) IS NOT NULL AND CAST(?4 AS BIGINT) IS NOT NULL "
    "AND CAST(?6 AS INTEGER) = 1 "
    "ORDER BY d.priority DESC, d.event_id, d.user_id LIMIT ?5 "
    CLAIM_PG_LOCK CLAIM_PG_LEASE;
/*
 * The statement's snapshot may predate the commit of a claim that held
 * a user's lock and leased other rows of that user; now that this
 * transaction holds the lock, a new statement sees that commit: give
 * such rows back.
 */
static const char SQL_CLAIM_PG_UNDO[] =
    "UPDATE deliveries d SET lease_token = NULL, lease_until = NULL "
    "WHERE d.lease_token = ?1 AND EXISTS (SELECT 1 FROM deliveries x "
    "WHERE x.channel = d.channel AND x.user_id = d.user_id "
    "AND x.lease_token IS NOT NULL AND x.lease_token <> ?1 "
    "AND x.lease_until >= ?2)";
/*
 * Rows of one user stay in order (corp-deliver.1): a claim leases only
 * the unbroken run of each user's earliest ready, due, unleased rows.
 * The candidates were picked with SKIP LOCKED, so a row another claim
 * held FOR UPDATE for a moment (a claim that then lost this user's lock
 * and leased nothing) was passed over while later rows of its user were
 * taken.  Now that this transaction holds the user's lock, no other
 * claim can lease the user's rows: give back every row that comes, in
 * the claim's order (by priority, then event; or by event), after a claimable
 * row of its user this claim does not hold.
 */
#define CLAIM_PG_GAP \
    "UPDATE deliveries d SET lease_token = NULL, lease_until = NULL " \
    "WHERE d.lease_token = ?1 AND EXISTS (SELECT 1 FROM deliveries x " \
    "WHERE x.channel = d.channel AND x.user_id = d.user_id " \
    "AND x.status = 'PENDING' AND x.readiness = 'ready' " \
    "AND x.not_before <= ?2 " \
    "AND (x.lease_token IS NULL OR x.lease_until < ?2) " \
    "AND (CAST(?3 AS TEXT) IS NULL OR x.priority = ?3) "
/*
 * By event, an earlier row is one of an earlier event: a range of
 * deliveries_user_ready (channel, user_id, event_id; migration 0020)
 * that is empty in a drain, where a row compared through CASE was
 * looked for among every PENDING row of the user (O(backlog) per row).
 */
static const char SQL_CLAIM_PG_GAP[] = CLAIM_PG_GAP
    "AND x.event_id < d.event_id)";
static const char SQL_CLAIM_PG_GAP_PRIO[] = CLAIM_PG_GAP
    "AND (CASE WHEN x.priority = 'urgent' THEN 0 "
    "WHEN x.priority = 'p2p' THEN 1 ELSE 2 END, x.event_id) < "
    "(CASE WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, d.event_id))";
static const char SQL_CLAIM_PG_ROWS[] = CLAIM_COLS
    "WHERE d.lease_token = ?1 AND d.lease_until >= ?2 "
    "ORDER BY CASE WHEN ?5 = 0 THEN 0 WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, "
    "CASE WHEN ?5 = 1 OR (d.event_id, d.user_id) <= (?3, ?4) THEN 0 "
    "ELSE 1 END, d.event_id, d.user_id";

/*
 * Rows a claim of the channel could lease but for the locks of claims
 * running at the same time: the claim's own conditions (CLAIM_PG_PICK),
 * without FOR UPDATE SKIP LOCKED and the users' advisory locks, which
 * pass over rows another claim is taking at that moment.  ?3..?6 are
 * bound NULL, named only so that every number up to ?7 has a type.
 */
static const char SQL_CLAIMABLE_PG[] = "SELECT count(*) FROM ("
    CLAIM_PG_PICK "AND COALESCE(CAST(?3 AS BIGINT), CAST(?4 AS BIGINT), "
    "CAST(?5 AS BIGINT), CAST(?6 AS BIGINT)) IS NULL LIMIT 1) AS c";

int
corp_queue_contended(struct corp_db *db, const char *channel,
    const char *only_priority, int *more, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, i;

	*more = 0;
	if (!corp_db_is_pg(db))
		return 0;	/* one writer at a time: a claim is exact */
	if ((rc = corp_db_prep(db, &st, SQL_CLAIMABLE_PG, err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_int64(st, 2, (long long)corp_now());
	for (i = 3; i <= 6; i++)
		corp_bind_null(st, i);
	corp_bind_text(st, 7, only_priority);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		*more = corp_col_int64(st, 0) > 0;
		rc = 0;
	} else
		rc = corp_db_fail(db, rc, "claim", err);
	corp_reset(st);
	return rc;
}

/* Run one claim query, appending lines; leases them unless peek. */
static int
claim_query(struct corp_db *db, const char *sql, const struct corp_claim *cl,
    time_t now, const char *token, const char *base, json_t *lines,
    int limit, struct corp_queueline_names *nm, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (limit <= 0)
		return 0;
	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	corp_bind_text(st, 1, cl->channel);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_int64(st, 3, cl->after_event);
	corp_bind_int64(st, 4, cl->after_user);
	corp_bind_int(st, 5, limit);
	corp_bind_text(st, 6, corp_cfg.tz);
	corp_bind_text(st, 7, cl->only_priority);
	corp_bind_text(st, 8, token);
	return corp_queueline_claim(db, st, cl, now, token, base, lines, limit, 1, nm,
	    err);
}

/* PostgreSQL: housekeeping under the writers' lock, then the lease. */
static int
claim_pg(struct corp_db *db, const struct corp_claim *cl, time_t now,
    const char *token, const char *base, json_t *lines, struct corp_queueline_names *nm,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = claim_prepare(db, cl->channel, now, err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	if ((rc = corp_db_begin_concurrent(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, cl->by_priority ? SQL_CLAIM_PG_PRIO :
	    SQL_CLAIM_PG, err)) != 0)
		goto fail;
	corp_bind_text(st, 1, cl->channel);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_int64(st, 3, cl->after_event);
	corp_bind_int64(st, 4, cl->after_user);
	corp_bind_int(st, 5, cl->limit);
	corp_bind_int(st, 6, cl->by_priority != 0);
	corp_bind_text(st, 7, cl->only_priority);
	corp_bind_text(st, 8, token);
	corp_bind_int64(st, 9, (long long)(now + (time_t)cl->lease_secs));
	corp_bind_text(st, 10, cl->worker);
	if ((rc = corp_db_exec(db, st, "lease", err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, SQL_CLAIM_PG_UNDO, err)) != 0)
		goto fail;
	corp_bind_text(st, 1, token);
	corp_bind_int64(st, 2, (long long)now);
	if ((rc = corp_db_exec(db, st, "lease", err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, cl->by_priority ?
	    SQL_CLAIM_PG_GAP_PRIO : SQL_CLAIM_PG_GAP, err)) != 0)
		goto fail;
	corp_bind_text(st, 1, token);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_text(st, 3, cl->only_priority);
	if ((rc = corp_db_exec(db, st, "lease", err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, SQL_CLAIM_PG_ROWS, err)) != 0)
		goto fail;
	corp_bind_text(st, 1, token);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_int64(st, 3, cl->after_event);
	corp_bind_int64(st, 4, cl->after_user);
	corp_bind_int(st, 5, cl->by_priority != 0);
	corp_bind_text(st, 6, corp_cfg.tz);
	if ((rc = corp_queueline_claim(db, st, cl, now, token, base, lines, cl->limit,
	    0, nm, err)) != 0)
		goto fail;
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

/*
 * Leases are timed by each host's clock (corp-deliver.1 Locking): at the
 * first claim of a process on PostgreSQL, the host's real clock (never
 * CORP_NOW) is compared with the server's, and a difference over 5 s is
 * said once.  A failed look is not an error: the claim says its own.
 */
static void
clock_check(struct corp_db *db, const struct corp_claim *cl)
{
	static int done;
	struct corp_stmt *st;
	struct corp_err e;
	char hb[CORP_TIMEBUF], sb[CORP_TIMEBUF], m[400];
	time_t host, srv;
	long long d;

	if (done || cl->warn == NULL)
		return;
	done = 1;
	if (corp_db_prep(db, &st, "SELECT CAST(extract(epoch FROM "
	    "clock_timestamp()) AS BIGINT)", &e) != 0)
		return;
	if (corp_step(st) != SQLITE_ROW) {
		corp_reset(st);
		return;
	}
	srv = (time_t)corp_col_int64(st, 0);
	corp_reset(st);
	host = time(NULL);
	d = (long long)host - (long long)srv;
	if (d >= -5 && d <= 5)
		return;
	snprintf(m, sizeof(m), "this host's clock %s differs from the "
	    "database server's %s by %lld s (leases of %lld s are timed by "
	    "each host's clock): keep the hosts' clocks within a few seconds "
	    "of the server's (NTP), or a leased row may be sent twice",
	    corp_time_fmt(host, hb), corp_time_fmt(srv, sb), d < 0 ? -d : d,
	    cl->lease_secs);
	cl->warn(cl->warn_arg, m);
}

int
corp_queue_claim(struct corp_db *db, const struct corp_claim *cl,
    json_t **linesp, char token[48], struct corp_err *err)
{
	struct corp_queueline_names nm;
	json_t *lines;
	char *base = NULL, *fallback = NULL;
	time_t now = corp_now();
	int rc;

	*linesp = NULL;
	memset(&nm, 0, sizeof(nm));
	token[0] = '\0';
	if (!cl->peek && corp_nonce_b64url(token, 24) != 0)
		return corp_errf(err, CORP_EINTERNAL, "lease token");
	if ((rc = corp_setting_get(db, "base_url", &base, err)) != 0)
		return rc;
	if ((rc = corp_setting_get(db, "fallback_lang", &fallback,
	    err)) != 0) {
		free(base);
		return rc;
	}
	lines = json_array();
	if (!cl->peek && corp_db_is_pg(db)) {
		clock_check(db, cl);
		if ((rc = claim_pg(db, cl, now, token, *base ? base : NULL,
		    lines, &nm, err)) != 0)
			goto out;
		corp_queueline_fill_lang(lines, fallback);
		*linesp = lines;
		lines = NULL;
		goto out;
	}
	if (!cl->peek) {
		if ((rc = corp_db_begin(db, err)) != 0)
			goto out;
		if ((rc = claim_prepare(db, cl->channel, now, err)) != 0)
			goto fail;
	}
	if (cl->by_priority)
		rc = claim_query(db, SQL_CLAIM_PRIO, cl, now, token,
		    *base ? base : NULL, lines, cl->limit, &nm, err);
	else {
		/*
		 * Without a cursor (0:0) no row is at or before it (event ids
		 * start at 1): the first query would only cost its prepare,
		 * ~0.85 M instructions, a sixth of pending --peek's start-up
		 * (tests/bench/PROFILE 10).
		 */
		rc = 0;
		if (cl->after_event > 0 || cl->after_user > 0)
			rc = claim_query(db, SQL_CLAIM_BEFORE, cl, now, token,
			    *base ? base : NULL, lines, cl->limit, &nm, err);
		if (rc == 0)
			rc = claim_query(db, SQL_CLAIM_AFTER, cl, now, token,
			    *base ? base : NULL, lines,
			    cl->limit - (int)json_array_size(lines), &nm, err);
	}
	if (rc != 0)
		goto fail;
	if (!cl->peek && (rc = corp_db_commit(db, err)) != 0)
		goto out;
	corp_queueline_fill_lang(lines, fallback);
	*linesp = lines;
	lines = NULL;
	goto out;
fail:
	if (!cl->peek)
		corp_db_rollback(db);
out:
	corp_queueline_names_clear(&nm);
	json_decref(lines);
	free(base);
	free(fallback);
	return rc;
}

struct release {
	const char	*token;
	const long long	*ids;
	size_t		 nids;
};

static int
release_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct release *r = arg;
	struct corp_stmt *st;
	size_t i;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "lease_token = NULL, lease_until = NULL WHERE lease_token = ?1 "
	    "AND (?2 IS NULL OR id = ?2)", err)) != 0)
		return rc;
	for (i = 0; i < (r->ids ? r->nids : 1); i++) {
		corp_bind_text(st, 1, r->token);
		if (r->ids)
			corp_bind_int64(st, 2, r->ids[i]);
		else
			corp_bind_null(st, 2);
		if ((rc = corp_db_exec(db, st, "release lease", err)) != 0)
			return rc;
	}
	return 0;
}

int
corp_queue_release(struct corp_db *db, const char *token,
    const long long *ids, size_t nids, struct corp_err *err)
{
	struct release r = { token, ids, nids };

	return corp_db_tx(db, release_tx, &r, err);
}

int
corp_queue_release_lines(struct corp_db *db, const char *token,
    json_t *lines, size_t from, struct corp_err *err)
{
	size_t n = json_array_size(lines), k;
	long long *ids;
	int rc;

	if (from >= n)
		return 0;
	if ((ids = calloc(n - from, sizeof(*ids))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (k = from; k < n; k++)
		ids[k - from] = json_integer_value(json_object_get(
		    json_array_get(lines, k), "delivery_id"));
	rc = corp_queue_release(db, token, ids, n - from, err);
	free(ids);
	return rc;
}

int
corp_queue_release_worker(struct corp_db *db, const char *worker,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "lease_token = NULL, lease_until = NULL WHERE worker = ?1 "
	    "AND lease_token IS NOT NULL", err)) != 0)
		return rc;
	corp_bind_text(st, 1, worker);
	return corp_db_exec_tx(db, st, "release worker", n, err);
}

/*
 * Full jitter, at least a second: uniform in [1, min(cap, base *
 * factor^(n-1))].  A zero delay (1 in 31 first retries at 30s) made a
 * failed row due again at once, retried in the same run against the
 * server that had just failed it.
 */
static long long
backoff_delay(const struct corp_backoff *b, int n)
{
	double d = (double)b->base * pow(b->factor, n > 0 ? n - 1 : 0);
	long long cap = d > (double)b->cap ? b->cap : (long long)d;

	if (cap <= 0)
		return 0;
	if (cap >= 0xffffffffLL)
		cap = 0xffffffffLL;
	return 1 + (long long)arc4random_uniform((uint32_t)cap);
}

/*
 * The ack of a batch (issue 18, lever 4): one SELECT reads (and on
 * PostgreSQL locks, in id order) every row the batch names; the lines
 * are decided in memory against those rows, in order (a row named twice
 * sees the first line's change); the changes are written after the
 * last line.  On PostgreSQL that is one UPDATE of the changed rows and
 * one INSERT of the attempts, each over a JSON array bound as one
 * parameter: four round trips per batch instead of three per line.  On
 * SQLite, in process, the rows and attempts are written one prepared
 * statement each (no round trip to save; see flush_rows).  An unbound
 * line (a bind and the user's other rows change) and a push line that
 * names gone subscriptions write what was decided before them first,
 * then run their own statements as before, so the database sees every
 * change in the order of the lines (tests/0222).
 */
#define ACK_COLS "SELECT id, status, lease_token, lease_until, " \
	"attempts, channel, user_id, held_since, lease_tokens FROM deliveries "
static const char SQL_ACK_ROWS[] = ACK_COLS "WHERE id IN (SELECT "
    "CAST(j.value AS BIGINT) FROM json_each(?1) AS j) ORDER BY id";
/*
 * PostgreSQL: "id = ANY(ARRAY(...))" is an index condition on the
 * primary key, so the batch's rows are read through deliveries_pkey.
 * With "id IN (SELECT ... json_array_elements ...)" the planner joined
 * the ids by hash against a sequential scan of the whole table, every
 * row of the queue read on every ack below some 30 000 rows (issue 18,
 * tests/bench/PROFILE section 9).  The UPDATE below names its rows the
 * same way.
 */
#define ACK_IDS_PG(val) "ANY(ARRAY(SELECT CAST(" val " AS BIGINT) " \
	"FROM json_array_elements(CAST(?1 AS json)) AS k))"
static const char SQL_ACK_ROWS_PG[] = ACK_COLS
    "WHERE id = " ACK_IDS_PG("k.value #>> '{}'") " ORDER BY id FOR UPDATE";
/* ?1: [[id, status, attempts, not_before|null (keep), error, held_since,
 * sent 0|1, provider_message_id], ...] */
#define ACK_SET(src) "UPDATE deliveries SET " \
	"status = CAST(j.value ->> 1 AS TEXT), " \
	"attempts = CAST(j.value ->> 2 AS INTEGER), " \
	"not_before = coalesce(CAST(j.value ->> 3 AS BIGINT), not_before), " \
	"error = CAST(j.value ->> 4 AS TEXT), " \
	"lease_token = NULL, lease_until = NULL, updated_at = ?2, " \
	"held_since = CAST(j.value ->> 5 AS BIGINT), " \
	"sent_at = CASE WHEN CAST(j.value ->> 6 AS INTEGER) = 1 THEN ?2 " \
	"ELSE sent_at END, " \
	"provider_message_id = CASE WHEN CAST(j.value ->> 6 AS INTEGER) = 1 " \
	"THEN CAST(j.value ->> 7 AS TEXT) ELSE provider_message_id END " \
	"FROM " src " AS j WHERE deliveries.id = CAST(j.value ->> 0 AS BIGINT)"
static const char SQL_ACK_SET_PG[] =
    ACK_SET("json_array_elements(CAST(?1 AS json))")
    " AND deliveries.id = " ACK_IDS_PG("k.value ->> 0");
/* ?1: [[seq, delivery_id, worker, result, attempted, stored, error,
 * provider_message_id, not_before], ...], inserted in seq order. */
#define ACK_ATTEMPTS(src) "INSERT INTO delivery_attempts (delivery_id, at, " \
	"worker, result, attempted, stored, error, provider_message_id, " \
	"not_before) SELECT CAST(j.value ->> 1 AS BIGINT), ?2, " \
	"CAST(j.value ->> 2 AS TEXT), CAST(j.value ->> 3 AS TEXT), " \
	"CAST(j.value ->> 4 AS INTEGER), CAST(j.value ->> 5 AS TEXT), " \
	"CAST(j.value ->> 6 AS TEXT), CAST(j.value ->> 7 AS TEXT), " \
	"CAST(j.value ->> 8 AS BIGINT) FROM " src " AS j " \
	"ORDER BY CAST(j.value ->> 0 AS INTEGER)"
static const char SQL_ACK_ATTEMPTS_PG[] =
    ACK_ATTEMPTS("json_array_elements(CAST(?1 AS json))");

/* A row of the batch: as read, then as the lines so far changed it. */
struct ackrow {
	long long	 id, uid;
	char		 status[16];
	char		*lease, *channel, *issued, *error;
	time_t		 lease_until, held, nb;
	int		 attempts;
	int		 dirty;		/* changed since the last flush */
	int		 sent;		/* the change sets sent_at, provider */
	int		 nb_keep;	/* the change leaves not_before */
	const char	*provider;	/* the line's (alive for the batch) */
};

struct ackbatch {
	struct ackrow	*rows;
	size_t		 n;
	json_t		*attempts;	/* the attempts rows, in order */
};

static void
ackbatch_free(struct ackbatch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->rows[i].lease);
		free(b->rows[i].channel);
		free(b->rows[i].issued);
		free(b->rows[i].error);
	}
	free(b->rows);
	json_decref(b->attempts);
	memset(b, 0, sizeof(*b));
}

static int
by_rowid(const void *a, const void *b)
{
	long long x = *(const long long *)a;
	long long y = ((const struct ackrow *)b)->id;

	return x < y ? -1 : x > y;
}

static struct ackrow *
ackbatch_row(struct ackbatch *b, long long id)
{
	return b->n == 0 ? NULL : bsearch(&id, b->rows, b->n,
	    sizeof(*b->rows), by_rowid);
}

static char *
strdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Read (PostgreSQL: lock, in id order) the rows the ids name. */
static int
ackbatch_load(struct corp_db *db, struct ackbatch *b, json_t *ids,
    struct corp_err *err)
{
	struct corp_stmt *st;
	char *arr;
	size_t cap = json_array_size(ids);
	int rc;

	if ((b->attempts = json_array()) == NULL ||
	    (b->rows = calloc(cap ? cap : 1, sizeof(*b->rows))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (cap == 0)
		return 0;
	if ((arr = json_dumps(ids, JSON_COMPACT)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, corp_db_is_pg(db) ? SQL_ACK_ROWS_PG :
	    SQL_ACK_ROWS, err)) != 0) {
		free(arr);
		return rc;
	}
	corp_bind_text(st, 1, arr);
	while (b->n < cap && (rc = corp_step(st)) == SQLITE_ROW) {
		struct ackrow *r = &b->rows[b->n++];

		r->id = corp_col_int64(st, 0);
		strlcpy(r->status, corp_col_text(st, 1), sizeof(r->status));
		r->lease = strdup_or_null(corp_col_text(st, 2));
		r->lease_until = (time_t)corp_col_int64(st, 3);
		r->attempts = corp_col_int(st, 4);
		r->channel = strdup(corp_col_text(st, 5));
		r->uid = corp_col_int64(st, 6);
		r->held = (time_t)corp_col_int64(st, 7);
		r->issued = strdup_or_null(corp_col_text(st, 8));
		if (r->channel == NULL) {
			corp_reset(st);
			free(arr);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	if (b->n == cap)
		rc = SQLITE_DONE;
	corp_reset(st);
	free(arr);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read deliveries", err);
	return 0;
}

/*
 * SQLite: one prepared statement per changed row and per attempt.  In
 * process there is no round trip to save, and json_each hands every
 * element of an array of arrays back as text that ->> parses again per
 * column: measured, the batch UPDATE cost 84 k Ir per row against 45 k
 * for the row's own UPDATE.
 */
static const char SQL_ACK_SET_ROW[] = "UPDATE deliveries SET status = ?2, "
    "attempts = ?3, not_before = coalesce(?4, not_before), error = ?5, "
    "lease_token = NULL, lease_until = NULL, updated_at = ?6, "
    "held_since = ?7, sent_at = CASE WHEN ?8 = 1 THEN ?6 ELSE sent_at END, "
    "provider_message_id = CASE WHEN ?8 = 1 THEN ?9 "
    "ELSE provider_message_id END WHERE id = ?1";
/* The two usual changes: only their own columns (each column set costs
 * the upkeep of every index holding it). */
static const char SQL_ACK_SENT_ROW[] = "UPDATE deliveries SET "
    "status = 'SENT', sent_at = ?2, provider_message_id = ?3, "
    "error = NULL, attempts = ?4, lease_token = NULL, lease_until = NULL, "
    "updated_at = ?2, held_since = NULL WHERE id = ?1";
static const char SQL_ACK_SET_ROW_NB[] = "UPDATE deliveries SET "
    "status = ?2, attempts = ?3, not_before = ?4, error = ?5, "
    "lease_token = NULL, lease_until = NULL, updated_at = ?6, "
    "held_since = ?7 WHERE id = ?1";
static const char SQL_ACK_ATTEMPT_ROW[] = "INSERT INTO delivery_attempts "
    "(delivery_id, at, worker, result, attempted, stored, error, "
    "provider_message_id, not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    "?7, ?8, ?9)";

static int
flush_rows(struct corp_db *db, struct ackbatch *b, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++) {
		struct ackrow *r = &b->rows[i];

		if (!r->dirty)
			continue;
		if (r->sent && r->nb_keep) {
			if ((rc = corp_db_prep(db, &st, SQL_ACK_SENT_ROW,
			    err)) != 0)
				return rc;
			corp_bind_int64(st, 1, r->id);
			corp_bind_int64(st, 2, (long long)now);
			corp_bind_text(st, 3, r->provider);
			corp_bind_int(st, 4, r->attempts);
			goto exec;
		}
		if ((rc = corp_db_prep(db, &st, r->sent ? SQL_ACK_SET_ROW :
		    SQL_ACK_SET_ROW_NB, err)) != 0)
			return rc;
		corp_bind_int64(st, 1, r->id);
		corp_bind_text(st, 2, r->status);
		corp_bind_int(st, 3, r->attempts);
		if (r->nb_keep)
			corp_bind_null(st, 4);
		else
			corp_bind_int64(st, 4, (long long)r->nb);
		corp_bind_text(st, 5, r->error);
		corp_bind_int64(st, 6, (long long)now);
		if (r->held > 0)
			corp_bind_int64(st, 7, (long long)r->held);
		else
			corp_bind_null(st, 7);
		if (r->sent) {
			corp_bind_int(st, 8, r->sent);
			corp_bind_text(st, 9, r->provider);
		}
exec:
		if ((rc = corp_db_exec(db, st, "update delivery", err)) != 0)
			return rc;
		r->dirty = 0;
	}
	return 0;
}

/*
 * Write the rows changed since the last flush: on PostgreSQL one UPDATE
 * (one round trip), on SQLite one per row.
 */
static int
ackbatch_flush(struct corp_db *db, struct ackbatch *b, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *set;
	char *arr;
	size_t i;
	int rc;

	if (!corp_db_is_pg(db))
		return flush_rows(db, b, now, err);
	if ((set = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; i < b->n; i++) {
		struct ackrow *r = &b->rows[i];

		if (!r->dirty)
			continue;
		if (json_array_append_new(set, json_pack("[I,s,i,o,o,o,i,o]",
		    (json_int_t)r->id, r->status, r->attempts,
		    r->nb_keep ? json_null() : json_integer((json_int_t)r->nb),
		    corp_json_strval(r->error),
		    r->held > 0 ? json_integer((json_int_t)r->held) :
		    json_null(), r->sent, r->sent ?
		    corp_json_strval(r->provider) : json_null())) != 0) {
			json_decref(set);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		r->dirty = 0;
	}
	if (json_array_size(set) == 0) {
		json_decref(set);
		return 0;
	}
	arr = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	if (arr == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, SQL_ACK_SET_PG, err)) == 0) {
		corp_bind_text(st, 1, arr);
		corp_bind_int64(st, 2, (long long)now);
		rc = corp_db_exec(db, st, "update deliveries", err);
	}
	free(arr);
	return rc;
}

/* Write the batch's attempts rows: one INSERT ... SELECT. */
static int
ackbatch_attempts(struct corp_db *db, struct ackbatch *b, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	char *arr;
	int rc;

	if (json_array_size(b->attempts) == 0)
		return 0;
	if ((arr = json_dumps(b->attempts, JSON_COMPACT)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, SQL_ACK_ATTEMPTS_PG, err)) == 0) {
		corp_bind_text(st, 1, arr);
		corp_bind_int64(st, 2, (long long)now);
		rc = corp_db_exec(db, st, "record attempts", err);
	}
	free(arr);
	return rc;
}

/* The attempts row of an applied line: on SQLite written now, on
 * PostgreSQL kept for the batch's one INSERT. */
static int
record_attempt(struct corp_db *db, struct ackbatch *b,
    const struct ackline *a, time_t now, const char *stored, time_t nb,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (!corp_db_is_pg(db)) {
		if ((rc = corp_db_prep(db, &st, SQL_ACK_ATTEMPT_ROW, err)) != 0)
			return rc;
		corp_bind_int64(st, 1, a->id);
		corp_bind_int64(st, 2, (long long)now);
		corp_bind_text(st, 3, a->worker);
		corp_bind_text(st, 4, a->result);
		corp_bind_int(st, 5, a->attempted);
		corp_bind_text(st, 6, stored);
		corp_bind_text(st, 7, a->error);
		corp_bind_text(st, 8, a->provider);
		if (nb > 0)
			corp_bind_int64(st, 9, (long long)nb);
		return corp_db_exec(db, st, "record attempt", err);
	}
	if (json_array_append_new(b->attempts, json_pack("[I,I,o,s,i,s,o,o,o]",
	    (json_int_t)json_array_size(b->attempts), (json_int_t)a->id,
	    corp_json_strval(a->worker), a->result, a->attempted, stored,
	    corp_json_strval(a->error), corp_json_strval(a->provider),
	    nb > 0 ? json_integer((json_int_t)nb) : json_null())) != 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/*
 * Change a row in memory (written by the next flush): what set_row
 * wrote.  held: the row's held_since, 0 for none (NULL).
 */
static int
set_row(struct ackrow *r, const char *status, int attempts, time_t nb,
    const char *error, time_t held, struct corp_err *err)
{
	char *e = NULL;

	if (error != NULL && (e = strdup(error)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	strlcpy(r->status, status, sizeof(r->status));
	r->attempts = attempts;
	r->nb = nb;
	free(r->error);
	r->error = e;
	r->held = held;
	free(r->lease);
	r->lease = NULL;
	r->lease_until = 0;
	r->sent = r->nb_keep = 0;
	r->provider = NULL;
	r->dirty = 1;
	return 0;
}

/* The same row change, written now (the unbound line's own order). */
static int
set_row_now(struct corp_db *db, long long id, const char *status,
    int attempts, time_t nb, const char *error, time_t held, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET status = ?2, "
	    "attempts = ?3, not_before = ?4, error = ?5, lease_token = NULL, "
	    "lease_until = NULL, updated_at = ?6, held_since = ?7 "
	    "WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, status);
	corp_bind_int(st, 3, attempts);
	corp_bind_int64(st, 4, (long long)nb);
	corp_bind_text(st, 5, error);
	corp_bind_int64(st, 6, (long long)now);
	if (held > 0)
		corp_bind_int64(st, 7, (long long)held);
	else
		corp_bind_null(st, 7);
	return corp_db_exec(db, st, "update delivery", err);
}

/*
 * A retry with "attempted": false (the request never reached the
 * server: an outage, a configuration error, a rate limit, an expired
 * lease) uses no attempt, so an endless outage would hold the row for
 * ever.  It is held from the first such ack since its last attempt
 * (held_since); once that is hold_max_age ago, the next such ack fails
 * it with "expired_held: " and the ack's error.
 */
static int
ack_held(struct corp_db *db, struct ackrow *r, const struct ackline *a,
    time_t now, time_t *nb, const char **stored, struct corp_err *err)
{
	long long age;
	char *why = NULL;
	time_t held = r->held;
	int rc;

	if ((rc = corp_setting_duration(db, "hold_max_age", &age, err)) != 0)
		return rc;
	if (held > 0 && now - held >= (time_t)age) {
		if (corp_asprintf(&why, "expired_held%s%s", a->error ? ": " :
		    "", a->error ? a->error : "") < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		rc = set_row(r, "FAILED", r->attempts, 0, why, held, err);
		free(why);
		*stored = "failed";
		return rc;
	}
	/* Never parked past the hold's end (a hand-written retry_after
	 * of a year): claimed again by then, the next held retry fails
	 * it (corp-deliver.1 ack). */
	if (held <= 0)
		held = now;
	*nb = corp_time_add(now, a->retry_after > 0 ? a->retry_after : 0);
	if (*nb > corp_time_add(held, age))
		*nb = corp_time_add(held, age);
	*stored = "retry";
	return set_row(r, "PENDING", r->attempts, *nb, a->error, held, err);
}

/*
 * Was token once issued for the row?  issued: its lease_tokens, whole
 * tokens separated by spaces, the last one maybe cut by the cap.
 */
static int
lease_issued(const char *issued, const char *token)
{
	size_t n = strlen(token), len;
	const char *p = issued, *e;

	if (issued == NULL || n == 0)
		return 0;
	len = strlen(issued);
	for (; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		/* A piece the cap cut is not a token. */
		if (*e == '\0' && len >= LEASE_KEEP * (LEASE_TOKEN_LEN + 1) - 1 &&
		    (size_t)(e - p) < LEASE_TOKEN_LEN)
			break;
		if ((size_t)(e - p) == n && memcmp(p, token, n) == 0)
			return 1;
	}
	return 0;
}

/* What an ack stored, counted (corp-deliver.1 stats, "counters"). */
static void
count_ack(struct corp_qcounts *q, const char *channel, const char *stored,
    int attempted)
{
	if (strcmp(stored, "retry") == 0)
		corp_qcounts_add(q, channel, attempted ? "retried" : "held", 1);
	else if (strcmp(stored, "failed") == 0) {
		corp_qcounts_add(q, channel, "failed", 1);
		corp_qcounts_add(q, channel, "dead_lettered", 1);
	} else if (strcmp(stored, "sent") == 0 ||
	    strcmp(stored, "unbound") == 0)
		corp_qcounts_add(q, channel, stored, 1);
}

/* unbound: the bind off and the user's rows waiting, written now. */
static int
ack_unbound(struct corp_db *db, struct ackbatch *b, struct ackrow *r,
    const struct ackline *a, time_t now, struct corp_err *err)
{
	int rc;

	if ((rc = ackbatch_flush(db, b, now, err)) != 0)
		return rc;
	if ((rc = corp_binds_unbound_tx(db, r->uid, r->channel, now,
	    err)) != 0 ||
	    (rc = set_row_now(db, a->id, "PENDING", r->attempts, 0, a->error,
	    0, now, err)) != 0 ||
	    (rc = corp_queue_refresh_user(db, r->uid, r->channel, now,
	    err)) != 0)
		return rc;
	/* In memory as written: nothing left to flush for it. */
	if ((rc = set_row(r, "PENDING", r->attempts, 0, a->error, 0,
	    err)) != 0)
		return rc;
	r->dirty = 0;
	return 0;
}

/* Record the attempt, and count what was stored (count_ack). */
static int
record_counted(struct corp_db *db, struct ackbatch *b, struct corp_qcounts *q,
    const struct ackrow *r, const struct ackline *a, time_t now,
    const char *stored, time_t nb, struct corp_err *err)
{
	int rc;

	if ((rc = record_attempt(db, b, a, now, stored, nb, err)) == 0)
		count_ack(q, r->channel, stored, a->attempted);
	return rc;
}

/*
 * Apply one ack to its row in memory; *stored gets the outcome, *refused
 * (NULL otherwise) why the line was refused without touching the row,
 * *warned (NULL otherwise) a warning for standard error.
 */
static int
apply_ack(struct corp_db *db, struct ackbatch *b, const struct ackline *a,
    time_t now, const char **stored, const char **refused,
    const char **warned, struct corp_qcounts *q, struct corp_err *err)
{
	struct ackrow *r;
	time_t nb = 0;
	int rc = 0, mine, max;

	*stored = "unchanged";
	*refused = NULL;
	*warned = NULL;
	if ((r = ackbatch_row(b, a->id)) == NULL)
		return 0;	/* unknown id: nothing to store */
	mine = r->lease != NULL && strcmp(r->lease, a->lease) == 0;
	if (!mine && !lease_issued(r->issued, a->lease)) {
		/* Nobody holding a lease of this row wrote it (any
		 * result alike: corp-deliver.1 Leases). */
		*refused = strcmp(a->result, "sent") == 0 ? "sent with a "
		    "lease never issued for this row: refused, the row "
		    "unchanged" : strcmp(a->result, "retry") == 0 ? "retry "
		    "with a lease never issued for this row: refused, the "
		    "row unchanged" : strcmp(a->result, "failed") == 0 ?
		    "failed with a lease never issued for this row: "
		    "refused, the row unchanged" : "unbound with a lease "
		    "never issued for this row: refused, the row unchanged";
		return 0;
	}
	if (strcmp(a->result, "sent") == 0) {
		/* The late-ack rule: kept unless SENT or another live lease. */
		if (strcmp(r->status, "SENT") != 0 && !mine &&
		    r->lease != NULL && r->lease_until >= now)
			*warned = "sent under an expired lease while another "
			    "claim holds the row: stored unchanged; the "
			    "message may be sent twice";
		if (strcmp(r->status, "SENT") != 0 && (mine ||
		    r->lease == NULL || r->lease_until < now)) {
			/* SENT leaves not_before: as the row has it, or as
			 * an earlier line of the batch set it. */
			int keep = !r->dirty || r->nb_keep;
			time_t pnb = r->nb;

			if ((rc = set_row(r, "SENT", r->attempts + 1, pnb,
			    NULL, 0, err)) != 0)
				return rc;
			r->sent = 1;
			r->nb_keep = keep;
			r->provider = a->provider;
			*stored = "sent";
		}
		return record_counted(db, b, q, r, a, now, *stored, nb, err);
	}
	/* retry, failed, unbound: only the holder of the lease. */
	if (!mine || strcmp(r->status, "PENDING") != 0)
		return record_counted(db, b, q, r, a, now, *stored, nb, err);
	if (strcmp(a->result, "failed") == 0) {
		rc = set_row(r, "FAILED", r->attempts + 1, 0,
		    a->error ? a->error : "failed", 0, err);
		*stored = "failed";
	} else if (strcmp(a->result, "unbound") == 0) {
		rc = ack_unbound(db, b, r, a, now, err);
		*stored = "unbound";
	} else if (!a->attempted) {
		/* It never left: no attempt used, but held at most so long. */
		rc = ack_held(db, r, a, now, &nb, stored, err);
	} else {
		struct corp_backoff bo;
		long long d, maxp;

		if ((rc = corp_setting_attempts(db, r->channel, &max,
		    err)) != 0 ||
		    (rc = corp_setting_backoff(db, r->channel, &bo, err)) != 0)
			return rc;
		if (r->attempts + 1 >= max) {
			rc = set_row(r, "FAILED", r->attempts + 1, 0,
			    a->error ? a->error : "retry", 0, err);
			*stored = "failed";
		} else {
			/* A server's pause is at most telegram.max_pause
			 * (corp-deliver.1 ack), whoever wrote the line. */
			if ((rc = corp_setting_duration(db,
			    "telegram.max_pause", &maxp, err)) != 0)
				return rc;
			if (maxp > a->retry_after)
				maxp = a->retry_after;
			d = backoff_delay(&bo, r->attempts + 1);
			if (d < maxp)
				d = maxp;
			nb = corp_time_add(now, d);
			rc = set_row(r, "PENDING", r->attempts + 1, nb,
			    a->error, 0, err);
			*stored = "retry";
		}
	}
	if (rc != 0)
		return rc;
	return record_counted(db, b, q, r, a, now, *stored, nb, err);
}

const char *
corp_queue_ack_check(json_t *line)
{
	struct ackline a;

	return corp_queueline_ack_parse(line, &a);
}

/* Ack lines (arg) by delivery_id, unparsable ones first. */
static int
by_delivery(const void *a, const void *b, void *arg)
{
	json_t **lines = arg;
	long long x = json_integer_value(json_object_get(
	    lines[*(const size_t *)a], "delivery_id"));
	long long y = json_integer_value(json_object_get(
	    lines[*(const size_t *)b], "delivery_id"));

	if (x != y)
		return x < y ? -1 : 1;
	/* The same row twice: in the order given. */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int
corp_queue_ack(struct corp_db *db, json_t **lines, size_t n, int *bad,
    void (*warn)(void *, const char *), void *warnarg, struct corp_err *err)
{
	const char **stored, **refused, **warned;
	struct corp_qcounts q = { .n = 0 };
	struct ackline a;
	struct ackbatch b = { 0 };
	json_t *ids = NULL;
	time_t now = corp_now();
	size_t i, *order;
	int rc, unbound = 0;

	*bad = 0;
	stored = calloc(n ? n : 1, sizeof(*stored));
	refused = calloc(n ? n : 1, sizeof(*refused));
	warned = calloc(n ? n : 1, sizeof(*warned));
	order = calloc(n ? n : 1, sizeof(*order));
	if (stored == NULL || order == NULL || refused == NULL ||
	    warned == NULL) {
		free(stored);
		free(refused);
		free(warned);
		free(order);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	/*
	 * On PostgreSQL acks take no writers' lock (ackbatch_load locks the
	 * batch's rows), except a batch with an unbound line, which changes a bind
	 * and the readiness of the user's other rows; rows are changed in
	 * delivery_id order, so that two batches acked at once lock their
	 * common rows in one order and never deadlock.  SQLite applies the
	 * lines as given.
	 */
	for (i = 0; i < n; i++) {
		order[i] = i;
		if (corp_queueline_ack_parse(lines[i], &a) == NULL &&
		    strcmp(a.result, "unbound") == 0)
			unbound = 1;
	}
	if (corp_db_is_pg(db))
		qsort_r(order, n, sizeof(*order), by_delivery, lines);
	if ((rc = unbound ? corp_db_begin(db, err) :
	    corp_db_begin_concurrent(db, err)) != 0)
		goto out;
	if ((ids = json_array()) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (corp_queueline_ack_parse(lines[i], &a) == NULL &&
		    json_array_append_new(ids, json_integer(a.id)) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto fail;
		}
	if ((rc = ackbatch_load(db, &b, ids, err)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const char *why = corp_queueline_ack_parse(lines[order[i]], &a);
		json_t *gone;

		if (why != NULL) {
			stored[order[i]] = NULL;
			continue;
		}
		if ((rc = apply_ack(db, &b, &a, now, &stored[order[i]],
		    &refused[order[i]], &warned[order[i]], &q, err)) != 0) {
			corp_errprefix(err, "delivery %lld", a.id);
			goto fail;
		}
		if (strcmp(stored[order[i]], "unchanged") == 0)
			continue;
		/* Gone push subscriptions: after what came before. */
		gone = json_object_get(lines[order[i]], "push_gone");
		if (json_is_array(gone) && json_array_size(gone) > 0 &&
		    ((rc = ackbatch_flush(db, &b, now, err)) != 0 ||
		    (rc = corp_pushsub_ack_tx(db, a.id, lines[order[i]],
		    err)) != 0)) {
			corp_errprefix(err, "delivery %lld", a.id);
			goto fail;
		}
	}
	if ((rc = ackbatch_flush(db, &b, now, err)) != 0 ||
	    (rc = ackbatch_attempts(db, &b, now, err)) != 0 ||
	    (rc = corp_qcounts_flush(db, &q, now, err)) != 0)
		goto fail;
	if ((rc = corp_db_commit(db, err)) != 0)
		goto out;
	/* Only now, after the commit, do the lines say what was stored. */
	for (i = 0; i < n; i++) {
		if (stored[i] == NULL) {
			json_object_set_new(lines[i], "ack_error", json_string(
			    corp_queueline_ack_parse(lines[i], &a)));
			json_object_set_new(lines[i], "stored",
			    json_string("unchanged"));
			(*bad)++;
		} else if (refused[i] != NULL) {
			char *m = NULL;

			(void)corp_queueline_ack_parse(lines[i], &a);
			if (corp_asprintf(&m, "delivery %lld: %s", a.id,
			    refused[i]) < 0) {
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				goto out;
			}
			json_object_set_new(lines[i], "ack_error",
			    json_string(m));
			free(m);
			json_object_set_new(lines[i], "stored",
			    json_string("unchanged"));
			(*bad)++;
		} else
			json_object_set_new(lines[i], "stored",
			    json_string(stored[i]));
		if (warned[i] != NULL && warn != NULL) {
			char m[300];

			(void)corp_queueline_ack_parse(lines[i], &a);
			snprintf(m, sizeof(m), "delivery %lld: %s", a.id,
			    warned[i]);
			warn(warnarg, m);
		}
	}
	goto out;
fail:
	corp_db_rollback(db);
out:
	ackbatch_free(&b);
	json_decref(ids);
	free(order);
	free(stored);
	free(refused);
	free(warned);
	return rc;
}

int
corp_queue_refresh_user(struct corp_db *db, long long uid,
    const char *channel, time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	/*
	 * ready when an active bind exists; otherwise waiting_bind, with
	 * waiting_since set when the row becomes waiting.
	 */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "readiness = CASE WHEN EXISTS (SELECT 1 FROM binds b "
	    "WHERE b.user_id = deliveries.user_id AND b.channel = "
	    "deliveries.channel AND b.active = 1) THEN 'ready' "
	    "ELSE 'waiting_bind' END, "
	    "waiting_since = CASE WHEN EXISTS (SELECT 1 FROM binds b "
	    "WHERE b.user_id = deliveries.user_id AND b.channel = "
	    "deliveries.channel AND b.active = 1) THEN NULL "
	    "WHEN readiness = 'waiting_bind' THEN waiting_since ELSE ?3 END, "
	    "updated_at = ?3 "
	    "WHERE user_id = ?1 AND (?2 IS NULL OR channel = ?2) "
	    "AND status = 'PENDING'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	corp_bind_int64(st, 3, (long long)now);
	return corp_db_exec(db, st, "refresh readiness", err);
}

int
corp_queue_refresh_quiet(struct corp_db *db, long long uid, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	time_t nb;
	int rc;

	if ((rc = corp_prefs_quiet_not_before(db, uid, now, &nb, err)) != 0)
		return rc;
	/* Only rows not held back for another reason (backoff). */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "not_before = ?2, updated_at = ?3 WHERE user_id = ?1 "
	    "AND status = 'PENDING' AND priority <> 'urgent' "
	    "AND attempts = 0 AND lease_token IS NULL", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_int64(st, 2, (long long)(nb > now ? nb : 0));
	corp_bind_int64(st, 3, (long long)now);
	return corp_db_exec(db, st, "refresh quiet hours", err);
}

int
corp_queue_mute(struct corp_db *db, long long uid, const char *kind,
    const char *value, long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', error = 'muted', lease_token = NULL, "
	    "lease_until = NULL, updated_at = ?4 WHERE user_id = ?1 "
	    "AND status = 'PENDING' AND ((?2 = 'channel' AND channel = ?3) "
	    "OR (?2 = 'event_type' AND event_id IN (SELECT event_id FROM "
	    "events WHERE event_type = ?3)))", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, kind);
	corp_bind_text(st, 3, value);
	corp_bind_int64(st, 4, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "mute", err)) != 0)
		return rc;
	*n = changes(db);
	return 0;
}

int
corp_queue_fallback_waiting(struct corp_db *db, time_t since,
    struct corp_waiting **v, size_t *n, struct corp_err *err)
{
	struct corp_waiting *nv, *w;
	struct corp_stmt *st;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT id, event_id, user_id, "
	    "channel, fallback FROM deliveries WHERE status = 'PENDING' "
	    "AND readiness = 'waiting_bind' AND lease_token IS NULL "
	    "AND fallback IS NOT NULL AND waiting_since <= ?1 ORDER BY id",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)since);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		*v = nv;
		w = &nv[(*n)++];
		memset(w, 0, sizeof(*w));
		w->id = corp_col_int64(st, 0);
		w->event_id = corp_col_int64(st, 1);
		w->user_id = corp_col_int64(st, 2);
		strlcpy(w->channel, corp_col_text(st, 3), sizeof(w->channel));
		strlcpy(w->fallback, corp_col_text(st, 4),
		    sizeof(w->fallback));
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read rows waiting for a bind",
		    err);
	return 0;
}

int
corp_queue_fallback_move(struct corp_db *db, const struct corp_waiting *w,
    time_t now, int *done, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, exists;

	*done = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM deliveries "
	    "WHERE event_id = ?1 AND user_id = ?2 AND channel = ?3", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, w->event_id);
	corp_bind_int64(st, 2, w->user_id);
	corp_bind_text(st, 3, w->fallback);
	if ((rc = corp_db_exists(db, st, &exists, "read fallback row",
	    err)) != 0)
		return rc;
	/* Compare-and-set: still waiting, unleased, on its own channel. */
	if ((rc = exists ? corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', "
	    "error = 'fallback: a row on ' || CAST(?3 AS TEXT) || ' exists', "
	    "updated_at = ?2 "
	    "WHERE id = ?1 AND channel = ?4 AND status = 'PENDING' "
	    "AND readiness = 'waiting_bind' AND lease_token IS NULL", err) :
	    corp_db_prep(db, &st, "UPDATE deliveries SET channel = ?3, "
	    "fallback = NULL, readiness = 'ready', waiting_since = NULL, "
	    "attempts = 0, lease_expiries = 0, held_since = NULL, "
	    "error = NULL, updated_at = ?2 "
	    "WHERE id = ?1 AND channel = ?4 AND status = 'PENDING' "
	    "AND readiness = 'waiting_bind' AND lease_token IS NULL",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, w->id);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_text(st, 3, w->fallback);
	corp_bind_text(st, 4, w->channel);
	if ((rc = corp_db_exec(db, st, "move a row to its fallback", err)) != 0)
		return rc;
	if (changes(db) == 1)
		*done = exists ? 2 : 1;
	return 0;
}
