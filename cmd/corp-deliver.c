/*
 * corp-deliver -- the delivery queue: pending (lease and print), ack
 * (store results), requeue, dlq, prune, stats, explain.
 */
#include <err.h>
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
#include "names.h"
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
	{ O_LIMIT, "limit", "N", "at most N rows (pending 100, dlq 1000)" },
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

/* --worker ID: one live process per id; its old leases are released. */
static int
take_worker(struct corp_db *db, const char *id)
{
	struct corp_err e;
	long long n;
	int fd;

	if (!corp_worker_valid(id))
		cli_usage("--worker: 1-64 of A-Z a-z 0-9 . _ : -");
	if (corp_worker_take(db, id, &fd, &n, &e) != 0)
		cli_fail(&e);
	return fd;
}

static int
cmd_pending(const struct cli_args *a)
{
	struct corp_claim cl;
	struct corp_db *db;
	struct corp_err e;
	char token[48], *wid = NULL;
	json_t *lines;
	size_t i, n;
	int lockfd = -1;

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
	if (cl.only_priority != NULL && strcmp(cl.only_priority, "urgent") &&
	    strcmp(cl.only_priority, "p2p") && strcmp(cl.only_priority,
	    "broadcast"))
		cli_usage("--priority: urgent, p2p or broadcast");
	db = cli_db(0);
	if (cl.worker != NULL && !cl.peek)
		lockfd = take_worker(db, cl.worker);
	else if (cl.worker == NULL) {
		if (corp_worker_default(&wid, &e) != 0)
			cli_fail(&e);
		cl.worker = wid;
	}
	if (corp_queue_claim(db, &cl, &lines, token, &e) != 0)
		cli_fail(&e);
	n = json_array_size(lines);
	for (i = 0; i < n; i++)
		if (cli_out_try(json_array_get(lines, i)) != 0)
			break;
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
	int		 bad, gone;
};

/* One batch of acks in one short transaction; printed after its commit. */
static int
ack_each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *e)
{
	struct ack *k = arg;
	json_t *ae;
	size_t i;
	int bad;

	for (i = 0; i < n; i++)
		k->buf[i] = it[i].obj;
	if (corp_queue_ack(k->db, k->buf, n, &bad, e) != 0)
		cli_fail(e);
	k->bad |= bad > 0;
	for (i = 0; i < n; i++) {
		if ((ae = json_object_get(it[i].obj, "ack_error")) != NULL)
			cli_warn("<stdin>: delivery line: %s",
			    json_string_value(ae));
		/* Stored already; only the echo is lost. */
		if (!k->gone)
			k->gone = cli_out_try(it[i].obj) != 0;
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
	k.db = cli_db(0);
	if ((k.buf = calloc(l.batch, sizeof(*k.buf))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	rc = cli_loop(0, NULL, &l);
	free(k.buf);
	corp_db_close(k.db);
	return k.gone ? 0 : rc != 0 || k.bad ? CORP_EINVAL : 0;
}

static int
cmd_requeue(const struct cli_args *a)
{
	struct corp_requeue rq;
	struct corp_db *db;
	struct corp_err e;
	long long n;
	json_t *o;

	memset(&rq, 0, sizeof(rq));
	rq.id = cli_int(a, O_ID, 0);
	rq.event_id = cli_int(a, O_EVENT, 0);
	rq.event_type = cli_str(a, O_TYPE);
	rq.channel = cli_str(a, O_CHANNEL);
	rq.all_failed = cli_has(a, O_ALL_FAILED);
	if (rq.id == 0 && rq.event_id == 0 && rq.event_type == NULL &&
	    !rq.all_failed)
		cli_usage("requeue needs --id, --event, --type or --all-failed");
	check_channel(rq.channel);
	db = cli_db(0);
	if (rq.event_type != NULL &&
	    corp_event_type_check(db, rq.event_type, 0, &e) != 0)
		cli_fail(&e);
	if (corp_queue_requeue(db, &rq, &n, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:I}", "requeued", (json_int_t)n);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/* Give up on PENDING rows: FAILED, "cancelled by the operator". */
static int
cmd_cancel(const struct cli_args *a)
{
	struct corp_cancel c;
	struct corp_db *db;
	struct corp_err e;
	long long n;
	json_t *o;

	memset(&c, 0, sizeof(c));
	c.id = cli_int(a, O_ID, 0);
	c.event_id = cli_int(a, O_EVENT, 0);
	c.event_type = cli_str(a, O_TYPE);
	c.channel = cli_str(a, O_CHANNEL);
	c.held = cli_has(a, O_HELD);
	if (c.id == 0 && c.event_id == 0 && c.event_type == NULL && !c.held)
		cli_usage("cancel needs --id, --event, --type or --held");
	/* A misspelt name would cancel nothing, silently. */
	if (c.channel != NULL && corp_channel_check(c.channel, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (c.event_type != NULL && corp_event_type_check(db, c.event_type,
	    0, &e) != 0)
		cli_fail(&e);
	if (corp_queue_cancel(db, &c, &n, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:I}", "cancelled", (json_int_t)n);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
print_row(json_t *o, void *arg)
{
	(void)arg;
	cli_out(o);
	return 0;
}

static int
cmd_dlq(const struct cli_args *a)
{
	const char *channel = cli_str(a, O_CHANNEL);
	struct corp_db *db;
	struct corp_err e;
	int limit = cli_has(a, O_LIMIT) ? (int)cli_num(cli_str(a, O_LIMIT), 1,
	    10000000, "--limit") : 1000;

	check_channel(channel);
	db = cli_db(0);
	if (corp_queue_dlq(db, channel, limit, print_row, NULL, &e) != 0)
		cli_fail(&e);
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
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/* Prometheus textfile-collector format. */
/* A Prometheus label value: \\, " and newline escaped (static buffer). */
static const char *
label(json_t *v)
{
	static char buf[512];
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t n = 0;

	for (; *s != '\0' && n + 3 < sizeof(buf); s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[n++] = '\\';
		buf[n++] = *s == '\n' ? 'n' : *s;
	}
	buf[n] = '\0';
	return buf;
}

static void
prom(json_t *s)
{
	json_t *row;
	size_t i;

	printf("# HELP corp_deliveries Delivery rows by channel, status and "
	    "readiness.\n# TYPE corp_deliveries gauge\n");
	json_array_foreach(json_object_get(s, "queue"), i, row)
		printf("corp_deliveries{channel=\"%s\",status=\"%s\","
		    "readiness=\"%s\"} %lld\n",
		    json_string_value(json_object_get(row, "channel")),
		    json_string_value(json_object_get(row, "status")),
		    json_string_value(json_object_get(row, "readiness")),
		    (long long)json_integer_value(json_object_get(row,
		    "count")));
	printf("# HELP corp_deliveries_leased Rows under a live lease.\n"
	    "# TYPE corp_deliveries_leased gauge\n");
	json_array_foreach(json_object_get(s, "queue"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "status")),
		    "PENDING") == 0)
			printf("corp_deliveries_leased{channel=\"%s\","
			    "readiness=\"%s\"} %lld\n",
			    json_string_value(json_object_get(row, "channel")),
			    json_string_value(json_object_get(row,
			    "readiness")), (long long)json_integer_value(
			    json_object_get(row, "leased")));
	printf("# HELP corp_oldest_ready_age_seconds Age of the oldest due "
	    "ready row.\n# TYPE corp_oldest_ready_age_seconds gauge\n");
	json_array_foreach(json_object_get(s, "queue"), i, row) {
		json_t *a = json_object_get(row, "oldest_ready_age_s");

		if (json_is_integer(a))
			printf("corp_oldest_ready_age_seconds{channel=\"%s\"} "
			    "%lld\n", json_string_value(json_object_get(row,
			    "channel")), (long long)json_integer_value(a));
	}
	printf("# HELP corp_endpoint_paused An endpoint paused by an outage "
	    "(1 while the pause runs).\n# TYPE corp_endpoint_paused gauge\n");
	json_array_foreach(json_object_get(s, "paused"), i, row)
		printf("corp_endpoint_paused{channel=\"%s\",endpoint=\"%s\"} "
		    "%d\n", json_string_value(json_object_get(row, "channel")),
		    label(json_object_get(row, "endpoint")),
		    json_is_true(json_object_get(row, "paused")));
	printf("# HELP corp_endpoint_waiting Rows waiting on a paused "
	    "endpoint.\n# TYPE corp_endpoint_waiting gauge\n");
	json_array_foreach(json_object_get(s, "paused"), i, row)
		printf("corp_endpoint_waiting{channel=\"%s\",endpoint=\"%s\"} "
		    "%lld\n", json_string_value(json_object_get(row, "channel")),
		    label(json_object_get(row, "endpoint")),
		    (long long)json_integer_value(json_object_get(row,
		    "waiting")));
	printf("# HELP corp_delivery_attempts Rows by attempts used.\n"
	    "# TYPE corp_delivery_attempts gauge\n");
	json_array_foreach(json_object_get(s, "attempts"), i, row)
		printf("corp_delivery_attempts{channel=\"%s\",attempts=\"%lld\"}"
		    " %lld\n", json_string_value(json_object_get(row,
		    "channel")), (long long)json_integer_value(
		    json_object_get(row, "attempts")),
		    (long long)json_integer_value(json_object_get(row,
		    "count")));
}

/*
 * The endpoints paused by an outage (corp-deliver.1 stats), each with
 * the rows that wait on it: "paused" in the stats object.
 */
static void
paused(struct corp_db *db, json_t *s)
{
	struct corp_err e;
	json_t *list, *o;
	long long n;
	time_t oldest, now = corp_now();
	size_t i;

	if (corp_down_list(NULL, (long long)now, &list, &e) != 0)
		cli_fail(&e);
	json_array_foreach(list, i, o) {
		const char *ch = json_string_value(json_object_get(o,
		    "channel"));
		/* A webhook endpoint's rows are its bound users'. */
		const char *addr = strcmp(ch, "webhook") == 0 ?
		    json_string_value(json_object_get(o, "endpoint")) : NULL;

		if (corp_queue_waiting(db, ch, addr, &n, &oldest, &e) != 0)
			cli_fail(&e);
		json_object_set_new(o, "waiting", json_integer(n));
		json_object_set_new(o, "oldest_waiting_age_s", oldest > 0 ?
		    json_integer((json_int_t)(now - oldest)) : json_null());
	}
	json_object_set_new(s, "paused", list);
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
	json_t *o;

	if (corp_channel_check(channel, &e) != 0)
		cli_usage("%s", e.msg);
	db = cli_db(0);
	if (corp_down_unpause(channel, endpoint, &files, &e) != 0)
		cli_fail(&e);
	if (corp_queue_unhold(db, channel, endpoint != NULL &&
	    strcmp(channel, "webhook") == 0 ? endpoint : NULL, &rows,
	    &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:s, s:s?, s:i, s:I}", "channel", channel,
	    "endpoint", endpoint, "unpaused", files, "rows", (json_int_t)rows);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_stats(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *s;
	int p = cli_has(a, O_PROM);

	db = cli_db(0);
	if (corp_queue_stats(db, &s, &e) != 0)
		cli_fail(&e);
	paused(db, s);
	if (p)
		prom(s);
	else
		cli_out(s);
	json_decref(s);
	corp_db_close(db);
	return 0;
}

static int
cmd_explain(const struct cli_args *a)
{
	const char *login = cli_str(a, O_USER);
	struct corp_db *db;
	struct corp_err e;
	long long eid = cli_int(a, O_EVENT, 0);
	json_t *o;

	db = cli_db(0);
	if (corp_queue_explain(db, eid, login, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/*
 * "corp-deliver run ARGS" is corp-deliver-run ARGS: the network loop is
 * its own program so that corp-deliver never links libcurl (DESIGN 6, 9).
 * It is looked up next to this binary first (/proc/self/exe), then on
 * PATH.  verb is the index of "run" in argv; the common options stay
 * where they were, for corp-deliver-run's cli_init to read.
 */
static void
exec_run(int argc, char **argv, int verb)
{
	static const char prog[] = "corp-deliver-run";
	char **av, *self = NULL, *path = NULL, *slash;
	size_t size = 256;
	ssize_t n;
	int i, j;

	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL)
		err(CORP_EINTERNAL, "out of memory");
	av[0] = (char *)prog;
	for (i = 1, j = 1; i < argc; i++)
		if (i != verb)
			av[j++] = argv[i];
	for (;;) {
		if ((self = realloc(self, size)) == NULL)
			err(CORP_EINTERNAL, "out of memory");
		n = readlink("/proc/self/exe", self, size);
		if (n < 0 || (size_t)n < size)
			break;
		size *= 2;
	}
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (asprintf(&path, "%s/%s", self, prog) < 0)
				err(CORP_EINTERNAL, "out of memory");
			if (access(path, X_OK) == 0)
				execv(path, av);
			free(path);
		}
	}
	free(self);
	execvp(prog, av);
	warn("run: %s", prog);
	exit(CORP_EINTERNAL);
}

/* The verb's index in argv, skipping the common options before it. */
static int
verb_index(int argc, char **argv)
{
	static const char *const common[] = { "--db", "--data-dir", "--now" };
	int i = 1;
	size_t k;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		for (k = 0; k < 3; k++)
			if (strcmp(argv[i], common[k]) == 0)
				break;
		if (k < 3) {
			i += 2;
			continue;
		}
		for (k = 0; k < 3; k++)
			if (strncmp(argv[i], common[k], strlen(common[k])) ==
			    0 && argv[i][strlen(common[k])] == '=')
				break;
		if (k == 3)
			break;
		i++;
	}
	return i;
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
	{ "cancel", cmd_cancel, "give up on PENDING rows", NULL, 0, 0,
	    U({ O_ID }, { O_EVENT }, { O_TYPE }, { O_HELD }, { O_CHANNEL }) },
	{ "dlq", cmd_dlq, "list the dead-letter queue", NULL, 0, 0,
	    U({ O_CHANNEL }, { O_LIMIT }) },
	{ "prune", cmd_prune, "delete rows sent before a time", NULL, 0, 0,
	    U({ O_SENT_BEFORE, CLI_REQ }, { O_DRY_RUN }) },
	{ "stats", cmd_stats, "the queue by channel, status and readiness",
	    NULL, 0, 0, U({ O_PROM }) },
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
	int v = verb_index(argc, argv);

	/* run -h: the usage from the table both programs share. */
	if (v < argc && strcmp(argv[v], "run") == 0 && !run_help(argc, argv, v))
		exec_run(argc, argv, v);
	cli_main(&tool, argc, argv);
}
