/*
 * corp-user -- the directory's users: add, set, show, list, deactivate,
 * import (JSON lines, idempotent by login); token add, list, revoke
 * (corp-api's bearer tokens, lib/apitoken.c).
 */
#include <limits.h>
#include <string.h>

#include "cli.h"
#include "apitoken.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"

enum { O_NAME = 1, O_LANG, O_NOLANG, O_TZ, O_NOTZ, O_UNIT, O_NOUNIT,
	O_ADMIN, O_NOADMIN, O_ACTIVE, O_INACTIVE, O_ALL, O_EXPIRES };

static const struct cli_opt opts[] = {
	{ O_NAME, "name", "NAME", "display name (default: the login); a "
	    "token's label" },
	{ O_LANG, "lang", "LANG", "message language", .comp = CLI_C_LANG },
	{ O_NOLANG, "no-lang", NULL, "use fallback_lang" },
	{ O_TZ, "tz", "ZONE", "time zone (Europe/Kyiv)", .comp = CLI_C_ZONE },
	{ O_NOTZ, "no-tz", NULL, "use the unit's zone" },
	{ O_UNIT, "unit", "UNIT", "org unit", .comp = CLI_C_UNIT },
	{ O_NOUNIT, "no-unit", NULL, "in no unit" },
	{ O_ADMIN, "admin", NULL, "an admin" },
	{ O_NOADMIN, "no-admin", NULL, "not an admin" },
	{ O_ACTIVE, "active", NULL, "active again" },
	{ O_INACTIVE, "inactive", NULL, "inactive (as deactivate)" },
	{ O_ALL, "all", NULL, "inactive users too" },
	{ O_EXPIRES, "expires", "DURATION", "expire that long from now "
	    "(default: never)", CLI_DURATION, 1, 100LL * 366 * 86400 },
	{ 0 }
};

/* The user's JSON line; the end of add, set, deactivate and show. */
static int
show(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_dir_user_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

/* add, set, deactivate: the fields given (the library's transaction). */
static int
cmd_put(const struct cli_args *a)
{
	const char *verb = cli_verb_name(a), *res;
	struct corp_user_in u = { .login = cli_arg(a, 0) };
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	long long id;

#define FIELD(f, has, on, off, val)				\
	if (cli_has(a, on) || cli_has(a, off))				\
		u.f = cli_has(a, on) ? (val) : 0, u.has = 1
	FIELD(name, has_name, O_NAME, 0, cli_str(a, O_NAME));
	FIELD(lang, has_lang, O_LANG, O_NOLANG, cli_str(a, O_LANG));
	FIELD(tz, has_tz, O_TZ, O_NOTZ, cli_str(a, O_TZ));
	FIELD(unit, has_unit, O_UNIT, O_NOUNIT, cli_str(a, O_UNIT));
	FIELD(is_admin, has_admin, O_ADMIN, O_NOADMIN, 1);
	FIELD(active, has_active, O_ACTIVE, O_INACTIVE, 1);
#undef FIELD
	if (strcmp(verb, "deactivate") == 0)
		u.has_active = 1;
	if (corp_dir_user_put(db, &u, strcmp(verb, "add") == 0 ?
	    CORP_PUT_ADD : CORP_PUT_SET, &id, &res, &e) != 0)
		cli_fail(&e);
	return show(db, id);
}

static int
cmd_show(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	long long id;

	if (corp_dir_user_id(db, cli_arg(a, 0), &id, NULL, &e) != 0)
		cli_fail(&e);
	return show(db, id);
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *rows;

	if (corp_dir_user_list(db, cli_str(a, O_UNIT), cli_has(a, O_ALL),
	    &rows, &e) != 0)
		cli_fail(&e);
	cli_rows(a, rows);
	corp_db_close(db);
	return 0;
}

struct import {
	struct corp_db	*db;
	json_t		*outs;	/* printed after the commit */
	struct cli_progress prog;	/* on a terminal (corp-user.1) */
	long long	 done;
};

/* Each user written: collected, and counted on the progress line. */
static void
import_done(void *arg, const struct corp_jsonl_item *it, int rc,
    const struct corp_err *e, json_t *o)
{
	struct import *m = arg;

	cli_collect(m->outs, it, rc, e, o);
	cli_progress_tick(&m->prog, "corp-user import", ++m->done);
}

static int
import_each(struct corp_jsonl_item *it, size_t n, void *arg,
    struct corp_err *e)
{
	struct import *m = arg;
	int rc;

	cli_progress_start(&m->prog, (long long)n);
	cli_debug("import: %zu users read; writing them", n);
	rc = corp_dir_user_import(m->db, it, n, import_done, m, e);
	cli_progress_clear(&m->prog);
	return rc;
}

/*
 * All lines first (batch 0), then one transaction: the first bad line
 * refuses the whole batch (corp-user.1: a directory half imported is
 * worse than none), named by its line.
 */
static int
cmd_import(const struct cli_args *a)
{
	struct import m = { cli_db(0), json_array(), { 0 }, 0 };
	struct corp_loop l = { .batch = 0, .batch_ms = -1,
	    .each = import_each, .bad = cli_refuse_bad, .arg = &m };

	if (m.outs == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	(void)cli_loop(0, NULL, &l);
	cli_rows(a, m.outs);
	corp_db_close(m.db);
	return 0;
}

/* token add: the one time the secret is printed. */
static int
token_add(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	char token[CORP_APITOKEN_LEN + 1];
	time_t exp = 0;
	json_t *row;

	if (cli_has(a, O_EXPIRES))
		exp = corp_now() + (time_t)cli_int(a, O_EXPIRES, 0);
	if (corp_apitoken_add(db, cli_arg(a, 0), cli_str(a, O_NAME), exp,
	    token, &row, &e) != 0)
		cli_fail(&e);
	corp_db_close(db);
	if (json_object_set_new(row, "token", json_string(token)) != 0)
		cli_die(CORP_EINTERNAL, "out of memory");
	explicit_bzero(token, sizeof(token));
	cli_out(row);
	json_decref(row);
	return 0;
}

static int
token_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *rows;

	if (corp_apitoken_list(db, cli_arg(a, 0), &rows, &e) != 0)
		cli_fail(&e);
	cli_rows(a, rows);
	corp_db_close(db);
	return 0;
}

static int
token_revoke(const struct cli_args *a)
{
	long long id = cli_num(cli_arg(a, 0), 1, LLONG_MAX, "ID");
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *row;

	if (corp_apitoken_revoke(db, id, &row, &e) != 0)
		cli_fail(&e);
	cli_out(row);
	json_decref(row);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb token_verbs[] = {
	{ "add", token_add, "a bearer token for corp-api, printed once",
	    "LOGIN", 1, 1, U({ O_EXPIRES }, { O_NAME }) },
	{ "list", token_list, "tokens (of LOGIN), never the secret",
	    "[LOGIN]", 0, 1, .list = CLI_LIST("id", "ID") },
	{ "revoke", token_revoke, "refuse a token from now on", "ID", 1, 1 },
	{ NULL }
};
static const struct cli_verb verbs[] = {
	{ "add", cmd_put, "add a user", "LOGIN", 1, 1, U({ O_NAME }, { O_LANG },
	    { O_TZ }, { O_UNIT }, { O_ADMIN }) },
	{ "set", cmd_put, "change a user's fields", "LOGIN", 1, 1, U({ O_NAME },
	    { O_LANG, 0, 1 }, { O_NOLANG, 0, 1 }, { O_TZ, 0, 2 },
	    { O_NOTZ, 0, 2 }, { O_UNIT, 0, 3 }, { O_NOUNIT, 0, 3 },
	    { O_ADMIN, 0, 4 }, { O_NOADMIN, 0, 4 }, { O_ACTIVE, 0, 5 },
	    { O_INACTIVE, 0, 5 }) },
	{ "show", cmd_show, "one user as JSON", "LOGIN", 1, 1 },
	{ "list", cmd_list, "users (active ones unless --all)", NULL, 0, 0,
	    U({ O_UNIT }, { O_ALL }), .list = CLI_LIST("login", "LOGIN") },
	{ "deactivate", cmd_put, "make a user inactive", "LOGIN", 1, 1 },
	{ "import", cmd_import, "users from JSON lines, all or nothing" },
	{ "token", NULL, "corp-api's bearer tokens", .sub = token_verbs },
	{ NULL }
};

static const struct cli_tool tool = { "corp-user", "the directory's users",
	opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
