/* analysisbatch.c -- corp_analysis_start: an analysis run's messages cut
 * into batches, handed to the proposer, stored (see analysis.h). */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "analysis.h"
#include "analysis_int.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "proposer.h"
#include "rand.h"

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
 * message_id) order, cut into CORP_ANALYSIS_WINDOW windows counted from
 * window_start, each window into batches of CORP_ANALYSIS_BATCH at most.
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
		w = (corp_col_int64(st, 1) - ri->from) / CORP_ANALYSIS_WINDOW;
		if (cur == NULL || w != curw ||
		    json_array_size(json_object_get(cur, "messages")) >=
		    CORP_ANALYSIS_BATCH) {
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
	if ((rc = corp_analysis_event(db, id, "proposals_created", 0, json_pack(
	    "{sI sI sI}", "batch", (json_int_t)seq, "proposals",
	    (json_int_t)nprop, "errors", (json_int_t)nerr), seq, err)) != 0)
		goto out;
	rc = corp_analysis_event(db, id, "progress_updated", 0,
	    json_pack("{sI}", "batch", (json_int_t)seq), seq, err);
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
	int rc, yes;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM analysis_runs WHERE "
	    "id = ?1 AND status = 'running' AND lease_token = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, token);
	if ((rc = corp_db_exists(db, st, &yes, "read run", err)) != 0)
		return rc;
	if (!yes)
		return corp_errf(err, CORP_ECONFLICT, "run %lld is no longer "
		    "ours: its lease expired and it was failed", id);
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
	if (corp_analysis_changes(db) == 1 && corp_analysis_event(db, id,
	    "run_failed", 0, json_pack("{ss}", "error", why), 0, &e2) != 0)
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

/* What corp_analysis_begin leaves for corp_analysis_work (analysis.h). */
struct corp_analysis_job {
	long long	 id;
	long long	 lease_s;
	char		 token[33];
	struct runinfo	 ri;
	json_t		*batches;
};

void
corp_analysis_job_free(struct corp_analysis_job *j)
{
	if (j == NULL)
		return;
	json_decref(j->batches);
	json_decref(j->ri.keywords);
	free(j->ri.mention);
	free(j);
}

int
corp_analysis_begin(struct corp_db *db, long long id, const char *as,
    const char *proposer, long long lease_s, struct corp_analysis_job **jobp,
    struct corp_err *err)
{
	struct corp_analysis_job *j;
	struct corp_stmt *st;
	char *status = NULL;
	long long actor, nmsg;
	time_t now;
	int rc;

	*jobp = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return OOM(err);
	j->id = id;
	j->lease_s = lease_s;
	if ((rc = corp_analysis_reap(db, err)) != 0 ||
	    (rc = corp_random_hex(j->token, 16, err)) != 0 ||
	    (rc = corp_db_begin(db, err)) != 0) {
		corp_analysis_job_free(j);
		return rc;
	}
	if ((rc = corp_analysis_admin_run(db, as, id, &actor, &status,
	    err)) != 0)
		goto fail;
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
	    (rc = corp_analysis_event(db, id, "run_started", actor,
	    json_pack("{ss sI}", "proposer", proposer, "messages",
	    (json_int_t)nmsg), 0, err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	free(status);
	*jobp = j;
	return 0;
fail:
	corp_db_rollback(db);
	free(status);
	corp_analysis_job_free(j);
	return rc;
}

int
corp_analysis_work(struct corp_db *db, struct corp_analysis_job *j,
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
		    json_object_get(b, "window")) * CORP_ANALYSIS_WINDOW;
		/* "untrusted" frames what chat members wrote (corp-json.5). */
		in = json_pack("{sI sI sI sI ss ss s[s] sO}", "run_id",
		    (json_int_t)id, "chat_id", (json_int_t)j->ri.chat, "batch",
		    (json_int_t)seq, "batches_total",
		    (json_int_t)json_array_size(j->batches), "window_start",
		    corp_time_fmt(bstart, ws), "window_end",
		    corp_time_fmt(bstart + CORP_ANALYSIS_WINDOW, we), "untrusted",
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
	    (rc = corp_analysis_event(db, id, "run_completed", 0, NULL, 0,
	    err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	return 0;
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_analysis_abort(struct corp_db *db, struct corp_analysis_job *j,
    struct corp_err *err)
{
	return fail_run(db, j->id, j->token, err->code, err);
}

int
corp_analysis_start(struct corp_db *db, long long id, const char *as,
    struct corp_proposer *p, long long lease_s, struct corp_err *err)
{
	struct corp_analysis_job *j;
	int rc;

	if ((rc = corp_analysis_begin(db, id, as, p->name, lease_s, &j,
	    err)) != 0)
		return rc;
	rc = corp_analysis_work(db, j, p, err);
	corp_analysis_job_free(j);
	return rc;
}

