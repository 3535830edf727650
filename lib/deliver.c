/*
 * deliver.c -- the delivery round and loop of "corp-deliver run"
 * (deliver.h): claim, format, send, group-commit the acks.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "deliver.h"
#include "fmtline.h"
#include "netaddr.h"
#include "queue.h"
#include "ratelimit.h"
#include "sender.h"
#include "sendres.h"
#include "settings.h"

/* Group commit: at most this many acks.  Above the default --batch (100),
 * so that a claim's acks take one commit, not two (issue 18). */
#define GROUP_LINES	256
#define GROUP_MS	100	/* or acks this old */
#define IDLE_MS		500	/* longest sleep when nothing is due */
#define IDLE_STEP_MS	50	/* data_version polled this often */
#define CAUSE_LEN	200	/* bytes of a cause a child reports */
#define WAIT_MS		100	/* --inflight: longest wait for an answer */
#define DEST_LEN	80	/* bytes of an address compared */
#define AHEAD		256	/* --inflight: lines looked past a busy one */

struct corp_deliver {
	struct corp_deliver_opts	 o;
	struct corp_deliver_hooks	 h;
	struct corp_deliver_stats	*st;
	struct corp_db			*db;
	struct corp_sender		*snd;
	const struct corp_catalog	*cat;
	json_t				*grp[GROUP_LINES]; /* sent, not stored */
	size_t				 ngrp;
	long long			 grp_first;
};

static void __attribute__((format(printf, 2, 3)))
warnf(struct corp_deliver *d, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->h.warn != NULL)
		d->h.warn(d->h.arg, buf);
}

static void	before_wait(void *, long long);

int
corp_deliver_open(struct corp_deliver **out, struct corp_db *db,
    struct corp_sender *snd, const struct corp_catalog *cat,
    const struct corp_deliver_opts *o, const struct corp_deliver_hooks *h,
    struct corp_deliver_stats *st, struct corp_err *err)
{
	struct corp_deliver *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	d->o = *o;
	if (h != NULL)
		d->h = *h;
	d->st = st;
	d->db = db;
	d->snd = snd;
	d->cat = cat;
	if (d->o.inflight > 1 && corp_sender_inflight(snd, d->o.inflight,
	    err) != 0) {
		free(d);
		return err->code;
	}
	corp_sender_on_wait(snd, before_wait, d);
	*out = d;
	return 0;
}

void
corp_deliver_close(struct corp_deliver *d)
{
	size_t i;

	if (d == NULL)
		return;
	corp_sender_on_wait(d->snd, NULL, NULL);
	for (i = 0; i < d->ngrp; i++)
		json_decref(d->grp[i]);
	free(d);
}

/* A line held for a configuration error (corp-json.5: error_class). */
static int
is_config(json_t *line)
{
	const char *c = json_string_value(json_object_get(line,
	    "error_class"));

	return c != NULL && strcmp(c, "config") == 0;
}

void
corp_deliver_stats_cause(struct corp_deliver_stats *s, const char *error,
    long long n)
{
	int i;

	if (error == NULL)
		error = "(no error given)";
	for (i = 0; i < s->ncause; i++)
		if (strcmp(s->cause[i].error, error) == 0) {
			s->cause[i].n += n;
			return;
		}
	if (s->ncause == CORP_DELIVER_CAUSES ||
	    (s->cause[s->ncause].error = strdup(error)) == NULL) {
		s->held_other += n;
		return;
	}
	s->cause[s->ncause++].n = n;
}

void
corp_deliver_stats_free(struct corp_deliver_stats *s)
{
	int i;

	for (i = 0; i < s->ncause; i++)
		free(s->cause[i].error);
	s->ncause = 0;
}

static void
count(struct corp_deliver_stats *s, json_t *line)
{
	const char *r = json_string_value(json_object_get(line, "result"));
	const char *st = json_string_value(json_object_get(line, "stored"));

	if (r == NULL)
		return;
	if (strcmp(r, "sent") == 0)
		s->sent++;
	else if (strcmp(r, "retry") == 0)
		s->retry++;
	else if (strcmp(r, "unbound") == 0)
		s->unbound++;
	else
		s->failed++;
	if (st == NULL)
		return;
	if (strcmp(st, "sent") == 0)
		s->st_sent++;
	else if (strcmp(st, "failed") == 0)
		s->dlq++;
	else if (strcmp(st, "retry") == 0 && is_config(line)) {
		s->held++;
		corp_deliver_stats_cause(s, json_string_value(json_object_get(
		    line, "error")), 1);
	} else if (strcmp(st, "retry") == 0 || strcmp(st, "unbound") == 0)
		s->st_retry++;
}

int
corp_deliver_code(const struct corp_deliver_stats *s, int stage)
{
	if (stage != 0)
		return stage;
	if (s->held > 0 || s->held_other > 0)
		return CORP_ECONFIG;
	if (s->dlq > 0)
		return CORP_EXIT_DLQ;
	return 0;
}

int
corp_exit_worse(int a, int b)
{
	static const int rank[] = { 0, CORP_EXIT_DLQ, CORP_ECONFIG, 1, 75,
	    77 };
	int ra, rb, k;

	for (ra = rb = 0, k = 0; k < 6; k++) {
		if (a == rank[k])
			ra = k;
		if (b == rank[k])
			rb = k;
	}
	if (a != 0 && ra == 0)
		ra = 3;
	if (b != 0 && rb == 0)
		rb = 3;
	return rank[ra > rb ? ra : rb];
}

/* A warning of corp_queue_ack (a late sent refused) or of a claim (the
 * host's clock). */
static void
deliver_warn(void *arg, const char *msg)
{
	warnf(arg, "%s", msg);
}

/*
 * Store the collected acks in one transaction (corp_queue_ack), after
 * the transport made them durable (file: fsync).  A failure here leaves
 * the rows leased: they come back when the leases expire, and the
 * messages may go out again (at least once, DESIGN 5).
 */
static int
flush_group(struct corp_deliver *d, struct corp_err *e)
{
	size_t i;
	int bad, rc;

	if (d->ngrp == 0)
		return 0;
	if ((rc = corp_sender_flush(d->snd, e)) != 0 ||
	    (rc = corp_queue_ack(d->db, d->grp, d->ngrp, &bad, deliver_warn, d,
	    e)) != 0)
		return rc;
	for (i = 0; i < d->ngrp; i++) {
		json_t *ae = json_object_get(d->grp[i], "ack_error");

		if (ae != NULL)
			warnf(d, "delivery %lld: ack: %s",
			    (long long)json_integer_value(json_object_get(
			    d->grp[i], "delivery_id")), json_string_value(ae));
		count(d->st, d->grp[i]);
		json_decref(d->grp[i]);
	}
	d->ngrp = 0;
	if (d->h.progress != NULL)
		d->h.progress(d->h.arg);
	return 0;
}

/*
 * The sender is about to sleep ms for a rate-limit slot: store the
 * group first when the wait would keep it past GROUP_MS (corp-deliver.1
 * Group commit), so that a crash during the wait sends none of its
 * lines again.  A failure is said; the group stays for the next flush,
 * whose failure ends the loop.
 */
static void
before_wait(void *arg, long long ms)
{
	struct corp_deliver *d = arg;
	struct corp_err e;

	if (d->ngrp > 0 && corp_mono_ms() + ms - d->grp_first >= GROUP_MS &&
	    flush_group(d, &e) != 0)
		warnf(d, "%s", e.msg);
}

/* Store what was sent and give back lines [from, n) of a claim, before
 * an error ends the loop; returns why's code. */
static int
abandon(struct corp_deliver *d, json_t *lines, size_t from,
    const char *token, const struct corp_err *why)
{
	struct corp_err e;

	if (flush_group(d, &e) != 0)
		warnf(d, "%s", e.msg);
	if (lines != NULL &&
	    corp_queue_release_lines(d->db, token, lines, from, &e) != 0)
		warnf(d, "%s", e.msg);
	json_decref(lines);
	return why->code ? why->code : CORP_EINTERNAL;
}

/*
 * Broadcasts take at most share x batch of a claim while urgent or p2p
 * rows are in it (they wait for the sending rate too); the whole batch
 * when none are.  The claim is ordered urgent, p2p, broadcast, so the
 * excess is its tail: given back at once, unsent.  Returns the new size.
 */
static size_t
limit_broadcast(struct corp_deliver *d, json_t *lines, const char *token,
    struct corp_err *e, int *rc)
{
	size_t n = json_array_size(lines), k = 0, cap, keep;
	const char *p;

	*rc = 0;
	for (k = 0; k < n; k++) {
		p = json_string_value(json_object_get(json_array_get(lines, k),
		    "priority"));
		if (strcmp(p ? p : "", "broadcast") == 0)
			break;
	}
	if (k == 0 || k == n)
		return n;
	cap = (size_t)floor(d->o.share * d->o.batch);
	if (cap < 1)
		cap = 1;
	if (n - k <= cap)
		return n;
	keep = k + cap;
	if ((*rc = corp_queue_release_lines(d->db, token, lines, keep, e)) != 0)
		return n;
	while (json_array_size(lines) > keep)
		json_array_remove(lines, json_array_size(lines) - 1);
	return keep;
}

/* Format line; 0, or a failure of the loop. */
static int
format(struct corp_deliver *d, json_t *line, struct corp_err *e)
{
	char tb[160];
	int rc, outcome;

	if ((rc = corp_fmt_line(d->cat, line, d->o.fallback, &outcome,
	    e)) != 0)
		return rc;
	/* A configuration hold is reported once per cause, at the end:
	 * 50 000 rows, not 50 000 lines. */
	if (outcome == CORP_FMT_FAILED && !is_config(line))
		warnf(d, "delivery %lld: %s%s", (long long)json_integer_value(
		    json_object_get(line, "delivery_id")), e->msg,
		    corp_line_trace(line, tb, sizeof(tb)));
	return 0;
}

/* A line with its ack fields: say what went wrong, keep the ack for
 * the group. */
static void
keep(struct corp_deliver *d, json_t *line, const struct corp_sendres *res)
{
	const char *news;
	char msg[1400];

	corp_sender_stage(d->snd, &news);
	if (news != NULL)
		warnf(d, "%s", news);
	if (corp_sender_report(d->snd, line, res, msg, sizeof(msg)) &&
	    !is_config(line))
		warnf(d, "%s", msg);
	/* The text was for the wire; the ack needs none of it. */
	json_object_del(line, "text");
	json_object_del(line, "subject");
	if (d->ngrp == 0)
		d->grp_first = corp_mono_ms();
	d->grp[d->ngrp++] = json_incref(line);
	d->st->done++;
}

/* Format and send one line, keep its ack for the group. */
static int
one_line(struct corp_deliver *d, json_t *line, struct corp_err *e)
{
	struct corp_sendres res;
	int rc;

	if ((rc = format(d, line, e)) != 0)
		return rc;
	rc = corp_sender_line(d->snd, line, &res, e);
	if (rc != CORP_SENDER_DONE && rc != CORP_SENDER_INVALID)
		return e->code ? e->code : CORP_EINTERNAL;
	keep(d, line, &res);
	return 0;
}

/* The group is full or old enough: store it. */
static int
group_due(struct corp_deliver *d)
{
	return d->ngrp >= GROUP_LINES ||
	    (d->ngrp > 0 && corp_mono_ms() - d->grp_first >= GROUP_MS);
}

/*
 * --inflight: where a line goes (its address), for the rule that one
 * destination has one line in flight at a time, in claim order.  A long
 * address is cut: two cut alike only wait for each other.
 */
static void
dest(json_t *line, char *buf)
{
	json_t *a = json_object_get(line, "address");

	if (json_is_string(a))
		strlcpy(buf, json_string_value(a), DEST_LEN);
	else if (json_is_integer(a))
		snprintf(buf, DEST_LEN, "%lld", (long long)json_integer_value(a));
	else
		buf[0] = '\0';
}

/*
 * A line came back retry: the later lines of its destination in this
 * claim are not sent but given back, so that they wait behind it (the
 * claim holds a user's rows while an earlier one is not yet due;
 * corp-deliver.1 "Order").  stopped: the user and destination of each
 * (corp_line_order_key): another user's lines to a shared address (a
 * webhook endpoint) are not held.
 */
void
corp_line_order_key(json_t *line, char *buf, size_t len)
{
	char d[DEST_LEN];

	dest(line, d);
	snprintf(buf, len, "%lld:%s", (long long)json_integer_value(
	    json_object_get(line, "user_id")), d);
}

static void
stop_dest(json_t *stopped, json_t *line)
{
	const char *r = json_string_value(json_object_get(line, "result"));
	char k[CORP_ORDER_KEY_LEN];

	if (r == NULL || strcmp(r, "retry") != 0)
		return;
	corp_line_order_key(line, k, sizeof(k));
	json_object_set_new(stopped, k, json_true());
}

static int
dest_stopped(json_t *stopped, json_t *line)
{
	char k[CORP_ORDER_KEY_LEN];

	corp_line_order_key(line, k, sizeof(k));
	return json_object_get(stopped, k) != NULL;
}

struct flight {
	struct corp_deliver	*d;
	json_t			*stopped;	/* see stop_dest */
	json_t			*lines;
	size_t			 n, first;	/* the first waiting line */
	unsigned char		*state;		/* 0 waiting, 1 in flight,
						   2 done, 3 given back */
	char			(*busy)[DEST_LEN]; /* of the lines in flight */
	size_t			*busy_at;
	int			 nbusy;
};

static int
busy(const struct flight *f, const char *k, char (*also)[DEST_LEN],
    int nalso)
{
	int j;

	for (j = 0; j < f->nbusy; j++)
		if (strcmp(f->busy[j], k) == 0)
			return 1;
	for (j = 0; j < nalso; j++)
		if (strcmp(also[j], k) == 0)
			return 1;
	return 0;
}

/*
 * The next line that may start: waiting, its destination not in flight
 * and not waiting on an earlier line of the same destination.  -1 when
 * none (within AHEAD lines).
 */
static long
next_line(struct flight *f)
{
	char k[DEST_LEN], skipped[16][DEST_LEN];
	int nskip = 0, j;
	size_t i;

	while (f->first < f->n && f->state[f->first] != 0)
		f->first++;
	for (i = f->first; i < f->n && i < f->first + AHEAD; i++) {
		if (f->state[i] != 0)
			continue;
		if (dest_stopped(f->stopped, json_array_get(f->lines, i))) {
			f->state[i] = 3;
			continue;
		}
		dest(json_array_get(f->lines, i), k);
		if (!busy(f, k, skipped, nskip))
			return (long)i;
		for (j = 0; j < nskip && strcmp(skipped[j], k) != 0; j++)
			;
		if (j < nskip)
			continue;
		if (nskip == 16)
			return -1;
		strlcpy(skipped[nskip++], k, DEST_LEN);
	}
	return -1;
}

/* Start line i: 0, or a failure of the loop. */
static int
start(struct flight *f, size_t i, struct corp_err *e)
{
	struct corp_deliver *d = f->d;
	json_t *line = json_array_get(f->lines, i);
	struct corp_sendres res;
	int rc;

	if ((rc = format(d, line, e)) != 0)
		return rc;
	rc = corp_sender_start(d->snd, line, (void *)(i + 1), &res, e);
	if (rc == CORP_SENDER_STARTED) {
		f->state[i] = 1;
		dest(line, f->busy[f->nbusy]);
		f->busy_at[f->nbusy++] = i;
		return 0;
	}
	if (rc != CORP_SENDER_DONE && rc != CORP_SENDER_INVALID)
		return e->code ? e->code : CORP_EINTERNAL;
	f->state[i] = 2;
	keep(d, line, &res);
	stop_dest(f->stopped, line);
	return 0;
}

/* Wait up to ms for a line in flight to end; keep its ack. */
static int
land(struct flight *f, int ms, struct corp_err *e)
{
	struct corp_sendres res;
	void *arg;
	size_t i;
	int j;

	if (corp_sender_wait(f->d->snd, ms, &arg, &res, e) != 0)
		return e->code ? e->code : CORP_EINTERNAL;
	if (arg == NULL)
		return 0;
	i = (size_t)arg - 1;
	f->state[i] = 2;
	for (j = 0; j < f->nbusy; j++)
		if (f->busy_at[j] == i) {
			f->nbusy--;
			memcpy(f->busy[j], f->busy[f->nbusy], DEST_LEN);
			f->busy_at[j] = f->busy_at[f->nbusy];
			break;
		}
	keep(f->d, json_array_get(f->lines, i), &res);
	stop_dest(f->stopped, json_array_get(f->lines, i));
	return 0;
}

/* The lines that never started or were given back, in a new array
 * (NULL: out of memory). */
static json_t *
waiting(const struct flight *f)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < f->n; i++)
		if ((f->state[i] == 0 || f->state[i] == 3) &&
		    json_array_append(a, json_array_get(f->lines, i)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/*
 * The claim with up to o.inflight lines in flight (corp-deliver.1 run
 * --inflight): lines start in claim order, except that a line waits
 * while an earlier line of its destination is in flight or waiting;
 * each ack joins the group when its answer comes, in whatever order
 * the answers come.  On a stop no line starts; those in flight land
 * and are stored, the rest given back.  *left: lines given back.
 */
static int
round_inflight(struct corp_deliver *d, json_t *lines, size_t n,
    const char *token, volatile sig_atomic_t *stop, long long *left,
    struct corp_err *e)
{
	struct flight f;
	struct corp_err e2;
	json_t *rest;
	long i;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.d = d;
	f.lines = lines;
	f.n = n;
	f.state = calloc(n + 1, 1);
	f.busy = calloc((size_t)d->o.inflight, sizeof(*f.busy));
	f.busy_at = calloc((size_t)d->o.inflight, sizeof(*f.busy_at));
	f.stopped = json_object();
	if (f.state == NULL || f.busy == NULL || f.busy_at == NULL ||
	    f.stopped == NULL) {
		rc = corp_errf(e, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		while (!*stop && f.nbusy < d->o.inflight &&
		    (i = next_line(&f)) >= 0)
			if ((rc = start(&f, (size_t)i, e)) != 0 ||
			    (group_due(d) && (rc = flush_group(d, e)) != 0))
				goto out;
		if (f.nbusy == 0 && (*stop || next_line(&f) < 0))
			break;
		if ((rc = land(&f, WAIT_MS, e)) != 0 ||
		    (group_due(d) && (rc = flush_group(d, e)) != 0))
			goto out;
	}
	rc = flush_group(d, e);
out:
	/* An error: what is in flight still lands and is stored. */
	while (rc != 0 && f.nbusy > 0 && land(&f, WAIT_MS, &e2) == 0)
		;
	if ((rest = waiting(&f)) == NULL && rc == 0)
		rc = corp_errf(e, CORP_EINTERNAL, "out of memory");
	*left = (long long)json_array_size(rest);
	if (rc != 0) {
		free(f.state);
		free(f.busy);
		free(f.busy_at);
		json_decref(f.stopped);
		abandon(d, rest, 0, token, e);
		return rc;
	}
	if (*left > 0 && (rc = corp_queue_release_lines(d->db, token, rest, 0,
	    e)) != 0)
		*left = 0;
	json_decref(rest);
	json_decref(f.stopped);
	free(f.state);
	free(f.busy);
	free(f.busy_at);
	return rc;
}

int
corp_deliver_round(struct corp_deliver *d, volatile sig_atomic_t *stop,
    long long *got, struct corp_err *e)
{
	struct corp_claim cl;
	char token[48];
	json_t *lines, *line, *stopped, *back;
	size_t n, i;
	int rc, bad = 0;
	long long limit = d->o.batch;

	if (d->o.max > 0 && d->o.max - d->st->done < limit)
		limit = d->o.max - d->st->done;
	memset(&cl, 0, sizeof(cl));
	cl.channel = d->o.channel;
	cl.limit = (int)limit;
	cl.lease_secs = d->o.lease_secs;
	cl.worker = d->o.worker;
	cl.by_priority = 1;
	cl.warn = deliver_warn;
	cl.warn_arg = d;
	if ((rc = corp_queue_claim(d->db, &cl, &lines, token, e)) != 0)
		return abandon(d, NULL, 0, NULL, e);
	n = limit_broadcast(d, lines, token, e, &rc);
	if (rc != 0)
		return abandon(d, lines, 0, token, e);
	d->st->claimed += (long long)n;
	if (d->o.inflight > 1) {
		long long left;

		rc = round_inflight(d, lines, n, token, stop, &left, e);
		json_decref(lines);
		if (rc != 0)
			return rc;
		d->st->released += left;
		*got = *stop || corp_sender_stage(d->snd, NULL) != 0 ? -1 :
		    (long long)n;
		return 0;
	}
	/* Lines of a destination whose earlier line came back retry are
	 * given back unsent (stop_dest); on an error too. */
	stopped = json_object();
	back = json_array();
	if (stopped == NULL || back == NULL) {
		json_decref(stopped);
		json_decref(back);
		corp_errf(e, CORP_EINTERNAL, "out of memory");
		return abandon(d, lines, 0, token, e);
	}
	for (i = 0; i < n && !*stop; i++) {
		line = json_array_get(lines, i);
		if (dest_stopped(stopped, line)) {
			if (json_array_append(back, line) != 0) {
				bad = corp_errf(e, CORP_EINTERNAL,
				    "out of memory");
				break;
			}
			continue;
		}
		if ((bad = one_line(d, line, e)) != 0)
			break;
		stop_dest(stopped, line);
		if ((d->ngrp >= GROUP_LINES ||
		    corp_mono_ms() - d->grp_first >= GROUP_MS) &&
		    (bad = flush_group(d, e)) != 0) {
			i++;
			break;
		}
	}
	json_decref(stopped);
	if (bad != 0 || flush_group(d, e) != 0) {
		abandon(d, back, 0, token, e);
		return abandon(d, lines, i, token, e);
	}
	if (json_array_size(back) > 0) {
		if (corp_queue_release_lines(d->db, token, back, 0, e) != 0) {
			json_decref(back);
			return abandon(d, lines, i, token, e);
		}
		d->st->released += (long long)json_array_size(back);
	}
	json_decref(back);
	if (i < n) {
		if (corp_queue_release_lines(d->db, token, lines, i, e) != 0)
			return abandon(d, lines, n, token, e);
		d->st->released += (long long)(n - i);
	}
	json_decref(lines);
	*got = *stop || corp_sender_stage(d->snd, NULL) != 0 ? -1 :
	    (long long)n;
	return 0;
}

/*
 * --until-empty on PostgreSQL: a claim that leased nothing while other
 * claims were taking the rows left tries again after 10-30 ms, up to
 * CONTENDED_TRIES times in a row (~2 s): those rows are leased by then,
 * or free again.
 */
#define CONTENDED_TRIES	100
#define CONTENDED_MS	20

/* Nothing due: sleep up to IDLE_MS, sooner when another connection
 * commits (PRAGMA data_version; LISTEN/NOTIFY on PostgreSQL) or a
 * signal comes. */
static int
idle(struct corp_deliver *d, volatile sig_atomic_t *stop, struct corp_err *e)
{
	long long v0, v, until = corp_mono_ms() + IDLE_MS;
	int rc;

	if ((rc = corp_db_data_version(d->db, &v0, e)) != 0)
		return rc;
	while (!*stop && corp_mono_ms() < until) {
		if ((rc = corp_db_wait(d->db, IDLE_STEP_MS, e)) != 0 ||
		    (rc = corp_db_data_version(d->db, &v, e)) != 0)
			return rc;
		if (v != v0)
			break;
	}
	return 0;
}

int
corp_deliver_loop(struct corp_deliver *d, volatile sig_atomic_t *stop,
    int *code, struct corp_err *e)
{
	long long got;
	int rc, more, tries = 0;

	while (!*stop) {
		if ((rc = corp_db_schema_check(d->db, e)) != 0)
			return rc;
		if (d->o.max > 0 && d->st->done >= d->o.max)
			break;
		if ((rc = corp_deliver_round(d, stop, &got, e)) != 0)
			return rc;
		if (got < 0 || d->o.once)
			break;
		if (got > 0)
			tries = 0;
		if (got == 0) {
			/*
			 * Empty means no row left this claim could take
			 * (corp-deliver.1): rows another claim was taking
			 * at that moment are tried again, for a while.
			 */
			if (d->o.until_empty) {
				if (++tries > CONTENDED_TRIES)
					break;
				if ((rc = corp_queue_contended(d->db,
				    d->o.channel, NULL, &more, e)) != 0)
					return rc;
				if (!more)
					break;
				corp_sleep_ms(CONTENDED_MS / 2 +
				    arc4random_uniform(CONTENDED_MS));
				continue;
			}
			if ((rc = idle(d, stop, e)) != 0)
				return rc;
		}
	}
	/* A stage that could not send failed the run only if it had
	 * something to send. */
	*code = corp_deliver_code(d->st, d->st->claimed > 0 ?
	    corp_sender_stage(d->snd, NULL) : 0);
	return 0;
}

/* The cause cut to CAUSE_LEN bytes, between UTF-8 characters. */
static json_t *
cause_str(const char *s)
{
	size_t n = strlen(s);

	if (n > CAUSE_LEN) {
		n = CAUSE_LEN;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return json_stringn(s, n);
}

json_t *
corp_deliver_stats_json(const struct corp_deliver_stats *s,
    const char *channel, long long elapsed_ms, int for_parent)
{
	json_t *o, *c, *last;
	char *dump;
	size_t n;
	int i;

	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "channel", channel, "claimed", (json_int_t)s->claimed,
	    "sent", (json_int_t)s->sent, "retry", (json_int_t)s->retry,
	    "failed", (json_int_t)s->failed, "unbound", (json_int_t)s->unbound,
	    "held", (json_int_t)s->held, "dlq", (json_int_t)s->dlq,
	    "released", (json_int_t)s->released,
	    "elapsed_ms", (json_int_t)elapsed_ms);
	if (o == NULL || !for_parent)
		return o;
	c = json_array();
	for (i = 0; i < s->ncause; i++)
		json_array_append_new(c, json_pack("{s:o, s:I}", "error",
		    cause_str(s->cause[i].error), "n",
		    (json_int_t)s->cause[i].n));
	json_object_set_new(o, "causes", c);
	json_object_set_new(o, "held_other", json_integer(s->held_other));
	json_object_set_new(o, "st_sent", json_integer(s->st_sent));
	json_object_set_new(o, "st_retry", json_integer(s->st_retry));
	/*
	 * One write under PIPE_BUF, so lines of children never mix: causes
	 * that would not fit (escaped, a cause may grow sixfold) are
	 * counted as other causes.
	 */
	while ((dump = json_dumps(o, JSON_COMPACT)) != NULL &&
	    strlen(dump) + 1 >= PIPE_BUF && (n = json_array_size(c)) > 0) {
		free(dump);
		last = json_array_get(c, n - 1);
		json_object_set_new(o, "held_other", json_integer(
		    json_integer_value(json_object_get(o, "held_other")) +
		    json_integer_value(json_object_get(last, "n"))));
		json_array_remove(c, n - 1);
	}
	if (dump == NULL) {
		json_decref(o);
		return NULL;
	}
	free(dump);
	return o;
}

int
corp_deliver_stats_add(struct corp_deliver_stats *s, const char *line)
{
	json_t *o = json_loads(line, 0, NULL), *c;
	size_t i;

	if (o == NULL)
		return -1;
#define ADD(f) (s->f += (long long)json_integer_value(json_object_get(o, #f)))
	ADD(claimed); ADD(sent); ADD(retry); ADD(failed); ADD(unbound);
	ADD(released); ADD(held); ADD(dlq); ADD(held_other); ADD(st_sent);
	ADD(st_retry);
#undef ADD
	json_array_foreach(json_object_get(o, "causes"), i, c)
		corp_deliver_stats_cause(s, json_string_value(json_object_get(c,
		    "error")), (long long)json_integer_value(json_object_get(c,
		    "n")));
	json_decref(o);
	return 0;
}

int
corp_deliver_settings(struct corp_db *db, struct corp_deliver_opts *o,
    char **fallback, struct corp_sender_opts *so, struct corp_cidr **allow,
    char **push_subject, struct corp_err *err)
{
	struct corp_err e;
	char *v, *p, *tok, *save = NULL;
	int rc;

	if ((rc = corp_setting_get(db, "broadcast_share", &v, err)) != 0)
		return rc;
	o->share = strtod(v, &p);
	if (*p != '\0' || !(o->share > 0 && o->share <= 1))
		o->share = 0.5;
	free(v);
	if ((rc = corp_setting_get(db, "fallback_lang", fallback, err)) != 0)
		return rc;
	o->fallback = *fallback;
	/* push endpoints fall under the SSRF rule as webhooks do. */
	if (strcmp(o->channel, "webhook") == 0 ||
	    strcmp(o->channel, "push") == 0) {
		if ((rc = corp_setting_get(db, "webhook.allow", &v, err)) != 0)
			return rc;
		for (p = v; (tok = strtok_r(p, ", \t", &save)) != NULL;
		    p = NULL)
			if (corp_cidr_add(allow, &so->nallow, tok, &e) != 0) {
				free(v);
				return corp_errf(err, CORP_ECONFIG,
				    "config webhook.allow: %s", e.msg);
			}
		free(v);
	}
	so->allow = *allow;
	so->allow_hint = "config webhook.allow (corp-settings) or --allow CIDR";
	if ((rc = corp_setting_duration(db, "telegram.max_pause",
	    &so->max_pause, err)) != 0)
		return rc;
	if (strcmp(o->channel, "push") == 0 && (rc = corp_setting_get(db,
	    "push.subject", push_subject, err)) != 0)
		return rc;
	so->push_subject = *push_subject;
	return 0;
}

void
corp_deliver_report(const struct corp_deliver_stats *st, const char *channel,
    void (*fn)(void *, const char *), void (*summary)(void *, const char *),
    void *arg)
{
	char buf[2048];
	int i;

	for (i = 0; i < st->ncause; i++) {
		snprintf(buf, sizeof(buf), "%s: held %lld: %s", channel,
		    st->cause[i].n, st->cause[i].error);
		fn(arg, buf);
	}
	if (st->held_other > 0) {
		snprintf(buf, sizeof(buf), "%s: held %lld: other causes",
		    channel, st->held_other);
		fn(arg, buf);
	}
	snprintf(buf, sizeof(buf), "%s: sent %lld retry %lld failed %lld held "
	    "%lld", channel, st->st_sent, st->st_retry, st->dlq, st->held);
	summary(arg, buf);
}
