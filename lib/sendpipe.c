/* sendpipe.c -- see sendpipe.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "deliver.h"
#include "jsonl.h"
#include "sender.h"
#include "sendpipe.h"
#include "sendres.h"

#define HOLD_MAX	1000	/* acks held while the channel buffers */

struct pipe {
	struct corp_sender		*snd;
	const struct corp_sendpipe_hooks *h;
	json_t				*acks[HOLD_MAX];
	size_t				 nacks;
	int				 bad, gone;
	json_t				*lease;		/* the claim's */
	json_t				*stopped;	/* see held */
};

/*
 * Rows of one user stay in order (corp-deliver.1 "Order"): once a line
 * of a claim comes back retry, the later lines of that claim (same
 * lease) of the same user to the same address (corp_line_order_key)
 * are not sent but passed on as retry, not
 * attempted, retry_after 0: the claim then holds them behind the
 * earlier row until it is due.  Only the current claim's addresses are
 * kept (a new lease starts afresh).  1: the line is held (and filled in).
 */
static int
held(struct pipe *p, json_t *line)
{
	json_t *lease = json_object_get(line, "lease");
	json_t *a = json_object_get(line, "address"), *by;
	char k[CORP_ORDER_KEY_LEN], msg[160];

	if (!json_is_string(lease) || (!json_is_string(a) &&
	    !json_is_integer(a)))
		return 0;
	/* A line decided upstream (a result already: corp-fmt's hold, say)
	 * passes on as it came; it may still stop its address (stop_after). */
	if (json_object_get(line, "result") != NULL)
		return 0;
	if (p->lease == NULL || !json_equal(p->lease, lease)) {
		json_decref(p->lease);
		p->lease = json_incref(lease);
		json_object_clear(p->stopped);
	}
	corp_line_order_key(line, k, sizeof(k));
	if ((by = json_object_get(p->stopped, k)) == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "held behind delivery %lld to the same "
	    "address (its retry comes first)", (long long)json_integer_value(by));
	json_object_set_new(line, "result", json_string("retry"));
	json_object_set_new(line, "attempted", json_false());
	json_object_set_new(line, "retry_after", json_integer(0));
	json_object_set_new(line, "error", json_string(msg));
	return 1;
}

/* After a line's answer: a retry stops its address (see held). */
static void
stop_after(struct pipe *p, json_t *line)
{
	const char *r = json_string_value(json_object_get(line, "result"));
	json_t *a = json_object_get(line, "address");
	char k[CORP_ORDER_KEY_LEN];

	if (r == NULL || strcmp(r, "retry") != 0 || p->lease == NULL ||
	    !json_equal(p->lease, json_object_get(line, "lease")))
		return;
	if (!json_is_string(a) && !json_is_integer(a))
		return;
	corp_line_order_key(line, k, sizeof(k));
	json_object_set(p->stopped, k, json_object_get(line, "delivery_id"));
}

/* The held acks made durable, then passed on; on a failure dropped. */
static int
flush_acks(void *arg, struct corp_err *e)
{
	struct pipe *p = arg;
	size_t i;
	int rc = 0;

	if (p->nacks > 0 && corp_sender_flush(p->snd, e) != 0)
		rc = e->code ? e->code : CORP_EINTERNAL;
	for (i = 0; i < p->nacks; i++) {
		if (rc == 0 && !p->gone)
			p->gone = p->h->out(p->h->arg, p->acks[i]) != 0;
		json_decref(p->acks[i]);
	}
	p->nacks = 0;
	return rc != 0 ? rc : p->gone ? CORP_LOOP_STOP : 0;
}

/* One line sent and its ack passed on (or held); an invalid line is
 * counted for the exit code. */
static int
each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *e)
{
	struct pipe *p = arg;
	struct corp_sendres res;
	const char *news;
	char msg[1400];
	int rc;

	(void)n;
	if (held(p, it->obj))
		goto pass;
	if ((rc = corp_sender_line(p->snd, it->obj, &res, e)) < 0 ||
	    rc > CORP_SENDER_INVALID)
		return e->code ? e->code : CORP_EINTERNAL;
	stop_after(p, it->obj);
	p->bad |= rc == CORP_SENDER_INVALID;
	corp_sender_stage(p->snd, &news);
	if (news != NULL)
		p->h->warn(p->h->arg, news);
	if (rc == CORP_SENDER_DONE &&
	    corp_sender_report(p->snd, it->obj, &res, msg, sizeof(msg)))
		p->h->warn(p->h->arg, msg);
pass:
	if (!corp_sender_buffers(p->snd)) {
		p->gone = p->h->out(p->h->arg, it->obj) != 0;
		return p->gone ? CORP_LOOP_STOP : 0;
	}
	p->acks[p->nacks++] = it->obj;
	it->obj = NULL;
	return p->nacks == HOLD_MAX ? flush_acks(p, e) : 0;
}

static void
bad_line(const struct corp_err *e, void *arg)
{
	const struct pipe *p = arg;

	p->h->warn(p->h->arg, e->msg);
}

int
corp_sendpipe_run(struct corp_sender *snd,
    const struct corp_sendpipe_hooks *h, int *code, struct corp_err *e)
{
	struct corp_loop l = { .batch = 1, .batch_ms = -1, .each = each,
	    .pause = flush_acks, .bad = bad_line };
	struct corp_err fe;
	struct pipe *p;
	const char *news;
	int rc;

	*code = 0;
	if (corp_sender_stage(snd, &news) != 0)
		h->warn(h->arg, news);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->stopped = json_object()) == NULL) {
		free(p);
		return corp_errf(e, CORP_EINTERNAL, "out of memory");
	}
	p->snd = snd;
	p->h = h;
	l.arg = p;
	rc = corp_jsonl_loop(0, NULL, &l, e);
	/* What was sent, before any failure. */
	if (flush_acks(p, &fe) > 0) {
		*e = fe;
		rc = fe.code ? fe.code : CORP_EINTERNAL;
	}
	if (rc == 0) {
		rc = corp_sender_stage(snd, NULL);
		*code = rc ? rc : p->bad || l.nbad > 0 ? CORP_EINVAL : 0;
		rc = 0;
	}
	json_decref(p->lease);
	json_decref(p->stopped);
	free(p);
	return rc;
}

struct release {
	const struct corp_sendpipe_hooks *h;
	const char			*error;
};

static int
release_each(struct corp_jsonl_item *it, size_t n, void *arg,
    struct corp_err *e)
{
	const struct release *r = arg;

	(void)n;
	(void)e;
	json_object_set_new(it->obj, "result", json_string("retry"));
	json_object_set_new(it->obj, "attempted", json_false());
	json_object_set_new(it->obj, "retry_after", json_integer(0));
	json_object_set_new(it->obj, "error", json_string(r->error));
	return r->h->out(r->h->arg, it->obj) != 0 ? CORP_LOOP_STOP : 0;
}

static void
bad_quiet(const struct corp_err *e, void *arg)
{
	(void)e;
	(void)arg;
}

void
corp_sendpipe_release(const char *error, const struct corp_sendpipe_hooks *h)
{
	struct release r = { h, error };
	struct corp_loop l = { .batch = 1, .batch_ms = -1,
	    .each = release_each, .bad = bad_quiet, .arg = &r };
	struct corp_err e;

	(void)corp_jsonl_loop(0, NULL, &l, &e);
}
