/*
 * corp-org -- org units as a tree (add, move, set-head, set-tz, list)
 * and delegations (delegate, delegations, revoke).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"

enum { O_TITLE = 1, O_PARENT, O_TZ, O_HEAD, O_ROOT, O_NONE, O_JSON,
	O_PRINCIPAL, O_DEPUTY, O_FROM, O_UNTIL, O_USER, O_ACTIVE };

static const struct cli_opt opts[] = {
	{ O_TITLE, "title", "TITLE", "display title (default: NAME)" },
	{ O_PARENT, "parent", "UNIT", "the parent unit", .comp = CLI_C_UNIT },
	{ O_TZ, "tz", "ZONE", "time zone, e.g. Europe/Kyiv",
	    .comp = CLI_C_ZONE },
	{ O_HEAD, "head", "LOGIN", "the unit's head", .comp = CLI_C_LOGIN },
	{ O_ROOT, "root", NULL, "make it a root unit" },
	{ O_NONE, "none", NULL, "no head, or no zone (CORP_TZ)" },
	{ O_JSON, "json", NULL, "unit lines as JSON" },
	{ O_PRINCIPAL, "principal", "LOGIN", "who is stood in for",
	    .comp = CLI_C_LOGIN },
	{ O_DEPUTY, "deputy", "LOGIN", "who stands in", .comp = CLI_C_LOGIN },
	{ O_FROM, "from", "TIME", "active from (RFC 3339 or +/-DURATION)",
	    CLI_TIME },
	{ O_UNTIL, "until", "TIME", "no longer active at", CLI_TIME },
	{ O_USER, "user", "LOGIN", "as principal or deputy",
	    .comp = CLI_C_LOGIN },
	{ O_ACTIVE, "active", NULL, "only those active now" },
	{ 0 }
};

static void
print_unit(struct corp_db *db, const char *name)
{
	struct corp_err e;
	long long id;
	json_t *o;

	if (corp_dir_unit_id(db, name, &id, &e) != 0 ||
	    corp_dir_unit_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static void
print_delegation(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_dir_delegation_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

/* add, move, set-head, set-tz, set-title: one writer, then the unit. */
static int
cmd_unit(const struct cli_args *a)
{
	const char *v = cli_verb_name(a), *name = cli_arg(a, 0);
	const char *val = cli_has(a, O_NONE) ? NULL : cli_arg(a, 1);
	struct corp_db *db = cli_db(0);
	struct corp_unit_in u;
	struct corp_err e;
	long long id;
	int rc;

	memset(&u, 0, sizeof(u));
	if (strcmp(v, "add") == 0)
		rc = corp_dir_unit_add(db, name, cli_str(a, O_TITLE),
		    cli_str(a, O_PARENT), cli_str(a, O_TZ), cli_str(a, O_HEAD),
		    &id, &e);
	else if (strcmp(v, "move") == 0)
		rc = corp_dir_unit_move(db, name, cli_str(a, O_PARENT), &e);
	else {
		if (strcmp(v, "set-head") == 0)
			u.has_head = 1, u.head = val;
		else if (strcmp(v, "set-tz") == 0)
			u.has_tz = 1, u.tz = val;
		else
			u.has_title = 1, u.title = val;
		rc = corp_dir_unit_set(db, name, &u, &e);
	}
	if (rc != 0)
		cli_fail(&e);
	print_unit(db, name);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);

	print_unit(db, cli_arg(a, 0));
	corp_db_close(db);
	return 0;
}

/* The tree: two spaces per level, "name  title  head=LOGIN tz=ZONE". */
static int
cmd_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr, *v;
	size_t i;

	if (corp_dir_unit_list(db, &arr, &e) != 0)
		cli_fail(&e);
	if (cli_format(a) != CLI_FMT_LEGACY) {
		cli_rows(a, arr);
		corp_db_close(db);
		return 0;
	}
	arr = cli_page(a, arr);
	json_array_foreach(arr, i, v) {
		json_t *h = json_object_get(v, "head");
		json_t *z = json_object_get(v, "tz");

		if (printf("%*s%s\t%s%s%s%s%s\n",
		    (int)json_integer_value(json_object_get(v, "depth")) * 2,
		    "", json_string_value(json_object_get(v, "name")),
		    json_string_value(json_object_get(v, "title")),
		    json_is_string(h) ? "\thead=" : "",
		    json_is_string(h) ? json_string_value(h) : "",
		    json_is_string(z) ? "\ttz=" : "",
		    json_is_string(z) ? json_string_value(z) : "") < 0)
			cli_die(CORP_EINTERNAL, "stdout: write failed");
	}
	json_decref(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_delegate(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	long long id;

	if (corp_dir_delegate(db, cli_str(a, O_PRINCIPAL),
	    cli_str(a, O_DEPUTY), cli_int(a, O_FROM, 0),
	    cli_int(a, O_UNTIL, 0), &id, &e) != 0)
		cli_fail(&e);
	print_delegation(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_delegations(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr;

	if (corp_dir_delegations(db, cli_str(a, O_USER), cli_has(a, O_ACTIVE),
	    corp_now(), &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_revoke(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	long long id;

	id = cli_num(cli_arg(a, 0), 1, LLONG_MAX, "DELEGATION_ID");
	if (corp_dir_revoke(db, id, &e) != 0)
		cli_fail(&e);
	print_delegation(db, id);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "add", cmd_unit, "add an org unit", "NAME", 1, 1,
	    U({ O_TITLE }, { O_PARENT }, { O_TZ }, { O_HEAD }) },
	{ "move", cmd_unit, "move a unit under another, or make it a root",
	    "NAME", 1, 1, U({ O_PARENT, CLI_REQ, 1 }, { O_ROOT, CLI_REQ, 1 }) },
	{ "set-head", cmd_unit, "set or clear the unit's head",
	    "NAME (LOGIN | --none)", 1, 2, U({ O_NONE, CLI_OPERAND }) },
	{ "set-tz", cmd_unit, "set or clear the unit's time zone",
	    "NAME (ZONE | --none)", 1, 2, U({ O_NONE, CLI_OPERAND }) },
	{ "set-title", cmd_unit, "change the unit's title", "NAME TITLE", 2,
	    2 },
	{ "show", cmd_show, "one unit as JSON", "NAME", 1, 1 },
	{ "list", cmd_list, "the tree of units", NULL, 0, 0,
	    U({ O_JSON }),
	    .list = CLI_LIST("name", "NAME", CLI_L_POS | CLI_L_LEGACY) },
	{ "delegate", cmd_delegate, "let a deputy act for a principal for a "
	    "while", NULL, 0, 0, U({ O_PRINCIPAL, CLI_REQ },
	    { O_DEPUTY, CLI_REQ }, { O_FROM, CLI_REQ }, { O_UNTIL, CLI_REQ }) },
	{ "delegations", cmd_delegations, "delegations as JSON lines", NULL,
	    0, 0, U({ O_USER }, { O_ACTIVE }),
	    .list = CLI_LIST("delegation_id", "ID") },
	{ "revoke", cmd_revoke, "end a delegation", "DELEGATION_ID", 1, 1 },
	{ NULL }
};

static const struct cli_tool tool = { "corp-org",
	"org units and delegations of the corp directory", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
