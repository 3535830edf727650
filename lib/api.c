/* api.c -- see api.h. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corp.h"
#include "analysis.h"
#include "api.h"
#include "apitoken.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"
#include "metrics.h"
#include "message.h"
#include "names.h"
#include "proposal.h"
#include "queue.h"
#include "task.h"
#include "text.h"
#include "tgspool.h"

/* A client's text in an error: 64 bytes at most (corp_text_shown). */
#define SHOWN	65
#define SEGS	5	/* /api/runs/ID/proposals: 4 */

struct call {
	struct corp_api		*api;
	const struct corp_api_req *req;
	struct corp_api_resp	*resp;
	const char		*seg[SEGS];
	long long		 id;	/* the {id} segment */
	long long		 uid;
	const char		*login;
	json_t			*body;	/* the parsed body: an object */
	struct corp_err		 err;
};

typedef void (*handler_fn)(struct call *);

void
corp_api_error(struct corp_api_resp *r, int status, const char *msg)
{
	char *fit;

	json_decref(r->body);
	r->status = status;
	r->body = json_pack("{ss}", "error", msg);
	/* A message cut inside a character (a long value a client sent):
	 * jansson takes only UTF-8, and the answer was a 500. */
	if (r->body == NULL && msg != NULL && (fit = strdup(msg)) != NULL) {
		corp_text_fit(fit);
		r->body = json_pack("{ss}", "error", fit);
		free(fit);
	}
}

/* What a corp code means to an HTTP client (corp-api.1 STATUS CODES). */
static int
http_status(int code)
{
	switch (code) {
	case CORP_EUSAGE:
	case CORP_EINVAL:	return 400;
	case CORP_EFORBIDDEN:	return 403;
	case CORP_ENOTFOUND:	return 404;
	case CORP_ECONFLICT:	return 409;
	case CORP_ETEMP:	return 503;
	default:		return 500;
	}
}

static void
fail(struct call *c, int code)
{
	corp_api_error(c->resp, http_status(code), c->err.msg);
	if (code == CORP_ETEMP)
		c->resp->retry_after = 1;
}

static void
answer(struct call *c, int status, json_t *o)
{
	if (o == NULL) {
		corp_api_error(c->resp, 500, "out of memory");
		return;
	}
	json_decref(c->resp->body);
	c->resp->status = status;
	c->resp->body = o;
}

/* {"KEY": array}, or a failure. */
static void
answer_list(struct call *c, int rc, const char *key, json_t *arr)
{
	if (rc != 0) {
		fail(c, rc);
		return;
	}
	answer(c, 200, json_pack("{so}", key, arr));
}

/* ---- input fields ---------------------------------------------------- */

/* Refuse a field outside allowed (NULL-terminated), with a suggestion. */
static int
fields_known(struct call *c, const char *const *allowed)
{
	const char *k, *near;
	char shown[SHOWN];
	json_t *v;
	size_t i;

	json_object_foreach(c->body, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		near = corp_suggest(k, allowed, 2);
		corp_text_shown(shown, sizeof(shown), k);
		if (near != NULL)
			return corp_errf(&c->err, CORP_EINVAL, "body: unknown "
			    "field \"%s\" (did you mean \"%s\"?)", shown,
			    near);
		return corp_errf(&c->err, CORP_EINVAL, "body: unknown field "
		    "\"%s\"", shown);
	}
	return 0;
}

static int
field_int(struct call *c, const char *key, long long min, long long max,
    long long *out, int *has)
{
	json_t *v = json_object_get(c->body, key);

	*has = v != NULL && !json_is_null(v);
	if (!*has)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return corp_errf(&c->err, CORP_EINVAL, "body: \"%s\" must be "
		    "an integer in %lld..%lld", key, min, max);
	*out = json_integer_value(v);
	return 0;
}

static int
field_str(struct call *c, const char *key, const char **out)
{
	json_t *v = json_object_get(c->body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return corp_errf(&c->err, CORP_EINVAL, "body: \"%s\" must be "
		    "a non-empty string", key);
	*out = json_string_value(v);
	return 0;
}

static int
field_time(struct call *c, const char *key, time_t *out, int *has)
{
	const char *s;
	int rc;

	if ((rc = field_str(c, key, &s)) != 0)
		return rc;
	if ((*has = s != NULL) == 0)
		return 0;
	if (corp_time_parse(s, out, &c->err) != 0)
		return corp_errprefix(&c->err, "body: \"%s\"", key);
	return 0;
}

static int
need(struct call *c, int has, const char *key)
{
	if (has)
		return 0;
	return corp_errf(&c->err, CORP_EINVAL, "body: \"%s\" is required",
	    key);
}

/* A query parameter, or NULL. */
static const char *
query(struct call *c, const char *name)
{
	return json_string_value(json_object_get(c->req->query, name));
}

/*
 * A number parameter: a plain decimal, '-' before it where min is
 * negative (a chat id), as Content-Length is judged: a sign '+', a
 * leading zero, a blank are 400, not read past (strtonum took "+5" and
 * "05": a proxy may read such a number otherwise; sec-review-17a).
 */
static int
query_int(struct call *c, const char *name, long long min, long long max,
    long long *out, int *has)
{
	const char *s = query(c, name), *es = NULL, *d;
	char shown[SHOWN];
	long long v = 0;
	size_t n;
	int neg;

	*has = s != NULL;
	if (s == NULL)
		return 0;
	neg = s[0] == '-' && min < 0;
	d = s + neg;
	n = strlen(d);
	if (n == 0 || strspn(d, "0123456789") != n ||
	    (d[0] == '0' && (n > 1 || neg)))
		es = "not a plain decimal";
	else if (corp_plain_decimal(d, n, LLONG_MAX, &v) != 0)
		es = neg ? "too small" : "too large";
	else if ((v = neg ? -v : v) < min)
		es = "too small";
	else if (v > max)
		es = "too large";
	if (es != NULL)
		return corp_errf(&c->err, CORP_EINVAL, "query: %s: '%s' is %s "
		    "(expected %lld..%lld)", name, corp_text_shown(shown,
		    sizeof(shown), s), es, min, max);
	*out = v;
	return 0;
}

/*
 * The route's parameters (corp-api.1 lists each route's): any other
 * name is 400, with a "did you mean".  Ignored, a misspelt filter
 * (State=DONE, state[]=OPEN) answered the unfiltered list.
 */
static int
query_known(struct call *c, const char *const *names)
{
	static const char *const none[] = { NULL };
	const char *k, *near;
	json_t *v;
	size_t i;

	if (names == NULL)
		names = none;
	json_object_foreach(c->req->query, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] != NULL)
			continue;
		if (names[0] == NULL)
			return corp_errf(&c->err, CORP_EINVAL, "query: %s: "
			    "unknown parameter (this route takes none)",
			    strlen(k) <= 64 ? k : "a parameter");
		near = corp_suggest(k, names, 2);
		return corp_errf(&c->err, CORP_EINVAL, "query: %s: unknown "
		    "parameter%s%s%s", strlen(k) <= 64 ? k : "a parameter",
		    near ? " (did you mean '" : "", near ? near : "",
		    near ? "'?)" : "");
	}
	return 0;
}

/* ---- handlers ------------------------------------------------------- */

static const char *const run_statuses[] = { "pending", "running",
	"completed", "failed", "reviewed", "closed", "cancelled", NULL };
static const char *const proposal_statuses[] = { "pending", "approved",
	"rejected", "merged", NULL };

static int
status_arg(struct call *c, const char *const *words, const char **out)
{
	const char *s = query(c, "status"), *near;
	char shown[SHOWN];
	size_t i;

	*out = s;
	if (s == NULL)
		return 0;
	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return 0;
	near = corp_suggest(s, words, 2);
	return corp_errf(&c->err, CORP_EINVAL, "query: status: unknown '%s'%s%s"
	    "%s", corp_text_shown(shown, sizeof(shown), s), near ?
	    " (did you mean '" : "", near ? near : "",
	    near ? "'?)" : "");
}

static void
h_me(struct call *c)
{
	json_t *o;
	int rc;

	if ((rc = corp_dir_user_json(c->api->db, c->uid, &o, &c->err)) != 0)
		fail(c, rc);
	else
		answer(c, 200, o);
}

/* The reads of runs, proposals and messages: an active admin's; and
 * the changes are judged so before anything is looked up, so that a
 * token that may not make them learns nothing of what exists (which
 * proposals, tasks, logins: fresh-eyes round 7).  The lib call then
 * checks again, as the command line's --as does. */
static int
reader(struct call *c)
{
	int rc;

	if ((rc = corp_analysis_reader(c->api->db, c->login, &c->err)) != 0)
		fail(c, rc);
	return rc;
}

static void
run_answer(struct call *c, int status, long long id)
{
	json_t *o;
	int rc;

	if ((rc = corp_analysis_json(c->api->db, id, &o, &c->err)) != 0)
		fail(c, rc);
	else
		answer(c, status, o);
}

static void
h_runs(struct call *c)
{
	long long chat = 0;
	const char *status;
	json_t *arr = NULL;
	int rc, has;

	if (reader(c) != 0)
		return;
	if ((rc = query_int(c, "chat", LLONG_MIN + 1, LLONG_MAX, &chat,
	    &has)) != 0 || (rc = status_arg(c, run_statuses, &status)) != 0) {
		fail(c, rc);
		return;
	}
	rc = corp_analysis_list(c->api->db, has, chat, status, &arr, &c->err);
	answer_list(c, rc, "runs", arr);
}

static void
h_run_create(struct call *c)
{
	static const char *const allowed[] = { "chat_id", "from", "until",
		"min_length", "keywords", "require_mention", NULL };
	struct corp_analysis_new n = { .as = c->login,
	    .min_length = CORP_ANALYSIS_MIN_LENGTH };
	const char **kw = NULL;
	json_t *v, *k;
	long long id;
	size_t i;
	int rc, has_chat, has_from, has_until, has;

	if (reader(c) != 0)
		return;
	if ((rc = fields_known(c, allowed)) != 0 ||
	    (rc = field_int(c, "chat_id", LLONG_MIN + 1, LLONG_MAX,
	    &n.chat_id, &has_chat)) != 0 ||
	    (rc = need(c, has_chat, "chat_id")) != 0 ||
	    (rc = field_time(c, "from", &n.from, &has_from)) != 0 ||
	    (rc = need(c, has_from, "from")) != 0 ||
	    (rc = field_time(c, "until", &n.until, &has_until)) != 0 ||
	    (rc = need(c, has_until, "until")) != 0 ||
	    (rc = field_int(c, "min_length", 0, 1000000, &n.min_length,
	    &has)) != 0)
		goto out;
	if ((v = json_object_get(c->body, "require_mention")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			rc = corp_errf(&c->err, CORP_EINVAL, "body: "
			    "\"require_mention\" must be true or false");
			goto out;
		}
		n.require_mention = json_is_true(v);
	}
	if ((v = json_object_get(c->body, "keywords")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_array(v) || json_array_size(v) > 64) {
			rc = corp_errf(&c->err, CORP_EINVAL, "body: "
			    "\"keywords\" must be an array of at most 64 "
			    "strings");
			goto out;
		}
		if ((kw = calloc(json_array_size(v) + 1, sizeof(*kw))) ==
		    NULL) {
			rc = corp_errf(&c->err, CORP_EINTERNAL, "out of "
			    "memory");
			goto out;
		}
		json_array_foreach(v, i, k) {
			if (!json_is_string(k) || json_string_length(k) == 0 ||
			    strlen(json_string_value(k)) !=
			    json_string_length(k)) {
				rc = corp_errf(&c->err, CORP_EINVAL, "body: "
				    "keywords[%zu] must be a non-empty string",
				    i);
				goto out;
			}
			kw[i] = json_string_value(k);
		}
		n.keywords = kw;
	}
	rc = corp_analysis_create(c->api->db, &n, &id, &c->err);
out:
	free(kw);
	if (rc != 0)
		fail(c, rc);
	else
		run_answer(c, 201, id);
}

static void
h_run_show(struct call *c)
{
	if (reader(c) == 0)
		run_answer(c, 200, c->id);
}

static void
h_run_start(struct call *c)
{
	int rc;

	if (reader(c) != 0)
		return;
	if ((rc = fields_known(c, (const char *const[]){ NULL })) != 0 ||
	    (rc = corp_analysis_begin(c->api->db, c->id, c->login,
	    c->api->proposer, c->api->lease_s, &c->resp->job,
	    &c->err)) != 0) {
		fail(c, rc);
		return;
	}
	c->resp->job_run = c->id;
	run_answer(c, 202, c->id);
}

/* review, close, cancel */
static void
h_run_step(struct call *c)
{
	const char *verb = c->seg[3];
	json_t *o;
	const char *st;
	int rc;

	if (reader(c) != 0)
		return;
	if ((rc = fields_known(c, (const char *const[]){ NULL })) == 0 &&
	    (rc = corp_analysis_step(c->api->db, c->id, verb, c->login,
	    &c->err)) == 0) {
		run_answer(c, 200, c->id);
		return;
	}
	fail(c, rc);
	/* The seed's 400: a reviewed run that still has pending
	 * proposals; any other state conflict stays 409. */
	if (rc == CORP_ECONFLICT && strcmp(verb, "close") == 0 &&
	    corp_analysis_json(c->api->db, c->id, &o, NULL) == 0) {
		st = json_string_value(json_object_get(o, "status"));
		if (st != NULL && strcmp(st, "reviewed") == 0 &&
		    json_integer_value(json_object_get(o,
		    "proposals_pending")) > 0)
			c->resp->status = 400;
		json_decref(o);
	}
}

static void
h_run_proposals(struct call *c)
{
	const char *status;
	json_t *arr = NULL, *o;
	int rc;

	if (reader(c) != 0)
		return;
	if ((rc = status_arg(c, proposal_statuses, &status)) != 0 ||
	    (rc = corp_analysis_json(c->api->db, c->id, &o, &c->err)) != 0) {
		fail(c, rc);
		return;
	}
	json_decref(o);
	rc = corp_proposal_list(c->api->db, c->id, status, &arr, &c->err);
	answer_list(c, rc, "proposals", arr);
}

/* The proposal as it stands, or the failure rc of what changed it. */
static void
proposal_answer(struct call *c, long long id, int rc)
{
	json_t *o;

	if (rc == 0)
		rc = corp_proposal_json(c->api->db, id, &o, &c->err);
	if (rc != 0)
		fail(c, rc);
	else
		answer(c, 200, o);
}

static void
h_proposal_show(struct call *c)
{
	if (reader(c) == 0)
		proposal_answer(c, c->id, 0);
}

/* approve, reject, merge: corp-proposal's options as fields. */
static void
h_decide(struct call *c)
{
	static const char *const approve[] = { "assignee", "unit", "due_at",
		NULL };
	static const char *const reject[] = { "reason", NULL };
	static const char *const merge[] = { "task_id", NULL };
	struct corp_decision d = { .verb = c->seg[3], .id = c->id,
	    .as = c->login };
	int rc, has;

	if (reader(c) != 0)
		return;
	switch (d.verb[0]) {
	case 'a':
		if ((rc = fields_known(c, approve)) != 0 ||
		    (rc = field_str(c, "assignee", &d.assignee)) != 0 ||
		    (rc = field_str(c, "unit", &d.unit)) != 0 ||
		    (rc = field_time(c, "due_at", &d.due_at,
		    &d.has_due)) != 0)
			goto out;
		break;
	case 'r':
		if ((rc = fields_known(c, reject)) != 0 ||
		    (rc = field_str(c, "reason", &d.reason)) != 0 ||
		    (rc = need(c, d.reason != NULL, "reason")) != 0)
			goto out;
		break;
	default:
		if ((rc = fields_known(c, merge)) != 0 ||
		    (rc = field_int(c, "task_id", 1, LLONG_MAX, &d.task_id,
		    &has)) != 0 || (rc = need(c, has, "task_id")) != 0)
			goto out;
		break;
	}
	rc = corp_proposal_decide(c->api->db, &d, &c->err);
out:
	proposal_answer(c, c->id, rc);
}

/* PATCH: corp-proposal edit; null clears assignee and due_at. */
static void
h_edit(struct call *c)
{
	static const char *const allowed[] = { "title", "description",
		"assignee", "due_at", NULL };
	struct corp_proposal_edit ed = { .id = c->id, .as = c->login };
	json_t *v;
	int rc;

	if (reader(c) != 0)
		return;
	if ((rc = fields_known(c, allowed)) != 0 ||
	    (rc = field_str(c, "title", &ed.title)) != 0 ||
	    (rc = field_str(c, "description", &ed.description)) != 0 ||
	    (rc = field_str(c, "assignee", &ed.assignee)) != 0 ||
	    (rc = field_time(c, "due_at", &ed.due_at, &ed.has_due)) != 0)
		goto out;
	if ((v = json_object_get(c->body, "assignee")) != NULL &&
	    json_is_null(v))
		ed.assignee = "";
	if ((v = json_object_get(c->body, "due_at")) != NULL &&
	    json_is_null(v)) {
		ed.has_due = 1;
		ed.due_at = 0;
	}
	if (!ed.title && !ed.description && !ed.assignee && !ed.has_due) {
		rc = corp_errf(&c->err, CORP_EINVAL, "body: nothing to "
		    "change (title, description, assignee, due_at)");
		goto out;
	}
	rc = corp_proposal_edit(c->api->db, &ed, &c->err);
out:
	proposal_answer(c, c->id, rc);
}

/* ?chat=ID&after=TIME&limit=N: messages dated after TIME. */
static void
h_messages(struct call *c)
{
	struct corp_msg_filter f;
	const char *after = query(c, "after");
	json_t *arr = NULL;
	time_t t;
	int rc, has;

	memset(&f, 0, sizeof(f));
	f.limit = 100;
	if (reader(c) != 0)
		return;
	if ((rc = query_int(c, "chat", LLONG_MIN + 1, LLONG_MAX, &f.chat_id,
	    &f.has_chat)) != 0 ||
	    (rc = query_int(c, "limit", 1, 1000, &f.limit, &has)) != 0)
		goto out;
	if (after != NULL) {
		if ((rc = corp_time_parse(after, &t, &c->err)) != 0) {
			corp_errprefix(&c->err, "query: after");
			goto out;
		}
		f.since = t + 1;
	}
	rc = corp_msg_list(c->api->db, &f, &arr, &c->err);
out:
	answer_list(c, rc, "messages", arr);
}

/* The tasks the user sees (the visibility function), ?state=. */
static void
h_tasks(struct call *c)
{
	struct corp_task_filter f;
	json_t *arr = NULL;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.state = query(c, "state");
	if (f.state != NULL && (rc = corp_task_state_check(f.state,
	    &c->err)) != 0)
		rc = CORP_EINVAL;
	else
		rc = corp_task_list(c->api->db, &f, c->uid, &arr, &c->err);
	answer_list(c, rc, "tasks", arr);
}

/* ---- the operator's reads (corp-deliver's stats, dlq, requeue,
 * explain): an active admin's, through the same lib calls ---------- */

static int
operator(struct call *c)
{
	struct corp_user_brief b;
	int rc;

	if ((rc = corp_dir_user_brief(c->api->db, c->uid, &b, &c->err)) != 0) {
		fail(c, rc);
		return rc;
	}
	if (!b.found || !b.active || !b.is_admin) {
		corp_errf(&c->err, CORP_EFORBIDDEN, "%s is not an active "
		    "admin: the queue is the operator's", c->login);
		fail(c, CORP_EFORBIDDEN);
		return CORP_EFORBIDDEN;
	}
	return 0;
}

/* corp-deliver stats: the same object (lib/metrics.c). */
static void
h_ops_stats(struct call *c)
{
	json_t *s = NULL;
	int rc;

	if (operator(c) != 0)
		return;
	if ((rc = corp_metrics(c->api->db, &s, &c->err)) == 0) {
		answer(c, 200, s);
		return;
	}
	json_decref(s);
	fail(c, rc);
}

/* corp-api's WebSocket wake-ups (struct corp_api_ws). */
static void
h_ops_ws(struct call *c)
{
	const struct corp_api_ws *w = &c->api->ws;

	if (operator(c) != 0)
		return;
	answer(c, 200, json_pack("{ss sI sI sI sI}", "wake", w->wake ?
	    w->wake : "poll", "clients", (json_int_t)w->clients, "ticks",
	    (json_int_t)w->ticks,
	    "notifications", (json_int_t)w->notifications, "log_reads",
	    (json_int_t)w->log_reads));
}

static int
dlq_row(json_t *o, void *arg)
{
	return json_array_append(arg, o) == 0 ? 0 : CORP_EINTERNAL;
}

/* A channel query or body field: a known one (names.h). */
static int
channel_arg(struct call *c, const char *ch)
{
	if (ch == NULL || corp_channel_check(ch, &c->err) == 0)
		return 0;
	return CORP_EINVAL;
}

/* corp-deliver dlq: ?channel=&limit= (1..10000, default 1000). */
static void
h_ops_dlq(struct call *c)
{
	const char *ch = query(c, "channel");
	long long limit = 1000, total;
	json_t *arr;
	int rc, has;

	if (operator(c) != 0)
		return;
	if ((rc = channel_arg(c, ch)) != 0 ||
	    (rc = query_int(c, "limit", 1, 10000, &limit, &has)) != 0) {
		fail(c, rc);
		return;
	}
	if ((arr = json_array()) == NULL) {
		corp_api_error(c->resp, 500, "out of memory");
		return;
	}
	rc = corp_queue_dlq(c->api->db, ch, 0, limit, &total, dlq_row, arr,
	    &c->err);
	if (rc == CORP_EINTERNAL && c->err.msg[0] == '\0')
		corp_errf(&c->err, rc, "out of memory");
	if (rc != 0)
		json_decref(arr);
	answer_list(c, rc, "rows", arr);
}

/* corp-deliver requeue: {"delivery_id", "event_id", "event_type",
 * "channel", "all_failed"}, one of the first two, a type or
 * all_failed required. */
static void
h_ops_requeue(struct call *c)
{
	static const char *const allowed[] = { "delivery_id", "event_id",
		"event_type", "channel", "all_failed", NULL };
	struct corp_requeue rq;
	long long n;
	json_t *v;
	int rc, has;

	memset(&rq, 0, sizeof(rq));
	if (operator(c) != 0)
		return;
	if ((rc = fields_known(c, allowed)) != 0 ||
	    (rc = field_int(c, "delivery_id", 1, LLONG_MAX, &rq.id,
	    &has)) != 0 ||
	    (rc = field_int(c, "event_id", 1, LLONG_MAX, &rq.event_id,
	    &has)) != 0 ||
	    (rc = field_str(c, "event_type", &rq.event_type)) != 0 ||
	    (rc = field_str(c, "channel", &rq.channel)) != 0 ||
	    (rc = channel_arg(c, rq.channel)) != 0)
		goto out;
	if ((v = json_object_get(c->body, "all_failed")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			rc = corp_errf(&c->err, CORP_EINVAL, "body: "
			    "\"all_failed\" must be true or false");
			goto out;
		}
		rq.all_failed = json_is_true(v);
	}
	if (rq.id == 0 && rq.event_id == 0 && rq.event_type == NULL &&
	    !rq.all_failed) {
		rc = corp_errf(&c->err, CORP_EINVAL, "body: requeue needs "
		    "\"delivery_id\", \"event_id\", \"event_type\" or "
		    "\"all_failed\"");
		goto out;
	}
	if (rq.event_type == NULL || (rc = corp_event_type_check(c->api->db,
	    rq.event_type, 0, &c->err)) == 0)
		rc = corp_queue_requeue(c->api->db, &rq, &n, &c->err);
out:
	if (rc != 0)
		fail(c, rc);
	else
		answer(c, 200, json_pack("{sI}", "requeued", (json_int_t)n));
}

/* corp-deliver explain: ?event=ID&user=LOGIN, both required. */
static void
h_ops_explain(struct call *c)
{
	const char *login = query(c, "user");
	long long eid = 0;
	json_t *o = NULL;
	int rc, has;

	if (operator(c) != 0)
		return;
	if ((rc = query_int(c, "event", 1, LLONG_MAX, &eid, &has)) == 0 &&
	    !has)
		rc = corp_errf(&c->err, CORP_EINVAL, "query: event is "
		    "required");
	if (rc == 0 && login == NULL)
		rc = corp_errf(&c->err, CORP_EINVAL, "query: user is "
		    "required");
	if (rc == 0)
		rc = corp_queue_explain(c->api->db, eid, login, &o, &c->err);
	if (rc != 0)
		fail(c, rc);
	else
		answer(c, 200, o);
}

/* ---- routing -------------------------------------------------------- */

/* A pattern's segments; "#" is a positive integer id. */
static void	h_tg_webhook(struct call *);

/* own_auth: no bearer token; the handler checks its own credential. */
#define Q(...)	((const char *const[]){ __VA_ARGS__, NULL })
static const struct route {
	const char	*method;
	const char	*pat[SEGS];
	handler_fn	 fn;
	int		 own_auth;
	const char *const *query;	/* its parameters; NULL: none */
} routes[] = {
	{ "GET", { "api", "me" }, h_me, 0, NULL },
	{ "GET", { "api", "runs" }, h_runs, 0, Q("chat", "status") },
	{ "POST", { "api", "runs" }, h_run_create, 0, NULL },
	{ "GET", { "api", "runs", "#" }, h_run_show, 0, NULL },
	{ "POST", { "api", "runs", "#", "start" }, h_run_start, 0, NULL },
	{ "PUT", { "api", "runs", "#", "review" }, h_run_step, 0, NULL },
	{ "PUT", { "api", "runs", "#", "close" }, h_run_step, 0, NULL },
	{ "PUT", { "api", "runs", "#", "cancel" }, h_run_step, 0, NULL },
	{ "GET", { "api", "runs", "#", "proposals" }, h_run_proposals, 0,
	    Q("status") },
	{ "GET", { "api", "proposals", "#" }, h_proposal_show, 0, NULL },
	{ "PATCH", { "api", "proposals", "#" }, h_edit, 0, NULL },
	{ "PUT", { "api", "proposals", "#", "approve" }, h_decide, 0, NULL },
	{ "PUT", { "api", "proposals", "#", "reject" }, h_decide, 0, NULL },
	{ "PUT", { "api", "proposals", "#", "merge" }, h_decide, 0, NULL },
	{ "GET", { "api", "messages" }, h_messages, 0,
	    Q("chat", "after", "limit") },
	{ "GET", { "api", "tasks" }, h_tasks, 0, Q("state") },
	{ "GET", { "api", "ops", "stats" }, h_ops_stats, 0, NULL },
	{ "GET", { "api", "ops", "dlq" }, h_ops_dlq, 0, Q("channel", "limit") },
	{ "POST", { "api", "ops", "requeue" }, h_ops_requeue, 0, NULL },
	{ "GET", { "api", "ops", "explain" }, h_ops_explain, 0,
	    Q("event", "user") },
	{ "GET", { "api", "ops", "ws" }, h_ops_ws, 0, NULL },
	{ "POST", { "webhook", "telegram" }, h_tg_webhook, 1, NULL },
	{ NULL }
};

static int
match(const struct route *r, struct call *c)
{
	int i;

	for (i = 0; i < SEGS; i++) {
		if (r->pat[i] == NULL || c->seg[i] == NULL) {
			if (r->pat[i] != NULL || c->seg[i] != NULL)
				return 0;
			return 1;
		}
		if (strcmp(r->pat[i], "#") == 0) {
			/* An id as corp prints it, held to the query's
			 * number rule: 01, +1 or " 1" is no run 1 (a proxy
			 * allowing /api/runs/1 saw another path). */
			if (corp_plain_decimal(c->seg[i], strlen(c->seg[i]),
			    LLONG_MAX, &c->id) != 0 || c->id < 1)
				return 0;
		} else if (strcmp(r->pat[i], c->seg[i]) != 0)
			return 0;
	}
	return 1;
}

/* ---- authentication and its limiter --------------------------------- */

/*
 * The limiter's key of a peer address (corp-api.1 "Authentication"):
 * the parsed address, not its text, so that 2001:DB8::5 and
 * 2001:db8:0:0:0:0:0:5 are one (sec-review-21b MEDIUM-3): an IPv4
 * address, an IPv4-mapped IPv6 one as that IPv4 address, another IPv6
 * one by its /64 (what one subscriber gets), each in canonical form.
 * The socket's "unix:ADDR" and a trusted proxy's "proxy:ADDR" are keyed
 * as ADDR; anything else ("unix") as it is.
 */
void
corp_api_peer_key(const char *addr, char *out, size_t size)
{
	unsigned char b[16];
	char t[INET6_ADDRSTRLEN];

	if (strncmp(addr, "unix:", 5) == 0)
		addr += 5;
	else if (strncmp(addr, "proxy:", 6) == 0)
		addr += 6;
	if (inet_pton(AF_INET, addr, b) == 1 &&
	    inet_ntop(AF_INET, b, t, sizeof(t)) != NULL) {
		snprintf(out, size, "%s", t);
		return;
	}
	if (inet_pton(AF_INET6, addr, b) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)b) &&
		    inet_ntop(AF_INET, b + 12, t, sizeof(t)) != NULL) {
			snprintf(out, size, "%s", t);
			return;
		}
		memset(b + 8, 0, 8);
		if (inet_ntop(AF_INET6, b, t, sizeof(t)) != NULL) {
			snprintf(out, size, "%s/64", t);
			return;
		}
	}
	snprintf(out, size, "%s", addr);
}

/* p turns requests away now (its window not over). */
static int
locked(const struct corp_api *api, const struct corp_api_peer *p,
    long long now)
{
	return p->fails >= api->auth_fails &&
	    now - p->start_ms < api->auth_window_ms;
}

/*
 * addr's entry, or with make a new one: in a free slot, else in place
 * of the oldest entry not locked now.  A locked address is never
 * forgotten to make room (failures from 256 other addresses unlocked
 * one: sec-review-21b MEDIUM-3); when every entry is locked, NULL: the
 * newcomer is not recorded until an entry's window ends.
 */
static struct corp_api_peer *
peer_of(struct corp_api *api, const char *addr, int make)
{
	struct corp_api_peer *p, *free_slot = NULL, *old = NULL;
	long long now = corp_mono_ms();
	char key[sizeof(p->addr)];
	size_t i;

	corp_api_peer_key(addr, key, sizeof(key));
	for (i = 0; i < CORP_API_PEERS; i++) {
		p = &api->peers[i];
		if (p->addr[0] == '\0') {
			if (free_slot == NULL)
				free_slot = p;
		} else if (strcmp(p->addr, key) == 0)
			return p;
		else if (!locked(api, p, now) && (old == NULL ||
		    p->start_ms < old->start_ms))
			old = p;
	}
	if (!make)
		return NULL;
	if (free_slot != NULL)
		old = free_slot;
	if (old == NULL)
		return NULL;
	memset(old, 0, sizeof(*old));
	snprintf(old->addr, sizeof(old->addr), "%s", key);
	return old;
}

/* Seconds until peer may try again; 0 when it may now. */
static long long
limited(struct corp_api *api, const char *addr)
{
	struct corp_api_peer *p = peer_of(api, addr, 0);
	long long now = corp_mono_ms(), left;

	if (p == NULL || p->fails < api->auth_fails)
		return 0;
	left = p->start_ms + api->auth_window_ms - now;
	if (left <= 0) {
		p->fails = 0;
		return 0;
	}
	return (left + 999) / 1000;
}

static void
failed_auth(struct corp_api *api, const char *addr)
{
	struct corp_api_peer *p = peer_of(api, addr, 1);
	long long now = corp_mono_ms();

	if (p == NULL)
		return;
	if (p->fails == 0 || now - p->start_ms >= api->auth_window_ms) {
		p->start_ms = now;
		p->fails = 0;
	}
	p->fails++;
}

static int
authenticate(struct call *c, char **login)
{
	const char *a = c->req->auth, *peer = c->req->peer;
	long long wait;
	int rc;

	if ((wait = limited(c->api, peer)) > 0) {
		corp_api_error(c->resp, 429, "too many failed "
		    "authentications from this address");
		c->resp->retry_after = wait;
		return -1;
	}
	/* The scheme is case-insensitive (RFC 9110 11.1). */
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0) {
		corp_api_error(c->resp, 401, a == NULL ? "missing "
		    "Authorization: Bearer token" : "Authorization: expected "
		    "Bearer");
		/* Only a credential presented and wrong counts: a request
		 * with none (a cross-site <img>) locked every user behind
		 * the visitor's address out (sec-review-21b MEDIUM-2). */
		if (a != NULL)
			failed_auth(c->api, peer);
		return -1;
	}
	for (a += 7; *a == ' '; a++)
		;
	rc = corp_apitoken_auth(c->api->db, a, &c->uid, login, &c->err);
	if (rc == CORP_EFORBIDDEN) {
		corp_api_error(c->resp, 401, c->err.msg);
		failed_auth(c->api, peer);
		return -1;
	}
	if (rc != 0) {
		fail(c, rc);
		return -1;
	}
	c->login = *login;
	snprintf(c->resp->user, sizeof(c->resp->user), "%s", *login);
	return 0;
}

/*
 * POST /webhook/telegram's credential, its secret header (tgspool.h):
 * 0 when it passes; else the answer is in c->resp.  A wrong secret is
 * a failed authentication (401, counted by the limiter); no header is
 * 401 and not counted (sec-review-21b MEDIUM-2).  Judged on the headers,
 * before the body is read, and again with it.
 */
static int
tg_admit(struct call *c, struct corp_tgspool_answer *ans)
{
	const char *peer = c->req->peer;
	long long wait;

	if ((wait = limited(c->api, peer)) > 0) {
		corp_api_error(c->resp, 429, "too many failed "
		    "authentications from this address");
		c->resp->retry_after = wait;
		return -1;
	}
	if (corp_tgspool_auth(c->req->tg_secret, ans, &c->err) == 0)
		return 0;
	if (ans->status == 403) {
		if (c->req->tg_secret != NULL)
			failed_auth(c->api, peer);
		corp_api_error(c->resp, 401, "wrong or missing "
		    "X-Telegram-Bot-Api-Secret-Token");
		return -1;
	}
	/* Not configured: Telegram retries a 500; the cause goes to the
	 * log, not to the caller. */
	corp_api_error(c->resp, 500, ans->status == 0 ? "out of memory" :
	    ans->text);
	strlcpy(c->resp->note, c->err.msg, sizeof(c->resp->note));
	return -1;
}

/* POST /webhook/telegram: what corp-tg cgi does (tgspool.h, the same
 * two steps). */
static void
h_tg_webhook(struct call *c)
{
	struct corp_tgspool_answer ans;
	long long id;
	int rc;

	if (tg_admit(c, &ans) != 0)
		return;
	rc = corp_tgspool_take(c->req->body, c->req->body_len, &id, &ans,
	    &c->err);
	if (rc == 0 && ans.duplicate) {
		/* The first body stays for corp-tg process; logged. */
		answer(c, 200, json_pack("{sbsIsb}", "ok", 1, "update_id",
		    (json_int_t)id, "duplicate", 1));
		strlcpy(c->resp->note, c->err.msg, sizeof(c->resp->note));
		return;
	}
	if (rc == 0) {
		answer(c, 200, json_pack("{sbsI}", "ok", 1, "update_id",
		    (json_int_t)id));
		return;
	}
	if (ans.status == 400)
		corp_api_error(c->resp, 400, c->err.msg);
	else if (ans.status == 413)
		corp_api_error(c->resp, 413, "request body too large");
	else {
		/* The spool failed: Telegram retries a 500; the cause goes
		 * to the log, not to the caller. */
		corp_api_error(c->resp, 500, ans.status == 0 ?
		    "out of memory" : ans.text);
		strlcpy(c->resp->note, c->err.msg, sizeof(c->resp->note));
	}
}

/*
 * A WebSocket's auth frame (apiws.c): the token alone, through the same
 * limiter and the same check as a request's Bearer token.
 */
int
corp_api_auth_token(struct corp_api *api, const char *peer,
    const char *token, long long *uid, char **login, int *status,
    struct corp_err *err)
{
	long long wait;
	int rc;

	*login = NULL;
	if ((wait = limited(api, peer)) > 0) {
		*status = 429;
		return corp_errf(err, CORP_EFORBIDDEN, "too many failed "
		    "authentications from this address; try again in %llds",
		    wait);
	}
	rc = corp_apitoken_auth(api->db, token, uid, login, err);
	if (rc == CORP_EFORBIDDEN) {
		*status = 401;
		failed_auth(api, peer);
	} else
		*status = rc == 0 ? 200 : http_status(rc);
	return rc;
}

/* ---- the entry point ------------------------------------------------ */

static int
split(struct call *c, char *path)
{
	char *s, *p;
	int n = 0;

	if (*path != '/')
		return -1;
	/* No empty segment, a trailing slash included: /api/runs/1/ is
	 * 404, as /static/corp.css/ is (one spelling per resource). */
	for (p = path + 1; (s = strsep(&p, "/")) != NULL; ) {
		if (*s == '\0' || n == SEGS)
			return -1;
		c->seg[n++] = s;
	}
	return 0;
}

static int
parse_body(struct call *c)
{
	json_error_t je;

	if (c->req->body_len == 0) {
		c->body = json_object();
		return c->body == NULL ? corp_errf(&c->err, CORP_EINTERNAL,
		    "out of memory") : 0;
	}
	c->body = json_loadb(c->req->body, c->req->body_len,
	    JSON_REJECT_DUPLICATES, &je);
	if (c->body == NULL)
		return corp_errf(&c->err, CORP_EINVAL, "body: line %d column "
		    "%d: %s", je.line, je.column, je.text);
	if (!json_is_object(c->body))
		return corp_errf(&c->err, CORP_EINVAL, "body: expected a JSON "
		    "object");
	return 0;
}

/*
 * req's route and credential: 0 with *hit, else the answer in resp
 * (404, 405, 429, 401, ...).  Everything here is judged on the headers.
 */
static int
route(struct call *c, char *path, const struct route **hit)
{
	const struct route *r;
	char allow[sizeof(c->resp->allow)] = "";

	*hit = NULL;
	if (split(c, path) == 0)
		for (r = routes; r->method != NULL; r++) {
			if (!match(r, c))
				continue;
			if (strcmp(r->method, c->req->method) == 0) {
				*hit = r;
				return 0;
			}
			if (strstr(allow, r->method) == NULL)
				snprintf(allow + strlen(allow),
				    sizeof(allow) - strlen(allow), "%s%s",
				    *allow ? ", " : "", r->method);
		}
	if (*allow != '\0') {
		corp_api_error(c->resp, 405, "method not allowed");
		snprintf(c->resp->allow, sizeof(c->resp->allow), "%s", allow);
	} else
		corp_api_error(c->resp, 404, "no such resource");
	return -1;
}

/* A call on req, answered in resp: the path's copy that route() cuts
 * (NULL: out of memory, resp says so). */
static char *
call_init(struct call *c, struct corp_api *api,
    const struct corp_api_req *req, struct corp_api_resp *resp)
{
	char *path;

	memset(resp, 0, sizeof(*resp));
	memset(c, 0, sizeof(*c));
	c->api = api;
	c->req = req;
	c->resp = resp;
	if ((path = corp_strdup(req->path)) == NULL)
		corp_api_error(resp, 500, "out of memory");
	return path;
}

int
corp_api_admit(struct corp_api *api, const struct corp_api_req *req,
    struct corp_api_resp *resp)
{
	struct corp_tgspool_answer ans;
	const struct route *hit;
	struct call c;
	char *path, *login = NULL;
	int rc = -1;

	if ((path = call_init(&c, api, req, resp)) == NULL)
		return -1;
	if (route(&c, path, &hit) == 0) {
		if (hit->own_auth)
			rc = tg_admit(&c, &ans);
		else if ((rc = authenticate(&c, &login)) == 0 &&
		    (rc = query_known(&c, hit->query)) != 0) {
			fail(&c, rc);
			rc = -1;
		}
	}
	free(login);
	free(path);
	if (rc == 0) {
		json_decref(resp->body);
		memset(resp, 0, sizeof(*resp));
		return 0;
	}
	if (resp->body == NULL)
		corp_api_error(resp, 500, "out of memory");
	return -1;
}

void
corp_api_handle(struct corp_api *api, const struct corp_api_req *req,
    struct corp_api_resp *resp)
{
	struct call c;
	const struct route *hit;
	char *path, *login = NULL;
	int rc;

	if ((path = call_init(&c, api, req, resp)) == NULL)
		return;
	if (route(&c, path, &hit) != 0) {
		free(path);
		return;
	}
	if (hit->own_auth)
		hit->fn(&c);
	else if (authenticate(&c, &login) == 0) {
		if ((rc = query_known(&c, hit->query)) != 0 ||
		    (rc = parse_body(&c)) != 0)
			fail(&c, rc);
		else
			hit->fn(&c);
	}
	if (resp->body == NULL)
		corp_api_error(resp, 500, "out of memory");
	json_decref(c.body);
	free(login);
	free(path);
}
