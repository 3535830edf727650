/*
 * queueadmin.c -- the operator's side of the delivery queue
 * (corp-deliver requeue, cancel, dlq, prune, stats, unpause, explain):
 * see queue.h.  The state machine is queue.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "binds.h"
#include "directory.h"
#include "db.h"
#include "event.h"
#include "jsonl.h"
#include "batchdigest.h"
#include "names.h"
#include "queue.h"
#include "queue_int.h"
#include "route.h"
#include "settings.h"

/* 67 "WHAT ID: not found" unless sql (a literal: the statement cache)
 * finds row id. */
static int
must_exist(struct corp_db *db, const char *sql, long long id,
    const char *what, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
	    "%s %lld: not found", what, id) :
	    corp_db_fail(db, rc, "requeue", err);
}

struct requeue {
	const struct corp_requeue *r;
	long long	*n;
};

static int
requeue_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	const struct corp_requeue *r = ((struct requeue *)arg)->r;
	struct corp_event ev;
	struct corp_stmt *st;
	time_t now = corp_now();
	int rc;

	/* A row or event that does not exist is 67, not "requeued 0". */
	if (r->id > 0 && (rc = must_exist(db, "SELECT 1 FROM deliveries "
	    "WHERE id = ?1", r->id, "delivery", err)) != 0)
		return rc;
	if (r->event_id > 0) {
		if ((rc = corp_event_get(db, r->event_id, &ev, err)) != 0)
			return rc;
		corp_event_free(&ev);
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
		return rc;
	corp_bind_id(st, 1, r->id);
	corp_bind_id(st, 2, r->event_id);
	corp_bind_text(st, 3, r->event_type);
	corp_bind_text(st, 4, r->channel);
	corp_bind_int(st, 5, r->all_failed);
	corp_bind_int64(st, 6, (long long)now);
	if ((rc = corp_db_exec(db, st, "requeue", err)) != 0)
		return rc;
	*((struct requeue *)arg)->n = corp_db_changes(db);
	return 0;
}

int
corp_queue_requeue(struct corp_db *db, const struct corp_requeue *r,
    long long *n, struct corp_err *err)
{
	struct requeue a = { r, n };

	*n = 0;
	if (r->id <= 0 && r->event_id <= 0 && r->event_type == NULL &&
	    !r->all_failed)
		return corp_errf(err, CORP_EUSAGE,
		    "requeue needs --id, --event, --type or --all-failed");
	return corp_db_tx(db, requeue_tx, &a, err);
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
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "status = 'FAILED', error = 'cancelled by the operator', "
	    "lease_token = NULL, lease_until = NULL, held_since = NULL, "
	    "updated_at = ?6 WHERE status = 'PENDING' "
	    "AND (lease_token IS NULL OR lease_until <= ?6) "
	    "AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR event_id = ?2) "
	    "AND (?3 IS NULL OR event_id IN (SELECT event_id FROM events "
	    "WHERE event_type = ?3)) AND (?4 IS NULL OR channel = ?4) "
	    "AND (?5 = 0 OR held_since IS NOT NULL)", err)) != 0)
		return rc;
	corp_bind_id(st, 1, c->id);
	corp_bind_id(st, 2, c->event_id);
	corp_bind_text(st, 3, c->event_type);
	corp_bind_text(st, 4, c->channel);
	corp_bind_int(st, 5, c->held);
	corp_bind_int64(st, 6, (long long)corp_now());
	return corp_db_exec_tx(db, st, "cancel", n, err);
}

int
corp_queue_dlq(struct corp_db *db, const char *channel, long long after,
    long long limit, long long *total, corp_row_fn fn, void *arg,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *rows, *o;
	size_t i;
	int rc;

	if (total != NULL) {
		if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM "
		    "deliveries WHERE status = 'FAILED' AND (?1 IS NULL OR "
		    "channel = ?1) AND id > ?2", err)) != 0)
			return rc;
		corp_bind_text(st, 1, channel);
		corp_bind_int64(st, 2, after);
		if ((rc = corp_step(st)) == SQLITE_ROW)
			*total = corp_col_int64(st, 0);
		corp_reset(st);
		if (rc != SQLITE_ROW)
			return corp_db_fail(db, rc, "count dlq", err);
	}
	if ((rc = corp_db_prep(db, &st, "SELECT d.id, d.event_id, e.event_type, "
	    "d.user_id, u.login, d.channel, d.attempts, d.error, d.updated_at, "
	    "e.trace_id FROM deliveries d JOIN users u ON u.id = d.user_id "
	    "JOIN events e ON e.event_id = d.event_id "
	    "WHERE d.status = 'FAILED' AND (?1 IS NULL OR d.channel = ?1) "
	    "AND d.id > ?3 ORDER BY d.id LIMIT ?2", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_int64(st, 2, limit > 0 ? limit : LLONG_MAX);
	corp_bind_int64(st, 3, after);
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
	p->attempts = corp_db_changes(db);
	if ((rc = corp_db_prep(db, &st, "DELETE FROM deliveries "
	    "WHERE status = 'SENT' AND sent_at < ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_db_exec(db, st, "prune", err)) != 0)
		goto fail;
	p->rows = corp_db_changes(db);
	return corp_db_commit(db, err);
fail:
	if (!dry_run)
		corp_db_rollback(db);
	return rc;
}

/* The results an ack stores and dead_lettered: delivery_counters.result. */
static const char *const results[] = { "sent", "retried", "held",
	"unbound", "failed", "dead_lettered", NULL };

/* A channel's counters, all 0 and no send yet. */
static json_t *
zero_counters(void)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; results[i] != NULL; i++)
		json_object_set_new(o, results[i], json_integer(0));
	json_object_set_new(o, "last_sent_at", json_null());
	return o;
}

/*
 * "counters": per channel (every known channel, and any other a row
 * was counted for) what delivery_counters holds (corp-deliver.1 stats).
 */
static int
counters(struct corp_db *db, json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *all = json_object(), *ch;
	size_t i;
	int rc;

	for (i = 0; corp_channels[i] != NULL; i++)
		json_object_set_new(all, corp_channels[i], zero_counters());
	if ((rc = corp_db_prep(db, &st, "SELECT channel, result, n, last_at "
	    "FROM delivery_counters ORDER BY channel, result", err)) != 0) {
		json_decref(all);
		return rc;
	}
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		const char *c = corp_col_text(st, 0);
		const char *r = corp_col_text(st, 1);

		if ((ch = json_object_get(all, c)) == NULL) {
			ch = zero_counters();
			json_object_set_new(all, c, ch);
		}
		json_object_set_new(ch, r, json_integer(corp_col_int64(st, 2)));
		if (strcmp(r, "sent") == 0 &&
		    corp_col_type(st, 3) != SQLITE_NULL)
			json_object_set_new(ch, "last_sent_at", corp_json_time(
			    (time_t)corp_col_int64(st, 3)));
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(all);
		return corp_db_fail(db, rc, "stats", err);
	}
	*out = all;
	return 0;
}

int
corp_queue_stats(struct corp_db *db, json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *rows, *hist, *o, *cnt = NULL;
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
	if ((rc = counters(db, &cnt, err)) != 0) {
		json_decref(rows);
		json_decref(hist);
		return rc;
	}
	*out = json_pack("{s:o, s:o, s:o, s:o}", "at", corp_json_time(now),
	    "queue", rows, "attempts", hist, "counters", cnt);
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
	if ((rc = corp_db_prep(db, &st, "UPDATE deliveries SET "
	    "not_before = ?3, updated_at = ?3 "
	    "WHERE status = 'PENDING' AND channel = ?1 "
	    "AND held_since IS NOT NULL AND lease_token IS NULL "
	    "AND not_before > ?3 AND (?2 IS NULL OR EXISTS (SELECT 1 "
	    "FROM binds b WHERE b.user_id = deliveries.user_id AND "
	    "b.channel = deliveries.channel AND b.active = 1 AND "
	    "b.address = ?2))", err)) != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	corp_bind_int64(st, 3, (long long)now);
	return corp_db_exec_tx(db, st, "unpause", n, err);
}

int
corp_queue_explain(struct corp_db *db, long long eid, const char *who,
    json_t **out, struct corp_err *err)
{
	struct corp_event ev;
	struct corp_stmt *st;
	json_t *o, *dec, *rows, *binds, *roles;
	char *base = NULL;
	long long uid, dids[8];
	size_t ndids = 0, k;
	int rc, active;

	*out = NULL;
	if ((rc = corp_event_get(db, eid, &ev, err)) != 0)
		return rc;
	o = json_object();
	if ((rc = corp_setting_get(db, "base_url", &base, err)) != 0)
		goto fail;
	json_object_set_new(o, "event", corp_event_json(&ev, *base ? base :
	    NULL));
	if ((rc = corp_dir_user_id(db, who, &uid, &active, err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			rc = corp_errf(err, CORP_ENOTFOUND,
			    "user %s: not found", who);
		goto fail;
	}
	json_object_set_new(o, "user", json_pack("{s:I, s:s, s:b}",
	    "user_id", (json_int_t)uid, "login", who, "active", active));
	/* Roles as route stored them; none means not a recipient. */
	if ((rc = corp_route_recipient_roles(db, eid, uid, &roles, err)) != 0)
		goto fail;
	json_object_set_new(o, "roles", roles);
	{
		long long wm;

		if ((rc = corp_route_watermark(db, &wm, err)) != 0)
			goto fail;
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
	if ((rc = corp_route_decisions_json(db, eid, uid, &dec, err)) != 0)
		goto fail;
	json_object_set_new(o, "decisions", dec);
	/* A digested event: its digest, and the digest's row (keyed on the
	 * digest's first event) among the rows below. */
	{
		size_t i;
		json_t *d, *g;

		json_array_foreach(dec, i, d) {
			const char *ch = json_string_value(json_object_get(d,
			    "fallback"));

			g = NULL;
			if (strcmp(json_string_value(json_object_get(d,
			    "decision")), "digested") == 0 &&
			    (rc = corp_batchdigest_of(db, eid, uid, ch != NULL ?
			    ch : json_string_value(json_object_get(d,
			    "channel")), &g, &dids[ndids], err)) != 0)
				goto fail;
			if (g != NULL && dids[ndids] > 0 &&
			    ndids + 1 < sizeof(dids) / sizeof(dids[0]))
				ndids++;
			json_object_set_new(d, "digest", g != NULL ? g :
			    json_null());
		}
	}
	if ((rc = corp_binds_user_json(db, uid, &binds, err)) != 0)
		goto fail;
	json_object_set_new(o, "binds", binds);
	rows = json_array();
	for (k = 0; k <= ndids; k++) {
	if ((rc = corp_db_prep(db, &st, k == 0 ? "SELECT id, channel, status, "
	    "readiness, priority, template, attempts, lease_expiries, "
	    "not_before, sent_at, provider_message_id, error, "
	    "lease_until IS NOT NULL, held_since "
	    "FROM deliveries WHERE event_id = ?1 AND "
	    "user_id = ?2 ORDER BY channel" : "SELECT id, channel, status, "
	    "readiness, priority, template, attempts, lease_expiries, "
	    "not_before, sent_at, provider_message_id, error, "
	    "lease_until IS NOT NULL, held_since "
	    "FROM deliveries WHERE id = ?3 AND event_id <> ?1 AND "
	    "user_id = ?2", err)) != 0) {
		json_decref(rows);
		goto fail;
	}
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	if (k > 0)
		corp_bind_int64(st, 3, dids[k - 1]);
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
	}
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

int
corp_queue_card(struct corp_db *db, long long id, struct corp_queue_card *c,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = corp_db_prep(db, &st, "SELECT user_id, event_id, channel, "
	    "CASE WHEN status = 'SENT' THEN sent_at END, provider_message_id "
	    "FROM deliveries WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		c->found = 1;
		c->user_id = corp_col_int64(st, 0);
		c->event_id = corp_col_int64(st, 1);
		snprintf(c->channel, sizeof(c->channel), "%s",
		    corp_col_text(st, 2) ? corp_col_text(st, 2) : "");
		c->sent_at = (time_t)corp_col_int64(st, 3);
		if (corp_col_text(st, 4) != NULL)
			c->message_id = strtoll(corp_col_text(st, 4), NULL,
			    10);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read delivery", err);
	return 0;
}

int
corp_queue_settled(struct corp_db *db, long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*n = 0;
	/*
	 * One statement, so the watermark and the PENDING rows come from
	 * one snapshot: min(watermark, oldest PENDING event - 1).
	 */
	if ((rc = corp_db_prep(db, &st, "SELECT max(0, min(r.watermark, "
	    "coalesce((SELECT min(d.event_id) FROM deliveries d "
	    "WHERE d.status = 'PENDING') - 1, r.watermark))) "
	    "FROM route_state r WHERE r.id = 1", err)) != 0)
		return rc;
	rc = corp_step(st);
	if (rc == SQLITE_ROW)
		*n = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read route state", err);
	return 0;
}
