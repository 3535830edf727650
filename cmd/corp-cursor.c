/*
 * corp-cursor -- seed 000's per-channel delivery cursor: get, set, and
 * advance from corp-deliver ack's output (DESIGN 5).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cursor.h"
#include "db.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"

static const char synopsis[] =
"usage: corp-cursor get [--channel CHANNEL]\n"
"       corp-cursor set [--channel CHANNEL] AUDIT:USER\n"
"       corp-cursor advance [--channel CHANNEL] [--force]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static const char *channel = "telegram";
static int force;

/* Options of every verb; --force only where allowed. */
static void
options(int argc, char **argv, int allow_force)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_err e;
	int ch;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'c': channel = optarg; break;
		case 'f':
			if (!allow_force)
				cli_usage("--force is only for advance");
			force = 1;
			break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	/* Checked before advance reads its input: a misspelt channel
	 * would read "0:0" or start a cursor nothing uses (names.h). */
	if (corp_channel_check(channel, &e) != 0)
		cli_fail(&e);
}

static int
cmd_get(int argc, char **argv)
{
	struct corp_cursor c;
	struct corp_err e;

	options(argc, argv, 0);
	if (optind != argc)
		cli_usage("get takes no arguments");
	if (corp_cursor_get(channel, &c, &e) != 0)
		cli_fail(&e);
	if (printf("%lld:%lld\n", c.audit, c.user) < 0)
		cli_die(CORP_EINTERNAL, "stdout: write failed");
	return 0;
}

static int
cmd_set(int argc, char **argv)
{
	struct corp_cursor c;
	struct corp_err e;

	options(argc, argv, 0);
	if (argc - optind != 1)
		cli_usage("set needs one AUDIT:USER");
	if (corp_cursor_parse(argv[optind], &c, &e) != 0 ||
	    corp_cursor_set(channel, &c, &e) != 0)
		cli_fail(&e);
	return 0;
}

/*
 * Read all of stdin first (advance ends the pipe), then take the lock
 * once: the cursor moves to the highest (event_id, user_id) among the
 * lines ack stored.  Then the legacy events cursor, from the database.
 */
static int
cmd_advance(int argc, char **argv)
{
	struct corp_cursor best = { 0, 0 }, c;
	struct corp_jsonl *r;
	struct corp_err e;
	struct corp_db *db;
	long long legacy;
	int got = 0, bad = 0, use, moved, rc;
	json_t *o;

	options(argc, argv, 1);
	if (optind != argc)
		cli_usage("advance takes no arguments");
	if ((r = corp_jsonl_open(STDIN_FILENO, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	for (;;) {
		rc = corp_jsonl_next(r, &o, -1, &e);
		if (rc == CORP_JSONL_EOF)
			break;
		if (rc == CORP_JSONL_BAD) {
			cli_warnerr(&e);
			bad++;
			continue;
		}
		if (rc != CORP_JSONL_OBJ)
			cli_fail(&e);
		if (corp_cursor_from_ack(o, &c, &use, &e) != 0) {
			cli_warn("<stdin>:%lu: %s", corp_jsonl_lineno(r),
			    e.msg);
			bad++;
		} else if (use && (!got || corp_cursor_cmp(&c, &best) > 0)) {
			best = c;
			got = 1;
		}
		json_decref(o);
	}
	corp_jsonl_close(r);
	if (got && corp_cursor_advance(channel, &best, force, &moved, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_cursor_legacy(db, &legacy, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	if (corp_cursor_legacy_write(legacy, &e) != 0)
		cli_fail(&e);
	return bad ? CORP_EINVAL : 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "get", cmd_get },
		{ "set", cmd_set },
		{ "advance", cmd_advance },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
