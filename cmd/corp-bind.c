/*
 * corp-bind -- user x channel -> address (DESIGN 4): add, list,
 * deactivate, and code (Telegram deep links, DESIGN 6).  There is no remove: binds are kept for history (and
 * corp-deliver explain shows them); deactivate is the way to stop one.
 * No --as: whoever can open the database is the operator.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "binds.h"
#include "db.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "settings.h"
#include "tgbind.h"
#include "userref.h"

static const char synopsis[] =
"usage: corp-bind add --user LOGIN --channel CHANNEL --address ADDRESS\n"
"       corp-bind list [--user LOGIN] [--channel CHANNEL]\n"
"       corp-bind deactivate --user LOGIN --channel CHANNEL\n"
"       corp-bind code --user LOGIN\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

struct bopts {
	const char	*user, *channel, *address;
};

/* The options of every verb; allowed lists the ones this verb takes. */
static void
bind_opts(int argc, char **argv, struct bopts *b, const char *allowed)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "channel", required_argument, NULL, 'c' },
		{ "address", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct option *o;
	int ch;

	memset(b, 0, sizeof(*b));
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch != 'h' && ch != '?' && strchr(allowed, ch) == NULL) {
			for (o = opts; o->val != ch; o++)
				;
			cli_usage("%s takes no --%s", argv[0], o->name);
		}
		switch (ch) {
		case 'u': b->user = optarg; break;
		case 'c': b->channel = optarg; break;
		case 'a': b->address = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	}
	if (optind != argc)
		cli_usage("%s takes no arguments", argv[0]);
	if (b->channel != NULL && !corp_channel_valid(b->channel))
		cli_die(CORP_EINVAL, "channel '%s': expected 1-32 of a-z 0-9 "
		    "_ -", b->channel);
	/* A channel corp does not deliver on is a typo (64, "did you
	 * mean"); deactivate still reaches a bind stored before. */
	if (b->channel != NULL && strcmp(argv[0], "deactivate") != 0) {
		struct corp_err e;

		if (corp_channel_check(b->channel, &e) != 0)
			cli_fail(&e);
	}
}

static long long
user(struct corp_db *db, const char *login)
{
	struct corp_err e;
	long long id;

	if (corp_user_ref(db, login, &id, &e) != 0)
		cli_fail(&e);
	return id;
}

static void
out1(json_t *o)
{
	cli_out(o);
	json_decref(o);
}

static int
cmd_add(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct bopts b;
	json_t *row;

	bind_opts(argc, argv, &b, "uca");
	if (b.user == NULL || b.channel == NULL || b.address == NULL)
		cli_usage("add needs --user, --channel and --address");
	if (corp_address_check(b.channel, b.address, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_binds_add(db, user(db, b.user), b.channel, b.address, &row,
	    &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	out1(row);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct bopts b;
	json_t *rows;

	bind_opts(argc, argv, &b, "uc");
	db = cli_db(0);
	if (corp_binds_list(db, b.user ? user(db, b.user) : 0, b.channel,
	    &rows, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	cli_out_all(rows);
	return 0;
}

static int
cmd_deactivate(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct bopts b;
	json_t *row;

	bind_opts(argc, argv, &b, "uc");
	if (b.user == NULL || b.channel == NULL)
		cli_usage("deactivate needs --user and --channel");
	db = cli_db(0);
	if (corp_binds_deactivate(db, user(db, b.user), b.channel, &row, &e)
	    != 0) {
		if (e.code == CORP_ENOTFOUND)
			cli_die(e.code, "user '%s' has no bind on %s", b.user,
			    b.channel);
		cli_fail(&e);
	}
	corp_db_close(db);
	out1(row);
	return 0;
}

/*
 * A single-use Telegram deep-link code; the chat that sends it with
 * /start becomes the user's bind (corp-tg).
 */
static int
cmd_code(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct bopts b;
	char code[CORP_TG_CODE_LEN + 2], *bot, *link;
	time_t expires;
	long long uid;
	json_t *o;

	bind_opts(argc, argv, &b, "u");
	if (b.user == NULL)
		cli_usage("code needs --user");
	db = cli_db(0);
	uid = user(db, b.user);
	if (corp_setting_get(db, "telegram.bot_username", &bot, &e) != 0)
		cli_fail(&e);
	if (*bot == '\0')
		cli_die(CORP_EINVAL, "telegram.bot_username is not set; set it "
		    "with: corp-settings config set telegram.bot_username NAME");
	if (!corp_tg_username_ok(bot))
		cli_die(CORP_EINVAL, "telegram.bot_username '%s': expected a "
		    "bot username, 5-32 of A-Z a-z 0-9 _", bot);
	if (corp_tg_code_new(db, uid, code, &expires, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	if (corp_asprintf(&link, "https://t.me/%s?start=%s", bot, code) < 0 ||
	    (o = json_pack("{s:s, s:s, s:o, s:s}", "user", b.user, "code",
	    code, "expires_at", corp_json_time(expires), "link", link)) ==
	    NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	free(bot);
	free(link);
	out1(o);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", cmd_add },
		{ "list", cmd_list },
		{ "deactivate", cmd_deactivate },
		{ "code", cmd_code },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
