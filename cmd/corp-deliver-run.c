/*
 * corp-deliver-run -- "corp-deliver run": the delivery loop in one
 * process (DESIGN 6).  Claim a batch by priority, format each line, send
 * it, group-commit the acks; the same rules as the pipe
 *
 *	corp-deliver pending | corp-fmt | corp-send CH | corp-deliver ack
 *
 * because it calls the same lib/ code (queue, fmtline, sendline).  Its
 * own program so that corp-deliver does not link libcurl; corp-deliver
 * run execs it.  No transaction is ever open while a line is sent.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "fmtline.h"
#include "jsonl.h"
#include "names.h"
#include "netaddr.h"
#include "queue.h"
#include "send.h"
#include "sendline.h"
#include "settings.h"
#include "worker.h"

static const char synopsis[] =
"usage: corp-deliver run --channel C [--once] [--max N] [--until-empty]\n"
"                        [--worker ID] [--batch N] [--lease DURATION]\n"
"                        [--concurrency K] [--max-wait DURATION]\n"
"                        [--allow-http] [--allow CIDR] ...\n"
"                        [--timeout DURATION] [--connect-timeout DURATION]\n"
"                        [--exec-timeout DURATION] [--out FILE]\n"
"                        [--smtp-url URL] [--from ADDRESS] [--smtp-user NAME]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

#define GROUP_LINES	64	/* group commit: at most this many acks */
#define GROUP_MS	100	/* or acks this old */
#define IDLE_MS		500	/* longest sleep when nothing is due */
#define IDLE_STEP_MS	50	/* data_version polled this often */

#define MAX_CONC	32	/* --concurrency */
#define MAX_CAUSES	8	/* configuration holds reported by cause */
#define CAUSE_LEN	200	/* bytes of a cause a child reports */

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The parent of --concurrency K waits in sigsuspend for this. */
static void
on_child(int sig)
{
	(void)sig;
}

static struct {
	const char		*channel, *worker;
	int			 batch, once, until_empty;
	long long		 max, lease_secs;
	double			 share;
	char			*fallback;
	struct corp_db		*db;
	struct corp_catalog	*cat;
	struct corp_sender	*snd;
	/* acks sent but not yet stored */
	json_t			**grp;
	size_t			 ngrp;
	long long		 grp_first;
	/* the summary: results of the sends */
	long long		 claimed, sent, retry, failed, unbound,
				 released, done, t0;
	/* what the acks stored: sent, back in the queue, the DLQ, held
	 * for a configuration error (by cause) */
	long long		 st_sent, st_retry, dlq, held, held_other;
	struct {
		char		*error;
		long long	 n;
	}			 cause[MAX_CAUSES];
	int			 ncause, is_child, reported;
	int			 tty, shown;
	int			 lockfd;	/* the --worker lock */
	int			 sumfd;		/* a child: the summary pipe */
} R;

/* Errors on stderr, clear of the progress line. */
static void
warnx_run(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (R.shown) {
		fputs("\r\033[K", stderr);
		R.shown = 0;
	}
	cli_warn("%s", buf);
}

static void
progress(int last)
{
	if (!R.tty)
		return;
	fprintf(stderr, "\r\033[Kcorp-deliver run: %s: claimed %lld sent %lld "
	    "retry %lld failed %lld unbound %lld%s", R.channel, R.claimed,
	    R.sent, R.retry, R.failed, R.unbound, last ? "\n" : "");
	R.shown = !last;
}

/* A line held for a configuration error (corp-json.5: error_class). */
static int
is_config(json_t *line)
{
	const char *c = json_string_value(json_object_get(line,
	    "error_class"));

	return c != NULL && strcmp(c, "config") == 0;
}

/* n more rows held for cause error (one summary line per cause). */
static void
add_cause(const char *error, long long n)
{
	int i;

	if (error == NULL)
		error = "(no error given)";
	for (i = 0; i < R.ncause; i++)
		if (strcmp(R.cause[i].error, error) == 0) {
			R.cause[i].n += n;
			return;
		}
	if (R.ncause == MAX_CAUSES ||
	    (R.cause[R.ncause].error = strdup(error)) == NULL) {
		R.held_other += n;
		return;
	}
	R.cause[R.ncause++].n = n;
}

static void
count(json_t *line)
{
	const char *r = json_string_value(json_object_get(line, "result"));
	const char *st = json_string_value(json_object_get(line, "stored"));

	if (r == NULL)
		return;
	if (strcmp(r, "sent") == 0)
		R.sent++;
	else if (strcmp(r, "retry") == 0)
		R.retry++;
	else if (strcmp(r, "unbound") == 0)
		R.unbound++;
	else
		R.failed++;
	if (st == NULL)
		return;
	if (strcmp(st, "sent") == 0)
		R.st_sent++;
	else if (strcmp(st, "failed") == 0)
		R.dlq++;
	else if (strcmp(st, "retry") == 0 && is_config(line)) {
		R.held++;
		add_cause(json_string_value(json_object_get(line, "error")),
		    1);
	} else if (strcmp(st, "retry") == 0 || strcmp(st, "unbound") == 0)
		R.st_retry++;
}

/*
 * The end of a run on stderr (corp-deliver.1): one line per cause of a
 * configuration hold, then the counts as stored; nothing for a run
 * that claimed nothing and exits 0.  Once per process.
 */
static void
report(int code)
{
	int i;

	if (R.reported || R.is_child)
		return;
	R.reported = 1;
	if (R.claimed == 0 && code == 0) {
		if (R.shown)
			fputs("\r\033[K", stderr);
		R.shown = 0;
		return;
	}
	for (i = 0; i < R.ncause; i++)
		warnx_run("%s: held %lld: %s", R.channel, R.cause[i].n,
		    R.cause[i].error);
	if (R.held_other > 0)
		warnx_run("%s: held %lld: other causes", R.channel,
		    R.held_other);
	warnx_run("%s: sent %lld retry %lld failed %lld held %lld",
	    R.channel, R.st_sent, R.st_retry, R.dlq, R.held);
}

/*
 * The exit code of a loop whose stage ended with stage: a failure of
 * the loop itself, else 78 for rows held for a configuration error,
 * else 3 for rows put in the dead-letter queue (corp.7).
 */
static int
loop_code(int stage)
{
	if (stage != 0)
		return stage;
	if (R.held > 0 || R.held_other > 0)
		return CORP_ECONFIG;
	if (R.dlq > 0)
		return CORP_EXIT_DLQ;
	return 0;
}

/*
 * Store the collected acks in one transaction (corp_queue_ack), after
 * the transport made them durable (file: fsync).  A failure here leaves
 * the rows leased: they come back when the leases expire, and the
 * messages may go out again (at least once, DESIGN 5).
 */
static int
flush_group(struct corp_err *e)
{
	size_t i;
	int bad, rc;

	if (R.ngrp == 0)
		return 0;
	if ((rc = corp_sender_flush(R.snd, e)) != 0 ||
	    (rc = corp_queue_ack(R.db, R.grp, R.ngrp, &bad, e)) != 0)
		return rc;
	for (i = 0; i < R.ngrp; i++) {
		json_t *ae = json_object_get(R.grp[i], "ack_error");

		if (ae != NULL)
			warnx_run("delivery %lld: ack: %s",
			    (long long)json_integer_value(json_object_get(
			    R.grp[i], "delivery_id")), json_string_value(ae));
		count(R.grp[i]);
		json_decref(R.grp[i]);
	}
	R.ngrp = 0;
	progress(0);
	return 0;
}

/* Give back the leases of lines [from, n) of a claim: never sent. */
static int
release_rest(json_t *lines, size_t from, const char *token,
    struct corp_err *e)
{
	size_t n = json_array_size(lines), k;
	long long *ids;
	int rc;

	if (from >= n)
		return 0;
	if ((ids = calloc(n - from, sizeof(*ids))) == NULL)
		return corp_errf(e, CORP_EINTERNAL, "out of memory");
	for (k = from; k < n; k++)
		ids[k - from] = json_integer_value(json_object_get(
		    json_array_get(lines, k), "delivery_id"));
	rc = corp_queue_release(R.db, token, ids, n - from, e);
	free(ids);
	return rc;
}

/* Die after storing what was sent and giving back what was not. */
static void
die_after(json_t *lines, size_t from, const char *token,
    const struct corp_err *why)
{
	struct corp_err e;

	if (flush_group(&e) != 0)
		warnx_run("%s", e.msg);
	if (lines != NULL && release_rest(lines, from, token, &e) != 0)
		warnx_run("%s", e.msg);
	warnx_run("%s", why->msg[0] ? why->msg : corp_code_name(why->code));
	report(why->code ? why->code : CORP_EINTERNAL);
	exit(why->code ? why->code : CORP_EINTERNAL);
}

/*
 * Broadcasts take at most share x batch of a claim while urgent or p2p
 * rows are in it (they wait for the sending rate too); the whole batch
 * when none are.  The claim is ordered urgent, p2p, broadcast, so the
 * excess is its tail: given back at once, unsent.  Returns the new size.
 */
static size_t
limit_broadcast(json_t *lines, const char *token, struct corp_err *e,
    int *rc)
{
	size_t n = json_array_size(lines), k = 0, cap, keep;
	json_t *l;

	*rc = 0;
	for (k = 0; k < n; k++) {
		l = json_array_get(lines, k);
		if (strcmp(json_string_value(json_object_get(l, "priority")) ?
		    json_string_value(json_object_get(l, "priority")) : "",
		    "broadcast") == 0)
			break;
	}
	if (k == 0 || k == n)
		return n;
	cap = (size_t)floor(R.share * R.batch);
	if (cap < 1)
		cap = 1;
	if (n - k <= cap)
		return n;
	keep = k + cap;
	if ((*rc = release_rest(lines, keep, token, e)) != 0)
		return n;
	while (json_array_size(lines) > keep)
		json_array_remove(lines, json_array_size(lines) - 1);
	return keep;
}

static void
add_ack(json_t *line)
{
	if (R.ngrp == 0)
		R.grp_first = corp_mono_ms();
	R.grp[R.ngrp++] = json_incref(line);
}

/*
 * One claim and its lines.  Returns the number of rows claimed, -1 when
 * the loop must stop (a signal, the stage failed).
 */
static long long
round_once(void)
{
	struct corp_claim cl;
	struct corp_send_res res;
	struct corp_err e;
	const char *news;
	char token[48], tb[160], msg[1400];
	json_t *lines, *line;
	size_t n, i;
	int rc, outcome;
	long long limit = R.batch;

	if (R.max > 0 && R.max - R.done < limit)
		limit = R.max - R.done;
	memset(&cl, 0, sizeof(cl));
	cl.channel = R.channel;
	cl.limit = (int)limit;
	cl.lease_secs = R.lease_secs;
	cl.worker = R.worker;
	cl.by_priority = 1;
	if (corp_queue_claim(R.db, &cl, &lines, token, &e) != 0)
		die_after(NULL, 0, NULL, &e);
	n = limit_broadcast(lines, token, &e, &rc);
	if (rc != 0)
		die_after(lines, 0, token, &e);
	R.claimed += (long long)n;
	for (i = 0; i < n && !stopping; i++) {
		line = json_array_get(lines, i);
		if (corp_fmt_line(R.cat, line, R.fallback, &outcome, &e) != 0)
			die_after(lines, i, token, &e);
		/* A configuration hold is reported once per cause, at
		 * the end: 50 000 rows, not 50 000 lines. */
		if (outcome == CORP_FMT_FAILED && !is_config(line))
			warnx_run("delivery %lld: %s%s", (long long)
			    json_integer_value(json_object_get(line,
			    "delivery_id")), e.msg,
			    corp_line_trace(line, tb, sizeof(tb)));
		rc = corp_sender_line(R.snd, line, &res, &e);
		if (rc != CORP_SENDLINE_DONE && rc != CORP_SENDLINE_INVALID)
			die_after(lines, i, token, &e);
		corp_sender_stage(R.snd, &news);
		if (news != NULL)
			warnx_run("%s", news);
		if (corp_sender_report(R.snd, line, &res, msg,
		    sizeof(msg)) && !is_config(line))
			warnx_run("%s", msg);
		/* The text was for the wire; the ack needs none of it. */
		json_object_del(line, "text");
		json_object_del(line, "subject");
		add_ack(line);
		R.done++;
		if ((R.ngrp >= GROUP_LINES ||
		    corp_mono_ms() - R.grp_first >= GROUP_MS) &&
		    flush_group(&e) != 0)
			die_after(lines, i + 1, token, &e);
	}
	if (flush_group(&e) != 0)
		die_after(lines, i, token, &e);
	if (i < n) {
		if (release_rest(lines, i, token, &e) != 0)
			die_after(NULL, 0, NULL, &e);
		R.released += (long long)(n - i);
	}
	json_decref(lines);
	if (stopping || corp_sender_stage(R.snd, NULL) != 0)
		return -1;
	return (long long)n;
}

/* Nothing due: sleep up to IDLE_MS, sooner when another connection
 * commits (PRAGMA data_version; LISTEN/NOTIFY on PostgreSQL) or a
 * signal comes. */
static void
idle(void)
{
	struct corp_err e;
	long long v0, v, until = corp_mono_ms() + IDLE_MS;

	if (corp_db_data_version(R.db, &v0, &e) != 0)
		die_after(NULL, 0, NULL, &e);
	while (!stopping && corp_mono_ms() < until) {
		if (corp_db_wait(R.db, IDLE_STEP_MS, &e) != 0 ||
		    corp_db_data_version(R.db, &v, &e) != 0)
			die_after(NULL, 0, NULL, &e);
		if (v != v0)
			break;
	}
}

static long
millis(const char *s, const char *what)
{
	return (long)cli_duration(s, what) * 1000;
}

static void
load_settings(struct corp_cidr **allow, size_t *nallow)
{
	struct corp_err e;
	char *v, *p, *tok, *save = NULL;

	if (corp_setting_get(R.db, "broadcast_share", &v, &e) != 0)
		cli_fail(&e);
	R.share = strtod(v, &p);
	if (*p != '\0' || !(R.share > 0 && R.share <= 1))
		R.share = 0.5;
	free(v);
	if (corp_setting_get(R.db, "fallback_lang", &R.fallback, &e) != 0)
		cli_fail(&e);
	if (strcmp(R.channel, "webhook") != 0 &&
	    strcmp(R.channel, "push") != 0)	/* push: the SSRF rule too */
		return;
	if (corp_setting_get(R.db, "webhook.allow", &v, &e) != 0)
		cli_fail(&e);
	for (p = v; (tok = strtok_r(p, ", \t", &save)) != NULL; p = NULL)
		if (corp_cidr_add(allow, nallow, tok, &e) != 0)
			cli_die(CORP_ECONFIG, "config webhook.allow: %s", e.msg);
	free(v);
}

/*
 * Open the channel; a usage problem is the operator's (64).  A stage
 * that cannot send (no token) is told with the first line it passes on
 * (round_once): a channel with nothing to send is not an error.
 */
static void
open_sender(const struct corp_sender_opts *opt)
{
	struct corp_err e;

	if (corp_sender_open(&R.snd, R.channel, opt, &e) != 0) {
		if (e.code == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	}
}

/* Take the lock of worker id, giving back its old leases. */
static void
take_worker(const char *id)
{
	struct corp_err e;
	long long n;

	if (corp_worker_take(R.db, id, &R.lockfd, &n, &e) != 0)
		cli_fail(&e);
}

/* The loop (DESIGN 6).  Returns the exit code: the stage's. */
static int
serve(void)
{
	struct corp_err e;
	long long got;

	if ((R.grp = calloc(GROUP_LINES, sizeof(*R.grp))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while (!stopping) {
		if (corp_db_schema_check(R.db, &e) != 0)
			die_after(NULL, 0, NULL, &e);
		if (R.max > 0 && R.done >= R.max)
			break;
		got = round_once();
		if (got < 0 || R.once)
			break;
		if (got == 0) {
			if (R.until_empty)
				break;
			idle();
		}
	}
	/* A stage that could not send failed the run only if it had
	 * something to send. */
	return loop_code(R.claimed > 0 ? corp_sender_stage(R.snd, NULL) : 0);
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

/*
 * The summary line, or NULL when out of memory.  A child's (for the
 * parent, through the pipe) adds what the acks stored and the causes
 * of holds, each cut so that the line stays under PIPE_BUF.
 */
static json_t *
summary(int child)
{
	json_t *o, *c;
	int i;

	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "channel", R.channel, "claimed", (json_int_t)R.claimed,
	    "sent", (json_int_t)R.sent, "retry", (json_int_t)R.retry,
	    "failed", (json_int_t)R.failed, "unbound", (json_int_t)R.unbound,
	    "held", (json_int_t)R.held, "dlq", (json_int_t)R.dlq,
	    "released", (json_int_t)R.released,
	    "elapsed_ms", (json_int_t)(corp_mono_ms() - R.t0));
	if (o == NULL || !child)
		return o;
	c = json_array();
	for (i = 0; i < R.ncause; i++)
		json_array_append_new(c, json_pack("{s:o, s:I}", "error",
		    cause_str(R.cause[i].error), "n",
		    (json_int_t)R.cause[i].n));
	json_object_set_new(o, "causes", c);
	json_object_set_new(o, "held_other", json_integer(R.held_other));
	json_object_set_new(o, "st_sent", json_integer(R.st_sent));
	json_object_set_new(o, "st_retry", json_integer(R.st_retry));
	return o;
}

/*
 * A child's summary goes to the parent through the pipe, in one write
 * under PIPE_BUF, so lines of children never mix: causes that would not
 * fit (escaped, a cause may grow sixfold) are counted as other causes.
 * Also run at exit, so that a child that dies (cli_fail) still reports
 * what it did.
 */
static void
child_report(void)
{
	json_t *sum, *causes, *last;
	char *s = NULL, *l = NULL;
	size_t n;
	int fd = R.sumfd;

	if (fd < 0)
		return;
	R.sumfd = -1;
	if ((sum = summary(1)) == NULL)
		goto out;
	causes = json_object_get(sum, "causes");
	while ((s = json_dumps(sum, JSON_COMPACT)) != NULL &&
	    strlen(s) + 1 >= PIPE_BUF && (n = json_array_size(causes)) > 0) {
		free(s);
		last = json_array_get(causes, n - 1);
		json_object_set_new(sum, "held_other", json_integer(
		    json_integer_value(json_object_get(sum, "held_other")) +
		    json_integer_value(json_object_get(last, "n"))));
		json_array_remove(causes, n - 1);
	}
	if (s != NULL && corp_asprintf(&l, "%s\n", s) >= 0 &&
	    write(fd, l, strlen(l)) != (ssize_t)strlen(l))
		cli_warn("summary pipe: %s", strerror(errno));
out:
	free(l);
	free(s);
	json_decref(sum);
	close(fd);
}

static void
cleanup(void)
{
	int i;

	for (i = 0; i < R.ncause; i++)
		free(R.cause[i].error);
	R.ncause = 0;
	corp_sender_close(R.snd);
	corp_catalog_free(R.cat);
	corp_db_close(R.db);
	if (R.lockfd >= 0)
		close(R.lockfd);
	free(R.grp);
	free(R.fallback);
}

/*
 * Child i of K (1..K): the whole loop over its own database connection,
 * claims, leases and connection; worker ID-i when the parent has --worker
 * ID.  Settings, catalog and allowed ranges come from the parent.
 */
__attribute__((noreturn)) static void
child(int i, int fd, pid_t ppid, const sigset_t *mask,
    const struct corp_sender_opts *opt)
{
	char id[80], *wid = NULL;
	struct corp_err e;
	int code;

	/*
	 * Die with the parent, killed -9 included: SIGTERM, so that this
	 * child stops as on the parent's own (acks stored, leases given
	 * back) and its worker lock is free for a restart.  The parent may
	 * be gone already, before prctl: then stop at once (the SIGTERM is
	 * blocked until sigprocmask below, and nothing is open yet).
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		cli_die(CORP_EINTERNAL, "prctl: %s", strerror(errno));
	if (getppid() != ppid)
		_exit(0);
	R.sumfd = fd;
	R.is_child = 1;
	atexit(child_report);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (R.lockfd >= 0)
		close(R.lockfd);	/* the parent's */
	R.lockfd = -1;
	R.tty = 0;
	R.db = cli_db(0);
	open_sender(opt);
	if (R.worker != NULL) {
		snprintf(id, sizeof(id), "%s-%d", R.worker, i);
		take_worker(id);
		R.worker = id;
	} else {
		if (corp_worker_default(&wid, &e) != 0)
			cli_fail(&e);
		R.worker = wid;
	}
	code = serve();
	child_report();
	cleanup();
	free(wid);
	cli_exit(code);
}

/*
 * 77 > 75 > any other failure (as 1) > 78 > 3 > 0: a failure of the
 * loop outranks what it found in the rows.
 */
static int
worse(int a, int b)
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

/* Add one child's summary line to the parent's counts. */
static void
add_counts(const char *line)
{
	json_t *o = json_loads(line, 0, NULL), *c;
	size_t i;

	if (o == NULL) {
		cli_warn("a child's summary is not JSON: %s", line);
		return;
	}
#define ADD(f) (R.f += (long long)json_integer_value(json_object_get(o, #f)))
	ADD(claimed); ADD(sent); ADD(retry); ADD(failed); ADD(unbound);
	ADD(released); ADD(held); ADD(dlq); ADD(held_other); ADD(st_sent);
	ADD(st_retry);
#undef ADD
	json_array_foreach(json_object_get(o, "causes"), i, c)
		add_cause(json_string_value(json_object_get(c, "error")),
		    (long long)json_integer_value(json_object_get(c, "n")));
	json_decref(o);
}

/*
 * --concurrency K > 1: fork K children, each the whole loop (so K
 * connections at once), forward SIGTERM and SIGINT to them, stop the
 * others when one fails, wait for all, add up their summaries.  Signals
 * are blocked outside sigsuspend, so none is lost between a check and
 * the wait.  Returns the most severe exit code of the children.
 */
static int
parent(int conc, const struct corp_sender_opts *opt)
{
	struct sigaction sa;
	sigset_t block, old;
	pid_t pids[MAX_CONC], pid, self = getpid();
	char buf[4096], *acc = NULL, *nl, *p;
	size_t nacc = 0;
	ssize_t r;
	long long max = R.max;
	int fds[2], i, n = 0, live, st, code, worst = 0, told = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (pipe2(fds, O_CLOEXEC) != 0)
		cli_die(CORP_EINTERNAL, "pipe: %s", strerror(errno));
	fflush(NULL);
	for (i = 0; i < conc && !stopping; i++) {
		/* --max N: child i gets N/K, the first N%K one more. */
		R.max = max > 0 ? max / conc + (i < max % conc) : 0;
		if ((pid = fork()) < 0) {
			cli_warn("fork: %s", strerror(errno));
			worst = worse(worst, CORP_EINTERNAL);
			stopping = 1;
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			child(i + 1, fds[1], self, &old, opt);
		}
		pids[n++] = pid;
	}
	close(fds[1]);
	for (live = n; live > 0; ) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			for (i = 0; i < n; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = -1;
				live--;
				code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
				worst = worse(worst, code);
				/* 3 and 78 are what a child found in the
				 * rows, not a failure: the others go on. */
				if (code != 0 && code != CORP_EXIT_DLQ &&
				    code != CORP_ECONFIG)
					stopping = 1;
			}
		if (live == 0)
			break;
		if (stopping && !told) {
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			told = 1;
		}
		sigsuspend(&old);
	}
	/* K short lines: they fit the pipe, read once all are written. */
	while ((r = read(fds[0], buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cli_die(CORP_EINTERNAL, "summary pipe: %s",
			    strerror(errno));
		}
		if ((p = realloc(acc, nacc + (size_t)r + 1)) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		acc = p;
		memcpy(acc + nacc, buf, (size_t)r);
		nacc += (size_t)r;
		acc[nacc] = '\0';
	}
	close(fds[0]);
	for (p = acc; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		add_counts(p);
	}
	free(acc);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return worst;
}

int
main(int argc, char *argv[])
{
	static char progname[] = "corp-deliver";
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'C' },
		{ "once", no_argument, NULL, '1' },
		{ "max", required_argument, NULL, 'n' },
		{ "until-empty", no_argument, NULL, 'e' },
		{ "worker", required_argument, NULL, 'W' },
		{ "batch", required_argument, NULL, 'b' },
		{ "lease", required_argument, NULL, 'l' },
		{ "concurrency", required_argument, NULL, 'k' },
		{ "allow-http", no_argument, NULL, 'H' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "allow", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "exec-timeout", required_argument, NULL, 'x' },
		{ "smtp-url", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ "smtp-user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char *push_subject;
	struct corp_sender_opts opt;
	struct corp_cidr *allow = NULL;
	struct sigaction sa;
	struct corp_err e;
	char *wid = NULL, id[80];
	json_t *sum;
	int ch, conc = 1, code;

	/*
	 * From the start, so that a signal during start-up is a clean stop
	 * too.  No SA_RESTART: a signal ends the idle wait at once.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	cli_synopsis = synopsis;
	/* Every message, cli_init's included, is corp-deliver's. */
	if (argc > 0)
		argv[0] = progname;
	cli_init(&argc, &argv);
	corp_sender_opts_init(&opt);
	R.batch = 100;
	R.lease_secs = 120;
	R.lockfd = R.sumfd = -1;
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'C': R.channel = optarg; break;
		case '1': R.once = 1; break;
		case 'n': R.max = cli_num(optarg, 1, LLONG_MAX, "--max");
		    break;
		case 'e': R.until_empty = 1; break;
		case 'W': R.worker = optarg; break;
		case 'b': R.batch = (int)cli_num(optarg, 1, 10000, "--batch");
		    break;
		case 'l': R.lease_secs = cli_duration(optarg, "--lease");
		    break;
		case 'k': conc = (int)cli_num(optarg, 1, MAX_CONC,
		    "--concurrency"); break;
		case 'H': opt.allow_http = 1; break;
		case 'w': opt.max_wait_ms = millis(optarg, "--max-wait");
		    break;
		case 't': opt.total_ms = millis(optarg, "--timeout"); break;
		case 'c': opt.connect_ms = millis(optarg,
		    "--connect-timeout"); break;
		case 'a':
			if (corp_cidr_add(&allow, &opt.nallow, optarg,
			    &e) != 0)
				cli_usage("--allow: %s", e.msg);
			break;
		case 'o': opt.out = optarg; break;
		case 'x': opt.exec_ms = millis(optarg, "--exec-timeout");
		    break;
		case 'u': opt.smtp_url = optarg; break;
		case 'f': opt.from = optarg; break;
		case 'U': opt.smtp_user = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("run takes no arguments");
	if (R.channel == NULL)
		cli_usage("run needs --channel");
	/* A misspelt channel: 64 with the closest one (names.h). */
	if (corp_channel_check(R.channel, &e) != 0)
		cli_fail(&e);
	if (!corp_sender_known(R.channel))
		cli_usage("--channel: no sender for channel '%s'", R.channel);
	if (R.worker != NULL && !corp_worker_valid(R.worker))
		cli_usage("--worker: 1-64 of A-Z a-z 0-9 . _ : -");
	if (R.worker != NULL && conc > 1 && (snprintf(id, sizeof(id),
	    "%s-%d", R.worker, conc), !corp_worker_valid(id)))
		cli_usage("--worker: too long for --concurrency %d (the "
		    "children are ID-1..ID-%d, 64 characters at most)", conc,
		    conc);

	/*
	 * Everything is checked here, once, with the exit codes of K = 1,
	 * before any child exists: the database, the settings, the channel
	 * and its secret, the worker lock.
	 */
	R.t0 = corp_mono_ms();
	R.tty = isatty(STDERR_FILENO);
	R.db = cli_db(0);
	load_settings(&allow, &opt.nallow);
	opt.allow = allow;
	opt.allow_hint = "config webhook.allow (corp-settings) or --allow CIDR";
	/* How long a server's retry_after may stop sending. */
	if (corp_setting_duration(R.db, "telegram.max_pause", &opt.max_pause,
	    &e) != 0)
		cli_fail(&e);
	/* push: the VAPID subject (corp-send.1 PUSH). */
	if (strcmp(R.channel, "push") == 0 && corp_setting_get(R.db,
	    "push.subject", &push_subject, &e) != 0)
		cli_fail(&e);
	opt.push_subject = push_subject;
	if (corp_fmt_catalog(&R.cat, NULL, 0, &e) != 0)
		cli_fail(&e);
	open_sender(&opt);
	/* A failed stage (no token) sends nothing: one loop acks it. */
	if (corp_sender_stage(R.snd, NULL) != 0)
		conc = 1;
	if (R.max > 0 && conc > R.max)
		conc = (int)R.max;
	if (R.worker != NULL)
		take_worker(R.worker);
	if (conc > 1) {
		/* A connection must not cross fork(): the children open
		 * their own. */
		corp_sender_close(R.snd);
		R.snd = NULL;
		corp_db_close(R.db);
		R.db = NULL;
		code = parent(conc, &opt);
	} else {
		if (R.worker == NULL) {
			if (corp_worker_default(&wid, &e) != 0)
				cli_fail(&e);
			R.worker = wid;
		}
		code = serve();
	}
	if ((sum = summary(0)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(sum);
	json_decref(sum);
	report(code);
	cleanup();
	free(allow);
	free(wid);
	cli_exit(code);
}
