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
#include <unistd.h>

#include "cli.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "fmtline.h"
#include "jsonl.h"
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

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
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
	/* the summary */
	long long		 claimed, sent, retry, failed, unbound,
				 released, done, t0;
	int			 tty, shown;
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

static void
count(json_t *line)
{
	const char *r = json_string_value(json_object_get(line, "result"));

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
	if (R.shown)
		fputs("\r\033[K", stderr);
	cli_fail(why);
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
		if (outcome == CORP_FMT_FAILED)
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
		if (corp_sender_report(R.snd, line, &res, msg, sizeof(msg)))
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
 * commits (PRAGMA data_version) or a signal comes. */
static void
idle(void)
{
	struct corp_err e;
	long long v0, v, until = corp_mono_ms() + IDLE_MS;

	if (corp_db_data_version(R.db, &v0, &e) != 0)
		cli_fail(&e);
	while (!stopping && corp_mono_ms() < until) {
		(void)poll(NULL, 0, IDLE_STEP_MS);
		if (corp_db_data_version(R.db, &v, &e) != 0)
			cli_fail(&e);
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
	if (strcmp(R.channel, "webhook") != 0)
		return;
	if (corp_setting_get(R.db, "webhook.allow", &v, &e) != 0)
		cli_fail(&e);
	for (p = v; (tok = strtok_r(p, ", \t", &save)) != NULL; p = NULL)
		if (corp_cidr_add(allow, nallow, tok, &e) != 0)
			cli_die(CORP_EINVAL, "config webhook.allow: %s", e.msg);
	free(v);
}

int
main(int argc, char *argv[])
{
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
	struct corp_sender_opts opt;
	struct corp_cidr *allow = NULL;
	struct sigaction sa;
	struct corp_err e;
	const char *news;
	char *wid = NULL;
	long long got, n;
	json_t *sum;
	int ch, lockfd = -1, conc = 1, code;

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
	cli_init(&argc, &argv);
	setprogname("corp-deliver");
	corp_sender_opts_init(&opt);
	R.batch = 100;
	R.lease_secs = 120;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
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
		case 'k': conc = (int)cli_num(optarg, 1, 64,
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
	if (!corp_sender_known(R.channel))
		cli_usage("--channel: unknown channel '%s'", R.channel);
	if (conc > 1)
		cli_usage("--concurrency: only 1 in this release "
		    "(see corp-deliver(1) CAVEATS)");
	if (R.worker != NULL && !corp_worker_valid(R.worker))
		cli_usage("--worker: 1-64 of A-Z a-z 0-9 . _ : -");

	R.t0 = corp_mono_ms();
	R.tty = isatty(STDERR_FILENO);
	R.db = cli_db(0);
	load_settings(&allow, &opt.nallow);
	opt.allow = allow;
	if (corp_fmt_catalog(&R.cat, NULL, 0, &e) != 0)
		cli_fail(&e);
	if (corp_sender_open(&R.snd, R.channel, &opt, &e) != 0) {
		if (e.code == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	}
	if (corp_sender_stage(R.snd, &news) != 0)
		cli_warn("%s", news);
	if (R.worker != NULL) {
		if (corp_worker_take(R.db, R.worker, &lockfd, &n, &e) != 0)
			cli_fail(&e);
	} else {
		if (corp_worker_default(&wid, &e) != 0)
			cli_fail(&e);
		R.worker = wid;
	}
	if ((R.grp = calloc(GROUP_LINES, sizeof(*R.grp))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");

	while (!stopping) {
		if (corp_db_schema_check(R.db, &e) != 0)
			cli_fail(&e);
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

	progress(1);
	code = corp_sender_stage(R.snd, NULL);
	sum = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "channel", R.channel, "claimed", (json_int_t)R.claimed,
	    "sent", (json_int_t)R.sent, "retry", (json_int_t)R.retry,
	    "failed", (json_int_t)R.failed, "unbound", (json_int_t)R.unbound,
	    "released", (json_int_t)R.released,
	    "elapsed_ms", (json_int_t)(corp_mono_ms() - R.t0));
	if (sum == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(sum);
	json_decref(sum);
	corp_sender_close(R.snd);
	corp_catalog_free(R.cat);
	corp_db_close(R.db);
	if (lockfd >= 0)
		close(lockfd);
	free(R.grp);
	free(R.fallback);
	free(allow);
	free(wid);
	cli_exit(code);
}
