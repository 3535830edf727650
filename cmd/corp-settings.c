/*
 * corp-settings -- operator configuration, notification settings and
 * per-user preferences (DESIGN 2, 4).  No --as: whoever can open the
 * database is the operator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "db.h"
#include "http.h"
#include "jsonl.h"
#include "notify.h"
#include "prefs.h"
#include "settings.h"
#include "vapid.h"

enum { O_TYPE = 1, O_ROLE, O_CHANNEL, O_ENABLED, O_DISABLED, O_PRIORITY,
	O_TEMPLATE, O_SELF, O_NOSELF, O_NEWTYPE, O_NEWROLE, O_USER, O_QUIET,
	O_NOQUIET, O_FORCE, O_FALLBACK, O_NOFALLBACK, O_DIGEST, O_NODIGEST };

static const char *const priorities[] = { "urgent", "p2p", "broadcast",
	NULL };

static const struct cli_opt opts[] = {
	{ O_TYPE, "event-type", "TYPE", "the event type",
	    .comp = CLI_C_EVENT_TYPE },
	{ O_ROLE, "role", "ROLE", "the recipient's role", .comp = CLI_C_ROLE },
	{ O_CHANNEL, "channel", "CHANNEL", "the channel",
	    .comp = CLI_C_CHANNEL },
	{ O_ENABLED, "enabled", NULL, "notify (the default)" },
	{ O_DISABLED, "disabled", NULL, "do not notify" },
	{ O_PRIORITY, "priority", "urgent|p2p|broadcast", "the delivery "
	    "priority", .comp = CLI_C_WORDS, .words = priorities },
	{ O_TEMPLATE, "template", "KEY", "the catalog key of the message" },
	{ O_SELF, "notify-self", NULL, "notify the actor too" },
	{ O_NOSELF, "no-notify-self", NULL, "never notify the actor" },
	{ O_FALLBACK, "fallback", "CHANNEL", "the channel used when the "
	    "user cannot be reached on this one", .comp = CLI_C_CHANNEL },
	{ O_NOFALLBACK, "no-fallback", NULL, "no fallback channel" },
	{ O_DIGEST, "digest", "PERIOD", "collect the events into one "
	    "message per period (1h, daily@09:00)" },
	{ O_NODIGEST, "no-digest", NULL, "one message per event" },
	{ O_NEWTYPE, "new-type", NULL, "declare a producer's new event type" },
	{ O_NEWROLE, "new-role", NULL, "declare a producer's new role" },
	{ O_USER, "user", "LOGIN", "the user", .comp = CLI_C_LOGIN },
	{ O_QUIET, "quiet-hours", "HH:MM-HH:MM",
	    "quiet hours in the user's zone" },
	{ O_NOQUIET, "no-quiet-hours", NULL, "no quiet hours" },
	{ O_FORCE, "force", NULL, "accept a very wide webhook.allow range; "
	    "replace the VAPID key pair (push keygen)" },
	{ 0 }
};

/* config */

/* The settings as rows {"key", "value", "default"} (settings.c). */
static json_t *
settings(struct corp_db *db, const char *only)
{
	struct corp_err e;
	json_t *rows;

	if (corp_setting_rows(db, only, &rows, &e) != 0)
		cli_fail(&e);
	return rows;
}

static int
config_list(const struct cli_args *a)
{
	struct corp_db *db;

	db = cli_db(0);
	cli_rows(a, settings(db, NULL));
	corp_db_close(db);
	return 0;
}

static int
config_get(const struct cli_args *a)
{
	const char *key = cli_arg(a, 0);
	struct corp_db *db;
	struct corp_err e;
	char *v;

	if (corp_setting_key_check(key, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	/* The bare value unless --format (scripts read it). */
	if (cli_format(a) != CLI_FMT_LEGACY)
		cli_rows(a, settings(db, key));
	else if (corp_setting_get(db, key, &v, &e) != 0)
		cli_fail(&e);
	else if (printf("%s\n", v) < 0)
		cli_die(CORP_EINTERNAL, "stdout: write failed");
	else
		free(v);
	corp_db_close(db);
	return 0;
}

static int
config_set(const struct cli_args *a)
{
	const char *key = cli_arg(a, 0), *val = cli_arg(a, 1);
	int flags = cli_has(a, O_FORCE) ? CORP_SETTING_FORCE : 0;
	struct corp_db *db;
	struct corp_err e;

	/* Refuse a bad key or value before opening anything. */
	if (corp_setting_check(key, val, flags, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_setting_set(db, key, val, flags, &e) != 0)
		cli_fail(&e);
	/* What is stored now, as config list shows it. */
	cli_out_all(settings(db, key));
	corp_db_close(db);
	return 0;
}

static int
config_unset(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;

	db = cli_db(0);
	if (corp_setting_unset(db, cli_arg(a, 0), &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	return 0;
}

/* notify */

/* The options of notify set as the library takes them. */
static void
notify_opts(const struct cli_args *a, struct corp_notify *n)
{
	memset(n, 0, sizeof(*n));
	n->event_type = cli_str(a, O_TYPE);
	n->role = cli_str(a, O_ROLE);
	n->channel = cli_str(a, O_CHANNEL);
	n->enabled = cli_has(a, O_ENABLED) ? 1 : cli_has(a, O_DISABLED) ? 0 :
	    -1;
	n->priority = cli_str(a, O_PRIORITY);
	n->msgkey = cli_str(a, O_TEMPLATE);
	n->notify_self = cli_has(a, O_SELF) ? 1 : cli_has(a, O_NOSELF) ? 0 :
	    -1;
	n->fallback = cli_str(a, O_FALLBACK);
	n->no_fallback = cli_has(a, O_NOFALLBACK);
	n->digest = cli_str(a, O_DIGEST);
	n->no_digest = cli_has(a, O_NODIGEST);
	n->new_type = cli_has(a, O_NEWTYPE);
	n->new_role = cli_has(a, O_NEWROLE);
}

static int
notify_list(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *rows;

	db = cli_db(0);
	if (corp_notify_list(db, cli_str(a, O_TYPE), cli_str(a, O_ROLE),
	    cli_str(a, O_CHANNEL), &rows, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	cli_rows(a, rows);
	return 0;
}

static int
notify_set(const struct cli_args *a)
{
	struct corp_notify n;
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	notify_opts(a, &n);
	/* A misspelt key would hold every row of the setting (78). */
	if (n.msgkey != NULL && corp_catalog_key_check(n.msgkey, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_notify_set(db, &n, &row, &e) != 0)
		cli_fail(&e);
	return cli_done(db, row);
}

static int
notify_unset(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *row;

	db = cli_db(0);
	if (corp_notify_unset(db, cli_str(a, O_TYPE), cli_str(a, O_ROLE),
	    cli_str(a, O_CHANNEL), &row, &e) != 0)
		cli_fail(&e);
	return cli_done(db, row);
}

/* prefs, mute, unmute */

static int
prefs_show(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *o;

	db = cli_db(0);
	if (corp_prefs_get(db, cli_user(db, cli_str(a, O_USER)), &o, &e) != 0)
		cli_fail(&e);
	return cli_done(db, o);
}

static int
prefs_set(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	const char *quiet = cli_str(a, O_QUIET);
	long long uid;
	int qs = -1, qe = -1;
	json_t *o;

	if (quiet != NULL && corp_prefs_quiet_parse(quiet, &qs, &qe, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	uid = cli_user(db, cli_str(a, O_USER));
	if (corp_prefs_set_quiet(db, uid, qs, qe, &e) != 0 ||
	    corp_prefs_get(db, uid, &o, &e) != 0)
		cli_fail(&e);
	return cli_done(db, o);
}

/* What mute and unmute name: exactly one of the two (cli_main checks). */
static void
mute_what(const struct cli_args *a, const char **kind, const char **value)
{
	*kind = cli_has(a, O_CHANNEL) ? "channel" : "event_type";
	*value = cli_has(a, O_CHANNEL) ? cli_str(a, O_CHANNEL) :
	    cli_str(a, O_TYPE);
}

/* mute and unmute: the same options, the same row printed. */
static int
cmd_mute(const struct cli_args *a)
{
	const char *kind, *value;
	struct corp_db *db;
	struct corp_err e;
	const char *login = cli_str(a, O_USER);
	long long n = 0, uid;
	int on = strcmp(cli_verb_name(a), "mute") == 0, rc;

	mute_what(a, &kind, &value);
	db = cli_db(0);
	uid = cli_user(db, login);
	rc = on ? corp_prefs_mute(db, uid, kind, value, &n, &e) :
	    corp_prefs_unmute(db, uid, kind, value, &e);
	if (rc != 0)
		cli_fail(&e);
	return cli_done(db, on ? json_pack("{s:s, s:s, s:s, s:I}", "user",
	    login, "kind", kind, "muted", value, "failed_rows",
	    (json_int_t)n) : json_pack("{s:s, s:s, s:s}", "user", login,
	    "kind", kind, "unmuted", value));
}

/* push keygen and show: the VAPID public key (vapid.h) and the subject
 * (config push.subject). */
static int
cmd_push(const struct cli_args *a)
{
	char pub[CORP_WEBPUSH_KEY_B64], *subject;
	struct corp_db *db;
	struct corp_err e;
	int rc;

	if (strcmp(cli_verb_name(a), "push keygen") == 0)
		rc = corp_vapid_keygen(cli_has(a, O_FORCE), pub, &e);
	else if ((rc = corp_vapid_public(pub, &e)) != 0 &&
	    e.code == CORP_ENOTFOUND)
		cli_die(CORP_ENOTFOUND, "no VAPID key pair; make one with: "
		    "corp-settings push keygen");
	if (rc != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (corp_setting_get(db, "push.subject", &subject, &e) != 0)
		cli_fail(&e);
	cli_done(db, json_pack("{s:s, s:o}", "public_key", pub, "subject",
	    corp_json_strval(*subject ? subject : NULL)));
	free(subject);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb config_verbs[] = {
	{ "get", config_get, "a setting's value", "KEY", 1, 1,
	    .list = CLI_LIST("key", NULL, CLI_L_NOPAGE | CLI_L_LEGACY_ALL) },
	{ "set", config_set, "change a setting, print it as JSON",
	    "KEY VALUE", 2, 2, U({ O_FORCE }) },
	{ "unset", config_unset, "back to the default", "KEY", 1, 1 },
	{ "list", config_list, "every setting with its default",
	    .list = CLI_LIST("key", "KEY", CLI_L_POS) },
	{ NULL }
};
#define NKEY { O_TYPE, CLI_REQ }, { O_ROLE, CLI_REQ }, { O_CHANNEL, CLI_REQ }
static const struct cli_verb notify_verbs[] = {
	{ "list", notify_list, "notification settings, filtered", NULL, 0, 0,
	    U({ O_TYPE }, { O_ROLE }, { O_CHANNEL }),
	    .list = CLI_LIST("event_type,role,channel",
	    "EVENT_TYPE:ROLE:CHANNEL") },
	{ "set", notify_set, "create or change one", NULL, 0, 0,
	    U(NKEY, { O_ENABLED, 0, 1 }, { O_DISABLED, 0, 1 }, { O_PRIORITY },
	    { O_TEMPLATE }, { O_SELF, 0, 2 }, { O_NOSELF, 0, 2 },
	    { O_FALLBACK, 0, 3 }, { O_NOFALLBACK, 0, 3 },
	    { O_DIGEST, 0, 4 }, { O_NODIGEST, 0, 4 },
	    { O_NEWTYPE }, { O_NEWROLE }) },
	{ "unset", notify_unset, "delete one", NULL, 0, 0, U(NKEY) },
	{ NULL }
};
static const struct cli_verb prefs_verbs[] = {
	{ "show", prefs_show, "a user's preferences", NULL, 0, 0,
	    U({ O_USER, CLI_REQ }) },
	{ "set", prefs_set, "a user's quiet hours", NULL, 0, 0,
	    U({ O_USER, CLI_REQ }, { O_QUIET, CLI_REQ, 1 }, { O_NOQUIET, 0,
	    1 }) },
	{ NULL }
};
static const struct cli_verb push_verbs[] = {
	{ "keygen", cmd_push, "make the VAPID key pair of Web Push", NULL,
	    0, 0, U({ O_FORCE }) },
	{ "show", cmd_push, "the VAPID public key and subject" },
	{ NULL }
};
static const struct cli_verb verbs[] = {
	{ "config", NULL, "operator settings (corp(7) CONFIGURATION)", .sub =
	    config_verbs },
	{ "notify", NULL, "notification settings", .sub = notify_verbs },
	{ "prefs", NULL, "per-user preferences", .sub = prefs_verbs },
	{ "push", NULL, "Web Push: the VAPID key pair", .sub = push_verbs },
	{ "mute", cmd_mute, "stop a user's notifications on a channel or of "
	    "a type", NULL, 0, 0, U({ O_USER, CLI_REQ }, { O_CHANNEL, CLI_REQ,
	    1 }, { O_TYPE, 0, 1 }) },
	{ "unmute", cmd_mute, "undo a mute", NULL, 0, 0, U({ O_USER,
	    CLI_REQ }, { O_CHANNEL, CLI_REQ, 1 }, { O_TYPE, 0, 1 }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-settings",
	"operator configuration, notification settings, preferences", opts,
	verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
