/*
 * corp-bind -- user x channel -> address (DESIGN 4): add, list,
 * deactivate, code (Telegram deep links, DESIGN 6) and import (JSON
 * lines, one transaction, all or nothing).  There is no remove: binds are kept for history (and
 * corp-deliver explain shows them); deactivate is the way to stop one.
 * No --as: whoever can open the database is the operator.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "binds.h"
#include "db.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "pushsend.h"
#include "settings.h"
#include "tgbind.h"
#include "userref.h"

static const char synopsis[] =
"usage: corp-bind add --user LOGIN --channel CHANNEL --address ADDRESS\n"
"       corp-bind add --user LOGIN --channel push [--subscription FILE]\n"
"                 [--allow-http]\n"
"       corp-bind list [--user LOGIN] [--channel CHANNEL]\n"
"       corp-bind deactivate --user LOGIN --channel CHANNEL\n"
"       corp-bind code --user LOGIN\n"
"       corp-bind import < binds.jsonl\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

struct bopts {
	const char	*user, *channel, *address;
	const char	*subscription;	/* push: the file, "-" stdin */
	int		 allow_http;
};

/* The options of every verb; allowed lists the ones this verb takes. */
static void
bind_opts(int argc, char **argv, struct bopts *b, const char *allowed)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "channel", required_argument, NULL, 'c' },
		{ "address", required_argument, NULL, 'a' },
		{ "subscription", required_argument, NULL, 's' },
		{ "allow-http", no_argument, NULL, 'H' },
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
		case 's': b->subscription = optarg; break;
		case 'H': b->allow_http = 1; break;
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

/*
 * push: the browser's PushSubscription JSON from --subscription FILE or
 * stdin (at most 64 KiB), one subscription per endpoint (corp-bind.1).
 */
static int
push_add(const struct bopts *b)
{
	struct corp_db *db;
	struct corp_err e;
	const char *name;
	char *text;
	size_t len = 0, n;
	FILE *f;
	json_t *row;

	if (b->user == NULL)
		cli_usage("add needs --user");
	if (b->address != NULL)
		cli_usage("push takes the subscription JSON (--subscription "
		    "FILE or stdin), not --address");
	name = b->subscription != NULL && strcmp(b->subscription, "-") != 0 ?
	    b->subscription : "<stdin>";
	if (name == b->subscription) {
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
	if (corp_push_bind(db, user(db, b->user), text, len, name,
	    b->allow_http, &row, &e) != 0)
		cli_fail(&e);
	explicit_bzero(text, len);
	free(text);
	corp_db_close(db);
	out1(row);
	return 0;
}

static int
cmd_add(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct bopts b;
	json_t *row;

	bind_opts(argc, argv, &b, "ucasH");
	if (b.channel != NULL && strcmp(b.channel, "push") == 0)
		return push_add(&b);
	if (b.subscription != NULL || b.allow_http)
		cli_usage("--subscription and --allow-http are for --channel "
		    "push");
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

struct bline {
	json_t		*obj;
	const char	*login, *channel, *address;
	unsigned long	 lineno;
};

/*
 * One import line's form: the three fields and nothing else, a channel
 * corp delivers on, an address of the channel's form.  Strings point
 * into obj.
 */
static int
import_line(json_t *obj, struct bline *l, struct corp_err *e)
{
	static const char *known[] = { "login", "channel", "address", NULL };
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return corp_errf(e, CORP_EINVAL, "unknown field \"%s\" "
			    "(a bind line has login, channel and address)",
			    key);
	}
	if (corp_json_str(obj, "login", &l->login, 1, e) != 0 ||
	    corp_json_str(obj, "channel", &l->channel, 1, e) != 0 ||
	    corp_json_str(obj, "address", &l->address, 1, e) != 0)
		return e->code;
	if (!corp_channel_valid(l->channel))
		return corp_errf(e, CORP_EINVAL, "channel '%s': expected 1-32 "
		    "of a-z 0-9 _ -", l->channel);
	/* A misspelt channel is 64 on a command line, 65 in a line. */
	if ((rc = corp_channel_check(l->channel, e)) != 0)
		return rc == CORP_EUSAGE ? (e->code = CORP_EINVAL) : rc;
	return corp_address_check(l->channel, l->address, e);
}

/* Has an earlier line of the batch already checked this target? */
static int
checked_before(const struct bline *lines, size_t n, const struct bline *l)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(lines[i].channel, l->channel) == 0 &&
		    strcmp(lines[i].address, l->address) == 0)
			return 1;
	return 0;
}

/*
 * Read and check every line first (no transaction while stdin and the
 * configuration files are read), then apply them in one transaction.
 * The first bad line ends the import with its position, nothing written.
 */
static int
cmd_import(int argc, char **argv)
{
	struct corp_jsonl *r;
	struct corp_db *db;
	struct corp_err e;
	struct bline *lines = NULL, *nl, *l;
	struct bopts b;
	json_t *obj, *outs;
	size_t n = 0, cap = 0, i;
	const char *res;
	long long uid;
	int rc;

	bind_opts(argc, argv, &b, "");
	if ((r = corp_jsonl_open(STDIN_FILENO, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while ((rc = corp_jsonl_next(r, &obj, -1, &e)) != CORP_JSONL_EOF) {
		if (rc == CORP_JSONL_ERR)
			cli_fail(&e);
		if (rc == CORP_JSONL_BAD)
			cli_die(CORP_EINVAL, "%s; nothing imported", e.msg);
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nl = reallocarray(lines, cap, sizeof(*nl))) == NULL)
				cli_die(CORP_EINTERNAL, "out of memory");
			lines = nl;
		}
		l = &lines[n];
		memset(l, 0, sizeof(*l));
		l->obj = obj;
		l->lineno = corp_jsonl_lineno(r);
		if (!json_is_object(obj))
			cli_die(CORP_EINVAL, "<stdin>:%lu: not a JSON object; "
			    "nothing imported", l->lineno);
		if ((rc = import_line(obj, l, &e)) != 0 ||
		    (corp_channel_shared(l->channel) &&
		    !checked_before(lines, n, l) &&
		    (rc = corp_bind_target_check(l->channel, l->address, &e))
		    != 0)) {
			if (rc == CORP_EINTERNAL)
				cli_fail(&e);
			/* An unknown name on a line makes a bad line (65),
			 * as an unknown channel does; 64 is the command
			 * line's. */
			if (rc == CORP_EUSAGE)
				rc = CORP_EINVAL;
			cli_die(rc, "<stdin>:%lu: %s; nothing imported",
			    l->lineno, e.msg);
		}
		n++;
	}
	corp_jsonl_close(r);
	db = cli_db(0);
	if ((outs = json_array()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	for (i = 0; i < n; i++) {
		l = &lines[i];
		if ((rc = corp_user_ref(db, l->login, &uid, &e)) == 0)
			rc = corp_binds_put_tx(db, uid, l->channel, l->address,
			    &res, &e);
		if (rc != 0) {
			corp_db_rollback(db);
			if (rc == CORP_EINTERNAL || rc == CORP_ETEMP)
				cli_fail(&e);
			cli_die(rc, "<stdin>:%lu: %s; nothing imported",
			    l->lineno, e.msg);
		}
		if (json_array_append_new(outs, json_pack("{s:I, s:s, s:I, "
		    "s:s, s:s, s:s}", "line", (json_int_t)l->lineno, "login",
		    l->login, "user_id", (json_int_t)uid, "channel",
		    l->channel, "address", l->address, "result", res)) != 0)
			cli_die(CORP_EINTERNAL, "out of memory");
	}
	if (corp_db_commit(db, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	cli_out_all(outs);
	for (i = 0; i < n; i++)
		json_decref(lines[i].obj);
	free(lines);
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
		{ "import", cmd_import },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
