/* event.c -- see event.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "event.h"
#include "jsonl.h"
#include "rand.h"

void
corp_event_free(struct corp_event *e)
{
	free(e->event_type);
	free(e->topic);
	free(e->state);
	free(e->period_key);
	free(e->reason);
	free(e->title);
	free(e->trace_id);
	free(e->dedupe_key);
	free(e->source);
	free(e->recipients);
	free(e->payload);
	memset(e, 0, sizeof(*e));
}

static char *
coldup(struct corp_stmt *st, int i)
{
	const char *s = corp_col_text(st, i);

	return s ? strdup(s) : NULL;
}

void
corp_event_from_row(void *stmt, int c, struct corp_event *e)
{
	struct corp_stmt *st = stmt;

	memset(e, 0, sizeof(*e));
	e->event_id = corp_col_int64(st, c + 0);
	e->event_type = coldup(st, c + 1);
	e->topic = coldup(st, c + 2);
	e->occurred_at = (time_t)corp_col_int64(st, c + 3);
	e->task_id = corp_col_int64(st, c + 4);
	e->task_version = corp_col_int64(st, c + 5);
	e->state = coldup(st, c + 6);
	e->report_id = corp_col_int64(st, c + 7);
	e->actor_user_id = corp_col_int64(st, c + 8);
	e->on_behalf_of_user_id = corp_col_int64(st, c + 9);
	e->initiator_user_id = corp_col_int64(st, c + 10);
	e->assignee_user_id = corp_col_int64(st, c + 11);
	e->assignee_org_unit_id = corp_col_int64(st, c + 12);
	e->previous_assignee_user_id = corp_col_int64(st, c + 13);
	e->previous_assignee_org_unit_id = corp_col_int64(st, c + 14);
	e->period_key = coldup(st, c + 15);
	e->autoev = corp_col_int(st, c + 16);
	e->reason = coldup(st, c + 17);
	e->title = coldup(st, c + 18);
	e->due_at = (time_t)corp_col_int64(st, c + 19);
	e->template_id = corp_col_int64(st, c + 20);
	e->trace_id = coldup(st, c + 21);
	e->dedupe_key = coldup(st, c + 22);
	e->source = coldup(st, c + 23);
	e->recipients = coldup(st, c + 24);
	e->payload = coldup(st, c + 25);
}

int
corp_event_get(struct corp_db *db, long long id, struct corp_event *e,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT " CORP_EVENT_COLUMNS
	    " FROM events WHERE event_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		corp_event_from_row(st, 0, e);
		corp_reset(st);
		return 0;
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "event %lld: not found",
		    id);
	return corp_db_fail(db, rc, "read event", err);
}

int
corp_event_page(struct corp_db *db, long long after, int limit,
    struct corp_event *evs, size_t *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*n = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT " CORP_EVENT_COLUMNS
	    " FROM events WHERE event_id > ?1 ORDER BY event_id LIMIT ?2",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, after);
	corp_bind_int(st, 2, limit);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		corp_event_from_row(st, 0, &evs[(*n)++]);
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read events", err);
	return 0;
}

int
corp_event_last_id(struct corp_db *db, long long *out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st,
	    "SELECT coalesce(max(event_id), 0) FROM events", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		corp_reset(st);
		return corp_db_fail(db, rc, "read events", err);
	}
	*out = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

static void
bind_time(struct corp_stmt *st, int i, time_t t)
{
	if (t == 0)
		corp_bind_null(st, i);
	else
		corp_bind_int64(st, i, (long long)t);
}

int
corp_event_append(struct corp_db *db, struct corp_event *e, int *dup,
    struct corp_err *err)
{
	struct corp_stmt *st;
	char trace[33];
	int rc;

	*dup = 0;
	if (e->occurred_at == 0)
		e->occurred_at = corp_now();
	if (e->trace_id == NULL) {
		if (corp_nonce_hex(trace, 16) != 0)
			return corp_errf(err, CORP_EINTERNAL, "trace id");
		if ((e->trace_id = strdup(trace)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	/* An existing key: the event was written before; nothing new. */
	if ((rc = corp_db_prep(db, &st,
	    "SELECT event_id FROM events WHERE dedupe_key = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, e->dedupe_key);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		e->event_id = corp_col_int64(st, 0);
		corp_reset(st);
		*dup = 1;
		return 0;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read events", err);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO events (event_type, "
	    "topic, occurred_at, task_id, task_version, state, report_id, "
	    "actor_user_id, on_behalf_of_user_id, initiator_user_id, "
	    "assignee_user_id, assignee_org_unit_id, "
	    "previous_assignee_user_id, previous_assignee_org_unit_id, "
	    "period_key, auto, reason, title, due_at, template_id, trace_id, "
	    "dedupe_key, source, recipients, payload) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	    "?19, ?20, ?21, ?22, ?23, ?24, ?25) RETURNING event_id", err)) != 0)
		return rc;
	corp_bind_text(st, 1, e->event_type);
	corp_bind_text(st, 2, e->topic);
	corp_bind_int64(st, 3, (long long)e->occurred_at);
	corp_bind_id(st, 4, e->task_id);
	corp_bind_id(st, 5, e->task_version);
	corp_bind_text(st, 6, e->state);
	corp_bind_id(st, 7, e->report_id);
	corp_bind_id(st, 8, e->actor_user_id);
	corp_bind_id(st, 9, e->on_behalf_of_user_id);
	corp_bind_id(st, 10, e->initiator_user_id);
	corp_bind_id(st, 11, e->assignee_user_id);
	corp_bind_id(st, 12, e->assignee_org_unit_id);
	corp_bind_id(st, 13, e->previous_assignee_user_id);
	corp_bind_id(st, 14, e->previous_assignee_org_unit_id);
	corp_bind_text(st, 15, e->period_key);
	corp_bind_int(st, 16, e->autoev != 0);
	corp_bind_text(st, 17, e->reason);
	corp_bind_text(st, 18, e->title);
	bind_time(st, 19, e->due_at);
	corp_bind_id(st, 20, e->template_id);
	corp_bind_text(st, 21, e->trace_id);
	corp_bind_text(st, 22, e->dedupe_key);
	corp_bind_text(st, 23, e->source);
	corp_bind_text(st, 24, e->recipients);
	corp_bind_text(st, 25, e->payload);
	return corp_db_insert(db, st, &e->event_id, "append event", err);
}

/* BASE/tasks/T, BASE/tasks/T/report, BASE/tasks/T/reports/R */
static json_t *
link(const char *base, long long task, const char *what, long long report)
{
	char *s;
	json_t *v;
	int n;

	if (report > 0)
		n = corp_asprintf(&s, "%s/tasks/%lld/reports/%lld",
		    base ? base : "", task, report);
	else
		n = corp_asprintf(&s, "%s/tasks/%lld%s", base ? base : "",
		    task, what);
	if (n < 0)
		return json_null();
	v = json_string(s);
	free(s);
	return v;
}

json_t *
corp_event_json(const struct corp_event *e, const char *base)
{
	json_t *o, *links, *payload = NULL;

	if (base != NULL) {
		size_t n = strlen(base);

		/* base_url "https://x/" and "https://x" give the same links */
		while (n > 0 && base[n - 1] == '/')
			n--;
		base = n > 0 ? strndup(base, n) : NULL;
	}
	o = json_object();
	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "event_id", json_integer(e->event_id));
	json_object_set_new(o, "event_type", json_string(e->event_type));
	if (e->topic != NULL)
		json_object_set_new(o, "topic", json_string(e->topic));
	json_object_set_new(o, "occurred_at", corp_json_time(e->occurred_at));
	json_object_set_new(o, "task_id", corp_json_idval(e->task_id));
	if (e->task_version > 0)
		json_object_set_new(o, "task_version",
		    json_integer(e->task_version));
	if (e->state != NULL)
		json_object_set_new(o, "state", json_string(e->state));
	json_object_set_new(o, "report_id", corp_json_idval(e->report_id));
	json_object_set_new(o, "actor_user_id",
	    corp_json_idval(e->actor_user_id));
	json_object_set_new(o, "on_behalf_of_user_id",
	    corp_json_idval(e->on_behalf_of_user_id));
	json_object_set_new(o, "initiator_user_id",
	    corp_json_idval(e->initiator_user_id));
	json_object_set_new(o, "assignee_user_id",
	    corp_json_idval(e->assignee_user_id));
	json_object_set_new(o, "assignee_org_unit_id",
	    corp_json_idval(e->assignee_org_unit_id));
	json_object_set_new(o, "previous_assignee_user_id",
	    corp_json_idval(e->previous_assignee_user_id));
	json_object_set_new(o, "previous_assignee_org_unit_id",
	    corp_json_idval(e->previous_assignee_org_unit_id));
	json_object_set_new(o, "period_key", corp_json_strval(e->period_key));
	json_object_set_new(o, "auto", json_boolean(e->autoev));
	json_object_set_new(o, "reason", corp_json_strval(e->reason));
	json_object_set_new(o, "title", corp_json_strval(e->title));
	json_object_set_new(o, "due_at", corp_json_time(e->due_at));
	json_object_set_new(o, "template_id", corp_json_idval(e->template_id));
	json_object_set_new(o, "trace_id", corp_json_strval(e->trace_id));
	if (e->source != NULL)
		json_object_set_new(o, "source", json_string(e->source));
	links = json_object();
	if (e->task_id > 0) {
		json_object_set_new(links, "task", link(base, e->task_id, "", 0));
		json_object_set_new(links, "report", link(base,
		    e->task_id, "/report", 0));
		if (e->report_id > 0)
			json_object_set_new(links, "report_version", link(base,
			    e->task_id, "", e->report_id));
	}
	json_object_set_new(o, "links", links);
	if (e->payload != NULL)
		payload = json_loads(e->payload, 0, NULL);
	json_object_set_new(o, "payload", payload ? payload : json_object());
	free((char *)base);
	return o;
}

/*
 * Is role the role of an explicit recipient of an emitted event?  The
 * recipients are compact JSON, so a LIKE narrows the rows (SQLite's
 * LIKE ignores case: each candidate is confirmed on the parsed JSON).
 */
int
corp_event_role_emitted(struct corp_db *db, const char *role, int *yes,
    struct corp_err *err)
{
	struct corp_stmt *st;
	char *pat, *q;
	const char *p;
	json_t *a, *x;
	size_t i;
	int rc;

	*yes = 0;
	/* Roles are [A-Za-z0-9._:-]: only '_' needs escaping. */
	if ((pat = malloc(2 * strlen(role) + 16)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	q = pat + sprintf(pat, "%%\"role\":\"");
	for (p = role; *p != '\0'; p++) {
		if (*p == '_' || *p == '%' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	strcpy(q, "\"%");
	if ((rc = corp_db_prep(db, &st, "SELECT recipients FROM events "
	    "WHERE source IS NOT NULL AND recipients LIKE ?1 ESCAPE '\\'",
	    err)) != 0) {
		free(pat);
		return rc;
	}
	corp_bind_text(st, 1, pat);
	while (!*yes && (rc = corp_step(st)) == SQLITE_ROW) {
		if ((a = json_loads(corp_col_text(st, 0), 0, NULL)) == NULL)
			continue;
		json_array_foreach(a, i, x)
			if (json_is_string(json_object_get(x, "role")) &&
			    strcmp(json_string_value(json_object_get(x,
			    "role")), role) == 0)
				*yes = 1;
		json_decref(a);
	}
	corp_reset(st);
	free(pat);
	if (!*yes && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read events", err);
	return 0;
}

/* For names.c (issue 17 point 6: events are read here). */
int
corp_event_type_seen(struct corp_db *db, const char *type, int topics,
    int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	/* events_type makes the lookup indexed. */
	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM events "
	    "WHERE event_type = ?1 AND (?2 = 1 OR topic IS NULL) LIMIT 1",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, type);
	corp_bind_int(st, 2, topics);
	return corp_db_exists(db, st, yes, "read names", err);
}

int
corp_event_recent_types(struct corp_db *db,
    void (*fn)(void *, const char *), void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT DISTINCT event_type FROM "
	    "(SELECT event_type FROM events WHERE topic IS NULL ORDER BY "
	    "event_id DESC LIMIT 10000) r ORDER BY 1", err)) != 0)
		return rc;
	while ((rc = corp_step(st)) == SQLITE_ROW)
		fn(arg, corp_col_text(st, 0));
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read names", err);
	return 0;
}

int
corp_event_recent_roles(struct corp_db *db,
    void (*fn)(void *, const char *), void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *a, *x;
	size_t i;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT recipients FROM events "
	    "WHERE source IS NOT NULL AND recipients IS NOT NULL "
	    "ORDER BY event_id DESC LIMIT 1000", err)) != 0)
		return rc;
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((a = json_loads(corp_col_text(st, 0), 0, NULL)) == NULL)
			continue;
		json_array_foreach(a, i, x)
			if (json_string_value(json_object_get(x, "role")))
				fn(arg, json_string_value(json_object_get(x,
				    "role")));
		json_decref(a);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read events", err);
	return 0;
}

/* The filtered listing of corp-event list and tail (eventlog.c). */
static const char LIST_SQL[] =
    "SELECT " CORP_EVENT_COLUMNS " FROM events "
    "WHERE event_id > ?1 AND (?2 IS NULL OR task_id = ?2) "
    "AND (?3 IS NULL OR event_type = ?3) AND (?4 IS NULL OR topic = ?4) "
    "AND (?8 = 0 OR topic IS NOT NULL) "
    "AND (?5 IS NULL OR occurred_at >= ?5) "
    "AND (?6 IS NULL OR occurred_at < ?6) ORDER BY event_id LIMIT ?7";

/*
 * Read up to page events past after into *evs (reallocated as needed);
 * *n gets how many.  The statement is done before the caller asks the
 * visibility function: both need the one connection.
 */
int
corp_event_read(struct corp_db *db, const struct corp_event_filter *f,
    long long after, long long page, struct corp_event **evs, size_t *cap,
    size_t *n, struct corp_err *err)
{
	struct corp_event *ne;
	struct corp_stmt *st;
	int rc;

	*n = 0;
	if ((rc = corp_db_prep(db, &st, LIST_SQL, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, after);
	corp_bind_id(st, 2, f->task_id);
	corp_bind_text(st, 3, f->type);
	corp_bind_text(st, 4, f->topic);
	if (f->since)
		corp_bind_int64(st, 5, (long long)f->since);
	if (f->until)
		corp_bind_int64(st, 6, (long long)f->until);
	corp_bind_int64(st, 7, page);
	corp_bind_int(st, 8, f->topics_only);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;

			if ((ne = reallocarray(*evs, nc, sizeof(*ne))) == NULL) {
				corp_reset(st);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
			*evs = ne;
			*cap = nc;
		}
		corp_event_from_row(st, 0, &(*evs)[(*n)++]);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "list events", err);
	return 0;
}
