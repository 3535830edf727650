/*
 * corp-settings -- operator configuration, notification settings and
 * per-user preferences (DESIGN 2, 4).  No --as: whoever can open the
 * database is the operator.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "http.h"
#include "jsonl.h"
#include "notify.h"
#include "prefs.h"
#include "settings.h"
#include "userref.h"

static const char synopsis[] =
"usage: corp-settings config get KEY\n"
"       corp-settings config set KEY VALUE\n"
"       corp-settings config unset KEY\n"
"       corp-settings config list\n"
"       corp-settings notify list [--event-type TYPE] [--role ROLE]\n"
"           [--channel CHANNEL]\n"
"       corp-settings notify set --event-type TYPE --role ROLE\n"
"           --channel CHANNEL [--enabled | --disabled]\n"
"           [--priority urgent|p2p|broadcast] [--template KEY]\n"
"           [--notify-self | --no-notify-self] [--new-type] [--new-role]\n"
"       corp-settings notify unset --event-type TYPE --role ROLE\n"
"           --channel CHANNEL\n"
"       corp-settings prefs show --user LOGIN\n"
"       corp-settings prefs set --user LOGIN\n"
"           (--quiet HH:MM-HH:MM | --no-quiet)\n"
"       corp-settings mute --user LOGIN (--channel CHANNEL |\n"
"           --event-type TYPE)\n"
"       corp-settings unmute --user LOGIN (--channel CHANNEL |\n"
"           --event-type TYPE)\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static void
out1(json_t *o)
{
	cli_out(o);
	json_decref(o);
}

static void
outall(json_t *rows)
{

	cli_out_all(rows);
}

/* Verbs with sub-verbs: "config get", "notify set", "prefs show". */
static int
sub(int argc, char **argv, const struct cli_verb *verbs)
{
	const struct cli_verb *v;

	if (argc < 2)
		cli_usage("%s: missing command", argv[0]);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		cli_help();
	for (v = verbs; v->name != NULL; v++)
		if (strcmp(v->name, argv[1]) == 0)
			return v->fn(argc - 1, argv + 1);
	cli_usage("%s: unknown command '%s'", argv[0], argv[1]);
}

/* The long name of option val in opts, for messages. */
static const char *
optname(const struct option *opts, int val)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

static void
noopts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		if (ch == 'h')
			cli_help();
		else
			cli_usage(NULL);
}

/* config */

static int
each_line(const char *key, const char *def, const char *cur, void *arg)
{
	json_t *o;

	(void)arg;
	o = json_pack("{s:s, s:o, s:s}", "key", key, "value",
	    corp_json_strval(cur), "default", def);
	if (o == NULL)
		return CORP_EINTERNAL;
	out1(o);
	return 0;
}

static int
config_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;

	noopts(argc, argv);
	if (optind != argc)
		cli_usage("config list takes no arguments");
	db = cli_db(0);
	corp_errclear(&e);
	if (corp_setting_each(db, each_line, NULL, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

static int
config_get(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	char *v;

	noopts(argc, argv);
	if (argc - optind != 1)
		cli_usage("config get needs one KEY");
	if (corp_setting_key_check(argv[optind], &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_setting_get(db, argv[optind], &v, &e) != 0)
		cli_fail(&e);
	if (printf("%s\n", v) < 0)
		cli_die(CORP_EINTERNAL, "stdout: write failed");
	free(v);
	corp_db_close(db);
	return 0;
}

static int
config_set(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;

	noopts(argc, argv);
	if (argc - optind != 2)
		cli_usage("config set needs KEY VALUE");
	/* Refuse a bad key or value before opening anything. */
	if (corp_setting_check(argv[optind], argv[optind + 1], &e) != 0)
		cli_fail(&e);
	/* A URL setting gets the one URL decision (libcurl's parse). */
	if (strcmp(argv[optind], "openai.url") == 0 &&
	    corp_url_check(argv[optind + 1], CORP_URL_HTTP, 1, "openai.url",
	    CORP_EINVAL, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_setting_set(db, argv[optind], argv[optind + 1], &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

static int
config_unset(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;

	noopts(argc, argv);
	if (argc - optind != 1)
		cli_usage("config unset needs one KEY");
	db = cli_db(0);
	if (corp_setting_unset(db, argv[optind], &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

static int
cmd_config(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "get", config_get },
		{ "set", config_set },
		{ "unset", config_unset },
		{ "list", config_list },
		{ NULL, NULL }
	};

	return sub(argc, argv, verbs);
}

/* notify */

static void
notify_opts(int argc, char **argv, struct corp_notify *n, int changes)
{
	static const struct option opts[] = {
		{ "event-type", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "channel", required_argument, NULL, 'c' },
		{ "enabled", no_argument, NULL, 'e' },
		{ "disabled", no_argument, NULL, 'd' },
		{ "priority", required_argument, NULL, 'p' },
		{ "template", required_argument, NULL, 'T' },
		{ "notify-self", no_argument, NULL, 's' },
		{ "no-notify-self", no_argument, NULL, 'S' },
		{ "new-type", no_argument, NULL, 'n' },
		{ "new-role", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(n, 0, sizeof(*n));
	n->enabled = n->notify_self = -1;
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1) {
		if (!changes && strchr("edpTsSnN", ch) != NULL)
			cli_usage("notify %s takes no --%s", argv[0],
			    optname(opts, ch));
		switch (ch) {
		case 't': n->event_type = optarg; break;
		case 'r': n->role = optarg; break;
		case 'c': n->channel = optarg; break;
		case 'e':
		case 'd':
			if (n->enabled >= 0)
				cli_usage("--enabled and --disabled: one");
			n->enabled = ch == 'e';
			break;
		case 'p': n->priority = optarg; break;
		case 'T': n->template = optarg; break;
		case 's':
		case 'S':
			if (n->notify_self >= 0)
				cli_usage("--notify-self and --no-notify-self: "
				    "one");
			n->notify_self = ch == 's';
			break;
		case 'n': n->new_type = 1; break;
		case 'N': n->new_role = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	}
	if (optind != argc)
		cli_usage("%s takes no arguments", argv[0]);
}

static void
notify_key(const struct corp_notify *n, const char *verb)
{
	if (n->event_type == NULL || n->role == NULL || n->channel == NULL)
		cli_usage("notify %s needs --event-type, --role and --channel",
		    verb);
}

static int
notify_list(int argc, char **argv)
{
	struct corp_notify n;
	struct corp_db *db;
	struct corp_err e;
	json_t *rows;

	notify_opts(argc, argv, &n, 0);
	db = cli_db(0);
	if (corp_notify_list(db, n.event_type, n.role, n.channel, &rows, &e)
	    != 0)
		cli_fail(&e);
	corp_db_close(db);
	outall(rows);
	return 0;
}

static int
notify_set(int argc, char **argv)
{
	struct corp_notify n;
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	notify_opts(argc, argv, &n, 1);
	notify_key(&n, "set");
	db = cli_db(0);
	if (corp_notify_set(db, &n, &row, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	out1(row);
	return 0;
}

static int
notify_unset(int argc, char **argv)
{
	struct corp_notify n;
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	notify_opts(argc, argv, &n, 0);
	notify_key(&n, "unset");
	db = cli_db(0);
	if (corp_notify_unset(db, n.event_type, n.role, n.channel, &row, &e)
	    != 0)
		cli_fail(&e);
	corp_db_close(db);
	out1(row);
	return 0;
}

static int
cmd_notify(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", notify_list },
		{ "set", notify_set },
		{ "unset", notify_unset },
		{ NULL, NULL }
	};

	return sub(argc, argv, verbs);
}

/* prefs, mute, unmute */

struct popts {
	const char	*user, *quiet, *channel, *event_type;
	int		 no_quiet;
};

static void
prefs_opts(int argc, char **argv, struct popts *p, const char *allowed)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "no-quiet", no_argument, NULL, 'Q' },
		{ "channel", required_argument, NULL, 'c' },
		{ "event-type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(p, 0, sizeof(*p));
	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch != 'h' && ch != '?' && strchr(allowed, ch) == NULL)
			cli_usage("%s takes no --%s", argv[0],
			    optname(opts, ch));
		switch (ch) {
		case 'u': p->user = optarg; break;
		case 'q': p->quiet = optarg; break;
		case 'Q': p->no_quiet = 1; break;
		case 'c': p->channel = optarg; break;
		case 't': p->event_type = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	}
	if (optind != argc)
		cli_usage("%s takes no arguments", argv[0]);
	if (p->user == NULL)
		cli_usage("%s needs --user LOGIN", argv[0]);
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

static int
prefs_show(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct popts p;
	json_t *o;

	prefs_opts(argc, argv, &p, "u");
	db = cli_db(0);
	if (corp_prefs_get(db, user(db, p.user), &o, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	out1(o);
	return 0;
}

static int
prefs_set(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct popts p;
	long long uid;
	int qs = -1, qe = -1;
	json_t *o;

	prefs_opts(argc, argv, &p, "uqQ");
	if ((p.quiet != NULL) == p.no_quiet)
		cli_usage("prefs set needs --quiet HH:MM-HH:MM or --no-quiet");
	if (p.quiet != NULL && corp_quiet_parse(p.quiet, &qs, &qe, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	uid = user(db, p.user);
	if (corp_prefs_set_quiet(db, uid, qs, qe, &e) != 0 ||
	    corp_prefs_get(db, uid, &o, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	out1(o);
	return 0;
}

static int
cmd_prefs(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "show", prefs_show },
		{ "set", prefs_set },
		{ NULL, NULL }
	};

	return sub(argc, argv, verbs);
}

static void
mute_what(const struct popts *p, const char *verb, const char **kind,
    const char **value)
{
	if ((p->channel != NULL) == (p->event_type != NULL))
		cli_usage("%s needs --channel or --event-type (one)", verb);
	*kind = p->channel != NULL ? "channel" : "event_type";
	*value = p->channel != NULL ? p->channel : p->event_type;
}

static int
cmd_mute(int argc, char **argv)
{
	const char *kind, *value;
	struct corp_db *db;
	struct corp_err e;
	struct popts p;
	long long n;
	json_t *o;

	prefs_opts(argc, argv, &p, "uct");
	mute_what(&p, "mute", &kind, &value);
	db = cli_db(0);
	if (corp_prefs_mute(db, user(db, p.user), kind, value, &n, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	o = json_pack("{s:s, s:s, s:s, s:I}", "user", p.user, "kind", kind,
	    "muted", value, "failed_rows", (json_int_t)n);
	out1(o);
	return 0;
}

static int
cmd_unmute(int argc, char **argv)
{
	const char *kind, *value;
	struct corp_db *db;
	struct corp_err e;
	struct popts p;
	json_t *o;

	prefs_opts(argc, argv, &p, "uct");
	mute_what(&p, "unmute", &kind, &value);
	db = cli_db(0);
	if (corp_prefs_unmute(db, user(db, p.user), kind, value, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	o = json_pack("{s:s, s:s, s:s}", "user", p.user, "kind", kind,
	    "unmuted", value);
	out1(o);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "config", cmd_config },
		{ "notify", cmd_notify },
		{ "prefs", cmd_prefs },
		{ "mute", cmd_mute },
		{ "unmute", cmd_unmute },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
