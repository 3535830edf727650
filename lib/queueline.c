/*
 * queueline.c -- the delivery line (DESIGN 5 "The line"; corp-json.5):
 * built from the columns of a claim (CLAIM_COLS) with the event and the
 * names it carries, and parsed back from an ack line.  The state
 * machine that leases and acks rows is queue.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "event.h"
#include "jsonl.h"
#include "pushsub.h"
#include "text.h"
#include "queue.h"
#include "queue_int.h"

void
corp_queueline_names_clear(struct corp_queueline_names *n)
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
    struct corp_queueline_names *n, struct corp_err *err)
{
	struct corp_event ev;
	int rc;

	if (n->event_id == eid)
		return 0;
	corp_queueline_names_clear(n);
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

/*
 * Lease the claimed rows with one statement over their ids (a JSON
 * array bound as text, json_each), not one UPDATE per row (issue 18,
 * lever 4).  SQLite only: PostgreSQL's claim leases in its own
 * statement (queue.c, claim_pg).
 */
static int
lease_rows(struct corp_db *db, const long long *ids, size_t nids,
    const struct corp_claim *cl, time_t now, const char *token,
    struct corp_err *err)
{
	struct corp_stmt *up;
	char *arr, *p;
	size_t i;
	int rc;

	/* "[" + up to 20 digits and a comma per id + "]" */
	if ((arr = malloc(nids * 21 + 3)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	p = arr;
	*p++ = '[';
	for (i = 0; i < nids; i++)
		p += sprintf(p, "%s%lld", i ? "," : "", ids[i]);
	*p++ = ']';
	*p = '\0';
	if ((rc = corp_db_prep(db, &up, "UPDATE deliveries SET "
	    "lease_token = ?2, lease_until = ?3, worker = ?4, "
	    "updated_at = ?5, " LEASE_TOKENS_SET("?2")
	    " WHERE id IN (SELECT value FROM json_each(?1)) "
	    /* +: by the ids, never through deliveries_status (O(queue)) */
	    "AND +status = 'PENDING'", err)) != 0) {
		free(arr);
		return rc;
	}
	corp_bind_text(up, 1, arr);
	corp_bind_text(up, 2, token);
	corp_bind_int64(up, 3, (long long)(now + (time_t)cl->lease_secs));
	corp_bind_text(up, 4, cl->worker);
	corp_bind_int64(up, 5, (long long)now);
	rc = corp_db_exec(db, up, "lease", err);
	free(arr);
	return rc;
}

/*
 * The delivery lines of the rows st selects (CLAIM_COLS), at most
 * limit; with lease set, the rows are leased to token once read
 * (SQLite: the writer holds the database, nobody else can claim).
 */
int
corp_queueline_claim(struct corp_db *db, struct corp_stmt *st,
    const struct corp_claim *cl, time_t now, const char *token,
    const char *base, json_t *lines, int limit, int lease,
    struct corp_queueline_names *nm, struct corp_err *err)
{
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
		/* A digest's row (corp-json.5 "digest"): stored by route. */
		if (corp_col_text(st, 14) != NULL) {
			json_t *g = json_loads(corp_col_text(st, 14), 0, NULL);

			if (json_is_object(g))
				json_object_set_new(o, "digest", g);
			else
				json_decref(g);
		}
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
	}
	if (!cl->peek && lease && nids > 0 &&
	    (rc = lease_rows(db, ids, nids, cl, now, token, err)) != 0)
		goto out;
	json_array_extend(lines, rows);
out:
	json_decref(rows);
	free(ids);
	return rc;
}

int
corp_queue_print_lines(FILE *f, json_t *lines, size_t *printed)
{
	json_t *o, *ev, *cached = NULL;
	char *text = NULL;
	size_t i, tlen = 0;
	int rc = 0;

	/*
	 * The lines of one event share its event object (load_names):
	 * serialised once per event, not once per row (issue 18, lever 5:
	 * the event is over half of each line).
	 */
	json_array_foreach(lines, i, o) {
		ev = json_object_get(o, "event");
		if (ev != NULL && ev != cached) {
			free(text);
			text = json_dumps(ev, JSON_COMPACT |
			    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
			cached = text != NULL ? ev : NULL;
			tlen = text != NULL ? strlen(text) : 0;
		}
		if ((rc = ev != NULL && ev == cached ?
		    corp_out_json_last(f, o, "event", text, tlen) :
		    corp_out_json(f, o)) != 0)
			break;
	}
	*printed = i;
	free(text);
	return rc;
}

/* A user without a language gets fallback_lang (corp-json.5: "lang"). */
void
corp_queueline_fill_lang(json_t *lines, const char *fallback)
{
	json_t *o;
	size_t i;

	json_array_foreach(lines, i, o)
		if (!json_is_string(json_object_get(o, "lang")))
			json_object_set_new(o, "lang", json_string(fallback));
}

/*
 * The line's "error", made fit for the database it is stored in and the
 * person who reads it there (explain, dlq): controls and invisible
 * format characters each one '?' (corp_server_text; fresh-eyes round 8).
 * The member is replaced only when cleaning changed it, so a pointer from
 * an earlier parse of the same line stays valid.  NULL: none, or no memory.
 */
static const char *
clean_error(json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "error"));
	char *c;
	int changed;

	if (s == NULL || (c = strdup(s)) == NULL)
		return NULL;
	corp_server_text(c);
	changed = strcmp(c, s) != 0;
	if (changed && json_object_set_new(o, "error", json_string(c)) != 0) {
		free(c);
		return NULL;
	}
	free(c);
	return json_string_value(json_object_get(o, "error"));
}

const char *
corp_queueline_ack_parse(json_t *o, struct ackline *a)
{
	json_t *v;

	memset(a, 0, sizeof(*a));
	a->attempted = 1;
	/* "missing" only for what is missing: a present field of the
	 * wrong type is named as the other typed fields are (corp-json.5
	 * "The ack line"; sec-review-21b LOW 8). */
	v = json_object_get(o, "delivery_id");
	if (v == NULL || json_is_null(v))
		return "missing delivery_id";
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return "delivery_id: expected a positive integer";
	a->id = json_integer_value(v);
	v = json_object_get(o, "lease");
	if (v == NULL || json_is_null(v))
		return "missing lease";
	if ((a->lease = json_string_value(v)) == NULL)
		return "lease: expected a string";
	a->result = json_string_value(json_object_get(o, "result"));
	if (a->result == NULL || (strcmp(a->result, "sent") != 0 &&
	    strcmp(a->result, "retry") != 0 && strcmp(a->result, "failed") !=
	    0 && strcmp(a->result, "unbound") != 0))
		return "missing or unknown result (sent|retry|failed|unbound)";
	if ((a->error = clean_error(o)) == NULL &&
	    json_is_string(json_object_get(o, "error")))
		return "out of memory";
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
