/*
 * corp-sched -- time-driven events: template instances for started
 * periods, and TASK_DUE_SOON / TASK_OVERDUE.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "scheduler.h"

static const char synopsis[] =
"usage: corp-sched instances [--until TIME] [--catch-up N]\n"
"       corp-sched due [--soon DURATION]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static void
warn(const char *msg, void *arg)
{
	(void)arg;
	cli_warn("%s", msg);
}

static int
cmd_instances(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "until", required_argument, NULL, 'u' },
		{ "catch-up", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_sched_stats s;
	struct corp_db *db;
	struct corp_err e;
	time_t horizon = 0;
	int ch, catchup = CORP_SCHED_CATCHUP;
	json_t *o;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'u': horizon = cli_time(optarg, "--until"); break;
		case 'c': catchup = (int)cli_num(optarg, 1, 10000,
		    "--catch-up"); break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("instances takes no arguments");
	if (horizon == 0)
		horizon = corp_now();
	db = cli_db(0);
	if (corp_sched_instances(db, horizon, catchup, warn, NULL, &s,
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
cmd_due(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soon", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_sched_stats s;
	struct corp_db *db;
	struct corp_err e;
	long long soon = 86400;
	int ch;
	json_t *o;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 's': soon = cli_duration(optarg, "--soon"); break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("due takes no arguments");
	db = cli_db(0);
	if (corp_sched_due(db, soon, &s, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:I, s:I}", "due_soon", (json_int_t)s.due_soon,
	    "overdue", (json_int_t)s.overdue);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "instances", cmd_instances },
		{ "due", cmd_due },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
