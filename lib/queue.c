/* queue.c -- see queue.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "event.h"
#include "jsonl.h"
#include "pushsub.h"
#include "queue.h"

/*
 * Every lease also goes into the row's lease_tokens (0010-security):
 * the tokens once issued for it, newest first, the last LEASE_KEEP.
 * A token is LEASE_TOKEN_LEN characters (corp_nonce_b64url of 24).
 */
#define LEASE_TOKEN_LEN	32
#define LEASE_KEEP	8
#define LEASE_TOKENS_SET(tok) \
	"lease_tokens = substr(" tok " || coalesce(' ' || lease_tokens, ''), " \
	"1, 263)"
#include "rand.h"
#include "settings.h"

#define MAX_LEASE_EXPIRIES 5

int
corp_queue_insert(struct corp_db *db, long long eid, long long uid,
    const char *channel, const char *role, const char *roles,
    const char *priority, const char *template, int ready, time_t nb,
    time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO deliveries (event_id, "
	    "user_id, channel, role, roles, priority, template, readiness, "
	    "waiting_since, not_before, created_at, updated_at) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) "
	    "ON CONFLICT (event_id, user_id, channel) DO NOTHING", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	corp_bind_text(st, 3, channel);
	corp_bind_text(st, 4, role);
	corp_bind_text(st, 5, roles);
	corp_bind_text(st, 6, priority);
	corp_bind_text(st, 7, template);
	corp_bind_text(st, 8, ready ? "ready" : "waiting_bind");
	if (ready)
		corp_bind_null(st, 9);
	else
		corp_bind_int64(st, 9, (long long)now);
	corp_bind_int64(st, 10, (long long)nb);
	corp_bind_int64(st, 11, (long long)now);
	return corp_db_exec(db, st, "insert delivery", err);
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

#define CLAIM_COLS \
	"SELECT d.id, d.event_id, d.user_id, d.channel, d.role, d.roles, " \
	"d.priority, d.template, d.attempts, u.login, u.name, u.lang, " \
	"coalesce(u.tz, o.tz, ?6, 'UTC'), b.address " \
	"FROM deliveries d JOIN users u ON u.id = d.user_id " \
	"LEFT JOIN org_units o ON o.id = u.org_unit_id " \
	"LEFT JOIN binds b ON b.user_id = d.user_id AND b.channel = d.channel "
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
static const char SQL_CLAIM_PRIO[] = CLAIM_COLS CLAIM_WHERE
    "AND ?3 IS NOT NULL AND ?4 IS NOT NULL "
    "ORDER BY CASE d.priority WHEN 'urgent' THEN 0 WHEN 'p2p' THEN 1 "
    "ELSE 2 END, d.event_id, d.user_id LIMIT ?5";

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
static const char SQL_CLAIM_PG[] =
    "WITH c AS (SELECT d.id, d.channel, d.user_id FROM deliveries d "
    "WHERE d.channel = ?1 AND d.status = 'PENDING' "
    "AND d.readiness = 'ready' AND d.not_before <= ?2 "
    "AND (d.lease_token IS NULL OR d.lease_until < ?2) "
    "AND (CAST(?7 AS TEXT) IS NULL OR d.priority = ?7) "
    "AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.channel = ?1 "
    "AND x.user_id = d.user_id AND x.lease_token IS NOT NULL "
    "AND x.lease_until >= ?2) "
    "ORDER BY CASE WHEN ?6 = 0 THEN 0 WHEN d.priority = 'urgent' THEN 0 "
    "WHEN d.priority = 'p2p' THEN 1 ELSE 2 END, "
    "CASE WHEN ?6 = 1 OR (d.event_id, d.user_id) <= (?3, ?4) THEN 0 "
    "ELSE 1 END, d.event_id, d.user_id LIMIT ?5 "
    "FOR UPDATE OF d SKIP LOCKED), "
    "l AS MATERIALIZED (SELECT c.id FROM c "
    "WHERE pg_try_advisory_xact_lock(hashtext('corp.lease.' || c.channel), "
    "CAST(c.user_id % 2147483647 AS INTEGER))) "
    "UPDATE deliveries d SET lease_token = ?8, lease_until = ?9, "
    "worker = ?10, updated_at = ?2, " LEASE_TOKENS_SET("?8")
    " FROM l WHERE d.id = l.id";
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

struct names {
	long long	 event_id;
	json_t		*event;
	char		*actor, *assignee, *previous;
};

static int claim_lines(struct corp_db *, struct corp_stmt *,
    const struct corp_claim *, time_t, const char *, const char *, json_t *,
    int, int, struct names *, struct corp_err *);

static void
names_clear(struct names *n)
{
	json_decref(n->event);
	free(n->actor);
	free(n->assignee);
	free(n->previous);
	memset(n, 0, sizeof(*n));
}

static int
user_name(struct corp_db *db, long long uid, char **out, struct corp_err *err)
{
	return corp_db_text_by_id(db, "SELECT name FROM users WHERE id = ?1",
	    uid, out, "read user", err);
}

static int
unit_title(struct corp_db *db, long long id, char **out, struct corp_err *err)
{
	return corp_db_text_by_id(db, "SELECT title FROM org_units "
	    "WHERE id = ?1", id, out, "read unit", err);
}

/*
 * The event JSON and the names a line carries, cached per event.  A
 * task assigned to a unit names the unit's title as its assignee.
 */
static int
load_names(struct corp_db *db, long long eid, const char *base,
    struct names *n, struct corp_err *err)
{
	struct corp_event ev;
	int rc;

	if (n->event_id == eid)
		return 0;
	names_clear(n);
	if ((rc = corp_event_get(db, eid, &ev, err)) != 0)
		return rc;
	n->event = corp_event_json(&ev, base);
	n->event_id = eid;
	if ((rc = user_name(db, ev.actor_user_id, &n->actor, err)) != 0 ||
	    (rc = ev.assignee_user_id > 0 ?
	    user_name(db, ev.assignee_user_id, &n->assignee, err) :
	    unit_title(db, ev.assignee_org_unit_id, &n->assignee, err)) != 0 ||
	    (rc = ev.previous_assignee_user_id > 0 ?
	    user_name(db, ev.previous_assignee_user_id, &n->previous, err) :
	    unit_title(db, ev.previous_assignee_org_unit_id, &n->previous,
	    err)) != 0) {
		corp_event_free(&ev);
		return rc;
	}
	corp_event_free(&ev);
	return 0;
}

json_t *
corp_queue_roles_json(const char *s)
{
	json_t *a = json_array();
	const char *p = s;

	while (p != NULL && *p != '\0') {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		json_array_append_new(a, json_stringn(p, len));
		p = c ? c + 1 : NULL;
	}
	return a;
}

/* Run one claim query, appending lines; leases them unless peek. */
static int
claim_query(struct corp_db *db, const char *sql, const struct corp_claim *cl,
    time_t now, const char *token, const char *base, json_t *lines,
    int limit, struct names *nm, struct corp_err *err)
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
	return claim_lines(db, st, cl, now, token, base, lines, limit, 1, nm,
	    err);
}

/*
 * The delivery lines of the rows st selects (CLAIM_COLS), at most
 * limit; with lease set, each row is leased to token as it is read
 * (SQLite: the writer holds the database, nobody else can claim).
 */
static int
claim_lines(struct corp_db *db, struct corp_stmt *st,
    const struct corp_claim *cl, time_t now, const char *token,
    const char *base, json_t *lines, int limit, int lease,
    struct names *nm, struct corp_err *err)
{
	struct corp_stmt *up;
	long long *ids = NULL;
	size_t nids = 0, i;
	int rc;

	if ((ids = calloc((size_t)limit, sizeof(*ids))) == NULL) {
		corp_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	/* Collect first: load_names runs other statements. */
	json_t *rows = json_array();
	while (nids < (size_t)limit && (rc = corp_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		char until[CORP_TIMEBUF];

		ids[nids++] = corp_col_int64(st, 0);
		json_object_set_new(o, "delivery_id",
		    json_integer(corp_col_int64(st, 0)));
		if (cl->peek) {
			json_object_set_new(o, "lease", json_null());
			json_object_set_new(o, "lease_until", json_null());
		} else {
			json_object_set_new(o, "lease", json_string(token));
			json_object_set_new(o, "lease_until", json_string(
			    corp_time_fmt(now + (time_t)cl->lease_secs,
			    until)));
		}
		json_object_set_new(o, "worker", corp_json_strval(cl->worker));
		json_object_set_new(o, "channel", json_string(corp_col_text(st, 3)));
		json_object_set_new(o, "address",
		    corp_json_strval(corp_col_text(st, 13)));
		json_object_set_new(o, "user_id",
		    json_integer(corp_col_int64(st, 2)));
		json_object_set_new(o, "login", json_string(corp_col_text(st, 9)));
		json_object_set_new(o, "name", json_string(corp_col_text(st, 10)));
		json_object_set_new(o, "lang",
		    corp_json_strval(corp_col_text(st, 11)));
		json_object_set_new(o, "tz",
		    corp_json_strval(corp_col_text(st, 12)));
		json_object_set_new(o, "roles", corp_queue_roles_json(corp_col_text(st, 5)));
		json_object_set_new(o, "role", json_string(corp_col_text(st, 4)));
		json_object_set_new(o, "priority", json_string(corp_col_text(st, 6)));
		json_object_set_new(o, "template", json_string(corp_col_text(st, 7)));
		json_object_set_new(o, "attempt",
		    json_integer(corp_col_int64(st, 8) + 1));
		json_object_set_new(o, "event_id",
		    json_integer(corp_col_int64(st, 1)));
		json_array_append_new(rows, o);
	}
	if (nids == (size_t)limit)
		rc = SQLITE_DONE;
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "claim", err);
		goto out;
	}
	rc = 0;
	for (i = 0; i < nids; i++) {
		json_t *o = json_array_get(rows, i);
		long long eid = json_integer_value(json_object_get(o,
		    "event_id"));

		json_object_del(o, "event_id");
		if ((rc = load_names(db, eid, base, nm, err)) != 0)
			goto out;
		json_object_set_new(o, "actor_name",
		    corp_json_strval(nm->actor));
		json_object_set_new(o, "assignee_name",
		    corp_json_strval(nm->assignee));
		json_object_set_new(o, "previous_assignee_name",
		    corp_json_strval(nm->previous));
		json_object_set(o, "event", nm->event);
		/* push: every active subscription (pushsub.h). */
		if (strcmp(json_string_value(json_object_get(o, "channel")),
		    "push") == 0) {
			json_t *subs;

			if ((rc = corp_pushsub_json(db, json_integer_value(
			    json_object_get(o, "user_id")), &subs, err)) != 0)
				goto out;
			json_object_set_new(o, "subscriptions", subs);
		}
		if (cl->peek || !lease)
			continue;
		if ((rc = corp_db_prep(db, &up, "UPDATE deliveries SET "
		    "lease_token = ?2, lease_until = ?3, worker = ?4, "
		    "updated_at = ?5, " LEASE_TOKENS_SET("?2")
		    " WHERE id = ?1 AND status = 'PENDING'",
		    err)) != 0)
			goto out;
		corp_bind_int64(up, 1, ids[i]);
		corp_bind_text(up, 2, token);
		corp_bind_int64(up, 3, (long long)(now +
		    (time_t)cl->lease_secs));
		corp_bind_text(up, 4, cl->worker);
		corp_bind_int64(up, 5, (long long)now);
		if ((rc = corp_db_exec(db, up, "lease", err)) != 0)
			goto out;
	}
	json_array_extend(lines, rows);
out:
	json_decref(rows);
	free(ids);
	return rc;
}

/* PostgreSQL: housekeeping under the writers' lock, then the lease. */
static int
claim_pg(struct corp_db *db, const struct corp_claim *cl, time_t now,
    const char *token, const char *base, json_t *lines, struct names *nm,
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
	if ((rc = corp_db_prep(db, &st, SQL_CLAIM_PG, err)) != 0)
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
	if ((rc = claim_lines(db, st, cl, now, token, base, lines, cl->limit,
	    0, nm, err)) != 0)
		goto fail;
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

/* A user without a language gets fallback_lang (corp-json.5: "lang"). */
static void
fill_lang(json_t *lines, const char *fallback)
{
	json_t *o;
	size_t i;

	json_array_foreach(lines, i, o)
		if (!json_is_string(json_object_get(o, "lang")))
			json_object_set_new(o, "lang", json_string(fallback));
}

int
corp_queue_claim(struct corp_db *db, const struct corp_claim *cl,
    json_t **linesp, char token[48], struct corp_err *err)
{
	struct names nm;
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
		fill_lang(lines, fallback);
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
	fill_lang(lines, fallback);
	*linesp = lines;
	lines = NULL;
	goto out;
fail:
	if (!cl->peek)
		corp_db_rollback(db);
out:
	names_clear(&nm);
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

struct ackline {
	long long	 id;
	const char	*lease, *result, *error, *provider, *worker;
	long long	 retry_after;
	int		 attempted;
};

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

static const char *
ack_parse(json_t *o, struct ackline *a)
{
	json_t *v;

	memset(a, 0, sizeof(*a));
	a->attempted = 1;
	v = json_object_get(o, "delivery_id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return "missing delivery_id";
	a->id = json_integer_value(v);
	if ((a->lease = json_string_value(json_object_get(o, "lease"))) ==
	    NULL)
		return "missing lease";
	a->result = json_string_value(json_object_get(o, "result"));
	if (a->result == NULL || (strcmp(a->result, "sent") != 0 &&
	    strcmp(a->result, "retry") != 0 && strcmp(a->result, "failed") !=
	    0 && strcmp(a->result, "unbound") != 0))
		return "missing or unknown result (sent|retry|failed|unbound)";
	a->error = json_string_value(json_object_get(o, "error"));
	v = json_object_get(o, "provider_message_id");
	a->provider = json_string_value(v);
	a->worker = json_string_value(json_object_get(o, "worker"));
	/* The typed fields of corp-json(5)'s ack line: a wrong type is a
	 * bad line, not a default taken silently. */
	v = json_object_get(o, "retry_after");
	if (v != NULL && !json_is_null(v) && !json_is_number(v))
		return "retry_after: expected a number of seconds or null";
	v = json_object_get(o, "attempted");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		return "attempted: expected true, false or null";
	if ((v = json_object_get(o, "error")) != NULL && !json_is_null(v) &&
	    !json_is_string(v))
		return "error: expected a string or null";
	/* An outside number: 0..CORP_RETRY_AFTER_MAX, never wrapped. */
	v = json_object_get(o, "retry_after");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		a->retry_after = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) > 0)
		a->retry_after = json_real_value(v) >=
		    (double)CORP_RETRY_AFTER_MAX ? CORP_RETRY_AFTER_MAX :
		    (long long)ceil(json_real_value(v));
	if (a->retry_after > CORP_RETRY_AFTER_MAX)
		a->retry_after = CORP_RETRY_AFTER_MAX;
	if (json_is_false(json_object_get(o, "attempted")))
		a->attempted = 0;
	return NULL;
}

const char *
corp_queue_ack_check(json_t *line)
{
	struct ackline a;

	return ack_parse(line, &a);
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
		if (ack_parse(lines[i], &a) == NULL &&
		    (strcmp(a.result, "unbound") == 0 ||
		    json_object_get(lines[i], "push_gone") != NULL))
			unbound = 1;
	}
	if (corp_db_is_pg(db))
		qsort_r(order, n, sizeof(*order), by_delivery, lines);
	if ((rc = unbound ? corp_db_begin(db, err) :
	    corp_db_begin_concurrent(db, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *why = ack_parse(lines[order[i]], &a);

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
			    ack_parse(lines[i], &a)));
			json_object_set_new(lines[i], "stored",
			    json_string("unchanged"));
			(*bad)++;
		} else if (refused[i] != NULL) {
			char *m = NULL;

			(void)ack_parse(lines[i], &a);
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

	if ((rc = corp_quiet_not_before(db, uid, now, &nb, err)) != 0)
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
corp_queue_requeue(struct corp_db *db, const struct corp_requeue *r,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	time_t now = corp_now();
	int rc;

	*n = 0;
	if (r->id <= 0 && r->event_id <= 0 && r->event_type == NULL &&
	    !r->all_failed)
		return corp_errf(err, CORP_EUSAGE,
		    "requeue needs --id, --event, --type or --all-failed");
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	/* A row or event that does not exist is 67, not "requeued 0". */
	if (r->id > 0) {
		if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM deliveries "
		    "WHERE id = ?1", err)) != 0)
			goto fail;
		corp_bind_int64(st, 1, r->id);
		rc = corp_step(st);
		corp_reset(st);
		if (rc != SQLITE_ROW) {
			rc = rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
			    "delivery %lld: not found", r->id) :
			    corp_db_fail(db, rc, "requeue", err);
			goto fail;
		}
	}
	if (r->event_id > 0) {
		if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM events "
		    "WHERE event_id = ?1", err)) != 0)
			goto fail;
		corp_bind_int64(st, 1, r->event_id);
		rc = corp_step(st);
		corp_reset(st);
		if (rc != SQLITE_ROW) {
			rc = rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
			    "event %lld: not found", r->event_id) :
			    corp_db_fail(db, rc, "requeue", err);
			goto fail;
		}
	}
	/*
	 * FAILED rows, and PENDING ones to reset; never SENT.  Attempts and
	 * lease expiries start again; delivery_attempts keeps the history.
	 */
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'PENDING', lease_token = NULL, lease_until = NULL, "
	    "not_before = 0, error = NULL, attempts = 0, lease_expiries = 0, "
	    "held_since = NULL, "
	    "readiness = CASE WHEN EXISTS (SELECT 1 FROM binds b "
	    "WHERE b.user_id = deliveries.user_id AND b.channel = "
	    "deliveries.channel AND b.active = 1) THEN 'ready' "
	    "ELSE 'waiting_bind' END, "
	    "waiting_since = CASE WHEN EXISTS (SELECT 1 FROM binds b "
	    "WHERE b.user_id = deliveries.user_id AND b.channel = "
	    "deliveries.channel AND b.active = 1) THEN NULL "
	    "ELSE CAST(?6 AS BIGINT) END, "
	    "updated_at = ?6 "
	    "WHERE status <> 'SENT' "
	    "AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR event_id = ?2) "
	    "AND (?3 IS NULL OR event_id IN (SELECT event_id FROM events "
	    "WHERE event_type = ?3)) AND (?4 IS NULL OR channel = ?4) "
	    "AND (?5 = 0 OR status = 'FAILED')", err)) != 0)
		goto fail;
	corp_bind_id(st, 1, r->id);
	corp_bind_id(st, 2, r->event_id);
	corp_bind_text(st, 3, r->event_type);
	corp_bind_text(st, 4, r->channel);
	corp_bind_int(st, 5, r->all_failed);
	corp_bind_int64(st, 6, (long long)now);
	if ((rc = corp_db_exec(db, st, "requeue", err)) != 0)
		goto fail;
	*n = changes(db);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_queue_cancel(struct corp_db *db, const struct corp_cancel *c,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*n = 0;
	if (c->id <= 0 && c->event_id <= 0 && c->event_type == NULL &&
	    !c->held)
		return corp_errf(err, CORP_EUSAGE,
		    "cancel needs --id, --event, --type or --held");
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', error = 'cancelled by the operator', "
	    "lease_token = NULL, lease_until = NULL, held_since = NULL, "
	    "updated_at = ?6 WHERE status = 'PENDING' "
	    "AND (lease_token IS NULL OR lease_until <= ?6) "
	    "AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR event_id = ?2) "
	    "AND (?3 IS NULL OR event_id IN (SELECT event_id FROM events "
	    "WHERE event_type = ?3)) AND (?4 IS NULL OR channel = ?4) "
	    "AND (?5 = 0 OR held_since IS NOT NULL)", err)) != 0)
		goto fail;
	corp_bind_id(st, 1, c->id);
	corp_bind_id(st, 2, c->event_id);
	corp_bind_text(st, 3, c->event_type);
	corp_bind_text(st, 4, c->channel);
	corp_bind_int(st, 5, c->held);
	corp_bind_int64(st, 6, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "cancel", err)) != 0)
		goto fail;
	*n = changes(db);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_queue_dlq(struct corp_db *db, const char *channel, int limit,
    corp_row_fn fn, void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *rows, *o;
	size_t i;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT d.id, d.event_id, e.event_type, "
	    "d.user_id, u.login, d.channel, d.attempts, d.error, d.updated_at, "
	    "e.trace_id FROM deliveries d JOIN users u ON u.id = d.user_id "
	    "JOIN events e ON e.event_id = d.event_id "
	    "WHERE d.status = 'FAILED' AND (?1 IS NULL OR d.channel = ?1) "
	    "ORDER BY d.id LIMIT ?2", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_int(st, 2, limit);
	rows = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		o = json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:i, s:o, s:o, "
		    "s:o}",
		    "delivery_id", (json_int_t)corp_col_int64(st, 0),
		    "event_id", (json_int_t)corp_col_int64(st, 1),
		    "event_type", corp_col_text(st, 2),
		    "user_id", (json_int_t)corp_col_int64(st, 3),
		    "login", corp_col_text(st, 4),
		    "channel", corp_col_text(st, 5),
		    "attempts", corp_col_int(st, 6),
		    "error", corp_json_strval(corp_col_text(st, 7)),
		    "failed_at", corp_json_time((time_t)
		    corp_col_int64(st, 8)),
		    "trace_id", corp_json_strval(corp_col_text(st, 9)));
		json_array_append_new(rows, o);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		return corp_db_fail(db, rc, "read dlq", err);
	}
	rc = 0;
	json_array_foreach(rows, i, o)
		if ((rc = fn(o, arg)) != 0)
			break;
	json_decref(rows);
	return rc;
}

int
corp_queue_prune(struct corp_db *db, time_t before, int dry_run,
    struct corp_prune *p, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(p, 0, sizeof(*p));
	/* A dry run reads only: no writers' lock. */
	if (!dry_run && (rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*), min(sent_at), "
	    "max(sent_at), (SELECT count(*) FROM delivery_attempts a "
	    "WHERE a.delivery_id IN (SELECT id FROM deliveries "
	    "WHERE status = 'SENT' AND sent_at < ?1)) "
	    "FROM deliveries WHERE status = 'SENT' AND sent_at < ?1",
	    err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		corp_reset(st);
		rc = corp_db_fail(db, rc, "count rows to prune", err);
		goto fail;
	}
	p->rows = corp_col_int64(st, 0);
	p->oldest = (time_t)corp_col_int64(st, 1);
	p->newest = (time_t)corp_col_int64(st, 2);
	p->attempts = corp_col_int64(st, 3);
	corp_reset(st);
	if (dry_run)
		return 0;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM delivery_attempts "
	    "WHERE delivery_id IN (SELECT id FROM deliveries "
	    "WHERE status = 'SENT' AND sent_at < ?1)", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_db_exec(db, st, "prune attempts", err)) != 0)
		goto fail;
	p->attempts = changes(db);
	if ((rc = corp_db_prep(db, &st, "DELETE FROM deliveries "
	    "WHERE status = 'SENT' AND sent_at < ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_db_exec(db, st, "prune", err)) != 0)
		goto fail;
	p->rows = changes(db);
	return corp_db_commit(db, err);
fail:
	if (!dry_run)
		corp_db_rollback(db);
	return rc;
}

int
corp_queue_stats(struct corp_db *db, json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *rows, *hist, *o;
	time_t now = corp_now();
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT channel, status, readiness, "
	    "count(*), count(*) FILTER (WHERE lease_token IS NOT NULL "
	    "AND lease_until >= ?1), "
	    "count(*) FILTER (WHERE status = 'PENDING' AND not_before > ?1), "
	    "min(CASE WHEN status = 'PENDING' AND readiness = 'ready' "
	    "AND not_before <= ?1 THEN created_at END) "
	    "FROM deliveries GROUP BY channel, status, readiness "
	    "ORDER BY channel, status, readiness", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)now);
	rows = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		long long oldest = corp_col_int64(st, 6);

		o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
		    "channel", corp_col_text(st, 0),
		    "status", corp_col_text(st, 1),
		    "readiness", corp_col_text(st, 2),
		    "count", (json_int_t)corp_col_int64(st, 3),
		    "leased", (json_int_t)corp_col_int64(st, 4),
		    "waiting_until", (json_int_t)corp_col_int64(st, 5));
		json_object_set_new(o, "oldest_ready_age_s",
		    corp_col_type(st, 6) == SQLITE_NULL ? json_null() :
		    json_integer(now - oldest));
		json_array_append_new(rows, o);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		return corp_db_fail(db, rc, "stats", err);
	}
	if ((rc = corp_db_prep(db, &st, "SELECT channel, attempts, count(*) "
	    "FROM deliveries GROUP BY channel, attempts "
	    "ORDER BY channel, attempts", err)) != 0) {
		json_decref(rows);
		return rc;
	}
	hist = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW)
		json_array_append_new(hist, json_pack("{s:s, s:i, s:I}",
		    "channel", corp_col_text(st, 0),
		    "attempts", corp_col_int(st, 1),
		    "count", (json_int_t)corp_col_int64(st, 2)));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		json_decref(hist);
		return corp_db_fail(db, rc, "stats", err);
	}
	*out = json_pack("{s:o, s:o, s:o}", "at", corp_json_time(now),
	    "queue", rows, "attempts", hist);
	return 0;
}

int
corp_queue_waiting(struct corp_db *db, const char *channel,
    const char *address, long long *count, time_t *oldest,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*count = 0;
	*oldest = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*), "
	    "coalesce(min(created_at), 0) FROM deliveries d "
	    "WHERE d.status = 'PENDING' AND d.readiness = 'ready' "
	    "AND d.channel = ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 "
	    "FROM binds b WHERE b.user_id = d.user_id AND b.channel = "
	    "d.channel AND b.active = 1 AND b.address = ?2))", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		*count = corp_col_int64(st, 0);
		*oldest = (time_t)corp_col_int64(st, 1);
		rc = SQLITE_DONE;
	}
	corp_reset(st);
	return rc == SQLITE_DONE ? 0 : corp_db_fail(db, rc, "stats", err);
}

int
corp_queue_unhold(struct corp_db *db, const char *channel,
    const char *address, long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	time_t now = corp_now();
	int rc;

	*n = 0;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "not_before = ?3, updated_at = ?3 "
	    "WHERE status = 'PENDING' AND channel = ?1 "
	    "AND held_since IS NOT NULL AND lease_token IS NULL "
	    "AND not_before > ?3 AND (?2 IS NULL OR EXISTS (SELECT 1 "
	    "FROM binds b WHERE b.user_id = deliveries.user_id AND "
	    "b.channel = deliveries.channel AND b.active = 1 AND "
	    "b.address = ?2))", err)) != 0)
		goto fail;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	corp_bind_int64(st, 3, (long long)now);
	if ((rc = corp_db_exec(db, st, "unpause", err)) != 0)
		goto fail;
	*n = changes(db);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_queue_explain(struct corp_db *db, long long eid, const char *who,
    json_t **out, struct corp_err *err)
{
	struct corp_event ev;
	struct corp_stmt *st;
	json_t *o, *dec, *rows, *binds;
	const char *login = NULL;
	char *base = NULL;
	long long uid;
	int rc;

	*out = NULL;
	if ((rc = corp_event_get(db, eid, &ev, err)) != 0)
		return rc;
	o = json_object();
	if ((rc = corp_setting_get(db, "base_url", &base, err)) != 0)
		goto fail;
	json_object_set_new(o, "event", corp_event_json(&ev, *base ? base :
	    NULL));
	if ((rc = corp_db_prep(db, &st, "SELECT login, active, id FROM users "
	    "WHERE login = ?1", err)) != 0)
		goto fail;
	corp_bind_text(st, 1, who);
	if (corp_step(st) != SQLITE_ROW) {
		corp_reset(st);
		rc = corp_errf(err, CORP_ENOTFOUND, "user %s: not found", who);
		goto fail;
	}
	login = corp_col_text(st, 0);
	uid = corp_col_int64(st, 2);
	json_object_set_new(o, "user", json_pack("{s:I, s:s, s:b}",
	    "user_id", (json_int_t)uid, "login", login, "active",
	    corp_col_int(st, 1)));
	corp_reset(st);
	/* Roles as route stored them; none means not a recipient. */
	if ((rc = corp_db_prep(db, &st, "SELECT roles FROM event_recipients "
	    "WHERE event_id = ?1 AND user_id = ?2", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	if (corp_step(st) == SQLITE_ROW)
		json_object_set_new(o, "roles", corp_queue_roles_json(corp_col_text(st, 0)));
	else
		json_object_set_new(o, "roles", json_null());
	corp_reset(st);
	{
		long long wm;

		if ((rc = corp_db_prep(db, &st, "SELECT watermark FROM "
		    "route_state WHERE id = 1", err)) != 0)
			goto fail;
		wm = corp_step(st) == SQLITE_ROW ?
		    corp_col_int64(st, 0) : 0;
		corp_reset(st);
		json_object_set_new(o, "routed", json_boolean(eid <= wm));
		/* No roles: say why there is nothing below (corp-deliver.1). */
		json_object_set_new(o, "why", json_null());
		if (eid > wm)
			json_object_set_new(o, "why", json_sprintf(
			    "event %lld is not routed yet", eid));
		else if (json_is_null(json_object_get(o, "roles")))
			json_object_set_new(o, "why", json_sprintf(
			    "%s is not a viewer of event %lld: not a "
			    "recipient, so no route decision and no row",
			    who, eid));
	}
	if ((rc = corp_db_prep(db, &st, "SELECT channel, decision, role, "
	    "roles, decided_at FROM route_decisions WHERE event_id = ?1 "
	    "AND user_id = ?2 ORDER BY channel", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	dec = json_array();
	while (corp_step(st) == SQLITE_ROW)
		json_array_append_new(dec, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:o}", "channel", corp_col_text(st, 0),
		    "decision", corp_col_text(st, 1),
		    "role", corp_json_strval(corp_col_text(st, 2)),
		    "roles", corp_queue_roles_json(corp_col_text(st, 3)),
		    "decided_at", corp_json_time((time_t)
		    corp_col_int64(st, 4))));
	corp_reset(st);
	json_object_set_new(o, "decisions", dec);
	if ((rc = corp_db_prep(db, &st, "SELECT channel, address, active, "
	    "updated_at, deactivated_by FROM binds WHERE user_id = ?1 "
	    "ORDER BY channel", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, uid);
	binds = json_array();
	while (corp_step(st) == SQLITE_ROW)
		json_array_append_new(binds, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o}", "channel", corp_col_text(st, 0),
		    "address", corp_col_text(st, 1),
		    "active", corp_col_int(st, 2),
		    "deactivated_by", corp_json_strval(corp_col_text(st, 4)),
		    "updated_at", corp_json_time((time_t)
		    corp_col_int64(st, 3))));
	corp_reset(st);
	json_object_set_new(o, "binds", binds);
	if ((rc = corp_db_prep(db, &st, "SELECT id, channel, status, "
	    "readiness, priority, template, attempts, lease_expiries, "
	    "not_before, sent_at, provider_message_id, error, "
	    "lease_until IS NOT NULL, held_since "
	    "FROM deliveries WHERE event_id = ?1 AND "
	    "user_id = ?2 ORDER BY channel", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	rows = json_array();
	while (corp_step(st) == SQLITE_ROW) {
		long long id = corp_col_int64(st, 0);
		json_t *d = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, "
		    "s:i, s:o, s:o, s:o, s:o, s:b}",
		    "delivery_id", (json_int_t)id,
		    "channel", corp_col_text(st, 1),
		    "status", corp_col_text(st, 2),
		    "readiness", corp_col_text(st, 3),
		    "priority", corp_col_text(st, 4),
		    "template", corp_col_text(st, 5),
		    "attempts", corp_col_int(st, 6),
		    "lease_expiries", corp_col_int(st, 7),
		    "not_before", corp_json_time((time_t)
		    corp_col_int64(st, 8)),
		    "sent_at", corp_json_time((time_t)
		    corp_col_int64(st, 9)),
		    "provider_message_id",
		    corp_json_strval(corp_col_text(st, 10)),
		    "error", corp_json_strval(corp_col_text(st, 11)),
		    "leased", corp_col_int(st, 12));
		json_object_set_new(d, "held_since", corp_json_time((time_t)
		    corp_col_int64(st, 13)));
		json_array_append_new(rows, d);
	}
	corp_reset(st);
	{
		size_t i;
		json_t *d;

		json_array_foreach(rows, i, d) {
			json_t *att = json_array();

			if ((rc = corp_db_prep(db, &st, "SELECT at, worker, "
			    "result, attempted, stored, error, "
			    "provider_message_id, not_before "
			    "FROM delivery_attempts WHERE delivery_id = ?1 "
			    "ORDER BY id", err)) != 0) {
				json_decref(att);
				json_decref(rows);
				goto fail;
			}
			corp_bind_int64(st, 1, json_integer_value(
			    json_object_get(d, "delivery_id")));
			while (corp_step(st) == SQLITE_ROW)
				json_array_append_new(att, json_pack("{s:o, "
				    "s:o, s:s, s:b, s:s, s:o, s:o, s:o}",
				    "at", corp_json_time((time_t)
				    corp_col_int64(st, 0)),
				    "worker", corp_json_strval(
				    corp_col_text(st, 1)),
				    "result", corp_col_text(st, 2),
				    "attempted", corp_col_int(st, 3),
				    "stored", corp_col_text(st, 4),
				    "error", corp_json_strval(
				    corp_col_text(st, 5)),
				    "provider_message_id", corp_json_strval(
				    corp_col_text(st, 6)),
				    "not_before", corp_json_time((time_t)
				    corp_col_int64(st, 7))));
			corp_reset(st);
			json_object_set_new(d, "attempts_log", att);
		}
	}
	json_object_set_new(o, "deliveries", rows);
	*out = o;
	o = NULL;
	rc = 0;
fail:
	json_decref(o);
	free(base);
	corp_event_free(&ev);
	return rc;
}
