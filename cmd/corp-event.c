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

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "eventlog.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "route.h"

enum { O_AFTER = 1, O_TASK, O_TYPE, O_TOPIC, O_SINCE, O_UNTIL,
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

/* The filters of list, show and tail, their names checked (a misspelt
 * --type or --topic would list nothing, silently), --as resolved. */
static struct corp_db *
filter(const struct cli_args *c, struct corp_event_filter *f)
{
	struct corp_db *db = cli_db(0);
	const char *as = cli_str(c, O_AS);
	struct corp_err e;

	*f = (struct corp_event_filter){ .after = cli_int(c, O_AFTER, 0),
	    .task_id = cli_int(c, O_TASK, 0), .type = cli_str(c, O_TYPE),
	    .topic = cli_str(c, O_TOPIC), .since = cli_int(c, O_SINCE, 0),
	    .until = cli_int(c, O_UNTIL, 0) };
	if ((f->type != NULL && corp_event_type_check(db, f->type,
	    CORP_NAME_TOPIC, &e) != 0) ||
	    (f->topic != NULL && corp_topic_check(f->topic, &e) != 0) ||
	    (as != NULL && corp_dir_user_id(db, as, &f->viewer, NULL, &e) != 0))
		cli_fail(&e);
	return db;
}

static int
cmd_list(const struct cli_args *c)
{
	struct corp_event_filter f;
	struct corp_db *db = filter(c, &f);
	struct corp_err e;
	json_t *arr;
	long long last;

	f.after = cli_list_after_id(c);
	f.limit = cli_list_fetch(c);
	/* A task that does not exist is 67, not an empty list. */
	if ((f.task_id > 0 && corp_eventlog_task_exists(db, f.task_id, &e)
	    != 0) || corp_eventlog_list(db, &f, &arr, &last, &e) != 0)
		cli_fail(&e);
	cli_rows(c, arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(const struct cli_args *c)
{
	long long id = cli_num(cli_arg(c, 0), 1, LLONG_MAX, "EVENT_ID");
	struct corp_event_filter f;
	struct corp_db *db = filter(c, &f);
	struct corp_err e;
	json_t *o;

	if (corp_eventlog_show(db, id, f.viewer, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
print_event(void *arg, json_t *o)
{
	(void)arg;
	cli_out(o);
	return 0;
}

/* Output gone: tail stops quietly. */
static int
flush_out(void *arg)
{
	(void)arg;
	return fflush(stdout) != 0;
}

static int
cmd_tail(const struct cli_args *c)
{
	struct corp_event_filter f;
	struct corp_db *db = filter(c, &f);
	struct corp_err e;

	if (cli_has(c, O_FOLLOW))
		cli_log_timed();	/* a loop (corp.7 Errors) */
	if (corp_eventlog_tail(db, &f, cli_has(c, O_FOLLOW),
	    cli_int(c, O_COUNT, 0), print_event, flush_out, NULL, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

struct emit {
	struct corp_db	*db;
	const char *const *new_types, *const *new_roles;
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
	return corp_eventlog_emit_batch(m->db, it, n, m->new_types,
	    m->new_roles, emit_result, m, e);
}

/* --new-type and --new-role: names of the form of a type or a role. */
static const char *const *
new_names(const struct cli_args *c, int id, const char *opt)
{
	const char *const *v;
	size_t n, i;

	v = cli_multi(c, id, &n);
	for (i = 0; i < n; i++)
		if (id == O_NEWTYPE ? !corp_event_type_valid(v[i]) :
		    !corp_role_valid(v[i]))
			cli_usage("--%s '%s': expected 1-64 of A-Z a-z 0-9 "
			    "_ . : -", opt, v[i]);
	return v;
}

/* All lines, then one transaction; each bad or refused line is reported
 * and the rest go on (65 at the end). */
static int
cmd_emit(const struct cli_args *c)
{
	struct emit m = { .new_types = new_names(c, O_NEWTYPE, "new-type"),
	    .new_roles = new_names(c, O_NEWROLE, "new-role"),
	    .outs = json_array() };
	struct corp_loop l = { .batch = 0, .batch_ms = -1, .each = emit_each,
	    .arg = &m };
	int rc;

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

/* What route's hooks share: --dry-run and the progress line. */
struct routing {
	int			 dry, show;	/* show: the progress line */
	struct cli_progress	 prog;
};

static int
print_decision(json_t *o, void *arg)
{
	(void)arg;
	cli_out(o);
	return 0;
}

static void
print_stats(void *arg, const struct corp_route_stats *s)
{
	struct routing *r = arg;
	json_t *o = corp_route_stats_json(s);

	cli_progress_clear(&r->prog);
	if (r->dry)
		json_object_set_new(o, "dry_run", json_true());
	cli_out(o);
	json_decref(o);
}

/* On a terminal, after each batch (corp-event.1 route); with --verbose
 * the counts so far (<7>). */
static void
progress(void *arg, const struct corp_route_stats *s)
{
	struct routing *r = arg;

	if (cli_verbose()) {
		cli_progress_clear(&r->prog);
		cli_debug("route: events %lld recipients %lld rows %lld "
		    "watermark %lld", s->events, s->recipients, s->rows,
		    s->watermark);
	}
	if (r->show)
		cli_progress_show(&r->prog, "corp-event route", s->events,
	    "rows %lld", s->rows);
}

static int
cmd_route(const struct cli_args *c)
{
	struct corp_db *db;
	struct corp_err e;
	struct routing r = { .dry = cli_has(c, O_DRY) };
	struct corp_route_hooks h = { print_decision, print_stats, NULL, &r };
	int follow = cli_has(c, O_FOLLOW);
	long long wm, n;

	signal(SIGTERM, onsig);
	signal(SIGINT, onsig);
	if (follow)
		cli_log_timed();	/* a loop (corp.7 Errors) */
	db = cli_db(0);
	/* The events left to route at the start: a one-off catch-up's. */
	cli_progress_start(&r.prog, 0);
	if (r.prog.tty && !follow && !r.dry) {
		if (corp_route_watermark(db, &wm, &e) != 0 ||
		    corp_event_count_after(db, wm, &n, &e) != 0)
			cli_fail(&e);
		r.prog.total = n;
		r.show = 1;
	}
	if (r.show || cli_verbose())
		h.progress = progress;
	if (corp_route_loop(db, (int)cli_int(c, O_BATCH, 500), r.dry, follow,
	    &stop, &h, &e) != 0) {
		cli_progress_clear(&r.prog);
		cli_fail(&e);
	}
	cli_progress_clear(&r.prog);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "list", cmd_list, "events, oldest first, filtered", NULL, 0, 0,
	    U({ O_TASK }, { O_TYPE }, { O_TOPIC }, { O_SINCE }, { O_UNTIL },
	    { O_AS }), .list = CLI_LIST("event_id", "EVENT_ID") },
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
