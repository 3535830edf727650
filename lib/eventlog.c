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
#include "names.h"
#include "settings.h"
#include "task.h"
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
	struct corp_user_brief u;
	int rc;

	memset(v, 0, sizeof(*v));
	v->id = id;
	if ((rc = corp_dir_user_brief(db, id, &u, err)) != 0)
		return rc;
	v->active = u.active;
	v->admin = u.is_admin && corp_cfg.admin_all;
	return 0;
}

static void	visible(const struct corp_event *, const struct viewer *, int *);

int
corp_eventlog_topic_viewer(struct corp_db *db, long long uid, int *yes,
    struct corp_err *err)
{
	struct corp_event e;
	struct viewer v;
	int rc;

	if ((rc = viewer_load(db, uid, &v, err)) != 0)
		return rc;
	memset(&e, 0, sizeof(e));
	e.topic = "messages";
	visible(&e, &v, yes);
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

/*
 * The answers of the visibility function for one viewer, by subject:
 * the events of one task mostly share their values, so a listing asks
 * once per distinct (initiator, assignee user, unit, draft), not once
 * per event.  Valid for one call of the listing (one instant).
 */
#define SEEN_MAX 256
struct seen {
	struct corp_subject	s[SEEN_MAX];
	int			yes[SEEN_MAX];
	size_t			n;
	/* The last event's task, its own values and the subject they made. */
	long long		task;
	struct corp_subject	own, subj;
};

static int
may_see(struct corp_db *db, const struct corp_event *e,
    const struct viewer *v, struct seen *cache, int *yes,
    struct corp_err *err)
{
	struct corp_subject s;
	struct match m;
	size_t i;
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
	/* The task's draft flag now (visibility.h): one read per task. */
	if (cache != NULL && cache->task == e->task_id &&
	    memcmp(&cache->own, &s, sizeof(s)) == 0)
		s = cache->subj;
	else {
		struct corp_subject own = s;

		if ((rc = corp_event_subject(db, e->task_id, &s, err)) != 0)
			return rc;
		if (cache != NULL) {
			cache->task = e->task_id;
			cache->own = own;
			cache->subj = s;
		}
	}
	for (i = 0; cache != NULL && i < cache->n; i++)
		if (cache->s[i].initiator == s.initiator &&
		    cache->s[i].assignee_user == s.assignee_user &&
		    cache->s[i].assignee_unit == s.assignee_unit &&
		    cache->s[i].draft == s.draft)
			break;
	if (cache != NULL && i < cache->n)
		m.yes = cache->yes[i];
	else {
		m.uid = v->id;
		m.yes = 0;
		rc = corp_viewers_of(db, &s, corp_now(), match_user, &m, err);
		if (rc != 0 && rc != 1)
			return rc;
		if (cache != NULL) {
			if (cache->n == SEEN_MAX)
				cache->n = 0;
			cache->s[cache->n] = s;
			cache->yes[cache->n++] = m.yes;
		}
	}
	*yes = m.yes;
	/* Explicit recipients of an emitted task event: the intersection. */
	if (*yes && e->recipients != NULL)
		visible(e, v, yes);
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

/* Rows read per page when a viewer's filter may drop some. */
#define PAGE_MIN 128
#define PAGE_MAX 1024

/*
 * The limit counts the rows printed, not the rows read: for a viewer
 * who may not see every event, pages are read until the limit is
 * reached or the log ends, so a poller behind many events it may not
 * see still gets its own (and *last moves past all it examined).
 */
int
corp_eventlog_task_exists(struct corp_db *db, long long id,
    struct corp_err *err)
{
	return corp_task_exists(db, id, err);
}

int
corp_eventlog_list(struct corp_db *db, const struct corp_event_filter *f,
    json_t **array, long long *last, struct corp_err *err)
{
	struct corp_event *evs = NULL;
	struct seen *cache = NULL;
	struct viewer v;
	size_t n = 0, cap = 0, i;
	long long want, got = 0, page, after = f->after;
	char *base = NULL;
	int rc, yes, filter, done = 0;

	*array = NULL;
	*last = f->after;
	memset(&v, 0, sizeof(v));
	if (f->viewer > 0 && (rc = viewer_load(db, f->viewer, &v, err)) != 0)
		return rc;
	filter = f->viewer > 0 && !v.admin;
	if ((rc = corp_setting_get(db, "base_url", &base, err)) != 0)
		return rc;
	if ((*array = json_array()) == NULL || (filter &&
	    (cache = calloc(1, sizeof(*cache))) == NULL)) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	want = f->limit > 0 ? f->limit : LLONG_MAX;
	/* An inactive viewer sees nothing: nothing to read. */
	if (f->viewer > 0 && !v.active)
		goto out;
	while (!done) {
		page = want - got;
		if (filter)
			page = page < PAGE_MIN ? PAGE_MIN : page > PAGE_MAX ?
			    PAGE_MAX : page;
		for (i = 0; i < n; i++)
			corp_event_free(&evs[i]);
		if ((rc = corp_event_read(db, f, after, page, &evs, &cap, &n,
		    err)) != 0)
			goto out;
		done = (long long)n < page;
		for (i = 0; i < n; i++) {
			*last = after = evs[i].event_id;
			if (filter) {
				if ((rc = may_see(db, &evs[i], &v, cache, &yes,
				    err)) != 0)
					goto out;
				if (!yes)
					continue;
			}
			if (json_array_append_new(*array, event_json(&evs[i],
			    base)) != 0) {
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				goto out;
			}
			if (++got == want) {
				done = 1;
				break;
			}
		}
	}
out:
	for (i = 0; i < n; i++)
		corp_event_free(&evs[i]);
	free(evs);
	free(cache);
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
	    (rc = may_see(db, &e, &v, NULL, &yes, err)) != 0))
		goto out;
	if (!yes) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "event %lld: not visible "
		    "to this user", id);
		goto out;
	}
	if ((rc = corp_setting_get(db, "base_url", &base, err)) != 0)
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

/* A producer's trace id: 1-128 visible ASCII characters, so that the
 * "trace=ID" ending stderr lines stays one word. */
static int
trace_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] < '!' || s[n] > '~')
			return 0;
	return n > 0 && n <= 128;
}

/*
 * One emit line inside the batch's transaction.  Everything is checked
 * before the one write (corp_event_append), so a refused line leaves
 * nothing behind.
 */
static int
emit_tx(struct corp_db *db, json_t *line, const char *const *new_types,
    const char *const *new_roles, long long *id, char **dedupe_key, int *dup,
    struct corp_err *err)
{
	static const char *known[] = { "idempotency_key", "source",
	    "event_type", "actor", "task_id", "recipients", "payload",
	    "trace_id", NULL };
	const char *key, *source, *type, *actor, *k, *login, *role, *trace;
	const char *const *nt;
	struct corp_event e;
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
	    (rc = corp_json_id(line, "task_id", &task, 0, err)) != 0 ||
	    (rc = corp_json_str(line, "trace_id", &trace, 0, err)) != 0)
		return rc;
	if (trace != NULL && !trace_valid(trace))
		return corp_errf(err, CORP_EINVAL, "trace_id: 1-128 visible "
		    "ASCII characters (no space)");
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
	/* A type not seen before must be declared: a typo is not a type. */
	for (nt = new_types; nt != NULL && *nt != NULL; nt++)
		if (strcmp(*nt, type) == 0)
			break;
	if ((rc = corp_event_type_check(db, type, nt != NULL && *nt != NULL ?
	    CORP_NAME_NEW : CORP_NAME_HINT, err)) != 0)
		return rc;
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
		/* A role not seen before must be declared, as a type. */
		for (nt = new_roles; nt != NULL && *nt != NULL; nt++)
			if (strcmp(*nt, role) == 0)
				break;
		if ((rc = corp_role_check(db, role, nt != NULL && *nt != NULL ?
		    CORP_NAME_NEW : CORP_NAME_HINT, err)) != 0) {
			corp_errprefix(err, "recipients[%zu]", i);
			goto out;
		}
		if ((rc = corp_dir_user_id(db, login, &uid, NULL, err)) != 0)
			goto out;
		json_array_append_new(out, json_pack("{s:I, s:s}", "user_id",
		    (json_int_t)uid, "role", role));
	}
	if (task > 0) {
		/* The task's values now: routing judges visibility by them. */
		if ((rc = corp_task_values(db, task, &e, err)) != 0)
			goto out;
	}
	e.event_type = corp_strdup(type);
	e.source = corp_strdup(source);
	if (trace != NULL && (e.trace_id = strdup(trace)) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
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

struct emit_batch {
	struct corp_jsonl_item	*it;
	size_t			 n;
	const char *const	*new_types, *const *new_roles;
	corp_result_fn		 fn;
	void			*arg;
};

static int
emit_batch_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct emit_batch *a = arg;
	long long id;
	json_t *o;
	size_t i;
	char *key;
	int rc, dup;

	for (i = 0; i < a->n; i++) {
		rc = emit_tx(db, a->it[i].obj, a->new_types, a->new_roles,
		    &id, &key, &dup, err);
		if (rc == CORP_EINTERNAL || rc == CORP_ETEMP)
			return rc;
		if (rc != 0) {
			a->fn(a->arg, &a->it[i], rc, err, NULL);
			continue;
		}
		o = json_pack("{s:I, s:s, s:b}", "event_id", (json_int_t)id,
		    "dedupe_key", key, "duplicate", dup);
		free(key);
		if (o == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		a->fn(a->arg, &a->it[i], 0, err, o);
	}
	corp_errclear(err);
	return 0;
}

int
corp_eventlog_emit_batch(struct corp_db *db, struct corp_jsonl_item *it,
    size_t n, const char *const *new_types, const char *const *new_roles,
    corp_result_fn fn, void *arg, struct corp_err *err)
{
	struct emit_batch a = { it, n, new_types, new_roles, fn, arg };

	return corp_db_tx(db, emit_batch_tx, &a, err);
}

/* The bounded sleep between two polls of tail --follow. */
#define POLL_MS 200

int
corp_eventlog_tail(struct corp_db *db, struct corp_event_filter *f,
    int follow, long long count, int (*fn)(void *, json_t *),
    int (*flush)(void *), void *arg, struct corp_err *err)
{
	json_t *arr, *v;
	long long last, dv, ndv, printed = 0;
	size_t i;
	int rc;

	f->limit = 1000;
	/* The version first: a commit after it is seen by the next poll. */
	if ((rc = corp_db_data_version(db, &dv, err)) != 0)
		return rc;
	for (;;) {
		for (;;) {
			if ((rc = corp_eventlog_list(db, f, &arr, &last, err))
			    != 0)
				return rc;
			json_array_foreach(arr, i, v) {
				if ((rc = fn(arg, v)) != 0 ||
				    (count && ++printed >= count)) {
					json_decref(arr);
					return rc;
				}
			}
			json_decref(arr);
			if (last == f->after)
				break;
			f->after = last;
		}
		if (flush(arg) != 0 || !follow)
			return 0;
		do {
			if ((rc = corp_db_wait(db, POLL_MS, err)) != 0 ||
			    (rc = corp_db_schema_check(db, err)) != 0 ||
			    (rc = corp_db_data_version(db, &ndv, err)) != 0)
				return rc;
		} while (ndv == dv);
		dv = ndv;
	}
}
