/*
 * corp-sched -- time-driven events: template instances for started
 * periods, and TASK_DUE_SOON / TASK_OVERDUE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "scheduler.h"

enum { O_UNTIL = 1, O_CATCHUP, O_SOON };

static const struct cli_opt opts[] = {
	{ O_UNTIL, "until", "TIME", "instances for periods started by TIME "
	    "(default: now)", CLI_TIME },
	{ O_CATCHUP, "catch-up", "N", "at most N past periods per template "
	    "(default 31)", CLI_NUM, 1, 10000 },
	{ O_SOON, "soon", "DURATION", "TASK_DUE_SOON this long before the "
	    "due time (default 24h)", CLI_DURATION },
	{ 0 }
};

static void
warn(const char *msg, void *arg)
{
	(void)arg;
	cli_warn("%s", msg);
}

static int
cmd_instances(const struct cli_args *a)
{
	struct corp_sched_stats s;
	struct corp_db *db;
	struct corp_err e;
	json_t *o;

	db = cli_db(0);
	if (corp_sched_instances(db, cli_int(a, O_UNTIL, corp_now()),
	    (int)cli_int(a, O_CATCHUP, CORP_SCHED_CATCHUP), warn, NULL, &s,
	    &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "templates", (json_int_t)s.templates,
	    "created", (json_int_t)s.created,
	    "existing", (json_int_t)s.existing,
	    "skipped_old", (json_int_t)s.skipped_old,
	    "failed", (json_int_t)s.failed);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return s.failed > 0 ? CORP_EINVAL : 0;
}

static int
cmd_due(const struct cli_args *a)
{
	struct corp_sched_stats s;
	struct corp_db *db;
	struct corp_err e;
	json_t *o;

	db = cli_db(0);
	if (corp_sched_due(db, cli_int(a, O_SOON, 86400), &s, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:I, s:I}", "due_soon", (json_int_t)s.due_soon,
	    "overdue", (json_int_t)s.overdue);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "instances", cmd_instances, "make the task instances of started "
	    "periods", NULL, 0, 0, U({ O_UNTIL }, { O_CATCHUP }) },
	{ "due", cmd_due, "write TASK_DUE_SOON and TASK_OVERDUE once per due "
	    "time", NULL, 0, 0, U({ O_SOON }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-sched",
	"time-driven events: template instances, due soon, overdue", opts,
	verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
