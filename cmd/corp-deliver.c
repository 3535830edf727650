/*
 * corp-deliver -- the delivery queue: pending (lease and print), ack
 * (store results), requeue, dlq, prune, stats, explain.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "fsutil.h"
#include "jsonl.h"
#include "names.h"
#include "queue.h"
#include "ratelimit.h"
#include "worker.h"

static const char synopsis[] =
"usage: corp-deliver pending --channel C [--after AUDIT:USER] [--limit N]\n"
"                            [--worker ID] [--lease DURATION] [--peek]\n"
"       corp-deliver ack [--batch N] [--batch-ms MS]\n"
"       corp-deliver requeue [--id N] [--event E] [--type T]\n"
"                            [--channel C] [--all-failed]\n"
"       corp-deliver cancel [--id N] [--event E] [--type T] [--held]\n"
"                           [--channel C]\n"
"       corp-deliver dlq [--channel C] [--limit N]\n"
"       corp-deliver prune --sent-before TIME [--dry-run]\n"
"       corp-deliver stats [--prom]\n"
"       corp-deliver unpause --channel C [--endpoint NAME]\n"
"       corp-deliver explain --event E --user LOGIN\n"
"       corp-deliver run --channel C [--once] [--max N] [--until-empty]\n"
"                        [--worker ID] [--batch N] [--lease DURATION]\n"
"                        [--concurrency K] [--max-wait DURATION]\n"
"                        [--allow-http] [--allow CIDR] ...\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

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
cmd_pending(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'n' },
		{ "worker", required_argument, NULL, 'w' },
		{ "lease", required_argument, NULL, 'l' },
		{ "peek", no_argument, NULL, 'p' },
		{ "priority", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_claim cl;
	struct corp_db *db;
	struct corp_err e;
	char token[48], *wid = NULL;
	json_t *lines, *l;
	size_t i, n;
	int ch, lockfd = -1;

	memset(&cl, 0, sizeof(cl));
	cl.limit = 100;
	cl.lease_secs = 120;
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'c': cl.channel = optarg; break;
		case 'a': parse_cursor(optarg, &cl.after_event,
		    &cl.after_user); break;
		case 'n': cl.limit = (int)cli_num(optarg, 1, 100000,
		    "--limit"); break;
		case 'w': cl.worker = optarg; break;
		case 'l': cl.lease_secs = cli_duration(optarg, "--lease");
		    break;
		case 'p': cl.peek = 1; break;
		case 'P': cl.only_priority = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("pending takes no arguments");
	if (cl.channel == NULL)
		cli_usage("pending needs --channel");
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
	for (i = 0; i < n; i++) {
		l = json_array_get(lines, i);
		if (cli_out_try(l) != 0)
			break;
	}
	if (i < n && !cl.peek) {
		/* The reader went away: give back what it never saw. */
		long long *ids = calloc(n - i, sizeof(*ids));
		size_t k;

		if (ids == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		for (k = i; k < n; k++)
			ids[k - i] = json_integer_value(json_object_get(
			    json_array_get(lines, k), "delivery_id"));
		if (corp_queue_release(db, token, ids, n - i, &e) != 0)
			cli_fail(&e);
		free(ids);
	}
	json_decref(lines);
	corp_db_close(db);
	if (lockfd >= 0)
		close(lockfd);
	free(wid);
	return 0;
}

static int
cmd_ack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "batch-ms", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_jsonl *r;
	struct corp_db *db;
	struct corp_err e;
	json_t **buf;
	long long first = 0;
	int ch, batch = 256, ms = 50, rc, bad, badlines = 0, eof = 0;
	size_t n, i;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'b': batch = (int)cli_num(optarg, 1, 100000, "--batch");
		    break;
		case 'm': ms = (int)cli_num(optarg, 0, 60000, "--batch-ms");
		    break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("ack takes no arguments");
	db = cli_db(0);
	if ((r = corp_jsonl_open(0, "<stdin>")) == NULL ||
	    (buf = calloc((size_t)batch, sizeof(*buf))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while (!eof) {
		/*
		 * Read up to batch lines, or until ms after the first, with
		 * no transaction open; then one short transaction; print
		 * only after its commit.
		 */
		n = 0;
		while (n < (size_t)batch) {
			int left = -1;

			if (n > 0) {
				left = (int)(first + ms - corp_mono_ms());
				if (left < 0)
					left = 0;
			}
			rc = corp_jsonl_next(r, &buf[n], left, &e);
			if (rc == CORP_JSONL_OBJ) {
				if (n == 0)
					first = corp_mono_ms();
				n++;
			} else if (rc == CORP_JSONL_BAD) {
				cli_warnerr(&e);
				badlines++;
			} else if (rc == CORP_JSONL_TIMEOUT)
				break;
			else if (rc == CORP_JSONL_EOF) {
				eof = 1;
				break;
			} else
				cli_fail(&e);
		}
		if (n == 0)
			continue;
		if (corp_queue_ack(db, buf, n, &bad, &e) != 0)
			cli_fail(&e);
		for (i = 0; i < n; i++) {
			if (json_object_get(buf[i], "ack_error") != NULL)
				cli_warn("<stdin>: delivery line: %s",
				    json_string_value(json_object_get(buf[i],
				    "ack_error")));
			if (cli_out_try(buf[i]) != 0) {
				/* Stored already; only the echo is lost. */
				eof = 1;
				badlines = 0;
				bad = 0;
			}
			json_decref(buf[i]);
		}
		badlines += bad;
	}
	free(buf);
	corp_jsonl_close(r);
	corp_db_close(db);
	return badlines ? CORP_EINVAL : 0;
}

static int
cmd_requeue(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "event", required_argument, NULL, 'e' },
		{ "type", required_argument, NULL, 't' },
		{ "channel", required_argument, NULL, 'c' },
		{ "all-failed", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_requeue rq;
	struct corp_db *db;
	struct corp_err e;
	long long n;
	json_t *o;
	int ch;

	memset(&rq, 0, sizeof(rq));
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'i': rq.id = cli_num(optarg, 1, LLONG_MAX, "--id"); break;
		case 'e': rq.event_id = cli_num(optarg, 1, LLONG_MAX,
		    "--event"); break;
		case 't': rq.event_type = optarg; break;
		case 'c': rq.channel = optarg; break;
		case 'A': rq.all_failed = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("requeue takes no arguments");
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
cmd_cancel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "event", required_argument, NULL, 'e' },
		{ "type", required_argument, NULL, 't' },
		{ "channel", required_argument, NULL, 'c' },
		{ "held", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_cancel c;
	struct corp_db *db;
	struct corp_err e;
	long long n;
	json_t *o;
	int ch;

	memset(&c, 0, sizeof(c));
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'i': c.id = cli_num(optarg, 1, LLONG_MAX, "--id"); break;
		case 'e': c.event_id = cli_num(optarg, 1, LLONG_MAX,
		    "--event"); break;
		case 't': c.event_type = optarg; break;
		case 'c': c.channel = optarg; break;
		case 'H': c.held = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("cancel takes no arguments");
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
cmd_dlq(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *channel = NULL;
	struct corp_db *db;
	struct corp_err e;
	int ch, limit = 1000;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'c': channel = optarg; break;
		case 'n': limit = (int)cli_num(optarg, 1, 10000000,
		    "--limit"); break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("dlq takes no arguments");
	check_channel(channel);
	db = cli_db(0);
	if (corp_queue_dlq(db, channel, limit, print_row, NULL, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

static int
cmd_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sent-before", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_prune p;
	struct corp_db *db;
	struct corp_err e;
	const char *arg = NULL;
	char tb[CORP_TIMEBUF];
	time_t before = 0;
	json_t *o;
	int ch, dry = 0;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 's': arg = optarg;
		    before = cli_time(optarg, "--sent-before"); break;
		case 'n': dry = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc || arg == NULL)
		cli_usage("prune needs --sent-before TIME");
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
cmd_unpause(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *channel = NULL, *endpoint = NULL;
	struct corp_db *db;
	struct corp_err e;
	long long rows;
	int ch, files;
	json_t *o;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'c': channel = optarg; break;
		case 'E': endpoint = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("unpause takes no arguments");
	if (channel == NULL)
		cli_usage("unpause needs --channel");
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
cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prom", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_db *db;
	struct corp_err e;
	json_t *s;
	int ch, p = 0;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'p': p = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("stats takes no arguments");
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
cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "event", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *login = NULL;
	struct corp_db *db;
	struct corp_err e;
	long long eid = 0;
	json_t *o;
	int ch;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'e': eid = cli_num(optarg, 1, LLONG_MAX, "--event");
		    break;
		case 'u': login = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc || eid == 0 || login == NULL)
		cli_usage("explain needs --event E --user LOGIN");
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

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "pending", cmd_pending },
		{ "ack", cmd_ack },
		{ "requeue", cmd_requeue },
		{ "cancel", cmd_cancel },
		{ "dlq", cmd_dlq },
		{ "prune", cmd_prune },
		{ "stats", cmd_stats },
		{ "unpause", cmd_unpause },
		{ "explain", cmd_explain },
		{ NULL, NULL }
	};

	int v = verb_index(argc, argv);

	if (v < argc && strcmp(argv[v], "run") == 0)
		exec_run(argc, argv, v);
	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
