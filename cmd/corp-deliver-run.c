/*
 * corp-deliver-run -- "corp-deliver run": the delivery loop in one
 * process (DESIGN 6).  The round and the loop are lib/deliver.c (claim
 * by priority, format, send, group-commit the acks: the same modules as
 * the pipe); this program reads the options and settings, opens the
 * database, the catalog and the channel, takes the worker lock, runs
 * the loop (or K of them, --concurrency) and prints the summary.  Its
 * own program so that corp-deliver does not link libcurl; corp-deliver
 * run execs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_TABLE
#include "cli.h"
#include "clisend.h"
#include "run_opts.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "deliver.h"
#include "fmtline.h"
#include "names.h"
#include "netaddr.h"
#include "queue.h"
#include "sender.h"
#include "settings.h"
#include "worker.h"

#define MAX_CONC	32	/* --concurrency */

static const struct cli_opt opts[] = { RUN_OPTS, { 0 } };

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
	struct corp_deliver_opts o;
	struct corp_deliver_stats st;
	struct corp_db		*db;
	struct corp_catalog	*cat;
	struct corp_sender	*snd;
	char			*fallback;
	long long		 t0;
	struct cli_progress	 prog;		/* of the ready rows at the start */
	char			 what[64];	/* "corp-deliver run: CHANNEL" */
	int			 is_child, reported;
	int			 lockfd;	/* the --worker lock */
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

/* The progress line on a terminal (corp-deliver.1 run). */
static void
progress(void *arg)
{
	(void)arg;
	cli_progress_show(&R.prog, R.what, R.st.claimed, "sent %lld retry "
	    "%lld failed %lld unbound %lld", R.st.sent, R.st.retry,
	    R.st.failed, R.st.unbound);
}

/*
 * The end of a run on stderr (corp-deliver.1): one line per cause of a
 * configuration hold, then the counts as stored; nothing for a run
 * that claimed nothing and exits 0.  Once per process.
 */
static void
report(int code)
{
	char buf[2048];
	int i;

	if (R.reported || R.is_child)
		return;
	R.reported = 1;
	if (R.st.claimed == 0 && code == 0) {
		cli_progress_clear(&R.prog);
		return;
	}
	for (i = 0; i < R.st.ncause; i++) {
		snprintf(buf, sizeof(buf), "%s: held %lld: %s", R.o.channel,
		    R.st.cause[i].n, R.st.cause[i].error);
		warn_hook(NULL, buf);
	}
	if (R.st.held_other > 0) {
		snprintf(buf, sizeof(buf), "%s: held %lld: other causes",
		    R.o.channel, R.st.held_other);
		warn_hook(NULL, buf);
	}
	cli_progress_clear(&R.prog);
	/* A notice to the journal, a warning when the run found trouble. */
	(code == 0 ? cli_notice : cli_warn)("%s: sent %lld retry %lld "
	    "failed %lld held %lld", R.o.channel, R.st.st_sent, R.st.st_retry,
	    R.st.dlq, R.st.held);
}

static void
load_settings(struct corp_cidr **allow, size_t *nallow)
{
	struct corp_err e;
	char *v, *p, *tok, *save = NULL;

	if (corp_setting_get(R.db, "broadcast_share", &v, &e) != 0)
		cli_fail(&e);
	R.o.share = strtod(v, &p);
	if (*p != '\0' || !(R.o.share > 0 && R.o.share <= 1))
		R.o.share = 0.5;
	free(v);
	if (corp_setting_get(R.db, "fallback_lang", &R.fallback, &e) != 0)
		cli_fail(&e);
	R.o.fallback = R.fallback;
	/* push endpoints fall under the SSRF rule as webhooks do. */
	if (strcmp(R.o.channel, "webhook") != 0 &&
	    strcmp(R.o.channel, "push") != 0)
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
 * that cannot send (no token) is told with the first line it passes on:
 * a channel with nothing to send is not an error.
 */
static void
open_sender(const struct corp_sender_opts *opt)
{
	struct corp_err e;

	if (corp_sender_open(&R.snd, R.o.channel, opt, &e) != 0) {
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

/* The loop (lib/deliver.c); an error ends the program after what was
 * sent is stored and the rest given back.  Returns the exit code. */
static int
serve(void)
{
	struct corp_deliver_hooks h = { warn_hook, progress, NULL };
	struct corp_deliver *d;
	struct corp_err e;
	int code;

	if (corp_deliver_open(&d, R.db, R.snd, R.cat, &R.o, &h, &R.st,
	    &e) != 0 || corp_deliver_loop(d, &stopping, &code, &e) != 0) {
		warn_hook(NULL, e.msg[0] ? e.msg : corp_code_name(e.code));
		report(e.code ? e.code : CORP_EINTERNAL);
		exit(e.code ? e.code : CORP_EINTERNAL);
	}
	corp_deliver_close(d);
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
	char *s = NULL, *l = NULL;
	int fd = R.sumfd;

	if (fd < 0)
		return;
	R.sumfd = -1;
	if ((sum = corp_deliver_stats_json(&R.st, R.o.channel,
	    corp_mono_ms() - R.t0, 1)) != NULL &&
	    (s = json_dumps(sum, JSON_COMPACT)) != NULL &&
	    corp_asprintf(&l, "%s\n", s) >= 0 &&
	    write(fd, l, strlen(l)) != (ssize_t)strlen(l))
		cli_warn("summary pipe: %s", strerror(errno));
	free(l);
	free(s);
	json_decref(sum);
	close(fd);
}

static void
cleanup(void)
{
	corp_deliver_stats_free(&R.st);
	corp_sender_close(R.snd);
	corp_catalog_free(R.cat);
	corp_db_close(R.db);
	if (R.lockfd >= 0)
		close(R.lockfd);
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
	R.prog.tty = 0;
	R.db = cli_db(0);
	open_sender(opt);
	if (R.o.worker != NULL) {
		snprintf(id, sizeof(id), "%s-%d", R.o.worker, i);
		take_worker(id);
		R.o.worker = id;
	} else {
		if (corp_worker_default(&wid, &e) != 0)
			cli_fail(&e);
		R.o.worker = wid;
	}
	code = serve();
	child_report();
	cleanup();
	free(wid);
	cli_exit(code);
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
	long long max = R.o.max;
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
		R.o.max = max > 0 ? max / conc + (i < max % conc) : 0;
		if ((pid = fork()) < 0) {
			cli_warn("fork: %s", strerror(errno));
			worst = corp_exit_worse(worst, CORP_EINTERNAL);
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
				worst = corp_exit_worse(worst, code);
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
		if (corp_deliver_stats_add(&R.st, p) != 0)
			cli_warn("a child's summary is not JSON: %s", p);
	}
	free(acc);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return worst;
}

static int
cmd_run(const struct cli_args *a)
{
	struct corp_sender_opts opt;
	struct corp_cidr *allow = NULL;
	struct corp_err e;
	char *wid = NULL, id[80];
	static char *push_subject;
	json_t *sum;
	int conc, code;

	corp_sender_opts_init(&opt);
	cli_sender_opts_get(a, &opt, &allow);
	R.o.channel = cli_str(a, O_CHANNEL);
	R.o.once = cli_has(a, O_ONCE);
	R.o.max = cli_int(a, O_MAX, 0);
	R.o.until_empty = cli_has(a, O_UNTIL_EMPTY);
	R.o.worker = cli_str(a, O_WORKER);
	R.o.batch = cli_has(a, O_BATCH) ? (int)cli_num(cli_str(a, O_BATCH), 1,
	    10000, "--batch") : 100;
	R.o.lease_secs = cli_int(a, O_LEASE, 120);
	conc = (int)cli_int(a, O_CONCURRENCY, 1);
	R.lockfd = R.sumfd = -1;
	/* A misspelt channel: 64 with the closest one (names.h). */
	if (corp_channel_check(R.o.channel, &e) != 0)
		cli_fail(&e);
	if (!corp_sender_known(R.o.channel))
		cli_usage("--channel: no sender for channel '%s'", R.o.channel);
	if (R.o.worker != NULL && !corp_worker_valid(R.o.worker))
		cli_usage("--worker: 1-64 of A-Z a-z 0-9 . _ : -");
	if (R.o.worker != NULL && conc > 1 && (snprintf(id, sizeof(id),
	    "%s-%d", R.o.worker, conc), !corp_worker_valid(id)))
		cli_usage("--worker: too long for --concurrency %d (the "
		    "children are ID-1..ID-%d, 64 characters at most)", conc,
		    conc);

	/*
	 * Everything is checked here, once, with the exit codes of K = 1,
	 * before any child exists: the database, the settings, the channel
	 * and its secret, the worker lock.
	 */
	R.t0 = corp_mono_ms();
	R.db = cli_db(0);
	cli_progress_start(&R.prog, 0);
	if (R.prog.tty) {
		time_t oldest;

		if (corp_queue_waiting(R.db, R.o.channel, NULL,
		    &R.prog.total, &oldest, &e) != 0)
			cli_fail(&e);
		snprintf(R.what, sizeof(R.what), "corp-deliver run: %s",
		    R.o.channel);
	}
	load_settings(&allow, &opt.nallow);
	opt.allow = allow;
	opt.allow_hint = "config webhook.allow (corp-settings) or --allow CIDR";
	/* How long a server's retry_after may stop sending. */
	if (corp_setting_duration(R.db, "telegram.max_pause", &opt.max_pause,
	    &e) != 0)
		cli_fail(&e);
	/* push: the VAPID subject (corp-send.1 PUSH). */
	if (strcmp(R.o.channel, "push") == 0 && corp_setting_get(R.db,
	    "push.subject", &push_subject, &e) != 0)
		cli_fail(&e);
	opt.push_subject = push_subject;
	if (corp_fmt_catalog(&R.cat, NULL, 0, &e) != 0)
		cli_fail(&e);
	open_sender(&opt);
	/* A failed stage (no token) sends nothing: one loop acks it. */
	if (corp_sender_stage(R.snd, NULL) != 0)
		conc = 1;
	if (R.o.max > 0 && conc > R.o.max)
		conc = (int)R.o.max;
	if (R.o.worker != NULL)
		take_worker(R.o.worker);
	if (conc > 1) {
		/* A connection must not cross fork(): the children open
		 * their own. */
		corp_sender_close(R.snd);
		R.snd = NULL;
		corp_db_close(R.db);
		R.db = NULL;
		code = parent(conc, &opt);
	} else {
		if (R.o.worker == NULL) {
			if (corp_worker_default(&wid, &e) != 0)
				cli_fail(&e);
			R.o.worker = wid;
		}
		code = serve();
	}
	if ((sum = corp_deliver_stats_json(&R.st, R.o.channel,
	    corp_mono_ms() - R.t0, 0)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(sum);
	json_decref(sum);
	report(code);
	cleanup();
	free(allow);
	free(wid);
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
