/*
 * corp-cursor -- seed 000's per-channel delivery cursor: get, set, and
 * advance from corp-deliver ack's output (DESIGN 5).
 */
#include <stdio.h>

#include "cli.h"
#include "cursor.h"
#include "db.h"
#include "jsonl.h"
#include "names.h"

enum { O_CHANNEL = 1, O_FORCE };

static const struct cli_opt opts[] = {
	{ O_CHANNEL, "channel", "CHANNEL", "the channel's cursor (telegram)",
	    .comp = CLI_C_CHANNEL },
	{ O_FORCE, "force", NULL, "move the cursor back too" },
	{ 0 }
};

/* --channel, checked before advance reads its input: a misspelt channel
 * would read "0:0" or start a cursor nothing uses (names.h). */
static const char *
channel(const struct cli_args *a)
{
	const char *ch = cli_str(a, O_CHANNEL);
	struct corp_err e;

	if (ch == NULL)
		ch = "telegram";
	if (corp_channel_check(ch, &e) != 0)
		cli_fail(&e);
	return ch;
}

static int
cmd_get(const struct cli_args *a)
{
	struct corp_cursor c;
	struct corp_err e;

	if (corp_cursor_get(channel(a), &c, &e) != 0)
		cli_fail(&e);
	if (printf("%lld:%lld\n", c.audit, c.user) < 0)
		cli_die(CORP_EINTERNAL, "stdout: write failed");
	return 0;
}

static int
cmd_set(const struct cli_args *a)
{
	const char *ch = channel(a);
	struct corp_cursor c;
	struct corp_err e;

	if (corp_cursor_parse(cli_arg(a, 0), &c, &e) != 0 ||
	    corp_cursor_set(ch, &c, &e) != 0)
		cli_fail(&e);
	return 0;
}

/*
 * Read all of stdin first (advance ends the pipe), then take the lock
 * once: the cursor moves to the highest (event_id, user_id) among the
 * lines ack stored.  Then the legacy events cursor, from the database.
 */
struct advance {
	struct corp_cursor best;
	int		 got, bad;
};

static int
advance_each(struct corp_jsonl_item *it, size_t n, void *arg,
    struct corp_err *e)
{
	struct advance *ad = arg;
	struct corp_cursor c;
	int use;

	(void)n;
	if (corp_cursor_from_ack(it->obj, &c, &use, e) != 0) {
		cli_warn("%s:%lu: %s", it->name, it->lineno, e->msg);
		ad->bad = 1;
	} else if (use && (!ad->got || corp_cursor_cmp(&c, &ad->best) > 0)) {
		ad->best = c;
		ad->got = 1;
	}
	return 0;
}

/*
 * Read all of stdin first (advance ends the pipe), then take the lock
 * once: the cursor moves to the highest (event_id, user_id) among the
 * lines ack stored.  Then the legacy events cursor, from the database.
 */
static int
cmd_advance(const struct cli_args *a)
{
	const char *ch = channel(a);
	struct advance ad = { { 0, 0 }, 0, 0 };
	struct corp_loop l = { .batch = 1, .batch_ms = -1,
	    .each = advance_each, .arg = &ad };
	struct corp_err e;
	struct corp_db *db;
	long long legacy;
	int moved, bad;

	bad = cli_loop(0, NULL, &l);
	if (ad.got && corp_cursor_advance(ch, &ad.best, cli_has(a, O_FORCE),
	    &moved, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_cursor_legacy(db, &legacy, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	if (corp_cursor_legacy_write(legacy, &e) != 0)
		cli_fail(&e);
	return bad || ad.bad ? CORP_EINVAL : 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "get", cmd_get, "print the channel's cursor AUDIT:USER", NULL, 0, 0,
	    U({ O_CHANNEL }) },
	{ "set", cmd_set, "set the cursor (back too)", "AUDIT:USER", 1, 1,
	    U({ O_CHANNEL }) },
	{ "advance", cmd_advance, "move the cursor past the acks on stdin",
	    NULL, 0, 0, U({ O_CHANNEL }, { O_FORCE }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-cursor",
	"seed 000's per-channel delivery cursor", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char *argv[])
{
	cli_main(&tool, argc, argv);
}
