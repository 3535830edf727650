/*
 * corp-event -- the event log: route (events -> recipients ->
 * delivery rows).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "jsonl.h"
#include "route.h"

static const char synopsis[] =
"usage: corp-event route [--follow | --dry-run] [--batch N]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

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
	static const struct option opts[] = {
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

	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
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
				struct timespec ts = { 0, 200 * 1000000L };

				nanosleep(&ts, NULL);
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
		{ "route", cmd_route },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
