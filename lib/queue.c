/*
 * queue.c -- the delivery queue's state machine (queue.h): insert,
 * claim (and the PostgreSQL claim), release, ack, refresh, mute.  The
 * line a claim prints is queueline.c; the operator's verbs (requeue,
 * cancel, dlq, prune, stats, explain) are queueadmin.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
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
	    "ON CONFLICT (event_id, user_id, channel) DO NOTHING", err)) != 0)
		return rc;
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
	return corp_db_exec(db, st, "insert delivery", err);
}

int
corp_queue_insert_digest(struct corp_db *db, long long eid, long long uid,
    const char *channel, const char *role, const char *roles, int ready,
    time_t nb, const char *digest, time_t now, long long *id,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO deliveries (event_id, "
	    "user_id, channel, role, roles, priority, template, readiness, "
	    "waiting_since, not_before, created_at, updated_at, digest) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, 'broadcast', 'digest', ?6, ?7, ?8, "
	    "?9, ?9, ?10) "
	    "ON CONFLICT (event_id, user_id, channel) DO NOTHING RETURNING id",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	corp_bind_text(st, 3, channel);
	corp_bind_text(st, 4, role);
	corp_bind_text(st, 5, roles);
	corp_bind_text(st, 6, ready ? "ready" : "waiting_bind");
	if (ready)
		corp_bind_null(st, 7);
	else
		corp_bind_int64(st, 7, (long long)now);
	corp_bind_int64(st, 8, (long long)nb);
	corp_bind_int64(st, 9, (long long)now);
	corp_bind_text(st, 10, digest);
	return corp_db_insert(db, st, id, "insert digest delivery", err);
}

static int
changes(struct corp_db *db)
{
	return corp_db_changes(db);
}

int
corp_queue_expire_held(struct corp_db *db, time_t now, const char *channel,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	long long age;
	int rc, own = !corp_db_in_tx(db);

	*n = 0;
	if ((rc = corp_setting_duration(db, "hold_max_age", &age, err)) != 0)
		return rc;
	if (own && (rc = corp_db_begin(db, err)) != 0)
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
	    "WHERE status = 'PENDING' AND readiness = 'waiting_bind' "
	    "AND waiting_since <= ?2 AND (?3 IS NULL OR channel = ?3)",
	    err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)now);
	corp_bind_int64(st, 2, (long long)(now - age));
	corp_bind_text(st, 3, channel);
	if ((rc = corp_db_exec(db, st, "expire held rows", err)) != 0)
		goto fail;
	*n = changes(db);
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
	return corp_queue_expire_held(db, now, channel, &n, err);
}

#define CLAIM_WHERE \
	"WHERE d.channel = ?1 AND d.status = 'PENDING' " \
	"AND d.readiness = 'ready' AND d.not_before <= ?2 " \
	"AND (d.lease_token IS NULL OR d.lease_until < ?2) " \
	"AND (?7 IS NULL OR d.priority = ?7) " \
	"AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.channel = ?1 " \
	"AND x.user_id = d.user_id AND x.lease_token IS NOT NULL " \
	"AND x.lease_token <> ?8 AND x.lease_until >= ?2) "

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
#define CLAIM_PG_CANDIDATES \
    "WITH c AS (SELECT d.id, d.channel, d.user_id FROM deliveries d " \
    "WHERE d.channel = ?1 AND d.status = 'PENDING' " \
    "AND d.readiness = 'ready' AND d.not_before <= ?2 " \
    "AND (d.lease_token IS NULL OR d.lease_until < ?2) " \
    "AND (CAST(?7 AS TEXT) IS NULL OR d.priority = ?7) " \
    "AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.channel = ?1 " \
    "AND x.user_id = d.user_id AND x.lease_token IS NOT NULL " \
    "AND x.lease_until >= ?2) "
#define CLAIM_PG_LEASE \
    "FOR UPDATE OF d SKIP LOCKED), " \
    "l AS MATERIALIZED (SELECT c.id FROM c " \
    "WHERE pg_try_advisory_xact_lock(hashtext('corp.lease.' || c.channel), " \
    "CAST(c.user_id % 2147483647 AS INTEGER))) " \
    "UPDATE deliveries d SET lease_token = ?8, lease_until = ?9, " \
    "worker = ?10, updated_at = ?2, " LEASE_TOKENS_SET("?8") \
    " FROM l WHERE d.id = l.id"
static const char SQL_CLAIM_PG[] = CLAIM_PG_CANDIDATES
    "ORDER BY CASE WHEN ?6 = 0 THEN 0 WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, "
    "CASE WHEN ?6 = 1 OR (d.event_id, d.user_id) <= (?3, ?4) THEN 0 "
    "ELSE 1 END, d.event_id, d.user_id LIMIT ?5 " CLAIM_PG_LEASE;
/*
 * The same by priority (?6 = 1, run's claim), in the order of
 * deliveries_priority (SQL_CLAIM_PRIO): PostgreSQL walks that index and
 * stops after ?5 rows instead of sorting every candidate of the channel.
 * ?3, ?4 and ?6 are named only so that PostgreSQL knows their types
 * (a parameter it cannot type fails the prepare); as constants they are
 * tested once, not per row.
 */
static const char SQL_CLAIM_PG_PRIO[] = CLAIM_PG_CANDIDATES
    "AND CAST(?3 AS BIGINT) IS NOT NULL AND CAST(?4 AS BIGINT) IS NOT NULL "
    "AND CAST(?6 AS INTEGER) = 1 "
    "ORDER BY d.priority DESC, d.event_id, d.user_id LIMIT ?5 "
    CLAIM_PG_LEASE;
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
 * the claim's order (?4: by priority, then event), after a claimable
 * row of its user this claim does not hold.
 */
static const char SQL_CLAIM_PG_GAP[] =
    "UPDATE deliveries d SET lease_token = NULL, lease_until = NULL "
    "WHERE d.lease_token = ?1 AND EXISTS (SELECT 1 FROM deliveries x "
    "WHERE x.channel = d.channel AND x.user_id = d.user_id "
    "AND x.status = 'PENDING' AND x.readiness = 'ready' "
    "AND x.not_before <= ?2 "
    "AND (x.lease_token IS NULL OR x.lease_until < ?2) "
    "AND (CAST(?3 AS TEXT) IS NULL OR x.priority = ?3) "
    "AND (CASE WHEN ?4 = 0 THEN 0 WHEN x.priority = 'urgent' THEN 0 "
    "WHEN x.priority = 'p2p' THEN 1 ELSE 2 END, x.event_id) < "
    "(CASE WHEN ?4 = 0 THEN 0 WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, d.event_id))";
static const char SQL_CLAIM_PG_ROWS[] = CLAIM_COLS
    "WHERE d.lease_token = ?1 AND d.lease_until >= ?2 "
    "ORDER BY CASE WHEN ?5 = 0 THEN 0 WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, "
    "CASE WHEN ?5 = 1 OR (d.event_id, d.user_id) <= (?3, ?4) THEN 0 "
    "ELSE 1 END, d.event_id, d.user_id";

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
	if ((rc = corp_db_prep(db, &st, SQL_CLAIM_PG_GAP, err)) != 0)
		goto fail;
	corp_bind_text(st, 1, token);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_text(st, 3, cl->only_priority);
	corp_bind_int(st, 4, cl->by_priority != 0);
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

int
corp_queue_release(struct corp_db *db, const char *token,
    const long long *ids, size_t nids, struct corp_err *err)
{
	struct corp_stmt *st;
	size_t i;
	int rc;

	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "lease_token = NULL, lease_until = NULL WHERE lease_token = ?1 "
	    "AND (?2 IS NULL OR id = ?2)", err)) != 0)
		goto fail;
	for (i = 0; i < (ids ? nids : 1); i++) {
		corp_bind_text(st, 1, token);
		if (ids)
			corp_bind_int64(st, 2, ids[i]);
		else
			corp_bind_null(st, 2);
		if ((rc = corp_db_exec(db, st, "release lease", err)) != 0)
			goto fail;
	}
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
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

	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "lease_token = NULL, lease_until = NULL WHERE worker = ?1 "
	    "AND lease_token IS NOT NULL", err)) != 0)
		goto fail;
	corp_bind_text(st, 1, worker);
	if ((rc = corp_db_exec(db, st, "release worker", err)) != 0)
		goto fail;
	*n = changes(db);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

/* Full jitter: uniform in [0, min(cap, base * factor^(n-1))]. */
static long long
backoff_delay(const struct corp_backoff *b, int n)
{
	double d = (double)b->base * pow(b->factor, n > 0 ? n - 1 : 0);
	long long cap = d > (double)b->cap ? b->cap : (long long)d;

	if (cap <= 0)
		return 0;
	if (cap >= 0xffffffffLL)
		cap = 0xfffffffeLL;
	return (long long)arc4random_uniform((uint32_t)cap + 1);
}

#define SQL_ROW_STATE "SELECT status, lease_token, lease_until, attempts, " \
	"channel, user_id, held_since, lease_tokens FROM deliveries " \
	"WHERE id = ?1"

static int
row_state(struct corp_db *db, long long id, char *status, size_t slen,
    char **lease, time_t *lease_until, int *attempts, char **channel,
    long long *uid, time_t *held_since, char **issued, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*lease = *channel = *issued = NULL;
	/*
	 * PostgreSQL acks run side by side (corp_queue_ack): the row is
	 * locked for the rest of the transaction, so the compare-and-set
	 * below decides on what it will change.
	 */
	if ((rc = corp_db_prep(db, &st, corp_db_is_pg(db) ? SQL_ROW_STATE
	    " FOR UPDATE" : SQL_ROW_STATE, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		const char *l = corp_col_text(st, 1);

		strlcpy(status, corp_col_text(st, 0), slen);
		*lease = l ? strdup(l) : NULL;
		*lease_until = (time_t)corp_col_int64(st, 2);
		*attempts = corp_col_int(st, 3);
		*channel = strdup(corp_col_text(st, 4));
		*uid = corp_col_int64(st, 5);
		*held_since = (time_t)corp_col_int64(st, 6);
		l = corp_col_text(st, 7);
		*issued = l ? strdup(l) : NULL;
		corp_reset(st);
		return 0;
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return CORP_ENOTFOUND;
	return corp_db_fail(db, rc, "read delivery", err);
}

static int
record_attempt(struct corp_db *db, const struct ackline *a, time_t now,
    const char *stored, time_t nb, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO delivery_attempts "
	    "(delivery_id, at, worker, result, attempted, stored, error, "
	    "provider_message_id, not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?8, ?9)", err)) != 0)
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

/* held: the row's held_since, 0 for none (NULL). */
static int
set_row(struct corp_db *db, long long id, const char *status, int attempts,
    time_t nb, const char *error, time_t held, time_t now,
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
ack_held(struct corp_db *db, const struct ackline *a, int attempts,
    time_t held, time_t now, time_t *nb, const char **stored,
    struct corp_err *err)
{
	long long age;
	char *why = NULL;
	int rc;

	if ((rc = corp_setting_duration(db, "hold_max_age", &age, err)) != 0)
		return rc;
	if (held > 0 && now - held >= (time_t)age) {
		if (corp_asprintf(&why, "expired_held%s%s", a->error ? ": " :
		    "", a->error ? a->error : "") < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		rc = set_row(db, a->id, "FAILED", attempts, 0, why, held, now,
		    err);
		free(why);
		*stored = "failed";
		return rc;
	}
	*nb = corp_time_add(now, a->retry_after > 0 ? a->retry_after : 0);
	*stored = "retry";
	return set_row(db, a->id, "PENDING", attempts, *nb, a->error,
	    held > 0 ? held : now, now, err);
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

/*
 * Apply one ack; *stored gets the outcome, *refused (NULL otherwise) why
 * the line was refused without touching the row.
 */
static int
apply_ack(struct corp_db *db, const struct ackline *a, time_t now,
    const char **stored, const char **refused, struct corp_err *err)
{
	char status[16], *lease = NULL, *channel = NULL, *issued = NULL;
	time_t lease_until = 0, nb = 0, held = 0;
	long long uid = 0;
	int attempts = 0, rc, mine, max;
	struct corp_stmt *st;

	*stored = "unchanged";
	*refused = NULL;
	rc = row_state(db, a->id, status, sizeof(status), &lease,
	    &lease_until, &attempts, &channel, &uid, &held, &issued, err);
	if (rc == CORP_ENOTFOUND)
		return 0;	/* unknown id: nothing to store */
	if (rc != 0)
		return rc;
	mine = lease != NULL && strcmp(lease, a->lease) == 0;
	if (strcmp(a->result, "sent") == 0 && !mine &&
	    !lease_issued(issued, a->lease)) {
		/* Nobody holding a lease of this row ever sent it. */
		*refused = "sent with a lease never issued for this row: "
		    "refused, the row unchanged";
		rc = 0;
		goto out;
	}
	if (strcmp(a->result, "sent") == 0) {
		/* The late-ack rule: kept unless SENT or another live lease. */
		if (strcmp(status, "SENT") != 0 && (mine || lease == NULL ||
		    lease_until < now)) {
			if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
			    "status = 'SENT', sent_at = ?2, "
			    "provider_message_id = ?3, error = NULL, "
			    "attempts = attempts + 1, lease_token = NULL, "
			    "lease_until = NULL, updated_at = ?2, "
			    "held_since = NULL WHERE id = ?1", err)) != 0)
				goto out;
			corp_bind_int64(st, 1, a->id);
			corp_bind_int64(st, 2, (long long)now);
			corp_bind_text(st, 3, a->provider);
			if ((rc = corp_db_exec(db, st, "ack sent", err)) != 0)
				goto out;
			*stored = "sent";
		}
		goto record;
	}
	/* retry, failed, unbound: only the holder of the lease. */
	if (!mine || strcmp(status, "PENDING") != 0)
		goto record;
	if (strcmp(a->result, "failed") == 0) {
		rc = set_row(db, a->id, "FAILED", attempts + 1, 0,
		    a->error ? a->error : "failed", 0, now, err);
		*stored = "failed";
	} else if (strcmp(a->result, "unbound") == 0) {
		/* An operator's deactivation meanwhile stays the operator's. */
		if ((rc = corp_db_prep(db, &st, "UPDATE binds SET active = 0, "
		    "deactivated_by = 'delivery', updated_at = ?3 "
		    "WHERE user_id = ?1 AND channel = ?2 AND active = 1",
		    err)) != 0)
			goto out;
		corp_bind_int64(st, 1, uid);
		corp_bind_text(st, 2, channel);
		corp_bind_int64(st, 3, (long long)now);
		if ((rc = corp_db_exec(db, st, "deactivate bind", err)) != 0 ||
		    (rc = set_row(db, a->id, "PENDING", attempts, 0, a->error,
		    0, now, err)) != 0 ||
		    (rc = corp_queue_refresh_user(db, uid, channel, now,
		    err)) != 0)
			goto out;
		*stored = "unbound";
	} else if (!a->attempted) {
		/* It never left: no attempt used, but held at most so long. */
		rc = ack_held(db, a, attempts, held, now, &nb, stored, err);
	} else {
		struct corp_backoff b;
		long long d;

		if ((rc = corp_setting_attempts(db, channel, &max, err)) != 0 ||
		    (rc = corp_setting_backoff(db, channel, &b, err)) != 0)
			goto out;
		if (attempts + 1 >= max) {
			rc = set_row(db, a->id, "FAILED", attempts + 1, 0,
			    a->error ? a->error : "retry", 0, now, err);
			*stored = "failed";
		} else {
			d = backoff_delay(&b, attempts + 1);
			if (d < a->retry_after)
				d = a->retry_after;
			nb = corp_time_add(now, d);
			rc = set_row(db, a->id, "PENDING", attempts + 1, nb,
			    a->error, 0, now, err);
			*stored = "retry";
		}
	}
	if (rc != 0)
		goto out;
record:
	rc = record_attempt(db, a, now, *stored, nb, err);
out:
	free(lease);
	free(channel);
	free(issued);
	return rc;
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
    struct corp_err *err)
{
	const char **stored, **refused;
	struct ackline a;
	time_t now = corp_now();
	size_t i, *order;
	int rc, unbound = 0;

	*bad = 0;
	stored = calloc(n ? n : 1, sizeof(*stored));
	refused = calloc(n ? n : 1, sizeof(*refused));
	order = calloc(n ? n : 1, sizeof(*order));
	if (stored == NULL || order == NULL || refused == NULL) {
		free(stored);
		free(refused);
		free(order);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	/*
	 * On PostgreSQL acks take no writers' lock (row_state locks each
	 * row), except a batch with an unbound line, which changes a bind
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
	for (i = 0; i < n; i++) {
		const char *why = corp_queueline_ack_parse(lines[order[i]], &a);

		if (why != NULL) {
			stored[order[i]] = NULL;
			continue;
		}
		if ((rc = apply_ack(db, &a, now, &stored[order[i]],
		    &refused[order[i]], err)) != 0 ||
		    (strcmp(stored[order[i]], "unchanged") != 0 &&
		    (rc = corp_pushsub_ack_tx(db, a.id, lines[order[i]],
		    err)) != 0)) {
			corp_errprefix(err, "delivery %lld", a.id);
			corp_db_rollback(db);
			goto out;
		}
	}
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
	}
out:
	free(order);
	free(stored);
	free(refused);
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
