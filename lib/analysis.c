/* analysis.c -- analysis runs: create, reap, review/close/cancel, JSON
 * (see analysis.h); start is analysisbatch.c, proposals proposal.c. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "analysis.h"
#include "analysis_int.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "settings.h"

/* ---- helpers ------------------------------------------------------- */

/*
 * The id of the user named login (65 without one, 67 unknown) and
 * whether it is an active admin.  Callers refuse a non-admin (77) only
 * after their own lookups, and before their state checks (79): the
 * order of corp-task, 65, 67, 77, 79.
 */
int
corp_analysis_actor(struct corp_db *db, const char *login, long long *id,
    int *isadm, struct corp_err *err)
{
	struct corp_user_brief u;
	int rc, active;

	*isadm = 0;
	if (login == NULL)
		return corp_errf(err, CORP_EINVAL, "--as LOGIN is required");
	if ((rc = corp_dir_user_id(db, login, id, &active, err)) != 0)
		return rc;
	if ((rc = corp_dir_user_brief(db, *id, &u, err)) != 0)
		return rc;
	*isadm = u.found && u.is_admin && active && corp_cfg.admin_all;
	return 0;
}

int
corp_analysis_not_admin(const char *login, struct corp_err *err)
{
	return corp_errf(err, CORP_EFORBIDDEN, "'%s' is not an active admin",
	    login);
}

/* The id of an active admin named login (67 unknown, 77 not admin). */
static int
admin(struct corp_db *db, const char *login, long long *id,
    struct corp_err *err)
{
	int rc, isadm;

	if ((rc = corp_analysis_actor(db, login, id, &isadm, err)) != 0)
		return rc;
	return isadm ? 0 : corp_analysis_not_admin(login, err);
}

int
corp_analysis_admin_run(struct corp_db *db, const char *as, long long id,
    long long *actor, char **status, struct corp_err *err)
{
	int rc, isadm;

	if ((rc = corp_analysis_actor(db, as, actor, &isadm, err)) != 0 ||
	    (rc = corp_analysis_status(db, id, status, err)) != 0)
		return rc;
	return isadm ? 0 : corp_analysis_not_admin(as, err);
}

int
corp_analysis_reader(struct corp_db *db, const char *login,
    struct corp_err *err)
{
	long long id;

	return admin(db, login, &id, err);
}

/* The counters and ids every analysis_runs event carries. */
int
corp_analysis_payload(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT chat_id, status, "
	    "batches_total, batches_done, proposals_total, proposals_pending, "
	    "proposals_approved, proposals_rejected, proposals_merged, "
	    "errors_total FROM analysis_runs WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*out = json_pack("{sI sI ss sI sI sI sI sI sI sI sI}",
		    "run_id", (json_int_t)id,
		    "chat_id", (json_int_t)corp_col_int64(st, 0),
		    "status", corp_col_text(st, 1),
		    "batches_total", (json_int_t)corp_col_int64(st, 2),
		    "batches_done", (json_int_t)corp_col_int64(st, 3),
		    "proposals_total", (json_int_t)corp_col_int64(st, 4),
		    "proposals_pending", (json_int_t)corp_col_int64(st, 5),
		    "proposals_approved",
		    (json_int_t)corp_col_int64(st, 6),
		    "proposals_rejected",
		    (json_int_t)corp_col_int64(st, 7),
		    "proposals_merged", (json_int_t)corp_col_int64(st, 8),
		    "errors_total", (json_int_t)corp_col_int64(st, 9));
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read run", err);
	return *out == NULL ? OOM(err) : 0;
}

/*
 * Append a topic event in the caller's transaction; payload is stolen.
 * The dedupe key makes a repeat impossible: a duplicate is a conflict.
 */
int
corp_analysis_topic_event(struct corp_db *db, const char *topic,
    const char *type, long long actor, json_t *payload, const char *key,
    struct corp_err *err)
{
	struct corp_event e;
	int rc, dup;

	memset(&e, 0, sizeof(e));
	e.event_type = corp_strdup(type);
	e.topic = corp_strdup(topic);
	e.actor_user_id = actor;
	e.occurred_at = corp_now();
	e.dedupe_key = corp_strdup(key);
	e.payload = payload != NULL ? json_dumps(payload, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(payload);
	if (e.event_type == NULL || e.topic == NULL || e.dedupe_key == NULL ||
	    e.payload == NULL)
		rc = OOM(err);
	else if ((rc = corp_event_append(db, &e, &dup, err)) == 0 && dup)
		rc = corp_errf(err, CORP_ECONFLICT, "event %s exists",
		    e.dedupe_key);
	corp_event_free(&e);
	return rc;
}

/*
 * An analysis_runs event with the run's counters plus extra (stolen);
 * dedupe key "run:ID:TYPE", or "run:ID:batch:SEQ:TYPE" for a batch's.
 */
int
corp_analysis_event(struct corp_db *db, long long id, const char *type,
    long long actor, json_t *extra, long long b, struct corp_err *err)
{
	char key[128];
	json_t *p;
	int rc;

	if (b > 0)
		snprintf(key, sizeof(key), "run:%lld:batch:%lld:%s", id, b,
		    type);
	else
		snprintf(key, sizeof(key), "run:%lld:%s", id, type);

	if ((rc = corp_analysis_payload(db, id, &p, err)) != 0) {
		json_decref(extra);
		return rc;
	}
	if (extra != NULL) {
		json_object_update(p, extra);
		json_decref(extra);
	}
	return corp_analysis_topic_event(db, "analysis_runs", type, actor, p,
	    key, err);
}

int
corp_analysis_status(struct corp_db *db, long long id, char **status,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*status = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT status FROM analysis_runs "
	    "WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*status = corp_strdup(corp_col_text(st, 0));
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no run %lld", id);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read run", err);
	return *status == NULL ? OOM(err) : 0;
}

int
corp_analysis_changes(struct corp_db *db)
{
	return corp_db_changes(db);
}

/* ---- create, reap, review, close, cancel ---------------------------- */

int
corp_analysis_create(struct corp_db *db, const struct corp_analysis_new *r,
    long long *id, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *f, *kw;
	char *fs = NULL, *bot = NULL;
	long long actor;
	size_t i;
	int rc;

	*id = 0;
	if (r->until <= r->from)
		return corp_errf(err, CORP_EINVAL, "--until must be after "
		    "--from");
	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_setting_get(db, "telegram.bot_username", &bot, err))
	    != 0)
		return rc;
	if (r->require_mention && *bot == '\0') {
		free(bot);
		return corp_errf(err, CORP_EINVAL, "--require-mention needs the "
		    "telegram.bot_username setting");
	}
	if ((kw = json_array()) == NULL) {
		free(bot);
		return OOM(err);
	}
	for (i = 0; r->keywords != NULL && r->keywords[i] != NULL; i++)
		json_array_append_new(kw, json_string(r->keywords[i]));
	f = json_pack("{sI so sb so}", "min_length",
	    (json_int_t)r->min_length, "keywords", kw, "require_mention",
	    r->require_mention, "bot_username",
	    corp_json_strval(r->require_mention ? bot : NULL));
	free(bot);
	if (f == NULL || (fs = json_dumps(f, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(f);
		return OOM(err);
	}
	json_decref(f);
	if ((rc = corp_db_begin(db, err)) != 0)
		goto out;
	if ((rc = admin(db, r->as, &actor, err)) != 0)
		goto fail;
	/*
	 * The 409 read first, under the writers' lock: on PostgreSQL an
	 * INSERT refused by analysis_runs_open would still take an id from
	 * the sequence, and the next run would skip a number.  The unique
	 * index stays the guarantee.
	 */
	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM analysis_runs WHERE "
	    "chat_id = ?1 AND status IN ('pending', 'running', 'completed', "
	    "'reviewed')", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, r->chat_id);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_ROW) {
		rc = corp_errf(err, CORP_ECONFLICT, "chat %lld already has an "
		    "unclosed run (409)", r->chat_id);
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "read runs", err);
		goto fail;
	}
	if ((rc = corp_db_prep(db, &st, "INSERT INTO analysis_runs (chat_id, "
	    "window_start, window_end, filter, created_by, created_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, r->chat_id);
	corp_bind_int64(st, 2, (long long)r->from);
	corp_bind_int64(st, 3, (long long)r->until);
	corp_bind_text(st, 4, fs);
	corp_bind_int64(st, 5, actor);
	corp_bind_int64(st, 6, (long long)corp_now());
	if ((rc = corp_db_insert(db, st, id, "create run", err)) != 0) {
		if (rc == CORP_ECONFLICT)
			corp_errf(err, CORP_ECONFLICT, "chat %lld already has "
			    "an unclosed run (409)", r->chat_id);
		goto fail;
	}
	rc = corp_db_commit(db, err);
	goto out;
fail:
	corp_db_rollback(db);
out:
	free(fs);
	return rc;
}

int
corp_analysis_reap(struct corp_db *db, struct corp_err *err)
{
	struct corp_stmt *st;
	long long ids[64];
	time_t now = corp_now();
	int rc, n = 0, i;

	if ((rc = corp_db_prep(db, &st, "SELECT id FROM analysis_runs WHERE "
	    "status = 'running' AND lease_until <= ?1 ORDER BY id LIMIT 64",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)now);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		ids[n++] = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read runs", err);
	if (n == 0)
		return 0;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET "
		    "status = 'failed', failed_at = ?2, error = 'worker lost', "
		    "lease_token = NULL WHERE id = ?1 AND status = 'running' "
		    "AND lease_until <= ?2", err)) != 0)
			goto fail;
		corp_bind_int64(st, 1, ids[i]);
		corp_bind_int64(st, 2, (long long)now);
		if ((rc = corp_db_exec(db, st, "fail run", err)) != 0)
			goto fail;
		if (corp_analysis_changes(db) == 1 && (rc =
		    corp_analysis_event(db, ids[i], "run_failed", 0,
		    json_pack("{ss}", "error", "worker lost"), 0, err)) != 0)
			goto fail;
	}
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_analysis_step(struct corp_db *db, long long id, const char *verb,
    const char *as, struct corp_err *err)
{
	struct corp_stmt *st;
	char *status = NULL;
	long long actor, pending = 0, total = 0, decided = 0;
	time_t now = corp_now();
	const char *from, *to, *type;
	int rc;

	if (strcmp(verb, "review") == 0) {
		from = "completed"; to = "reviewed"; type = "run_reviewed";
	} else if (strcmp(verb, "close") == 0) {
		from = "reviewed"; to = "closed"; type = "run_closed";
	} else {
		from = "pending"; to = "cancelled"; type = "run_cancelled";
	}
	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_analysis_admin_run(db, as, id, &actor, &status,
	    err)) != 0)
		goto fail;
	if (strcmp(status, from) != 0) {
		rc = corp_errf(err, CORP_ECONFLICT, "run %lld is %s: %s needs "
		    "a %s run", id, status, verb, from);
		goto fail;
	}
	if ((rc = corp_db_prep(db, &st, "SELECT proposals_pending, "
	    "proposals_total, proposals_approved + proposals_merged FROM "
	    "analysis_runs WHERE id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		pending = corp_col_int64(st, 0);
		total = corp_col_int64(st, 1);
		decided = corp_col_int64(st, 2);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read run", err);
		goto fail;
	}
	if (strcmp(verb, "close") == 0 && pending > 0) {
		rc = corp_errf(err, CORP_ECONFLICT, "run %lld has %lld pending "
		    "proposal%s: decide them before closing (400)", id, pending,
		    pending == 1 ? "" : "s");
		goto fail;
	}
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET status = ?2, "
	    "reviewed_at = CASE WHEN ?2 = 'reviewed' THEN ?3 ELSE reviewed_at "
	    "END, closed_at = CASE WHEN ?2 = 'closed' THEN ?3 ELSE closed_at "
	    "END, cancelled_at = CASE WHEN ?2 = 'cancelled' THEN ?3 ELSE "
	    "cancelled_at END, accuracy = coalesce(?4, accuracy) WHERE id = ?1",
	    err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, to);
	corp_bind_int64(st, 3, (long long)now);
	/* The accuracy divided here, as in the event: the same double. */
	if (strcmp(verb, "close") == 0 && total > 0)
		corp_bind_double(st, 4, (double)decided / (double)total);
	else
		corp_bind_null(st, 4);
	if ((rc = corp_db_exec(db, st, "change run", err)) != 0)
		goto fail;
	if ((rc = corp_analysis_event(db, id, type, actor,
	    strcmp(verb, "close") == 0 ? json_pack("{so}", "accuracy",
	    total > 0 ? json_real((double)decided / (double)total) :
	    json_null()) : NULL, 0, err)) != 0)
		goto fail;
	free(status);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	free(status);
	return rc;
}

/* ---- JSON ------------------------------------------------------------ */

json_t *
corp_analysis_opt_time(struct corp_stmt *st, int c)
{
	return corp_col_type(st, c) == SQLITE_NULL ? json_null() :
	    corp_json_time((time_t)corp_col_int64(st, c));
}

static const char RUN_SQL[] =
    "SELECT r.id, r.chat_id, r.status, r.window_start, r.window_end, "
    "r.filter, r.proposer, u.login, r.created_at, r.started_at, "
    "r.completed_at, r.failed_at, r.reviewed_at, r.closed_at, "
    "r.cancelled_at, r.lease_until, r.messages_total, r.batches_total, "
    "r.batches_done, r.proposals_total, r.proposals_pending, "
    "r.proposals_approved, r.proposals_rejected, r.proposals_merged, "
    "r.errors_total, r.error, r.accuracy "
    "FROM analysis_runs r JOIN users u ON u.id = r.created_by "
    "WHERE (?1 IS NULL OR r.id = ?1) AND (?2 = 0 OR r.chat_id = ?3) AND "
    "(?4 IS NULL OR r.status = ?4) ORDER BY r.id";

static json_t *
run_row(struct corp_stmt *st)
{
	static const char *const counters[] = { "messages_total",
	    "batches_total", "batches_done", "proposals_total",
	    "proposals_pending", "proposals_approved", "proposals_rejected",
	    "proposals_merged", "errors_total" };
	json_t *o = json_object(), *f;
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "run_id", json_integer(corp_col_int64(st,
	    0)));
	json_object_set_new(o, "chat_id", json_integer(corp_col_int64(st,
	    1)));
	json_object_set_new(o, "status", json_string(corp_col_text(st, 2)));
	json_object_set_new(o, "window_start", corp_analysis_opt_time(st, 3));
	json_object_set_new(o, "window_end", corp_analysis_opt_time(st, 4));
	f = json_loads(corp_col_text(st, 5), 0, NULL);
	json_object_set_new(o, "filter", f != NULL ? f : json_null());
	json_object_set_new(o, "proposer", corp_json_strval(corp_col_text(st,
	    6)));
	json_object_set_new(o, "created_by", corp_json_strval(corp_col_text(st,
	    7)));
	json_object_set_new(o, "created_at", corp_analysis_opt_time(st, 8));
	json_object_set_new(o, "started_at", corp_analysis_opt_time(st, 9));
	json_object_set_new(o, "completed_at", corp_analysis_opt_time(st, 10));
	json_object_set_new(o, "failed_at", corp_analysis_opt_time(st, 11));
	json_object_set_new(o, "reviewed_at", corp_analysis_opt_time(st, 12));
	json_object_set_new(o, "closed_at", corp_analysis_opt_time(st, 13));
	json_object_set_new(o, "cancelled_at", corp_analysis_opt_time(st, 14));
	json_object_set_new(o, "lease_until", corp_analysis_opt_time(st, 15));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		json_object_set_new(o, counters[i],
		    json_integer(corp_col_int64(st, 16 + (int)i)));
	json_object_set_new(o, "error", corp_json_strval(corp_col_text(st,
	    25)));
	json_object_set_new(o, "accuracy", corp_col_type(st, 26) ==
	    SQLITE_NULL ? json_null() : json_real(corp_col_double(st,
	    26)));
	return o;
}

static int
run_rows(struct corp_db *db, long long id, int has_chat, long long chat,
    const char *status, json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, RUN_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_int(st, 2, has_chat);
	corp_bind_int64(st, 3, chat);
	corp_bind_text(st, 4, status);
	return corp_db_rows(db, st, run_row, out, "list runs", err);
}

int
corp_analysis_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	*out = NULL;
	if ((rc = run_rows(db, id, 0, 0, NULL, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND, "no run %lld", id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_analysis_list(struct corp_db *db, int has_chat, long long chat,
    const char *status, json_t **out, struct corp_err *err)
{
	return run_rows(db, 0, has_chat, chat, status, out, err);
}

static json_t *
error_row(struct corp_stmt *st)
{
	return json_pack("{sI ss ss}", "batch", (json_int_t)corp_col_int64(st,
	    0), "error", corp_col_text(st, 1), "line", corp_col_text(st, 2));
}

int
corp_analysis_errors(struct corp_db *db, long long run, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT batch_seq, error, line FROM "
	    "proposal_errors WHERE run_id = ?1 ORDER BY id", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, run);
	return corp_db_rows(db, st, error_row, out, "list errors", err);
}
