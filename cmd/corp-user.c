/*
 * corp-user -- the directory's users: add, set, show, list, deactivate,
 * import (JSON lines, idempotent by login).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"

static const char synopsis[] =
"usage: corp-user add LOGIN [--name NAME] [--lang LANG] [--tz ZONE]\n"
"           [--unit UNIT] [--admin]\n"
"       corp-user set LOGIN [--name NAME] [--lang LANG | --no-lang]\n"
"           [--tz ZONE | --no-tz] [--unit UNIT | --no-unit]\n"
"           [--admin | --no-admin] [--active | --inactive]\n"
"       corp-user show LOGIN\n"
"       corp-user list [--unit UNIT] [--all]\n"
"       corp-user deactivate LOGIN\n"
"       corp-user import < users.jsonl\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_NAME = 256, O_LANG, O_NOLANG, O_TZ, O_NOTZ, O_UNIT, O_NOUNIT,
	O_ADMIN, O_NOADMIN, O_ACTIVE, O_INACTIVE, O_ALL };

static const struct option uopts[] = {
	{ "name", required_argument, NULL, O_NAME },
	{ "lang", required_argument, NULL, O_LANG },
	{ "no-lang", no_argument, NULL, O_NOLANG },
	{ "tz", required_argument, NULL, O_TZ },
	{ "no-tz", no_argument, NULL, O_NOTZ },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "no-unit", no_argument, NULL, O_NOUNIT },
	{ "admin", no_argument, NULL, O_ADMIN },
	{ "no-admin", no_argument, NULL, O_NOADMIN },
	{ "active", no_argument, NULL, O_ACTIVE },
	{ "inactive", no_argument, NULL, O_INACTIVE },
	{ "all", no_argument, NULL, O_ALL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Parse the user options; *all for list.  Returns the first operand. */
static const char *
parse(int argc, char **argv, struct corp_user_in *u, int *all, int nargs)
{
	int ch;

	memset(u, 0, sizeof(*u));
	while ((ch = getopt_long(argc, argv, "h", uopts, NULL)) != -1)
		switch (ch) {
		case O_NAME: u->name = optarg; u->has_name = 1; break;
		case O_LANG: u->lang = optarg; u->has_lang = 1; break;
		case O_NOLANG: u->lang = NULL; u->has_lang = 1; break;
		case O_TZ: u->tz = optarg; u->has_tz = 1; break;
		case O_NOTZ: u->tz = NULL; u->has_tz = 1; break;
		case O_UNIT: u->unit = optarg; u->has_unit = 1; break;
		case O_NOUNIT: u->unit = NULL; u->has_unit = 1; break;
		case O_ADMIN: u->is_admin = 1; u->has_admin = 1; break;
		case O_NOADMIN: u->is_admin = 0; u->has_admin = 1; break;
		case O_ACTIVE: u->active = 1; u->has_active = 1; break;
		case O_INACTIVE: u->active = 0; u->has_active = 1; break;
		case O_ALL:
			if (all == NULL)
				cli_usage("--all is for list");
			*all = 1;
			break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (argc - optind != nargs)
		cli_usage(nargs ? "expected one LOGIN" : "unexpected argument");
	return nargs ? argv[optind] : NULL;
}

static void
print_user(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_dir_user_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static int
put(struct corp_user_in *u, int mode)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	const char *res;
	long long id;

	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	if (corp_dir_user_put(db, u, mode, &id, &res, &e) != 0 ||
	    corp_db_commit(db, &e) != 0) {
		corp_db_rollback(db);
		cli_fail(&e);
	}
	print_user(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_add(int argc, char **argv)
{
	struct corp_user_in u;

	u.login = parse(argc, argv, &u, NULL, 1);
	u.login = argv[optind];
	if (u.has_active || (u.has_admin && !u.is_admin) ||
	    (u.has_lang && !u.lang) || (u.has_tz && !u.tz) ||
	    (u.has_unit && !u.unit))
		cli_usage("add takes no --no-* or --active/--inactive");
	return put(&u, CORP_PUT_ADD);
}

static int
cmd_set(int argc, char **argv)
{
	struct corp_user_in u;

	parse(argc, argv, &u, NULL, 1);
	u.login = argv[optind];
	return put(&u, CORP_PUT_SET);
}

static int
cmd_deactivate(int argc, char **argv)
{
	struct corp_user_in u;

	parse(argc, argv, &u, NULL, 1);
	if (u.has_name || u.has_lang || u.has_tz || u.has_unit ||
	    u.has_admin || u.has_active)
		cli_usage("deactivate takes only a LOGIN");
	u.login = argv[optind];
	u.active = 0;
	u.has_active = 1;
	return put(&u, CORP_PUT_SET);
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_user_in u;
	struct corp_db *db;
	struct corp_err e;
	long long id;

	parse(argc, argv, &u, NULL, 1);
	db = cli_db(0);
	if (corp_dir_user_id(db, argv[optind], &id, NULL, &e) != 0)
		cli_fail(&e);
	print_user(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_user_in u;
	struct corp_db *db;
	struct corp_err e;
	json_t *a;
	int all = 0;

	parse(argc, argv, &u, &all, 0);
	if (u.has_name || u.has_lang || u.has_tz || u.has_admin ||
	    u.has_active || (u.has_unit && u.unit == NULL))
		cli_usage("list takes --unit UNIT and --all only");
	db = cli_db(0);
	if (corp_dir_user_list(db, u.unit, all, &a, &e) != 0)
		cli_fail(&e);
	cli_out_all(a);
	corp_db_close(db);
	return 0;
}

/*
 * One import line into u; strings point into obj.  Unknown fields are
 * refused: a misspelt "is_admin" must not pass silently.
 */
static int
import_line(json_t *obj, struct corp_user_in *u, struct corp_err *e)
{
	static const char *known[] = { "login", "name", "lang", "tz", "unit",
	    "is_admin", "active", NULL };
	const char *key;
	json_t *v;
	size_t i;

	memset(u, 0, sizeof(*u));
	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return corp_errf(e, CORP_EINVAL, "unknown field \"%s\"",
			    key);
	}
	if (corp_json_str(obj, "login", &u->login, 1, e) != 0)
		return e->code;
#define STR(f) do {							\
	if ((v = json_object_get(obj, #f)) != NULL) {			\
		if (corp_json_str(obj, #f, &u->f, 0, e) != 0)		\
			return e->code;					\
		u->has_##f = 1;						\
	}								\
} while (0)
	STR(name);
	STR(lang);
	STR(tz);
	STR(unit);
#undef STR
	if (u->has_name && u->name == NULL)
		return corp_errf(e, CORP_EINVAL, "field \"name\" must be a "
		    "string");
	if ((v = json_object_get(obj, "is_admin")) != NULL) {
		if (!json_is_boolean(v))
			return corp_errf(e, CORP_EINVAL, "field \"is_admin\" "
			    "must be true or false");
		u->is_admin = json_is_true(v);
		u->has_admin = 1;
	}
	if ((v = json_object_get(obj, "active")) != NULL) {
		if (!json_is_boolean(v))
			return corp_errf(e, CORP_EINVAL, "field \"active\" "
			    "must be true or false");
		u->active = json_is_true(v);
		u->has_active = 1;
	}
	return 0;
}

struct line {
	json_t		*obj;
	unsigned long	 lineno;
};

/*
 * Read every line first (nothing is held open while stdin is read),
 * then apply them in one transaction.  The first bad line, malformed or
 * refused, ends the import with its position and nothing written: a
 * batch is all or nothing, so a fixed file can simply be run again.
 */
static int
cmd_import(int argc, char **argv)
{
	struct corp_jsonl *r;
	struct corp_user_in u;
	struct corp_db *db;
	struct corp_err e;
	struct line *lines = NULL, *nl;
	json_t *obj, *outs;
	size_t n = 0, cap = 0, i;
	const char *res;
	long long id;
	int rc;

	parse(argc, argv, &u, NULL, 0);
	if (u.has_name || u.has_lang || u.has_tz || u.has_unit ||
	    u.has_admin || u.has_active)
		cli_usage("import takes no options");
	if ((r = corp_jsonl_open(STDIN_FILENO, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while ((rc = corp_jsonl_next(r, &obj, -1, &e)) != CORP_JSONL_EOF) {
		if (rc == CORP_JSONL_ERR)
			cli_fail(&e);
		if (rc == CORP_JSONL_BAD)
			cli_die(CORP_EINVAL, "%s; nothing imported", e.msg);
		if (!json_is_object(obj))
			cli_die(CORP_EINVAL, "<stdin>:%lu: not a JSON object; "
			    "nothing imported", corp_jsonl_lineno(r));
		if (import_line(obj, &u, &e) != 0)
			cli_die(e.code, "<stdin>:%lu: %s; nothing imported",
			    corp_jsonl_lineno(r), e.msg);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nl = reallocarray(lines, cap, sizeof(*nl))) == NULL)
				cli_die(CORP_EINTERNAL, "out of memory");
			lines = nl;
		}
		lines[n].obj = obj;
		lines[n++].lineno = corp_jsonl_lineno(r);
	}
	corp_jsonl_close(r);
	db = cli_db(0);
	if ((outs = json_array()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	for (i = 0; i < n; i++) {
		if ((rc = import_line(lines[i].obj, &u, &e)) == 0)
			rc = corp_dir_user_put(db, &u, CORP_PUT_ANY, &id, &res,
			    &e);
		if (rc != 0) {
			corp_db_rollback(db);
			if (rc == CORP_EINTERNAL || rc == CORP_ETEMP)
				cli_fail(&e);
			/* A name checked as on a command line (64) is bad
			 * input in a line (65). */
			cli_die(rc == CORP_EUSAGE ? CORP_EINVAL : rc,
			    "<stdin>:%lu: %s; nothing imported",
			    lines[i].lineno, e.msg);
		}
		if (json_array_append_new(outs, json_pack("{s:I, s:s, s:I, "
		    "s:s}", "line", (json_int_t)lines[i].lineno, "login",
		    u.login, "user_id", (json_int_t)id, "result", res)) != 0)
			cli_die(CORP_EINTERNAL, "out of memory");
	}
	if (corp_db_commit(db, &e) != 0)
		cli_fail(&e);
	cli_out_all(outs);
	for (i = 0; i < n; i++)
		json_decref(lines[i].obj);
	free(lines);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", cmd_add },
		{ "set", cmd_set },
		{ "show", cmd_show },
		{ "list", cmd_list },
		{ "deactivate", cmd_deactivate },
		{ "import", cmd_import },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
