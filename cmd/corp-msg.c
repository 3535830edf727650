/*
 * corp-msg -- the Telegram messages corp stored (DESIGN 8): import Bot
 * API Update objects, list them with filters, show one with its edit
 * history.  import hands each batch to corp_tgupdate_apply, the one handler
 * corp-tg poll and corp-tg process use, so an update has the same
 * effects whichever way it arrives, and a message is stored once per
 * (chat, message id).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "jsonl.h"
#include "clock.h"
#include "message.h"
#include "settings.h"
#include "tgupdate.h"

enum { O_CHAT = 1, O_AUTHOR, O_SINCE, O_UNTIL, O_TEXT, O_BEFORE,
	O_OLDER, O_DRY };

static const struct cli_opt opts[] = {
	{ O_CHAT, "chat", "CHAT", "messages of this chat id", CLI_NUM,
	    LLONG_MIN + 1, LLONG_MAX },
	{ O_AUTHOR, "author", "NAME", "messages of this author" },
	{ O_SINCE, "since", "TIME", "sent at or after TIME", CLI_TIME },
	{ O_UNTIL, "until", "TIME", "sent before TIME", CLI_TIME },
	{ O_TEXT, "text", "TEXT", "whose text contains TEXT" },
	{ O_BEFORE, "before", "TIME", "prune messages sent before TIME",
	    CLI_TIME },
	{ O_OLDER, "older-than", "DURATION", "prune messages older than this "
	    "(default: messages.retention)", CLI_DURATION },
	{ O_DRY, "dry-run", NULL, "count, delete nothing" },
	{ 0 }
};

/* Updates handled per transaction by import. */
#define IMPORT_BATCH 100

struct import {
	struct corp_db		*db;
	struct corp_tg_ctx	 ctx;
	long long		 handled, dups, bad;
};

/* One batch: one transaction (corp_tgupdate_apply). */
static int
import_each(struct corp_jsonl_item *it, size_t n, void *arg,
    struct corp_err *e)
{
	struct import *im = arg;
	json_t *u[IMPORT_BATCH];
	int outcome[IMPORT_BATCH], rc;
	size_t i;

	for (i = 0; i < n; i++)
		u[i] = it[i].obj;
	if ((rc = corp_tgupdate_apply(im->db, &im->ctx, u, n, NULL, -1,
	    outcome, NULL, NULL, NULL, e)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (outcome[i] == CORP_TG_HANDLED)
			im->handled++;
		else if (outcome[i] == CORP_TG_DUPLICATE)
			im->dups++;
		else {
			cli_warn("%s:%lu: not a Telegram Update object (no "
			    "integer update_id)", it[i].name, it[i].lineno);
			im->bad++;
		}
	return 0;
}

static int
cmd_import(const struct cli_args *a)
{
	/*
	 * Reading stdin inside a write transaction would hold the lock
	 * while a pipe stalls: a batch closes whenever no complete line is
	 * ready (batch_ms 0), and its transaction is the batch's.
	 */
	struct corp_loop l = { IMPORT_BATCH, 0, import_each, NULL, NULL,
	    NULL, 0, 0 };
	struct import im = { 0 };
	struct corp_err e;
	char *name = NULL;
	json_t *sum;
	int fd;

	if (cli_nargs(a) == 1 && strcmp(cli_arg(a, 0), "-") != 0) {
		name = (char *)cli_arg(a, 0);
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0)
			cli_die(CORP_ENOTFOUND, "%s: %s", name,
			    strerror(errno));
		close(fd);
	}
	im.db = cli_db(0);
	if (corp_tgupdate_ctx_init(im.db, &im.ctx, &e) != 0)
		cli_fail(&e);
	/* History: a button pressed back then is kept, not pressed now. */
	im.ctx.history = 1;
	l.arg = &im;
	if (cli_loop(name != NULL, &name, &l) != 0)
		im.bad += (long long)l.nbad;
	sum = json_pack("{sI sI sI}", "handled", (json_int_t)im.handled,
	    "duplicates", (json_int_t)im.dups, "invalid", (json_int_t)im.bad);
	cli_out(sum);
	json_decref(sum);
	corp_tgupdate_ctx_free(&im.ctx);
	corp_db_close(im.db);
	return im.bad ? CORP_EINVAL : 0;
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_msg_filter f;
	struct corp_db *db;
	struct corp_err e;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	if ((f.has_chat = cli_has(a, O_CHAT)))
		f.chat_id = cli_int(a, O_CHAT, 0);
	f.author = cli_str(a, O_AUTHOR);
	f.since = cli_int(a, O_SINCE, 0);
	f.until = cli_int(a, O_UNTIL, 0);
	f.text = cli_str(a, O_TEXT);
	/* --after is applied to the rows read (oldest first): all of them
	 * then, so that the limit counts rows after the cursor. */
	f.limit = cli_str(a, CLI_O_AFTER) ? 0 : cli_list_fetch(a);
	db = cli_db(0);
	if (corp_msg_list(db, &f, &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	long long chat, id;
	json_t *o;

	chat = cli_num(cli_arg(a, 0), LLONG_MIN + 1, LLONG_MAX, "CHAT");
	id = cli_num(cli_arg(a, 1), 1, LLONG_MAX, "MESSAGE_ID");
	db = cli_db(0);
	if (corp_msg_show(db, chat, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/* Retention: messages older than --before, --older-than or the
 * messages.retention setting go, with their history. */
static int
cmd_prune(const struct cli_args *a)
{
	struct corp_msg_pruned p;
	struct corp_db *db;
	struct corp_err e;
	time_t now = corp_now(), before = cli_int(a, O_BEFORE, 0);
	long long age = cli_int(a, O_OLDER, -1);
	char ts[32], nowbuf[32];
	json_t *o;
	int dry = cli_has(a, O_DRY), have_before = cli_has(a, O_BEFORE);

	if (have_before && before > now)
		cli_usage("--before %s is in the future (now is %s)",
		    corp_time_fmt(before, ts), corp_time_fmt(now, nowbuf));
	db = cli_db(0);
	if (!have_before && age < 0 && corp_setting_duration(db,
	    "messages.retention", &age, &e) != 0) {
		corp_errprefix(&e, "messages.retention");
		cli_fail(&e);
	}
	if (!have_before)
		before = age > (long long)now ? 0 : now - (time_t)age;
	if (corp_msg_prune(db, before, dry, &p, &e) != 0)
		cli_fail(&e);
	o = json_pack("{ss sI sI sI sI sb}", "before",
	    corp_time_fmt(before, ts), "messages", (json_int_t)p.messages,
	    "edits", (json_int_t)p.edits, "events", (json_int_t)p.events,
	    "callbacks", (json_int_t)p.callbacks, "dry_run", dry);
	if (o == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "import", cmd_import, "store Bot API Update objects (JSON lines)",
	    "[FILE]", 0, 1 },
	{ "list", cmd_list, "stored messages, filtered", NULL, 0, 0,
	    U({ O_CHAT }, { O_AUTHOR }, { O_SINCE }, { O_UNTIL }, { O_TEXT }),
	    .list = CLI_LIST("date,chat_id,message_id",
	    "DATE:CHAT:MESSAGE_ID") },
	{ "show", cmd_show, "one message with its edit history",
	    "CHAT MESSAGE_ID", 2, 2, .flags = CLI_NEGNUM },
	{ "prune", cmd_prune, "delete old messages with their history", NULL,
	    0, 0, U({ O_BEFORE, 0, 1 }, { O_OLDER, 0, 1 }, { O_DRY }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-msg",
	"the Telegram messages corp stored", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
