/*
 * corp-event -- the event log: list, show, tail [--follow], and emit
 * (events from other producers).  Verbs live in the table at the end:
 * adding one (route) is one line there.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "eventlog.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "route.h"

static const char synopsis[] =
"usage: corp-event list [--after ID] [--task TASK] [--type TYPE]\n"
"           [--topic TOPIC] [--since TIME] [--until TIME] [--limit N]\n"
"           [--as LOGIN]\n"
"       corp-event show EVENT_ID [--as LOGIN]\n"
"       corp-event tail [--follow] [--after ID] [--topic TOPIC]\n"
"           [--task TASK] [--type TYPE] [--as LOGIN] [--count N]\n"
"       corp-event emit [--new-type TYPE]... < events.jsonl\n"
"       corp-event route [--follow | --dry-run] [--batch N]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

/* The bounded sleep between two polls of tail --follow. */
#define POLL_MS 200

enum { O_AFTER = 256, O_TASK, O_TYPE, O_TOPIC, O_SINCE, O_UNTIL, O_LIMIT,
	O_AS, O_FOLLOW, O_COUNT, O_NEWTYPE };

static const struct option opts[] = {
	{ "after", required_argument, NULL, O_AFTER },
	{ "task", required_argument, NULL, O_TASK },
	{ "type", required_argument, NULL, O_TYPE },
	{ "topic", required_argument, NULL, O_TOPIC },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "as", required_argument, NULL, O_AS },
	{ "follow", no_argument, NULL, O_FOLLOW },
	{ "count", required_argument, NULL, O_COUNT },
	{ "new-type", required_argument, NULL, O_NEWTYPE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
#define B(o) (1u << ((o) - O_AFTER))

struct args {
	struct corp_event_filter f;
	const char	*as;
	int		 follow;
	long long	 count;
	const char	**new_types;	/* NULL-terminated */
	size_t		 nnew;
};

static void
parse(int argc, char **argv, struct args *a, unsigned allowed, int nargs)
{
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			cli_help();
		if (ch < O_AFTER)
			cli_usage(NULL);
		if (!(allowed & B(ch)))
			cli_usage("%s does not take --%s", argv[0],
			    opts[ch - O_AFTER].name);
		switch (ch) {
		case O_AFTER:
			a->f.after = cli_num(optarg, 0, LLONG_MAX, "--after");
			break;
		case O_TASK:
			a->f.task_id = cli_num(optarg, 1, LLONG_MAX, "--task");
			break;
		case O_TYPE: a->f.type = optarg; break;
		case O_TOPIC: a->f.topic = optarg; break;
		case O_SINCE: a->f.since = cli_time(optarg, "--since"); break;
		case O_UNTIL: a->f.until = cli_time(optarg, "--until"); break;
		case O_LIMIT:
			a->f.limit = cli_num(optarg, 1, LLONG_MAX, "--limit");
			break;
		case O_AS: a->as = optarg; break;
		case O_FOLLOW: a->follow = 1; break;
		case O_COUNT:
			a->count = cli_num(optarg, 1, LLONG_MAX, "--count");
			break;
		case O_NEWTYPE:
			a->new_types = reallocarray(a->new_types, a->nnew + 2,
			    sizeof(*a->new_types));
			if (a->new_types == NULL)
				cli_die(CORP_EINTERNAL, "out of memory");
			a->new_types[a->nnew++] = optarg;
			a->new_types[a->nnew] = NULL;
			break;
		}
	}
	if (argc - optind != nargs)
		cli_usage(nargs ? "%s needs one EVENT_ID" :
		    "%s takes no arguments", argv[0]);
}

/* The login of --as, and the filters' names: a misspelt --type or
 * --topic would list nothing, silently. */
static void
resolve_as(struct corp_db *db, struct args *a)
{
	struct corp_err e;

	if ((a->f.type != NULL && corp_event_type_check(db, a->f.type,
	    CORP_NAME_TOPIC, &e) != 0) ||
	    (a->f.topic != NULL && corp_topic_check(a->f.topic, &e) != 0))
		cli_fail(&e);
	if (a->as != NULL &&
	    corp_dir_user_id(db, a->as, &a->f.viewer, NULL, &e) != 0)
		cli_fail(&e);
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr;
	long long last;

	parse(argc, argv, &a, B(O_AFTER) | B(O_TASK) | B(O_TYPE) |
	    B(O_TOPIC) | B(O_SINCE) | B(O_UNTIL) | B(O_LIMIT) | B(O_AS), 0);
	db = cli_db(0);
	resolve_as(db, &a);
	/* A task that does not exist is 67, not an empty list. */
	if (a.f.task_id > 0 &&
	    corp_eventlog_task_exists(db, a.f.task_id, &e) != 0)
		cli_fail(&e);
	if (corp_eventlog_list(db, &a.f, &arr, &last, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *o;
	long long id;

	parse(argc, argv, &a, B(O_AS), 1);
	id = cli_num(argv[optind], 1, LLONG_MAX, "EVENT_ID");
	db = cli_db(0);
	resolve_as(db, &a);
	if (corp_eventlog_show(db, id, a.f.viewer, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/*
 * Print what is past the cursor, then (--follow) wait outside any
 * transaction for another connection's commit (SQLite: PRAGMA
 * data_version polled every POLL_MS; PostgreSQL: LISTEN/NOTIFY) and read
 * again.  Stops after --count events.
 */
static int
cmd_tail(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr, *v;
	long long last, dv, ndv, printed = 0;
	size_t i;

	parse(argc, argv, &a, B(O_AFTER) | B(O_TASK) | B(O_TYPE) |
	    B(O_TOPIC) | B(O_AS) | B(O_FOLLOW) | B(O_COUNT), 0);
	db = cli_db(0);
	resolve_as(db, &a);
	a.f.limit = 1000;
	/* The version first: a commit after it is seen by the next poll. */
	if (corp_db_data_version(db, &dv, &e) != 0)
		cli_fail(&e);
	for (;;) {
		for (;;) {
			if (corp_eventlog_list(db, &a.f, &arr, &last, &e) != 0)
				cli_fail(&e);
			json_array_foreach(arr, i, v) {
				cli_out(v);
				if (a.count && ++printed >= a.count) {
					json_decref(arr);
					corp_db_close(db);
					return 0;
				}
			}
			json_decref(arr);
			if (last == a.f.after)
				break;
			a.f.after = last;
		}
		if (fflush(stdout) != 0)
			cli_exit(0);
		if (!a.follow)
			break;
		do {
			if (corp_db_wait(db, POLL_MS, &e) != 0 ||
			    corp_db_schema_check(db, &e) != 0 ||
			    corp_db_data_version(db, &ndv, &e) != 0)
				cli_fail(&e);
		} while (ndv == dv);
		dv = ndv;
	}
	corp_db_close(db);
	return 0;
}

struct line {
	json_t		*obj;
	unsigned long	 lineno;
};

/* Read all lines, then one transaction; report each bad line and go on. */
static int
cmd_emit(int argc, char **argv)
{
	struct corp_jsonl *r;
	struct corp_db *db;
	struct corp_err e;
	struct line *lines = NULL, *nl;
	struct args a;
	json_t *obj, *outs;
	size_t n = 0, cap = 0, i;
	long long id;
	char *key;
	int bad = 0, rc, dup;

	parse(argc, argv, &a, B(O_NEWTYPE), 0);
	for (i = 0; i < a.nnew; i++)
		if (!corp_event_type_valid(a.new_types[i]))
			cli_usage("--new-type '%s': expected 1-64 of "
			    "A-Z a-z 0-9 _ . : -", a.new_types[i]);
	if ((r = corp_jsonl_open(STDIN_FILENO, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while ((rc = corp_jsonl_next(r, &obj, -1, &e)) != CORP_JSONL_EOF) {
		if (rc == CORP_JSONL_ERR)
			cli_fail(&e);
		if (rc == CORP_JSONL_BAD) {
			cli_warnerr(&e);
			bad = 1;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nl = reallocarray(lines, cap, sizeof(*nl))) == NULL)
				cli_die(CORP_EINTERNAL, "out of memory");
			lines = nl;
		}
		lines[n].obj = obj;
		lines[n++].lineno = corp_jsonl_lineno(r);
	}
	corp_jsonl_close(r);
	db = cli_db(0);
	outs = json_array();
	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	for (i = 0; i < n; i++) {
		rc = corp_eventlog_emit(db, lines[i].obj,
		    (const char *const *)a.new_types, &id, &key, &dup, &e);
		if (rc == CORP_EINTERNAL || rc == CORP_ETEMP) {
			corp_db_rollback(db);
			cli_fail(&e);
		}
		if (rc != 0) {
			cli_warn("<stdin>:%lu: %s", lines[i].lineno, e.msg);
			bad = 1;
			continue;
		}
		json_array_append_new(outs, json_pack("{s:I, s:s, s:b}",
		    "event_id", (json_int_t)id, "dedupe_key", key,
		    "duplicate", dup));
		free(key);
	}
	if (corp_db_commit(db, &e) != 0)
		cli_fail(&e);
	cli_out_all(outs);
	for (i = 0; i < n; i++)
		json_decref(lines[i].obj);
	free(lines);
	free(a.new_types);
	corp_db_close(db);
	return bad ? CORP_EINVAL : 0;
}

static volatile sig_atomic_t stop;

static void
onsig(int sig)
{
	(void)sig;
	stop = 1;
}

static int
print_decision(json_t *o, void *arg)
{
	(void)arg;
	cli_out(o);
	return 0;
}

static int
cmd_route(int argc, char **argv)
{
	static const struct option ropts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_route_stats s;
	struct corp_db *db;
	struct corp_err e;
	long long dv = -1, ndv;
	int ch, follow = 0, dry = 0, batch = 500;
	json_t *o;

	while ((ch = cli_getopt(argc, argv, "+h", ropts, NULL)) != -1)
		switch (ch) {
		case 'f': follow = 1; break;
		case 'n': dry = 1; break;
		case 'b': batch = (int)cli_num(optarg, 1, 100000, "--batch");
		    break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("route takes no arguments");
	if (follow && dry)
		cli_usage("--follow and --dry-run exclude each other");
	db = cli_db(0);
	signal(SIGTERM, onsig);
	signal(SIGINT, onsig);
	do {
		if (follow) {
			if (corp_db_schema_check(db, &e) != 0 ||
			    corp_db_data_version(db, &ndv, &e) != 0)
				cli_fail(&e);
			if (ndv == dv) {
				/* Nothing committed since: wait, bounded. */
				if (corp_db_wait(db, 200, &e) != 0)
					cli_fail(&e);
				continue;
			}
			dv = ndv;
		}
		if (corp_route(db, batch, dry, print_decision, NULL, &s,
		    &e) != 0)
			cli_fail(&e);
		if (!follow || s.events > 0 || s.expired > 0) {
			o = corp_route_stats_json(&s);
			if (dry)
				json_object_set_new(o, "dry_run",
				    json_true());
			cli_out(o);
			json_decref(o);
		}
		if (follow && corp_db_data_version(db, &dv, &e) != 0)
			cli_fail(&e);
	} while (follow && !stop);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", cmd_list },
		{ "show", cmd_show },
		{ "tail", cmd_tail },
		{ "emit", cmd_emit },
		{ "route", cmd_route },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
