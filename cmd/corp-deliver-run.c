/*
 * corp-deliver-run -- "corp-deliver run": the delivery loop in one
 * process (DESIGN 6).  The loop is lib/deliver.c (claim by priority,
 * format, send, group-commit the acks: the modules of the pipe), what a
 * loop holds lib/deliverrun.c (settings, catalog, channel, worker lock);
 * this program reads the options, opens the database, runs one loop or
 * forks K (--concurrency) and prints.  Its own program so that
 * corp-deliver does not link libcurl; corp-deliver run execs it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clisend.h"
#include "run_opts.h"
#include "clock.h"
#include "deliverrun.h"
#include "names.h"
#include "queue.h"
#include "worker.h"

static const struct cli_opt opts[] = { RUN_OPTS, { 0 } };

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static struct {
	struct corp_deliver_run	 r;		/* lib/deliverrun.h */
	long long		 t0;
	struct cli_progress	 prog;		/* of the ready rows at the start */
	char			 what[64];	/* "corp-deliver run: CHANNEL" */
	int			 is_child, reported;
	int			 sumfd;		/* a child: the summary pipe */
} R;

/* Errors on stderr, clear of the progress line. */
static void
warn_hook(void *arg, const char *msg)
{
	(void)arg;
	cli_progress_clear(&R.prog);
	cli_warn("%s", msg);
}

/* The summary line: a notice, a warning (arg not NULL) when the run
 * found trouble; neither with --quiet (corp.7 Verbosity). */
static void
summary_hook(void *arg, const char *msg)
{
	cli_progress_clear(&R.prog);
	cli_summary(arg != NULL, "%s", msg);
}

/* The progress line on a terminal (corp-deliver.1 run). */
static void
progress(void *arg)
{
	(void)arg;
	/* --verbose: the counts so far after each group (<7>). */
	if (cli_verbose()) {
		cli_progress_clear(&R.prog);
		cli_debug("%s: claimed %lld sent %lld retry %lld failed %lld "
		    "unbound %lld", R.r.o.channel, R.r.st.claimed, R.r.st.sent,
		    R.r.st.retry, R.r.st.failed, R.r.st.unbound);
	}
	cli_progress_show(&R.prog, R.what, R.r.st.claimed, "sent %lld retry "
	    "%lld failed %lld unbound %lld", R.r.st.sent, R.r.st.retry,
	    R.r.st.failed, R.r.st.unbound);
}

/*
 * The end of a run on stderr (corp-deliver.1): one line per cause of a
 * configuration hold, then the counts as stored; nothing for a run
 * that claimed nothing and exits 0.  Once per process.
 */
static void
report(int code)
{
	if (R.reported || R.is_child)
		return;
	R.reported = 1;
	cli_progress_clear(&R.prog);
	if (R.r.st.claimed == 0 && code == 0)
		return;
	/* The summary: a notice to the journal, a warning when the run
	 * found trouble (corp.7). */
	corp_deliver_report(&R.r.st, R.r.o.channel, warn_hook, summary_hook,
	    code == 0 ? NULL : &R);
}

/* A failure to set up: a usage problem is the operator's (64). */
static void
need(int rc, const struct corp_err *e)
{
	if (rc == 0)
		return;
	if (e->code == CORP_EUSAGE)
		cli_usage("%s", e->msg);
	cli_fail(e);
}

/* The loop (lib/deliver.c); an error ends the program after what was
 * sent is stored and the rest given back.  Returns the exit code. */
static int
serve(void)
{
	struct corp_deliver_hooks h = { warn_hook, progress, NULL };
	struct corp_err e;
	int code;

	if (corp_deliver_run_serve(&R.r, &h, &stopping, &code, &e) != 0) {
		warn_hook(NULL, e.msg[0] ? e.msg : corp_code_name(e.code));
		report(e.code ? e.code : CORP_EINTERNAL);
		exit(e.code ? e.code : CORP_EINTERNAL);
	}
	return code;
}

/*
 * A child's summary goes to the parent through the pipe, in one write
 * under PIPE_BUF (corp_deliver_stats_json cuts it), so lines of children
 * never mix.  Also run at exit, so that a child that dies (cli_fail)
 * still reports what it did.
 */
static void
child_report(void)
{
	json_t *sum;
	int fd = R.sumfd;

	if (fd < 0)
		return;
	R.sumfd = -1;
	sum = corp_deliver_stats_json(&R.r.st, R.r.o.channel,
	    corp_mono_ms() - R.t0, 1);
	cli_fanout_send(fd, sum);
	json_decref(sum);
	close(fd);
}

/*
 * Child i of K (1..K; cmd/cliproc.c forks it): the whole loop over its
 * own database connection, claims, leases and connection (see
 * corp_deliver_run_child).  Settings, catalog and allowed ranges come
 * from the parent.
 */
__attribute__((noreturn)) static void
child(int i, int k, int fd, void *arg)
{
	struct corp_err e;
	int code;

	(void)arg;
	R.sumfd = fd;
	R.is_child = 1;
	atexit(child_report);
	R.prog.tty = 0;
	R.r.db = cli_db(0);
	need(corp_deliver_run_child(&R.r, i, k, &e), &e);
	code = serve();
	child_report();
	corp_deliver_run_free(&R.r);
	cli_exit(code);
}

static int
merge(const char *line, void *arg)
{
	(void)arg;
	return corp_deliver_stats_add(&R.r.st, line);
}

static int
cmd_run(const struct cli_args *a)
{
	struct corp_deliver_opts *o = &R.r.o;
	struct corp_err e;
	json_t *sum;
	int conc, code;

	corp_deliver_run_init(&R.r);
	cli_sender_opts_get(a, &R.r.so, &R.r.allow);
	o->channel = cli_str(a, O_CHANNEL);
	o->once = cli_has(a, O_ONCE);
	o->max = cli_int(a, O_MAX, 0);
	o->until_empty = cli_has(a, O_UNTIL_EMPTY);
	o->worker = cli_str(a, O_WORKER);
	o->batch = cli_has(a, O_BATCH) ? (int)cli_num(cli_str(a, O_BATCH), 1,
	    10000, "--batch") : 100;
	o->lease_secs = cli_int(a, O_LEASE, 120);
	o->inflight = (int)cli_int(a, O_INFLIGHT, 1);
	conc = (int)cli_int(a, O_CONCURRENCY, 1);
	R.sumfd = -1;
	/* A misspelt channel: 64 with the closest one (names.h). */
	if (corp_channel_check(o->channel, &e) != 0)
		cli_fail(&e);
	need(corp_deliver_run_check(&R.r, conc, &e), &e);

	/*
	 * Everything is checked here, once, with the exit codes of K = 1,
	 * before any child exists: the database, the settings, the channel
	 * and its secret, the worker lock.
	 */
	cli_log_timed();	/* a loop from here on (corp.7 Errors) */
	R.t0 = corp_mono_ms();
	R.r.db = cli_db(0);
	cli_progress_start(&R.prog, 0);
	if (R.prog.tty) {
		time_t oldest;

		if (corp_queue_waiting(R.r.db, o->channel, NULL,
		    &R.prog.total, &oldest, &e) != 0)
			cli_fail(&e);
		snprintf(R.what, sizeof(R.what), "corp-deliver run: %s",
		    o->channel);
	}
	need(corp_deliver_run_prepare(&R.r, &e), &e);
	need(corp_deliver_run_channel(&R.r, &e), &e);
	/* A failed stage (no token) sends nothing: one loop acks it. */
	if (corp_sender_stage(R.r.snd, NULL) != 0)
		conc = 1;
	if (o->max > 0 && conc > o->max)
		conc = (int)o->max;
	if (o->worker != NULL || conc == 1)
		need(corp_deliver_run_worker(&R.r, &e), &e);
	if (conc > 1) {
		/* A connection must not cross fork(): the children open
		 * their own. */
		corp_deliver_run_detach(&R.r);
		code = cli_fanout(conc, &stopping, child, NULL, merge, NULL);
	} else
		code = serve();
	if ((sum = corp_deliver_stats_json(&R.r.st, o->channel,
	    corp_mono_ms() - R.t0, 0)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(sum);
	json_decref(sum);
	report(code);
	corp_deliver_run_free(&R.r);
	return code;
}

static const struct cli_verb verbs[] = {
	{ "", cmd_run, RUN_SUMMARY, NULL, 0, 0,
	    (const struct cli_use[]){ RUN_USES, { 0 } } },
	{ NULL }
};

static const struct cli_tool tool = { "corp-deliver-run",
	RUN_SUMMARY " (corp-deliver run)", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char *argv[])
{
	static char progname[] = "corp-deliver";
	struct sigaction sa;

	/*
	 * From the start, so that a signal during start-up is a clean stop
	 * too.  No SA_RESTART: a signal ends the idle wait at once.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Every message, cli_init's included, is corp-deliver's. */
	if (argc > 0)
		argv[0] = progname;
	cli_main(&tool, argc, argv);
}
