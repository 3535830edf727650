/* analysis.c -- see analysis.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "analysis.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "jsonl.h"
#include "proposer.h"
#include "rand.h"
#include "settings.h"
#include "task.h"

#define OOM(err) corp_errf(err, CORP_EINTERNAL, "out of memory")

/* ---- helpers ------------------------------------------------------- */

/*
 * The id of the user named login (65 without one, 67 unknown) and
 * whether it is an active admin.  Callers refuse a non-admin (77) only
 * after their own lookups, and before their state checks (79): the
 * order of corp-task, 65, 67, 77, 79.
 */
static int
actor_of(struct corp_db *db, const char *login, long long *id, int *isadm,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, active;

	*isadm = 0;
	if (login == NULL)
		return corp_errf(err, CORP_EINVAL, "--as LOGIN is required");
	if ((rc = corp_dir_user_id(db, login, id, &active, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT is_admin FROM users WHERE "
	    "id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, *id);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*isadm = corp_col_int(st, 0) && active && corp_cfg.admin_all;
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read user", err);
	return 0;
}

static int
not_admin(const char *login, struct corp_err *err)
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

	if ((rc = actor_of(db, login, id, &isadm, err)) != 0)
		return rc;
	return isadm ? 0 : not_admin(login, err);
}

int
corp_analysis_reader(struct corp_db *db, const char *login,
    struct corp_err *err)
{
	long long id;

	return admin(db, login, &id, err);
}

/* The counters and ids every analysis_runs event carries. */
static int
run_payload(struct corp_db *db, long long id, json_t **out,
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
static int
topic_event(struct corp_db *db, const char *topic, const char *type,
    long long actor, json_t *payload, const char *key, struct corp_err *err)
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
static int
run_event(struct corp_db *db, long long id, const char *type,
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

	if ((rc = run_payload(db, id, &p, err)) != 0) {
		json_decref(extra);
		return rc;
	}
	if (extra != NULL) {
		json_object_update(p, extra);
		json_decref(extra);
	}
	return topic_event(db, "analysis_runs", type, actor, p, key, err);
}

static int
run_status(struct corp_db *db, long long id, char **status,
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

static int
changes(struct corp_db *db)
{
	return corp_db_changes(db);
}

/* ---- create, reap, review, close, cancel ---------------------------- */

int
corp_run_create(struct corp_db *db, const struct corp_run_new *r,
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
	if ((rc = corp_run_reap(db, err)) != 0)
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
corp_run_reap(struct corp_db *db, struct corp_err *err)
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
		if (changes(db) == 1 && (rc = run_event(db, ids[i],
		    "run_failed", 0, json_pack("{ss}", "error", "worker lost"), 0, err)) != 0)
			goto fail;
	}
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_run_step(struct corp_db *db, long long id, const char *verb,
    const char *as, struct corp_err *err)
{
	struct corp_stmt *st;
	char *status = NULL;
	long long actor, pending = 0, total = 0, decided = 0;
	time_t now = corp_now();
	const char *from, *to, *type;
	int rc, isadm;

	if (strcmp(verb, "review") == 0) {
		from = "completed"; to = "reviewed"; type = "run_reviewed";
	} else if (strcmp(verb, "close") == 0) {
		from = "reviewed"; to = "closed"; type = "run_closed";
	} else {
		from = "pending"; to = "cancelled"; type = "run_cancelled";
	}
	if ((rc = corp_run_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = actor_of(db, as, &actor, &isadm, err)) != 0 ||
	    (rc = run_status(db, id, &status, err)) != 0)
		goto fail;
	if (!isadm) {
		rc = not_admin(as, err);
		goto fail;
	}
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
	if ((rc = run_event(db, id, type, actor, strcmp(verb, "close") == 0 ?
	    json_pack("{so}", "accuracy", total > 0 ?
	    json_real((double)decided / (double)total) : json_null()) : NULL,
	    0, err)) != 0)
		goto fail;
	free(status);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	free(status);
	return rc;
}

/* ---- start: filter, batches, proposer ------------------------------ */

struct runinfo {
	long long	 chat;
	time_t		 from, until;
	long long	 min_length;
	json_t		*keywords;	/* folded strings */
	int		 require_mention;
	char		*mention;	/* "@bot", folded */
};

static int
keep_message(const struct runinfo *ri, const char *text, int *keep,
    struct corp_err *err)
{
	json_t *k;
	char *f;
	size_t i;
	int hit;

	*keep = 0;
	/* No text or caption: a service message (or bare media). */
	if (text == NULL || corp_utf8_len(text) < (size_t)ri->min_length)
		return 0;
	if ((f = corp_fold(text)) == NULL)
		return OOM(err);
	hit = json_array_size(ri->keywords) == 0;
	json_array_foreach(ri->keywords, i, k)
		if (strstr(f, json_string_value(k)) != NULL)
			hit = 1;
	if (ri->require_mention && strstr(f, ri->mention) == NULL)
		hit = 0;
	free(f);
	*keep = hit;
	return 0;
}

/*
 * The run's batches: its window's messages, filtered, in (date,
 * message_id) order, cut into CORP_RUN_WINDOW windows counted from
 * window_start, each window into batches of CORP_RUN_BATCH at most.
 * *batches: [{"window": index, "messages": [...]}, ...].
 */
static int
make_batches(struct corp_db *db, long long id, const struct runinfo *ri,
    json_t **batches, long long *nmsg, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *cur = NULL, *m;
	long long w, curw = -1;
	int rc, keep;

	(void)id;
	*nmsg = 0;
	if ((*batches = json_array()) == NULL)
		return OOM(err);
	if ((rc = corp_db_prep(db, &st, "SELECT message_id, date, from_id, "
	    "from_username, from_name, text, reply_to_message_id FROM "
	    "tg_messages WHERE chat_id = ?1 AND date >= ?2 AND date < ?3 "
	    "ORDER BY date, message_id", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, ri->chat);
	corp_bind_int64(st, 2, (long long)ri->from);
	corp_bind_int64(st, 3, (long long)ri->until);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((rc = keep_message(ri, corp_col_text(st, 5), &keep, err))
		    != 0) {
			corp_reset(st);
			goto fail;
		}
		if (!keep)
			continue;
		w = (corp_col_int64(st, 1) - ri->from) / CORP_RUN_WINDOW;
		if (cur == NULL || w != curw ||
		    json_array_size(json_object_get(cur, "messages")) >=
		    CORP_RUN_BATCH) {
			cur = json_pack("{sI s[]}", "window", (json_int_t)w,
			    "messages");
			if (cur == NULL || json_array_append_new(*batches, cur)) {
				corp_reset(st);
				rc = OOM(err);
				goto fail;
			}
			curw = w;
		}
		m = json_pack("{sI so so so so so so}",
		    "message_id", (json_int_t)corp_col_int64(st, 0),
		    "date", corp_json_time((time_t)corp_col_int64(st, 1)),
		    "from_id", corp_col_type(st, 2) == SQLITE_NULL ?
		    json_null() : json_integer(corp_col_int64(st, 2)),
		    "from_username", corp_json_strval(corp_col_text(st, 3)),
		    "from_name", corp_json_strval(corp_col_text(st, 4)),
		    "text", corp_json_strval(corp_col_text(st, 5)),
		    "reply_to_message_id", corp_col_type(st, 6) ==
		    SQLITE_NULL ? json_null() :
		    json_integer(corp_col_int64(st, 6)));
		if (m == NULL || json_array_append_new(json_object_get(cur,
		    "messages"), m) != 0) {
			corp_reset(st);
			rc = OOM(err);
			goto fail;
		}
		(*nmsg)++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "read messages", err);
		goto fail;
	}
	return 0;
fail:
	json_decref(*batches);
	*batches = NULL;
	return rc;
}

static int
load_runinfo(struct corp_db *db, long long id, struct runinfo *ri,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *f = NULL, *k;
	const char *bot;
	char *s;
	size_t i;
	int rc;

	memset(ri, 0, sizeof(*ri));
	if ((rc = corp_db_prep(db, &st, "SELECT chat_id, window_start, "
	    "window_end, filter FROM analysis_runs WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		ri->chat = corp_col_int64(st, 0);
		ri->from = (time_t)corp_col_int64(st, 1);
		ri->until = (time_t)corp_col_int64(st, 2);
		f = json_loads(corp_col_text(st, 3), 0, NULL);
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no run %lld", id);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read run", err);
	ri->min_length = json_integer_value(json_object_get(f, "min_length"));
	ri->require_mention = json_is_true(json_object_get(f,
	    "require_mention"));
	bot = json_string_value(json_object_get(f, "bot_username"));
	if ((ri->keywords = json_array()) == NULL)
		goto oom;
	json_array_foreach(json_object_get(f, "keywords"), i, k) {
		if ((s = corp_fold(json_string_value(k))) == NULL)
			goto oom;
		json_array_append_new(ri->keywords, json_string(s));
		free(s);
	}
	if (bot != NULL) {
		if (corp_asprintf(&s, "@%s", bot) < 0)
			goto oom;
		ri->mention = corp_fold(s);
		free(s);
		if (ri->mention == NULL)
			goto oom;
	}
	json_decref(f);
	return 0;
oom:
	json_decref(f);
	return OOM(err);
}

/* Is id the message_id of one of batch's messages? */
static int
in_batch(json_t *batch, json_int_t id)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(batch, "messages"), i, m)
		if (json_integer_value(json_object_get(m, "message_id")) == id)
			return 1;
	return 0;
}

/*
 * Is o a valid proposal for batch?  *why says what is wrong (in buf when
 * it names a value).  The proposer's answer is not trusted: a message id
 * it cites must be one of the batch it was given, else a planted text
 * could make it cite an older message of a trusted colleague, one outside
 * the run's window, or none at all.
 */
static int
valid_proposal(json_t *o, json_t *batch, const char **why, char *buf,
    size_t size, time_t *due, json_t **msgs)
{
	json_t *t = json_object_get(o, "title"), *v;
	struct corp_err e;
	size_t i;

	*due = 0;
	*msgs = NULL;
	if (!json_is_string(t) || *json_string_value(t) == '\0') {
		*why = "no title (a non-empty string)";
		return 0;
	}
	v = json_object_get(o, "description");
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		*why = "description is not a string";
		return 0;
	}
	v = json_object_get(o, "assignee");
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		*why = "assignee is not a string";
		return 0;
	}
	v = json_object_get(o, "due");
	if (v != NULL && !json_is_null(v) && (!json_is_string(v) ||
	    corp_time_parse(json_string_value(v), due, &e) != 0)) {
		*why = "due is not an RFC 3339 time";
		return 0;
	}
	v = json_object_get(o, "messages");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_array(v)) {
			*why = "messages is not an array of message ids";
			return 0;
		}
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_integer(json_array_get(v, i))) {
				*why = "messages is not an array of message "
				    "ids";
				return 0;
			}
		for (i = 0; i < json_array_size(v); i++)
			if (!in_batch(batch, json_integer_value(
			    json_array_get(v, i)))) {
				snprintf(buf, size, "messages: %lld is not a "
				    "message of this batch", (long long)
				    json_integer_value(json_array_get(v, i)));
				*why = buf;
				return 0;
			}
		*msgs = v;
	}
	return 1;
}

/* Store one batch's answer and progress; caller holds the transaction
 * and has checked the lease. */
static int
store_batch(struct corp_db *db, long long id, long long seq, json_t *batch,
    json_t *objs, long long lease_s, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *o, *msgs, *empty = NULL;
	const char *why, *al;
	char *line = NULL, *ms = NULL, whybuf[128];
	time_t now = corp_now(), due;
	long long nprop = 0, nerr = 0, uid;
	size_t i;
	int rc;

	json_array_foreach(objs, i, o) {
		free(line);
		free(ms);
		ms = NULL;
		if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))
		    == NULL)
			return OOM(err);
		uid = 0;
		if (valid_proposal(o, batch, &why, whybuf, sizeof(whybuf), &due,
		    &msgs)) {
			al = json_string_value(json_object_get(o, "assignee"));
			/* An unknown login is no assignee, not an error. */
			if (al != NULL && corp_dir_user_id(db, al, &uid, NULL,
			    err) != 0)
				uid = 0;
			if (msgs == NULL)
				msgs = empty = json_array();
			ms = json_dumps(msgs, JSON_COMPACT);
			json_decref(empty);
			empty = NULL;
			if (ms == NULL) {
				rc = OOM(err);
				goto out;
			}
			if ((rc = corp_db_prep(db, &st, "INSERT INTO proposals "
			    "(run_id, batch_seq, title, description, "
			    "assignee_user_id, due_at, messages, created_at, "
			    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			    "?8, ?8)", err)) != 0)
				goto out;
			corp_bind_int64(st, 1, id);
			corp_bind_int64(st, 2, seq);
			corp_bind_text(st, 3, json_string_value(
			    json_object_get(o, "title")));
			corp_bind_text(st, 4, json_string_value(
			    json_object_get(o, "description")));
			corp_bind_id(st, 5, uid);
			if (due != 0)
				corp_bind_int64(st, 6, (long long)due);
			else
				corp_bind_null(st, 6);
			corp_bind_text(st, 7, ms);
			corp_bind_int64(st, 8, (long long)now);
			if ((rc = corp_db_exec(db, st, "store proposal", err))
			    != 0)
				goto out;
			nprop++;
			continue;
		}
		if ((rc = corp_db_prep(db, &st, "INSERT INTO proposal_errors "
		    "(run_id, batch_seq, error, line, created_at) VALUES (?1, "
		    "?2, ?3, ?4, ?5)", err)) != 0)
			goto out;
		corp_bind_int64(st, 1, id);
		corp_bind_int64(st, 2, seq);
		corp_bind_text(st, 3, why);
		corp_bind_text(st, 4, line);
		corp_bind_int64(st, 5, (long long)now);
		if ((rc = corp_db_exec(db, st, "record invalid proposal", err))
		    != 0)
			goto out;
		nerr++;
	}
	if ((rc = corp_db_prep(db, &st, "INSERT INTO analysis_batches (run_id, "
	    "seq, window_start, messages, proposals, errors, done_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7)", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, seq);
	corp_bind_int64(st, 3, json_integer_value(json_object_get(batch,
	    "window_start_unix")));
	corp_bind_int64(st, 4, (long long)json_array_size(
	    json_object_get(batch, "messages")));
	corp_bind_int64(st, 5, nprop);
	corp_bind_int64(st, 6, nerr);
	corp_bind_int64(st, 7, (long long)now);
	if ((rc = corp_db_exec(db, st, "record batch", err)) != 0)
		goto out;
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET "
	    "batches_done = batches_done + 1, proposals_total = "
	    "proposals_total + ?2, proposals_pending = proposals_pending + ?2, "
	    "errors_total = errors_total + ?3, lease_until = ?4, error = CASE "
	    "WHEN ?3 > 0 THEN ?5 ELSE error END WHERE id = ?1", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, nprop);
	corp_bind_int64(st, 3, nerr);
	corp_bind_int64(st, 4, (long long)(now + lease_s));
	corp_bind_text(st, 5, nerr > 0 ? why : NULL);
	if ((rc = corp_db_exec(db, st, "record progress", err)) != 0)
		goto out;
	if ((rc = run_event(db, id, "proposals_created", 0, json_pack(
	    "{sI sI sI}", "batch", (json_int_t)seq, "proposals",
	    (json_int_t)nprop, "errors", (json_int_t)nerr), seq, err)) != 0)
		goto out;
	rc = run_event(db, id, "progress_updated", 0, json_pack("{sI}",
	    "batch", (json_int_t)seq), seq,
	    err);
out:
	free(line);
	free(ms);
	return rc;
}

/* The run is still running under our lease token. */
static int
still_ours(struct corp_db *db, long long id, const char *token,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM analysis_runs WHERE "
	    "id = ?1 AND status = 'running' AND lease_token = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, token);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ECONFLICT, "run %lld is no longer "
		    "ours: its lease expired and it was failed", id);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read run", err);
	return 0;
}

/* Fail our run with why; returns the original error code. */
static int
fail_run(struct corp_db *db, long long id, const char *token, int code,
    struct corp_err *err)
{
	struct corp_err e2;
	struct corp_stmt *st;
	char why[sizeof(err->msg)];
	int rc;

	snprintf(why, sizeof(why), "%s", err->msg);
	if (corp_db_begin(db, &e2) != 0)
		goto lost;
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET status = "
	    "'failed', failed_at = ?3, error = ?4, lease_token = NULL WHERE "
	    "id = ?1 AND status = 'running' AND lease_token = ?2", &e2)) != 0)
		goto rollback;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, token);
	corp_bind_int64(st, 3, (long long)corp_now());
	corp_bind_text(st, 4, why);
	if ((rc = corp_db_exec(db, st, "fail run", &e2)) != 0)
		goto rollback;
	if (changes(db) == 1 && run_event(db, id, "run_failed", 0,
	    json_pack("{ss}", "error", why), 0, &e2) != 0)
		goto rollback;
	if (corp_db_commit(db, &e2) != 0)
		goto lost;
	corp_errf(err, code, "run %lld failed: %s", id, why);
	return code;
rollback:
	corp_db_rollback(db);
lost:
	corp_errf(err, code, "run %lld: %s (and could not be marked "
	    "failed: %s)", id, why, e2.msg);
	return code;
}

/* What corp_run_begin leaves for corp_run_work (analysis.h). */
struct corp_run_job {
	long long	 id;
	long long	 lease_s;
	char		 token[33];
	struct runinfo	 ri;
	json_t		*batches;
};

void
corp_run_job_free(struct corp_run_job *j)
{
	if (j == NULL)
		return;
	json_decref(j->batches);
	json_decref(j->ri.keywords);
	free(j->ri.mention);
	free(j);
}

int
corp_run_begin(struct corp_db *db, long long id, const char *as,
    const char *proposer, long long lease_s, struct corp_run_job **jobp,
    struct corp_err *err)
{
	struct corp_run_job *j;
	struct corp_stmt *st;
	char *status = NULL;
	long long actor, nmsg;
	time_t now;
	int rc, isadm;

	*jobp = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return OOM(err);
	j->id = id;
	j->lease_s = lease_s;
	if ((rc = corp_run_reap(db, err)) != 0 ||
	    (rc = corp_random_hex(j->token, 16, err)) != 0 ||
	    (rc = corp_db_begin(db, err)) != 0) {
		corp_run_job_free(j);
		return rc;
	}
	if ((rc = actor_of(db, as, &actor, &isadm, err)) != 0 ||
	    (rc = run_status(db, id, &status, err)) != 0)
		goto fail;
	if (!isadm) {
		rc = not_admin(as, err);
		goto fail;
	}
	if (strcmp(status, "pending") != 0) {
		rc = corp_errf(err, CORP_ECONFLICT, "run %lld is %s, not "
		    "pending", id, status);
		goto fail;
	}
	if ((rc = load_runinfo(db, id, &j->ri, err)) != 0 ||
	    (rc = make_batches(db, id, &j->ri, &j->batches, &nmsg, err)) != 0)
		goto fail;
	now = corp_now();
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET status = "
	    "'running', started_at = ?2, lease_until = ?3, lease_token = ?4, "
	    "proposer = ?5, messages_total = ?6, batches_total = ?7 WHERE "
	    "id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_int64(st, 3, (long long)(now + lease_s));
	corp_bind_text(st, 4, j->token);
	corp_bind_text(st, 5, proposer);
	corp_bind_int64(st, 6, nmsg);
	corp_bind_int64(st, 7, (long long)json_array_size(j->batches));
	if ((rc = corp_db_exec(db, st, "start run", err)) != 0 ||
	    (rc = run_event(db, id, "run_started", actor, json_pack("{ss sI}",
	    "proposer", proposer, "messages", (json_int_t)nmsg), 0,
	    err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	free(status);
	*jobp = j;
	return 0;
fail:
	corp_db_rollback(db);
	free(status);
	corp_run_job_free(j);
	return rc;
}

int
corp_run_work(struct corp_db *db, struct corp_run_job *j,
    struct corp_proposer *p, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *b, *objs, *in;
	char ws[32], we[32];
	long long id = j->id, seq;
	time_t bstart;
	size_t i;
	int rc;

	/* No transaction is held while the proposer works. */
	json_array_foreach(j->batches, i, b) {
		seq = (long long)i + 1;
		bstart = j->ri.from + (time_t)json_integer_value(
		    json_object_get(b, "window")) * CORP_RUN_WINDOW;
		/* "untrusted" frames what chat members wrote (corp-json.5). */
		in = json_pack("{sI sI sI sI ss ss s[s] sO}", "run_id",
		    (json_int_t)id, "chat_id", (json_int_t)j->ri.chat, "batch",
		    (json_int_t)seq, "batches_total",
		    (json_int_t)json_array_size(j->batches), "window_start",
		    corp_time_fmt(bstart, ws), "window_end",
		    corp_time_fmt(bstart + CORP_RUN_WINDOW, we), "untrusted",
		    "messages", "messages", json_object_get(b, "messages"));
		if (in == NULL)
			return OOM(err);
		rc = corp_proposer_run(db, p, in, &objs, err);
		json_object_set_new(in, "window_start_unix",
		    json_integer((json_int_t)bstart));
		if (rc != 0) {
			json_decref(in);
			return fail_run(db, id, j->token, CORP_EINTERNAL, err);
		}
		if ((rc = corp_db_begin(db, err)) != 0) {
			json_decref(in);
			json_decref(objs);
			return rc;
		}
		rc = still_ours(db, id, j->token, err);
		if (rc == 0)
			rc = store_batch(db, id, seq, in, objs, j->lease_s, err);
		json_decref(in);
		json_decref(objs);
		if (rc != 0 || (rc = corp_db_commit(db, err)) != 0) {
			corp_db_rollback(db);
			return rc;
		}
	}
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = still_ours(db, id, j->token, err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET status = "
	    "'completed', completed_at = ?2, lease_until = NULL, lease_token = "
	    "NULL WHERE id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "complete run", err)) != 0 ||
	    (rc = run_event(db, id, "run_completed", 0, NULL, 0, err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	return 0;
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_run_start(struct corp_db *db, long long id, const char *as,
    struct corp_proposer *p, long long lease_s, struct corp_err *err)
{
	struct corp_run_job *j;
	int rc;

	if ((rc = corp_run_begin(db, id, as, p->name, lease_s, &j, err)) != 0)
		return rc;
	rc = corp_run_work(db, j, p, err);
	corp_run_job_free(j);
	return rc;
}

/* ---- proposals ------------------------------------------------------ */

struct decide_ctx {
	const struct corp_decision *d;
	long long	 actor;
	const char	*to;
	int		 check_only;	/* the refusals, no writes */
};

/*
 * The decision itself, in the caller's transaction: the proposal moves
 * from pending exactly once, the run's counters move with it, and the
 * topic event is appended.
 */
static int
decide_tx(struct corp_db *db, long long task_id, void *arg,
    struct corp_err *err)
{
	struct decide_ctx *c = arg;
	struct corp_stmt *st;
	json_t *p;
	long long run = 0;
	char *rs = NULL, *ps = NULL;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT p.run_id, p.status, r.status "
	    "FROM proposals p JOIN analysis_runs r ON r.id = p.run_id WHERE "
	    "p.id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, c->d->id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		run = corp_col_int64(st, 0);
		ps = corp_strdup(corp_col_text(st, 1));
		rs = corp_strdup(corp_col_text(st, 2));
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no proposal %lld",
		    c->d->id);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read proposal", err);
	rc = 0;
	if (ps == NULL || rs == NULL)
		rc = OOM(err);
	else if (strcmp(ps, "pending") != 0)
		rc = corp_errf(err, CORP_ECONFLICT, "proposal %lld is already "
		    "%s", c->d->id, ps);
	else if (strcmp(rs, "completed") != 0 && strcmp(rs, "reviewed") != 0 &&
	    strcmp(rs, "failed") != 0)
		rc = corp_errf(err, CORP_ECONFLICT, "run %lld is %s: proposals "
		    "are decided in completed, reviewed or failed runs", run,
		    rs);
	free(ps);
	free(rs);
	if (rc != 0 || c->check_only)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE proposals SET status = ?2, "
	    "task_id = ?3, decided_by = ?4, decided_at = ?5, reason = ?6, "
	    "updated_at = ?5 WHERE id = ?1 AND status = 'pending'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, c->d->id);
	corp_bind_text(st, 2, c->to);
	corp_bind_id(st, 3, task_id);
	corp_bind_int64(st, 4, c->actor);
	corp_bind_int64(st, 5, (long long)corp_now());
	corp_bind_text(st, 6, c->d->reason);
	if ((rc = corp_db_exec(db, st, "decide proposal", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET "
	    "proposals_pending = proposals_pending - 1, proposals_approved = "
	    "proposals_approved + CASE WHEN ?2 = 'approved' THEN 1 ELSE 0 END, "
	    "proposals_rejected = proposals_rejected + CASE WHEN ?2 = "
	    "'rejected' THEN 1 ELSE 0 END, proposals_merged = proposals_merged "
	    "+ CASE WHEN ?2 = 'merged' THEN 1 ELSE 0 END WHERE id = ?1", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, run);
	corp_bind_text(st, 2, c->to);
	if ((rc = corp_db_exec(db, st, "count decision", err)) != 0)
		return rc;
	if ((rc = run_payload(db, run, &p, err)) != 0)
		return rc;
	json_object_set_new(p, "proposal_id", json_integer(c->d->id));
	json_object_set_new(p, "task_id", corp_json_idval(task_id));
	json_object_set_new(p, "run_status", json_incref(json_object_get(p,
	    "status")));
	json_object_set_new(p, "status", json_string(c->to));
	{
		char key[64];

		snprintf(key, sizeof(key), "proposal:%lld:%s", c->d->id,
		    c->to);
		return topic_event(db, "proposals", c->to, c->actor, p, key,
		    err);
	}
}

/* The first refusal of each kind, to report them in corp-task's order. */
struct refusals {
	struct corp_err	 bad, nf, conflict;	/* 65, 67, 79 */
	int		 has_bad, has_nf, has_conflict;
};

/* Record rc; a code that is no refusal is returned. */
static int
note(struct refusals *f, int rc, const struct corp_err *e)
{
	if (rc == CORP_EINVAL && !f->has_bad) {
		f->bad = *e;
		f->has_bad = 1;
	} else if (rc == CORP_ENOTFOUND && !f->has_nf) {
		f->nf = *e;
		f->has_nf = 1;
	} else if (rc == CORP_ECONFLICT && !f->has_conflict) {
		f->conflict = *e;
		f->has_conflict = 1;
	} else if (rc != 0 && rc != CORP_EINVAL && rc != CORP_ENOTFOUND &&
	    rc != CORP_ECONFLICT)
		return rc;
	return 0;
}

/*
 * Every refusal that can be judged before a write, in corp-task's order
 * whatever is met first: invalid input (an approval's task fields, via
 * the task domain's own check), unknown names (the actor, the proposal,
 * a merge's task, an approval's assignee or unit), then a non-admin
 * (77), then the proposal's or the run's state (79).  r is the task an
 * approval would create (NULL otherwise).
 */
static int
decide_precheck(struct corp_db *db, struct decide_ctx *c,
    const struct corp_task_req *r, struct corp_err *err)
{
	struct refusals f;
	struct corp_stmt *st;
	struct corp_err e;
	int rc, isadm = 0;

	memset(&f, 0, sizeof(f));
	if (r != NULL && r->assignee == NULL && r->unit == NULL)
		note(&f, corp_errf(&e, CORP_EINVAL, "proposal %lld has no "
		    "assignee: approve it with --assignee LOGIN or --unit UNIT",
		    c->d->id), &e);
	if ((rc = note(&f, actor_of(db, c->d->as, &c->actor, &isadm, &e),
	    &e)) != 0)
		goto fatal;
	if (r != NULL && (r->assignee != NULL || r->unit != NULL) &&
	    (rc = note(&f, corp_task_check_names(db, r, &e), &e)) != 0)
		goto fatal;
	c->check_only = 1;
	rc = note(&f, decide_tx(db, 0, c, &e), &e);
	c->check_only = 0;
	if (rc != 0)
		goto fatal;
	if (strcmp(c->d->verb, "merge") == 0 && c->d->task_id > 0) {
		if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM tasks "
		    "WHERE id = ?1", &e)) != 0)
			goto fatal;
		corp_bind_int64(st, 1, c->d->task_id);
		rc = corp_step(st);
		corp_reset(st);
		if (rc == SQLITE_DONE)
			note(&f, corp_errf(&e, CORP_ENOTFOUND, "no task %lld",
			    c->d->task_id), &e);
		else if (rc != SQLITE_ROW) {
			rc = corp_db_fail(db, rc, "read task", &e);
			goto fatal;
		}
	}
	if (f.has_bad)
		return *err = f.bad, CORP_EINVAL;
	if (f.has_nf)
		return *err = f.nf, CORP_ENOTFOUND;
	if (!isadm)
		return not_admin(c->d->as, err);
	if (f.has_conflict)
		return *err = f.conflict, CORP_ECONFLICT;
	return 0;
fatal:
	*err = e;
	return rc;
}

int
corp_proposal_decide(struct corp_db *db, const struct corp_decision *d,
    struct corp_err *err)
{
	struct corp_task_req r;
	struct decide_ctx c;
	struct corp_stmt *st;
	char *out = NULL, *title = NULL, *desc = NULL, *login = NULL;
	time_t due = 0;
	int rc, replayed, exists;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.to = strcmp(d->verb, "approve") == 0 ? "approved" :
	    strcmp(d->verb, "reject") == 0 ? "rejected" : "merged";
	if ((rc = corp_run_reap(db, err)) != 0)
		return rc;
	if (strcmp(d->verb, "approve") != 0) {
		if ((rc = decide_precheck(db, &c, NULL, err)) != 0)
			return rc;
		if ((rc = corp_db_begin(db, err)) != 0)
			return rc;
		if (d->task_id > 0) {
			if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM tasks "
			    "WHERE id = ?1", err)) != 0)
				goto fail;
			corp_bind_int64(st, 1, d->task_id);
			exists = corp_step(st) == SQLITE_ROW;
			corp_reset(st);
			if (!exists) {
				rc = corp_errf(err, CORP_ENOTFOUND, "no task "
				    "%lld", d->task_id);
				goto fail;
			}
		}
		if ((rc = decide_tx(db, d->task_id, &c, err)) != 0)
			goto fail;
		return corp_db_commit(db, err);
fail:
		corp_db_rollback(db);
		return rc;
	}
	if ((rc = corp_db_prep(db, &st, "SELECT p.title, p.description, "
	    "u.login, p.due_at FROM proposals p LEFT JOIN users u ON u.id = "
	    "p.assignee_user_id WHERE p.id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, d->id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		title = corp_strdup(corp_col_text(st, 0));
		desc = corp_strdup(corp_col_text(st, 1));
		login = corp_strdup(corp_col_text(st, 2));
		due = (time_t)corp_col_int64(st, 3);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read proposal", err);
	memset(&r, 0, sizeof(r));
	r.verb = "create";
	r.as = d->as;
	r.title = title;
	r.description = desc;
	r.assignee = d->assignee != NULL ? d->assignee : d->unit != NULL ?
	    NULL : login;
	r.unit = d->unit;
	if (d->has_due) {
		r.has_due = d->due_at != 0;
		r.due_at = d->due_at;
	} else if (due != 0) {
		r.has_due = 1;
		r.due_at = due;
	}
	r.also = decide_tx;
	r.also_arg = &c;
	/* An unknown proposal has no task fields to check (67 anyway). */
	if ((rc = decide_precheck(db, &c, title != NULL ? &r : NULL,
	    err)) == 0)
		rc = corp_task_run(db, &r, &out, &replayed, err);
	free(out);
	free(title);
	free(desc);
	free(login);
	return rc;
}

int
corp_proposal_edit(struct corp_db *db, const struct corp_proposal_edit *ed,
    struct corp_err *err)
{
	struct corp_stmt *st;
	long long actor, uid = 0;
	char *ps = NULL;
	int rc, isadm;

	if ((rc = corp_run_reap(db, err)) != 0)
		return rc;
	if (ed->title != NULL && *ed->title == '\0')
		return corp_errf(err, CORP_EINVAL, "--title must not be empty");
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = actor_of(db, ed->as, &actor, &isadm, err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, "SELECT status FROM proposals WHERE "
	    "id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, ed->id);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		ps = corp_strdup(corp_col_text(st, 0));
	corp_reset(st);
	if (rc == SQLITE_DONE) {
		rc = corp_errf(err, CORP_ENOTFOUND, "no proposal %lld", ed->id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read proposal", err);
		goto fail;
	}
	if (ed->assignee != NULL && *ed->assignee != '\0' &&
	    (rc = corp_dir_user_id(db, ed->assignee, &uid, NULL, err)) != 0)
		goto fail;
	if (!isadm) {
		rc = not_admin(ed->as, err);
		goto fail;
	}
	if (ps == NULL || strcmp(ps, "pending") != 0) {
		rc = ps == NULL ? OOM(err) : corp_errf(err, CORP_ECONFLICT,
		    "proposal %lld is %s: only a pending one is edited", ed->id,
		    ps);
		goto fail;
	}
	if ((rc = corp_db_prep(db, &st, "UPDATE proposals SET title = "
	    "coalesce(?2, title), description = coalesce(?3, description), "
	    "assignee_user_id = CASE WHEN ?4 = 1 THEN ?5 ELSE assignee_user_id "
	    "END, due_at = CASE WHEN ?6 = 1 THEN ?7 ELSE due_at END, updated_at = "
	    "?8 WHERE id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, ed->id);
	corp_bind_text(st, 2, ed->title);
	corp_bind_text(st, 3, ed->description);
	corp_bind_int(st, 4, ed->assignee != NULL);
	corp_bind_id(st, 5, uid);
	corp_bind_int(st, 6, ed->has_due);
	if (ed->due_at != 0)
		corp_bind_int64(st, 7, (long long)ed->due_at);
	else
		corp_bind_null(st, 7);
	corp_bind_int64(st, 8, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "edit proposal", err)) != 0)
		goto fail;
	free(ps);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	free(ps);
	return rc;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *
opt_time(struct corp_stmt *st, int c)
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
	json_object_set_new(o, "window_start", opt_time(st, 3));
	json_object_set_new(o, "window_end", opt_time(st, 4));
	f = json_loads(corp_col_text(st, 5), 0, NULL);
	json_object_set_new(o, "filter", f != NULL ? f : json_null());
	json_object_set_new(o, "proposer", corp_json_strval(corp_col_text(st,
	    6)));
	json_object_set_new(o, "created_by", corp_json_strval(corp_col_text(st,
	    7)));
	json_object_set_new(o, "created_at", opt_time(st, 8));
	json_object_set_new(o, "started_at", opt_time(st, 9));
	json_object_set_new(o, "completed_at", opt_time(st, 10));
	json_object_set_new(o, "failed_at", opt_time(st, 11));
	json_object_set_new(o, "reviewed_at", opt_time(st, 12));
	json_object_set_new(o, "closed_at", opt_time(st, 13));
	json_object_set_new(o, "cancelled_at", opt_time(st, 14));
	json_object_set_new(o, "lease_until", opt_time(st, 15));
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
	if ((rc = corp_run_reap(db, err)) != 0)
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
corp_run_json(struct corp_db *db, long long id, json_t **out,
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
corp_run_list(struct corp_db *db, int has_chat, long long chat,
    const char *status, json_t **out, struct corp_err *err)
{
	return run_rows(db, 0, has_chat, chat, status, out, err);
}

static const char PROP_SQL[] =
    "SELECT p.id, p.run_id, p.batch_seq, p.status, p.title, p.description, "
    "a.login, p.due_at, p.messages, p.task_id, d.login, p.decided_at, "
    "p.reason, p.created_at, p.updated_at FROM proposals p "
    "LEFT JOIN users a ON a.id = p.assignee_user_id "
    "LEFT JOIN users d ON d.id = p.decided_by "
    "WHERE (?1 IS NULL OR p.id = ?1) AND (?2 IS NULL OR p.run_id = ?2) AND "
    "(?3 IS NULL OR p.status = ?3) ORDER BY p.id";

static json_t *
prop_row(struct corp_stmt *st)
{
	json_t *o = json_object(), *m;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "proposal_id",
	    json_integer(corp_col_int64(st, 0)));
	json_object_set_new(o, "run_id", json_integer(corp_col_int64(st,
	    1)));
	json_object_set_new(o, "batch", json_integer(corp_col_int64(st,
	    2)));
	json_object_set_new(o, "status", json_string(corp_col_text(st, 3)));
	json_object_set_new(o, "title", json_string(corp_col_text(st, 4)));
	json_object_set_new(o, "description",
	    corp_json_strval(corp_col_text(st, 5)));
	json_object_set_new(o, "assignee", corp_json_strval(corp_col_text(st,
	    6)));
	json_object_set_new(o, "due_at", opt_time(st, 7));
	m = json_loads(corp_col_text(st, 8), 0, NULL);
	json_object_set_new(o, "messages", m != NULL ? m : json_array());
	json_object_set_new(o, "task_id", corp_col_type(st, 9) ==
	    SQLITE_NULL ? json_null() : json_integer(corp_col_int64(st,
	    9)));
	json_object_set_new(o, "decided_by",
	    corp_json_strval(corp_col_text(st, 10)));
	json_object_set_new(o, "decided_at", opt_time(st, 11));
	json_object_set_new(o, "reason", corp_json_strval(corp_col_text(st,
	    12)));
	json_object_set_new(o, "created_at", opt_time(st, 13));
	json_object_set_new(o, "updated_at", opt_time(st, 14));
	return o;
}

static int
prop_rows(struct corp_db *db, long long id, long long run, const char *status,
    json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_run_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, PROP_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_id(st, 2, run);
	corp_bind_text(st, 3, status);
	return corp_db_rows(db, st, prop_row, out, "list proposals", err);
}

int
corp_proposal_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	*out = NULL;
	if ((rc = prop_rows(db, id, 0, NULL, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND, "no proposal %lld", id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_proposal_list(struct corp_db *db, long long run, const char *status,
    json_t **out, struct corp_err *err)
{
	return prop_rows(db, 0, run, status, out, err);
}

int
corp_run_errors(struct corp_db *db, long long run, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((*out = json_array()) == NULL)
		return OOM(err);
	if ((rc = corp_db_prep(db, &st, "SELECT batch_seq, error, line FROM "
	    "proposal_errors WHERE run_id = ?1 ORDER BY id", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, run);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		json_array_append_new(*out, json_pack("{sI ss ss}", "batch",
		    (json_int_t)corp_col_int64(st, 0), "error",
		    corp_col_text(st, 1), "line", corp_col_text(st, 2)));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "list errors", err);
		goto fail;
	}
	return 0;
fail:
	json_decref(*out);
	*out = NULL;
	return rc;
}
