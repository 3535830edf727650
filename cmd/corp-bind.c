/*
 * corp-bind -- user x channel -> address (DESIGN 4): add, list,
 * deactivate, code (Telegram deep links, DESIGN 6) and import (JSON
 * lines, one transaction, all or nothing).  There is no remove: binds are kept for history (and
 * corp-deliver explain shows them); deactivate is the way to stop one.
 * No --as: whoever can open the database is the operator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "binds.h"
#include "db.h"
#include "jsonl.h"
#include "linkcode.h"
#include "names.h"
#include "notify.h"
#include "pushsend.h"
#include "settings.h"
#include "tgbot.h"

enum { O_USER = 1, O_CHANNEL, O_ADDRESS, O_SUBSCRIPTION, O_ALLOW_HTTP };

static const struct cli_opt opts[] = {
	{ O_USER, "user", "LOGIN", "the user", .comp = CLI_C_LOGIN },
	{ O_CHANNEL, "channel", "CHANNEL", "the channel",
	    .comp = CLI_C_CHANNEL },
	{ O_ADDRESS, "address", "ADDRESS", "chat id, mailbox, endpoint or "
	    "command name" },
	{ O_SUBSCRIPTION, "subscription", "FILE", "push: the browser's "
	    "PushSubscription JSON (stdin without it, or -)",
	    .comp = CLI_C_FILE },
	{ O_ALLOW_HTTP, "allow-http", NULL, "push: allow an http:// "
	    "endpoint (a local fake)" },
	{ 0 }
};

/* --channel's form; a channel corp does not deliver on is a typo (64,
 * "did you mean"), but deactivate still reaches a bind stored before. */
static const char *
channel(const struct cli_args *a)
{
	const char *c = cli_str(a, O_CHANNEL);
	struct corp_err e;

	if (c != NULL && !corp_channel_valid(c))
		cli_die(CORP_EINVAL, "channel '%s': expected 1-32 of a-z 0-9 "
		    "_ -", c);
	if (c != NULL && strcmp(cli_verb_name(a), "deactivate") != 0 &&
	    corp_channel_check(c, &e) != 0)
		cli_fail(&e);
	return c;
}

/*
 * push: the browser's PushSubscription JSON from --subscription FILE or
 * stdin (at most 64 KiB), one subscription per endpoint (corp-bind.1).
 */
static int
push_add(const struct cli_args *a)
{
	const char *sub = cli_str(a, O_SUBSCRIPTION);
	struct corp_db *db;
	struct corp_err e;
	const char *name;
	char *text;
	size_t len = 0, n;
	FILE *f;
	json_t *row;

	if (cli_has(a, O_ADDRESS))
		cli_usage("push takes the subscription JSON (--subscription "
		    "FILE or stdin), not --address");
	name = sub != NULL && strcmp(sub, "-") != 0 ? sub : "<stdin>";
	if (name == sub) {
		if ((f = fopen(name, "r")) == NULL)
			cli_die(CORP_EUSAGE, "%s: %s", name, strerror(errno));
	} else
		f = stdin;
	if ((text = malloc(65537)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while (len < 65537 && (n = fread(text + len, 1, 65537 - len, f)) > 0)
		len += n;
	if (ferror(f))
		cli_die(CORP_EUSAGE, "%s: read error", name);
	if (len > 65536)
		cli_die(CORP_EINVAL, "%s: longer than 64 KiB", name);
	if (f != stdin)
		fclose(f);
	text[len] = '\0';
	db = cli_db(0);
	if (corp_push_bind(db, cli_user(db, cli_str(a, O_USER)), text, len,
	    name, cli_has(a, O_ALLOW_HTTP), &row, &e) != 0)
		cli_fail(&e);
	explicit_bzero(text, len);
	free(text);
	return cli_done(db, row);
}

static int
cmd_add(const struct cli_args *a)
{
	const char *ch = channel(a), *addr = cli_str(a, O_ADDRESS);
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	/* Two forms (cli.h CLI_VARIANT): push reads a subscription. */
	if (strcmp(ch, "push") == 0)
		return push_add(a);
	if (cli_has(a, O_SUBSCRIPTION) || cli_has(a, O_ALLOW_HTTP))
		cli_usage("--subscription and --allow-http are for --channel "
		    "push");
	if (addr == NULL)
		cli_usage("add needs --address ADDRESS");
	if (corp_address_check(ch, addr, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_binds_add(db, cli_user(db, cli_str(a, O_USER)), ch, addr, &row,
	    &e) != 0)
		cli_fail(&e);
	return cli_done(db, row);
}

static int
cmd_list(const struct cli_args *a)
{
	const char *ch = channel(a), *login = cli_str(a, O_USER);
	struct corp_db *db;
	struct corp_err e;
	json_t *rows;

	db = cli_db(0);
	if (corp_binds_list(db, login ? cli_user(db, login) : 0, ch, &rows, &e)
	    != 0)
		cli_fail(&e);
	corp_db_close(db);
	cli_rows(a, rows);
	return 0;
}

static int
cmd_deactivate(const struct cli_args *a)
{
	const char *ch = channel(a), *login = cli_str(a, O_USER);
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	db = cli_db(0);
	if (corp_binds_deactivate(db, cli_user(db, login), ch, &row, &e) != 0) {
		if (e.code == CORP_ENOTFOUND)
			cli_die(e.code, "user '%s' has no bind on %s", login,
			    ch);
		cli_fail(&e);
	}
	return cli_done(db, row);
}

/*
 * A single-use Telegram deep-link code; the chat that sends it with
 * /start becomes the user's bind (corp-tg).
 */
static int
cmd_code(const struct cli_args *a)
{
	const char *login = cli_str(a, O_USER);
	struct corp_db *db;
	struct corp_err e;
	char code[CORP_LINKCODE_LEN + 2], *bot, *link;
	time_t expires;
	long long uid;
	json_t *o;

	db = cli_db(0);
	uid = cli_user(db, login);
	if (corp_setting_get(db, "telegram.bot_username", &bot, &e) != 0)
		cli_fail(&e);
	if (*bot == '\0')
		cli_die(CORP_EINVAL, "telegram.bot_username is not set; set it "
		    "with: corp-settings config set telegram.bot_username NAME");
	if (!corp_tg_username_ok(bot))
		cli_die(CORP_EINVAL, "telegram.bot_username '%s': expected a "
		    "bot username, 5-32 of A-Z a-z 0-9 _", bot);
	if (corp_linkcode_new(db, uid, code, &expires, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	if (corp_asprintf(&link, "https://t.me/%s?start=%s", bot, code) < 0 ||
	    (o = json_pack("{s:s, s:s, s:o, s:s}", "user", login, "code",
	    code, "expires_at", corp_json_time(expires), "link", link)) ==
	    NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	free(bot);
	free(link);
	return cli_done(NULL, o);
}

static int
import_each(struct corp_jsonl_item *it, size_t n, void *arg,
    struct corp_err *e)
{
	(void)n;
	return corp_binds_import_add(arg, it, e);
}

/* The progress line of the writes, on a terminal (corp-bind.1). */
static struct cli_progress prog;
static long long ndone;

static void
import_done(void *arg, const struct corp_jsonl_item *it, int rc,
    const struct corp_err *e, json_t *o)
{
	cli_collect(arg, it, rc, e, o);
	cli_progress_tick(&prog, "corp-bind import", ++ndone);
}

/*
 * Each line checked as it is read (no transaction while stdin and the
 * configuration files are read), then all of them in one transaction.
 * The first bad line ends the import with its position, nothing written.
 */
static int
cmd_import(const struct cli_args *a)
{
	struct corp_binds_import *m = corp_binds_import_new();
	struct corp_loop l = { .batch = 1, .batch_ms = -1,
	    .each = import_each, .bad = cli_refuse_bad, .arg = m };
	struct corp_db *db;
	struct corp_err e;
	json_t *outs = json_array();

	(void)a;
	if (m == NULL || outs == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	(void)cli_loop(0, NULL, &l);
	db = cli_db(0);
	cli_progress_start(&prog, (long long)l.nitems);
	cli_debug("import: %lu binds read; writing them", l.nitems);
	if (corp_binds_import_commit(db, m, import_done, outs, &e) != 0)
		cli_fail(&e);
	cli_progress_clear(&prog);
	corp_db_close(db);
	corp_binds_import_free(m);
	cli_out_all(outs);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "add", cmd_add, "bind a user's address on a channel", NULL, 0, 0,
	    U({ O_USER, CLI_REQ }, { O_CHANNEL, CLI_REQ },
	    { O_ADDRESS, CLI_REQ }) },
	{ "add", cmd_add, "bind a browser's Web Push subscription", NULL, 0,
	    0, U({ O_USER, CLI_REQ }, { O_CHANNEL, CLI_REQ },
	    { O_SUBSCRIPTION }, { O_ALLOW_HTTP }), .flags = CLI_VARIANT },
	{ "list", cmd_list, "binds, active or not", NULL, 0, 0,
	    U({ O_USER }, { O_CHANNEL }),
	    .list = CLI_LIST("user_id,channel", "USER_ID:CHANNEL") },
	{ "deactivate", cmd_deactivate, "stop a bind (kept for history)",
	    NULL, 0, 0, U({ O_USER, CLI_REQ }, { O_CHANNEL, CLI_REQ }) },
	{ "code", cmd_code, "a Telegram deep-link code for a user", NULL, 0,
	    0, U({ O_USER, CLI_REQ }) },
	{ "import", cmd_import, "binds from JSON lines, all or nothing" },
	{ NULL }
};

static const struct cli_tool tool = { "corp-bind",
	"user x channel -> address", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
