/*
 * corp-deliver -- the delivery queue: pending (lease and print), ack
 * (store results), requeue, dlq, prune, stats, explain.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clisend.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "metrics.h"
#include "names.h"
#include "notify.h"
#include "queue.h"
#include "ratelimit.h"
#include "run_opts.h"
#include "worker.h"

enum { O_AFTER = O_RUN_NEXT, O_LIMIT, O_PEEK, O_PRIORITY, O_BATCH_MS, O_ID,
	O_EVENT, O_TYPE, O_ALL_FAILED, O_HELD, O_SENT_BEFORE, O_DRY_RUN,
	O_PROM, O_ENDPOINT, O_USER };

static const char *const priorities[] = { "urgent", "p2p", "broadcast",
	NULL };

static const struct cli_opt opts[] = {
	RUN_OPTS,
	{ O_AFTER, "after", "AUDIT:USER", "pending: rows after this cursor" },
	{ O_LIMIT, "limit", "N", "pending: at most N rows (100)" },
	{ O_PEEK, "peek", NULL, "pending: print without leasing" },
	{ O_PRIORITY, "priority", "PRIORITY", "pending: only urgent, p2p or "
	    "broadcast rows", .comp = CLI_C_WORDS, .words = priorities },
	{ O_BATCH_MS, "batch-ms", "MS", "ack: close a batch MS after its "
	    "first line (50)", CLI_NUM, 0, 60000 },
	{ O_ID, "id", "N", "the delivery row N", CLI_NUM },
	{ O_EVENT, "event", "E", "the rows of event E", CLI_NUM },
	{ O_TYPE, "type", "TYPE", "the rows of events of TYPE",
	    .comp = CLI_C_EVENT_TYPE },
	{ O_ALL_FAILED, "all-failed", NULL, "requeue: every FAILED row" },
	{ O_HELD, "held", NULL, "cancel: every held row" },
	{ O_SENT_BEFORE, "sent-before", "TIME", "prune: rows sent before TIME "
	    "(-90d)" },
	{ O_DRY_RUN, "dry-run", NULL, "prune: count, delete nothing" },
	{ O_PROM, "prom", NULL, "stats: Prometheus textfile format" },
	{ O_ENDPOINT, "endpoint", "NAME", "unpause: one endpoint (webhook)" },
	{ O_USER, "user", "LOGIN", "explain: the recipient",
	    .comp = CLI_C_LOGIN },
	{ 0 }
};

/* A misspelt --channel would claim or list nothing, silently: 64 with
 * the closest channel (65 for a malformed name). */
static void
check_channel(const char *ch)
{
	struct corp_err e;

	if (ch != NULL && corp_channel_check(ch, &e) != 0)
		cli_fail(&e);
}

static void
parse_cursor(const char *s, long long *e, long long *u)
{
	const char *colon = strchr(s, ':');
	char *a;

	if (colon == NULL)
		cli_usage("--after: expected AUDIT:USER, got '%s'", s);
	if ((a = strndup(s, (size_t)(colon - s))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	*e = cli_num(a, 0, LLONG_MAX, "--after");
	*u = cli_num(colon + 1, 0, LLONG_MAX, "--after");
	free(a);
}

/* A warning of the queue (a claim's host clock, an ack's late sent
 * under another claim), for standard error. */
static void
queue_warn(void *arg, const char *msg)
{
	(void)arg;
	cli_warn("%s", msg);
}

static int
cmd_pending(const struct cli_args *a)
{
	struct corp_claim cl;
	struct corp_db *db;
	struct corp_err e;
	char token[48], *wid = NULL;
	json_t *lines;
	long long released;
	size_t i, n;
	int lockfd = -1, rc;

	memset(&cl, 0, sizeof(cl));
	cl.channel = cli_str(a, O_CHANNEL);
	if (cli_has(a, O_AFTER))
		parse_cursor(cli_str(a, O_AFTER), &cl.after_event,
		    &cl.after_user);
	cl.limit = cli_has(a, O_LIMIT) ? (int)cli_num(cli_str(a, O_LIMIT), 1,
	    100000, "--limit") : 100;
	cl.worker = cli_str(a, O_WORKER);
	cl.lease_secs = cli_int(a, O_LEASE, 120);
	cl.peek = cli_has(a, O_PEEK);
	cl.only_priority = cli_str(a, O_PRIORITY);
	check_channel(cl.channel);
	if (cl.only_priority != NULL && !corp_priority_valid(cl.only_priority))
		cli_usage("--priority: urgent, p2p or broadcast");
	db = cli_db(0);
	/* --worker ID: one live process per id (worker.h); 64 if malformed. */
	if (cl.worker != NULL && !cl.peek && (rc = corp_worker_take(db,
	    cl.worker, &lockfd, &released, &e)) != 0) {
		if (rc == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	} else if (cl.worker == NULL) {
		if (corp_worker_default(&wid, &e) != 0)
			cli_fail(&e);
		cl.worker = wid;
	}
	cl.warn = queue_warn;
	if (corp_queue_claim(db, &cl, &lines, token, &e) != 0)
		cli_fail(&e);
	n = json_array_size(lines);
	if (corp_queue_print_lines(stdout, lines, &i) != 0 && errno != EPIPE)
		cli_die(CORP_EINTERNAL, "stdout: %s",
		    strerror(errno ? errno : EIO));
	/* The reader went away: give back what it never saw. */
	if (i < n && !cl.peek &&
	    corp_queue_release_lines(db, token, lines, i, &e) != 0)
		cli_fail(&e);
	json_decref(lines);
	corp_db_close(db);
	if (lockfd >= 0)
		close(lockfd);
	free(wid);
	return 0;
}

struct ack {
	struct corp_db	*db;
	json_t		**buf;
	json_t		**pre;	/* per line: the "ack_error" it came with */
	char		*echo;	/* per line: pass the text read on */
	int		 bad, gone;
};

/* Stored already: only the echo can fail (and a gone reader is quiet). */
static int
ack_out(const struct corp_jsonl_item *it, int echo)
{
	if (!echo)
		return cli_out_try(it->obj);
	if (corp_out_splice(stdout, it->raw, it->rawlen, "stored",
	    json_string_value(json_object_get(it->obj, "stored"))) == 0)
		return 0;
	if (errno == EPIPE)
		return -1;
	cli_die(CORP_EINTERNAL, "stdout: %s", strerror(errno ? errno : EIO));
}

/*
 * One batch of acks in one short transaction; printed after its commit.
 * A line goes out as it came with "stored" added at its end (no second
 * serialisation); one that carried "stored" or "ack_error" already, or
 * gets an "ack_error", is printed from its parse with those set in
 * place (corp-json.5, "The stored line").
 */
static int
ack_each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *e)
{
	struct ack *k = arg;
	json_t *ae;
	size_t i;
	int bad;

	for (i = 0; i < n; i++) {
		k->buf[i] = it[i].obj;
		/* held, so that a replacement cannot take its address */
		k->pre[i] = json_incref(json_object_get(it[i].obj,
		    "ack_error"));
		k->echo[i] = it[i].raw != NULL &&
		    json_object_get(it[i].obj, "stored") == NULL &&
		    k->pre[i] == NULL;
	}
	if (corp_queue_ack(k->db, k->buf, n, &bad, queue_warn, NULL, e) != 0)
		cli_fail(e);
	k->bad |= bad > 0;
	for (i = 0; i < n; i++) {
		/* Only what this ack found: an "ack_error" a line came
		 * with (an earlier ack's output fed again) is not news. */
		if ((ae = json_object_get(it[i].obj, "ack_error")) != NULL &&
		    ae != k->pre[i] && json_is_string(ae)) {
			cli_warn("<stdin>: delivery line: %s",
			    json_string_value(ae));
			k->echo[i] = 0;
		}
		json_decref(k->pre[i]);
		if (!k->gone)
			k->gone = ack_out(&it[i], k->echo[i]) != 0;
	}
	return k->gone ? CORP_LOOP_STOP : 0;
}

static int
cmd_ack(const struct cli_args *a)
{
	struct ack k = { 0 };
	struct corp_loop l = { .each = ack_each, .arg = &k };
	int rc;

	l.batch = cli_has(a, O_BATCH) ? (size_t)cli_num(cli_str(a, O_BATCH),
	    1, 100000, "--batch") : 256;
	l.batch_ms = (int)cli_int(a, O_BATCH_MS, 50);
	l.raw = 1;
	k.db = cli_db(0);
	if ((k.buf = calloc(l.batch, sizeof(*k.buf))) == NULL ||
	    (k.pre = calloc(l.batch, sizeof(*k.pre))) == NULL ||
	    (k.echo = calloc(l.batch, 1)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	rc = cli_loop(0, NULL, &l);
	free(k.buf);
	free(k.pre);
	free(k.echo);
	corp_db_close(k.db);
	return k.gone ? 0 : rc != 0 || k.bad ? CORP_EINVAL : 0;
}

/*
 * requeue (FAILED rows back in the queue) and cancel (give up on
 * PENDING rows: FAILED, "cancelled by the operator"): the same
 * selection, --all-failed or --held besides.
 */
static int
cmd_requeue(const struct cli_args *a)
{
	int rq = strcmp(cli_verb_name(a), "requeue") == 0;
	struct corp_requeue r = { .id = cli_int(a, O_ID, 0),
	    .event_id = cli_int(a, O_EVENT, 0), .event_type = cli_str(a,
	    O_TYPE), .channel = cli_str(a, O_CHANNEL), .all_failed =
	    cli_has(a, rq ? O_ALL_FAILED : O_HELD) };
	struct corp_cancel c = { .id = r.id, .event_id = r.event_id,
	    .event_type = r.event_type, .channel = r.channel,
	    .held = r.all_failed };
	struct corp_db *db;
	struct corp_err e;
	long long n;

	if (r.id == 0 && r.event_id == 0 && r.event_type == NULL &&
	    !r.all_failed)
		cli_usage("%s needs --id, --event, --type or %s",
		    cli_verb_name(a), rq ? "--all-failed" : "--held");
	/* A misspelt name would requeue or cancel nothing, silently. */
	check_channel(r.channel);
	db = cli_db(0);
	if (r.event_type != NULL &&
	    corp_event_type_check(db, r.event_type, 0, &e) != 0)
		cli_fail(&e);
	if ((rq ? corp_queue_requeue(db, &r, &n, &e) :
	    corp_queue_cancel(db, &c, &n, &e)) != 0)
		cli_fail(&e);
	return cli_done(db, json_pack("{s:I}", rq ? "requeued" : "cancelled",
	    (json_int_t)n));
}

static int
dlq_row(json_t *o, void *arg)
{
	cli_row(arg, json_incref(o));
	return 0;
}

static int
cmd_dlq(const struct cli_args *a)
{
	const char *channel = cli_str(a, O_CHANNEL);
	struct corp_db *db;
	struct corp_err e;
	long long total;

	check_channel(channel);
	db = cli_db(0);
	if (corp_queue_dlq(db, channel, cli_list_after_id(a),
	    cli_list_fetch(a), &total, dlq_row, (void *)a, &e) != 0)
		cli_fail(&e);
	cli_list_total(a, total);
	corp_db_close(db);
	return 0;
}

static int
cmd_prune(const struct cli_args *a)
{
	struct corp_prune p;
	struct corp_db *db;
	struct corp_err e;
	const char *arg = cli_str(a, O_SENT_BEFORE);
	char tb[CORP_TIMEBUF];
	time_t before = cli_time(arg, "--sent-before");
	int dry = cli_has(a, O_DRY_RUN);
	json_t *o;

	/* "+90d" for "-90d" would delete every row ever sent. */
	if (before > corp_now())
		cli_die(CORP_EUSAGE, "--sent-before: '%s' is in the future "
		    "(%s); prune deletes rows sent before a past time, "
		    "e.g. -90d", arg, corp_time_fmt(before, tb));
	db = cli_db(0);
	if (corp_queue_prune(db, before, dry, &p, &e) != 0)
		cli_fail(&e);
	if (dry)
		o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "would_prune",
		    (json_int_t)p.rows, "attempts", (json_int_t)p.attempts,
		    "sent_before", corp_json_time(before),
		    "oldest_sent_at", corp_json_time(p.oldest),
		    "newest_sent_at", corp_json_time(p.newest));
	else
		o = json_pack("{s:I}", "pruned", (json_int_t)p.rows);
	return cli_done(db, o);
}

static int
cmd_unpause(const struct cli_args *a)
{
	const char *channel = cli_str(a, O_CHANNEL);
	const char *endpoint = cli_str(a, O_ENDPOINT);
	struct corp_db *db;
	struct corp_err e;
	long long rows;
	int files;

	if (corp_channel_check(channel, &e) != 0)
		cli_usage("%s", e.msg);
	db = cli_db(0);
	if (corp_down_unpause(channel, endpoint, &files, &e) != 0)
		cli_fail(&e);
	if (corp_queue_unhold(db, channel, endpoint != NULL &&
	    strcmp(channel, "webhook") == 0 ? endpoint : NULL, &rows,
	    &e) != 0)
		cli_fail(&e);
	return cli_done(db, json_pack("{s:s, s:s?, s:i, s:I}", "channel",
	    channel, "endpoint", endpoint, "unpaused", files, "rows",
	    (json_int_t)rows));
}

static int
cmd_stats(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *s;
	char *text;

	db = cli_db(0);
	if (corp_metrics(db, &s, &e) != 0)
		cli_fail(&e);
	if (cli_has(a, O_PROM)) {
		if (corp_metrics_prom(s, &text, &e) != 0)
			cli_fail(&e);
		/* A write error is found at exit (cli_exit). */
		(void)fputs(text, stdout);
		free(text);
	} else if (cli_format(a) == CLI_FMT_JSON)
		cli_out(s);
	else	/* table, tsv: the queue's rows */
		cli_rows(a, json_incref(json_object_get(s, "queue")));
	json_decref(s);
	corp_db_close(db);
	return 0;
}

static int
cmd_explain(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *o;

	if (corp_queue_explain(db, cli_int(a, O_EVENT, 0), cli_str(a, O_USER),
	    &o, &e) != 0)
		cli_fail(&e);
	return cli_done(db, o);
}

/* Never called: run is corp-deliver-run (main execs it); the verb is
 * here for -h, help run and --cli-spec. */
static int
cmd_run(const struct cli_args *a)
{
	(void)a;
	return CORP_EINTERNAL;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "pending", cmd_pending, "lease due rows and print them as delivery "
	    "lines", NULL, 0, 0, U({ O_CHANNEL, CLI_REQ }, { O_AFTER },
	    { O_LIMIT }, { O_WORKER }, { O_LEASE }, { O_PEEK },
	    { O_PRIORITY }) },
	{ "ack", cmd_ack, "store the send results on stdin", NULL, 0, 0,
	    U({ O_BATCH }, { O_BATCH_MS }) },
	{ "requeue", cmd_requeue, "put FAILED rows back in the queue", NULL,
	    0, 0, U({ O_ID }, { O_EVENT }, { O_TYPE }, { O_CHANNEL },
	    { O_ALL_FAILED }) },
	{ "cancel", cmd_requeue, "give up on PENDING rows", NULL, 0, 0,
	    U({ O_ID }, { O_EVENT }, { O_TYPE }, { O_HELD }, { O_CHANNEL }) },
	{ "dlq", cmd_dlq, "list the dead-letter queue", NULL, 0, 0,
	    U({ O_CHANNEL }), .list = CLI_LIST("delivery_id", "ID", 0, 1000) },
	{ "prune", cmd_prune, "delete rows sent before a time", NULL, 0, 0,
	    U({ O_SENT_BEFORE, CLI_REQ }, { O_DRY_RUN }) },
	{ "stats", cmd_stats, "the queue by channel, status and readiness",
	    NULL, 0, 0, U({ O_PROM }),
	    .list = CLI_LIST("channel", NULL, CLI_L_NOPAGE) },
	{ "unpause", cmd_unpause, "end an outage pause now", NULL, 0, 0,
	    U({ O_CHANNEL, CLI_REQ }, { O_ENDPOINT }) },
	{ "explain", cmd_explain, "why a user got (or did not get) an event",
	    NULL, 0, 0, U({ O_EVENT, CLI_REQ }, { O_USER, CLI_REQ }) },
	{ "run", cmd_run, RUN_SUMMARY " (corp-deliver-run)", NULL, 0, 0,
	    U(RUN_USES) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-deliver",
	"the delivery queue", opts, verbs, CLI_COMMON_ALL };

/* -h or --help among the arguments of run, before "--". */
static int
run_help(int argc, char **argv, int verb)
{
	int i;

	for (i = verb + 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	int v = cli_verb_index(argc, argv);

	/*
	 * "corp-deliver run ARGS" is corp-deliver-run ARGS: the network
	 * loop is its own program so that corp-deliver never links libcurl
	 * (DESIGN 6, 9).  run -h: the usage from the table both share.
	 */
	if (v < argc && strcmp(argv[v], "run") == 0 && !run_help(argc, argv, v))
		cli_exec_beside("corp-deliver-run", argc, argv, v);
	cli_main(&tool, argc, argv);
}
