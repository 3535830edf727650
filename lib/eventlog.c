/* eventlog.c -- see eventlog.h. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "eventlog.h"
#include "jsonl.h"
#include "text.h"
#include "visibility.h"

struct viewer {
	long long	id;
	int		active, admin;
};

static int
viewer_load(struct corp_db *db, long long id, struct viewer *v,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(v, 0, sizeof(*v));
	v->id = id;
	if ((rc = corp_db_prep(db, &st, "SELECT active, is_admin FROM users "
	    "WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		v->active = corp_col_int(st, 0);
		v->admin = corp_col_int(st, 1) && corp_cfg.admin_all;
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read user", err);
	return 0;
}

/* May v see e, when e is not a task event (see eventlog.h)? */
static void
visible(const struct corp_event *e, const struct viewer *v, int *yes)
{
	json_t *r, *x;
	size_t i;

	*yes = 0;
	if (!v->active)
		return;
	if (v->admin) {
		*yes = 1;
		return;
	}
	if (e->topic != NULL || e->recipients == NULL ||
	    (r = json_loads(e->recipients, 0, NULL)) == NULL)
		return;
	json_array_foreach(r, i, x)
		if (json_integer_value(json_object_get(x, "user_id")) == v->id)
			*yes = 1;
	json_decref(r);
}

/* Is v->id among the viewers of the event's own values, now? */
struct match {
	long long	uid;
	int		yes;
};

static int
match_user(long long tid, long long uid, const char *role, void *arg)
{
	struct match *m = arg;

	(void)tid;
	(void)role;
	if (uid == m->uid) {
		m->yes = 1;
		return 1;
	}
	return 0;
}

static int
may_see(struct corp_db *db, const struct corp_event *e,
    const struct viewer *v, int *yes, struct corp_err *err)
{
	struct corp_subject s;
	struct match m;
	int rc;

	if (!v->active || v->admin || e->topic != NULL || e->task_id <= 0) {
		visible(e, v, yes);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.initiator = e->initiator_user_id;
	s.assignee_user = e->assignee_user_id;
	s.assignee_unit = e->assignee_org_unit_id;
	s.draft = e->state != NULL && strcmp(e->state, "DRAFT") == 0;
	m.uid = v->id;
	m.yes = 0;
	rc = corp_viewers_of(db, &s, corp_now(), match_user, &m, err);
	if (rc != 0 && rc != 1)
		return rc;
	*yes = m.yes;
	/* Explicit recipients of an emitted task event: the intersection. */
	if (*yes && e->recipients != NULL)
		visible(e, v, yes);
	return 0;
}

static int
base_url(struct corp_db *db, char **out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT value FROM config "
	    "WHERE key = 'base_url'", err)) != 0)
		return rc;
	if (corp_step(st) == SQLITE_ROW)
		*out = corp_strdup(corp_col_text(st, 0));
	corp_reset(st);
	return 0;
}

static json_t *
event_json(const struct corp_event *e, const char *base)
{
	json_t *o = corp_event_json(e, base), *r;

	if (o != NULL && e->recipients != NULL &&
	    (r = json_loads(e->recipients, 0, NULL)) != NULL)
		json_object_set_new(o, "recipients", r);
	return o;
}

static const char LIST_SQL[] =
    "SELECT " CORP_EVENT_COLUMNS " FROM events "
    "WHERE event_id > ?1 AND (?2 IS NULL OR task_id = ?2) "
    "AND (?3 IS NULL OR event_type = ?3) AND (?4 IS NULL OR topic = ?4) "
    "AND (?5 IS NULL OR occurred_at >= ?5) "
    "AND (?6 IS NULL OR occurred_at < ?6) ORDER BY event_id LIMIT ?7";

int
corp_eventlog_list(struct corp_db *db, const struct corp_event_filter *f,
    json_t **array, long long *last, struct corp_err *err)
{
	struct corp_event *evs = NULL, *ne;
	struct viewer v;
	struct corp_stmt *st;
	size_t n = 0, cap = 0, i;
	char *base = NULL;
	int rc, yes;

	*array = NULL;
	*last = f->after;
	if (f->viewer > 0 && (rc = viewer_load(db, f->viewer, &v, err)) != 0)
		return rc;
	if ((rc = base_url(db, &base, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, LIST_SQL, err)) != 0)
		goto out;
	corp_bind_int64(st, 1, f->after);
	corp_bind_id(st, 2, f->task_id);
	corp_bind_text(st, 3, f->type);
	corp_bind_text(st, 4, f->topic);
	if (f->since)
		corp_bind_int64(st, 5, (long long)f->since);
	if (f->until)
		corp_bind_int64(st, 6, (long long)f->until);
	corp_bind_int64(st, 7, f->limit > 0 ? f->limit : LLONG_MAX);
	/* Read the rows first: the visibility query needs the handle. */
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((ne = reallocarray(evs, cap, sizeof(*ne))) == NULL) {
				corp_reset(st);
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				goto out;
			}
			evs = ne;
		}
		corp_event_from_row(st, 0, &evs[n++]);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "list events", err);
		goto out;
	}
	rc = 0;
	*array = json_array();
	for (i = 0; i < n; i++) {
		*last = evs[i].event_id;
		if (f->viewer > 0) {
			if ((rc = may_see(db, &evs[i], &v, &yes, err)) != 0)
				goto out;
			if (!yes)
				continue;
		}
		json_array_append_new(*array, event_json(&evs[i], base));
	}
out:
	for (i = 0; i < n; i++)
		corp_event_free(&evs[i]);
	free(evs);
	free(base);
	if (rc != 0) {
		json_decref(*array);
		*array = NULL;
	}
	return rc;
}

int
corp_eventlog_show(struct corp_db *db, long long id, long long viewer,
    json_t **out, struct corp_err *err)
{
	struct corp_event e;
	struct viewer v;
	char *base;
	int rc, yes = 1;

	if ((rc = corp_event_get(db, id, &e, err)) != 0)
		return rc;
	if (viewer > 0 && ((rc = viewer_load(db, viewer, &v, err)) != 0 ||
	    (rc = may_see(db, &e, &v, &yes, err)) != 0))
		goto out;
	if (!yes) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "event %lld: not visible "
		    "to this user", id);
		goto out;
	}
	if ((rc = base_url(db, &base, err)) != 0)
		goto out;
	*out = event_json(&e, base);
	free(base);
out:
	corp_event_free(&e);
	return rc;
}

int
corp_event_type_reserved(const char *t)
{
	static const char *types[] = { "REPORT_SUBMITTED", "APPROVED",
	    "REJECTED", NULL };
	size_t i;

	if (strncasecmp(t, "TASK_", 5) == 0)
		return 1;
	for (i = 0; types[i] != NULL; i++)
		if (strcasecmp(t, types[i]) == 0)
			return 1;
	return 0;
}

/* 1-64 of [A-Za-z0-9._:-], starting with a letter or digit. */
static int
token_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

int
corp_eventlog_emit(struct corp_db *db, json_t *line, long long *id,
    char **dedupe_key, int *dup, struct corp_err *err)
{
	static const char *known[] = { "idempotency_key", "source",
	    "event_type", "actor", "task_id", "recipients", "payload", NULL };
	const char *key, *source, *type, *actor, *k, *login, *role;
	struct corp_event e;
	struct corp_stmt *st;
	json_t *v, *recips, *x, *out = NULL;
	long long task, uid;
	size_t i;
	int rc;

	*dedupe_key = NULL;
	*dup = 0;
	memset(&e, 0, sizeof(e));
	if (!json_is_object(line))
		return corp_errf(err, CORP_EINVAL, "not a JSON object");
	json_object_foreach(line, k, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], k) == 0)
				break;
		if (known[i] == NULL)
			return corp_errf(err, CORP_EINVAL,
			    "unknown field \"%s\"", k);
	}
	if ((rc = corp_json_str(line, "idempotency_key", &key, 1, err)) != 0 ||
	    (rc = corp_json_str(line, "source", &source, 1, err)) != 0 ||
	    (rc = corp_json_str(line, "event_type", &type, 1, err)) != 0 ||
	    (rc = corp_json_str(line, "actor", &actor, 0, err)) != 0 ||
	    (rc = corp_json_id(line, "task_id", &task, 0, err)) != 0)
		return rc;
	if (*key == '\0' || (rc = corp_text_check(key, 200,
	    "idempotency_key", err)) != 0)
		return rc ? rc : corp_errf(err, CORP_EINVAL,
		    "idempotency_key must not be empty");
	if (!token_valid(source))
		return corp_errf(err, CORP_EINVAL, "source: 1-64 of "
		    "A-Z a-z 0-9 . _ : -");
	if (!token_valid(type))
		return corp_errf(err, CORP_EINVAL, "event_type: 1-64 of "
		    "A-Z a-z 0-9 . _ : -");
	if (corp_event_type_reserved(type))
		return corp_errf(err, CORP_EINVAL, "event_type %s belongs to "
		    "the task state machine or the scheduler", type);
	v = json_object_get(line, "payload");
	if (v != NULL && !json_is_null(v) && !json_is_object(v))
		return corp_errf(err, CORP_EINVAL, "field \"payload\" must be "
		    "an object");
	recips = json_object_get(line, "recipients");
	if (recips != NULL && !json_is_null(recips) && !json_is_array(recips))
		return corp_errf(err, CORP_EINVAL, "field \"recipients\" must "
		    "be an array");
	if (actor != NULL && (rc = corp_dir_user_id(db, actor,
	    &e.actor_user_id, NULL, err)) != 0)
		return rc;
	out = json_array();
	json_array_foreach(recips, i, x) {
		if (!json_is_object(x) || json_object_size(x) != 2 ||
		    corp_json_str(x, "user", &login, 1, err) != 0 ||
		    corp_json_str(x, "role", &role, 1, err) != 0) {
			rc = corp_errf(err, CORP_EINVAL, "recipients[%zu]: "
			    "expected {\"user\": LOGIN, \"role\": ROLE}", i);
			goto out;
		}
		if (!token_valid(role)) {
			rc = corp_errf(err, CORP_EINVAL, "recipients[%zu]: "
			    "role: 1-64 of A-Z a-z 0-9 . _ : -", i);
			goto out;
		}
		if ((rc = corp_dir_user_id(db, login, &uid, NULL, err)) != 0)
			goto out;
		json_array_append_new(out, json_pack("{s:I, s:s}", "user_id",
		    (json_int_t)uid, "role", role));
	}
	if (task > 0) {
		/* The task's values now: routing judges visibility by them. */
		if ((rc = corp_db_prep(db, &st, "SELECT initiator_user_id, "
		    "assignee_user_id, assignee_org_unit_id, title, due_at, "
		    "template_id, period_key, version FROM tasks WHERE id = ?1",
		    err)) != 0)
			goto out;
		corp_bind_int64(st, 1, task);
		if ((rc = corp_step(st)) != SQLITE_ROW) {
			corp_reset(st);
			rc = rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
			    "task %lld: not found", task) :
			    corp_db_fail(db, rc, "read task", err);
			goto out;
		}
		e.task_id = task;
		e.initiator_user_id = corp_col_int64(st, 0);
		e.assignee_user_id = corp_col_int64(st, 1);
		e.assignee_org_unit_id = corp_col_int64(st, 2);
		e.title = corp_strdup(corp_col_text(st, 3));
		e.due_at = (time_t)corp_col_int64(st, 4);
		e.template_id = corp_col_int64(st, 5);
		e.period_key = corp_strdup(corp_col_text(st, 6));
		e.task_version = corp_col_int64(st, 7);
		corp_reset(st);
	}
	e.event_type = corp_strdup(type);
	e.source = corp_strdup(source);
	if (json_array_size(out) > 0)
		e.recipients = json_dumps(out, JSON_COMPACT);
	if (v != NULL && json_is_object(v))
		e.payload = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (corp_asprintf(&e.dedupe_key, "emit:%s:%s", source, key) < 0 ||
	    e.event_type == NULL || e.source == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = corp_event_append(db, &e, dup, err)) != 0)
		goto out;
	*id = e.event_id;
	*dedupe_key = e.dedupe_key;
	e.dedupe_key = NULL;
out:
	json_decref(out);
	corp_event_free(&e);
	return rc;
}
