/*
 * corp-event -- the event log: list, show, tail [--follow], and emit
 * (events from other producers), route.  The options and verbs are the
 * tables cli_main reads (cmd/cli.h).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLI_TABLE
#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "eventlog.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "route.h"

/* The bounded sleep between two polls of tail --follow. */
#define POLL_MS 200

enum { O_AFTER = 1, O_TASK, O_TYPE, O_TOPIC, O_SINCE, O_UNTIL, O_LIMIT,
	O_AS, O_FOLLOW, O_COUNT, O_NEWTYPE, O_NEWROLE, O_DRY, O_BATCH };

static const struct cli_opt opts[] = {
	{ O_AFTER, "after", "ID", "events after this id", CLI_NUM, 0,
	    LLONG_MAX },
	{ O_TASK, "task", "TASK", "events of this task", CLI_NUM },
	{ O_TYPE, "type", "TYPE", "events of this type",
	    .comp = CLI_C_EVENT_TYPE },
	{ O_TOPIC, "topic", "TOPIC", "events of this topic" },
	{ O_SINCE, "since", "TIME", "at or after TIME", CLI_TIME },
	{ O_UNTIL, "until", "TIME", "before TIME", CLI_TIME },
	{ O_LIMIT, "limit", "N", "at most N events", CLI_NUM, 1, LLONG_MAX },
	{ O_AS, "as", "LOGIN", "only what LOGIN may see", .comp = CLI_C_LOGIN },
	{ O_FOLLOW, "follow", NULL, "go on as new events are committed" },
	{ O_COUNT, "count", "N", "stop after N events", CLI_NUM, 1,
	    LLONG_MAX },
	{ O_NEWTYPE, "new-type", "TYPE", "accept this event type not seen "
	    "before (repeatable)", CLI_MULTI },
	{ O_NEWROLE, "new-role", "ROLE", "accept this recipient role not seen "
	    "before (repeatable)", CLI_MULTI },
	{ O_DRY, "dry-run", NULL, "print the decisions, store nothing" },
	{ O_BATCH, "batch", "N", "events per transaction (default 500)",
	    CLI_NUM, 1, 100000 },
	{ 0 }
};

struct args {
	struct corp_event_filter f;
	const char	*as;
	int		 follow;
	long long	 count;
	const char *const *new_types;	/* NULL-terminated */
	size_t		 nnew;
	const char *const *new_roles;	/* NULL-terminated */
	size_t		 nnewrole;
};

static void
parse(const struct cli_args *c, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->f.after = cli_int(c, O_AFTER, 0);
	a->f.task_id = cli_int(c, O_TASK, 0);
	a->f.type = cli_str(c, O_TYPE);
	a->f.topic = cli_str(c, O_TOPIC);
	a->f.since = cli_int(c, O_SINCE, 0);
	a->f.until = cli_int(c, O_UNTIL, 0);
	a->f.limit = cli_int(c, O_LIMIT, 0);
	a->as = cli_str(c, O_AS);
	a->follow = cli_has(c, O_FOLLOW);
	a->count = cli_int(c, O_COUNT, 0);
	a->new_types = cli_multi(c, O_NEWTYPE, &a->nnew);
	a->new_roles = cli_multi(c, O_NEWROLE, &a->nnewrole);
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
cmd_list(const struct cli_args *c)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr;
	long long last;

	parse(c, &a);
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
cmd_show(const struct cli_args *c)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *o;
	long long id;

	parse(c, &a);
	id = cli_num(cli_arg(c, 0), 1, LLONG_MAX, "EVENT_ID");
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
cmd_tail(const struct cli_args *c)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr, *v;
	long long last, dv, ndv, printed = 0;
	size_t i;

	parse(c, &a);
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

struct emit {
	struct corp_db	*db;
	struct args	 a;
	json_t		*outs;	/* printed after the commit */
	int		 refused;
};

static void
emit_result(void *arg, const struct corp_jsonl_item *it, int rc,
    const struct corp_err *e, json_t *o)
{
	struct emit *m = arg;

	if (rc != 0) {
		cli_warn("%s:%lu: %s", it->name, it->lineno, e->msg);
		m->refused = 1;
	} else if (json_array_append_new(m->outs, o) != 0)
		cli_die(CORP_EINTERNAL, "out of memory");
}

static int
emit_each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *e)
{
	struct emit *m = arg;

	m->db = cli_db(0);	/* after the input, as an empty one */
	return corp_eventlog_emit_batch(m->db, it, n, m->a.new_types,
	    m->a.new_roles, emit_result, m, e);
}

/* All lines, then one transaction; each bad or refused line is reported
 * and the rest go on (65 at the end). */
static int
cmd_emit(const struct cli_args *c)
{
	struct emit m = { .outs = json_array() };
	struct corp_loop l = { .batch = 0, .batch_ms = -1, .each = emit_each,
	    .arg = &m };
	size_t i;
	int rc;

	parse(c, &m.a);
	for (i = 0; i < m.a.nnew; i++)
		if (!corp_event_type_valid(m.a.new_types[i]))
			cli_usage("--new-type '%s': expected 1-64 of "
			    "A-Z a-z 0-9 _ . : -", m.a.new_types[i]);
	for (i = 0; i < m.a.nnewrole; i++)
		if (!corp_role_valid(m.a.new_roles[i]))
			cli_usage("--new-role '%s': expected 1-64 of "
			    "A-Z a-z 0-9 _ . : -", m.a.new_roles[i]);
	if (m.outs == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	rc = cli_loop(0, NULL, &l);
	if (m.db == NULL)
		m.db = cli_db(0);
	cli_out_all(m.outs);
	corp_db_close(m.db);
	return rc != 0 || m.refused ? CORP_EINVAL : 0;
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
cmd_route(const struct cli_args *c)
{
	struct corp_route_stats s;
	struct corp_db *db;
	struct corp_err e;
	long long dv = -1, ndv;
	int follow = cli_has(c, O_FOLLOW), dry = cli_has(c, O_DRY);
	int batch = (int)cli_int(c, O_BATCH, 500);
	json_t *o;

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

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "list", cmd_list, "events, oldest first, filtered", NULL, 0, 0,
	    U({ O_AFTER }, { O_TASK }, { O_TYPE }, { O_TOPIC }, { O_SINCE },
	    { O_UNTIL }, { O_LIMIT }, { O_AS }) },
	{ "show", cmd_show, "one event", "EVENT_ID", 1, 1, U({ O_AS }) },
	{ "tail", cmd_tail, "events past a cursor, then (--follow) new ones",
	    NULL, 0, 0, U({ O_FOLLOW }, { O_AFTER }, { O_TOPIC }, { O_TASK },
	    { O_TYPE }, { O_AS }, { O_COUNT }) },
	{ "emit", cmd_emit, "events of other producers (JSON lines on stdin)",
	    NULL, 0, 0, U({ O_NEWTYPE }, { O_NEWROLE }) },
	{ "route", cmd_route, "decide who is notified of new events", NULL, 0,
	    0, U({ O_FOLLOW, 0, 1 }, { O_DRY, 0, 1 }, { O_BATCH }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-event",
	"the event log: list, show, tail, emit, route", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
