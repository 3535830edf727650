/*
 * corp-org -- org units as a tree (add, move, set-head, set-tz, list)
 * and delegations (delegate, delegations, revoke).
 */
#include <getopt.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"

static const char synopsis[] =
"usage: corp-org add NAME [--title TITLE] [--parent UNIT] [--tz ZONE]\n"
"           [--head LOGIN]\n"
"       corp-org move NAME (--parent UNIT | --root)\n"
"       corp-org set-head NAME (LOGIN | --none)\n"
"       corp-org set-tz NAME (ZONE | --none)\n"
"       corp-org set-title NAME TITLE\n"
"       corp-org show NAME\n"
"       corp-org list [--json]\n"
"       corp-org delegate --principal LOGIN --deputy LOGIN --from TIME\n"
"           --until TIME\n"
"       corp-org delegations [--user LOGIN] [--active]\n"
"       corp-org revoke DELEGATION_ID\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_TITLE = 256, O_PARENT, O_TZ, O_HEAD, O_ROOT, O_NONE, O_JSON,
	O_PRINCIPAL, O_DEPUTY, O_FROM, O_UNTIL, O_USER, O_ACTIVE };

static const struct option opts[] = {
	{ "title", required_argument, NULL, O_TITLE },
	{ "parent", required_argument, NULL, O_PARENT },
	{ "tz", required_argument, NULL, O_TZ },
	{ "head", required_argument, NULL, O_HEAD },
	{ "root", no_argument, NULL, O_ROOT },
	{ "none", no_argument, NULL, O_NONE },
	{ "json", no_argument, NULL, O_JSON },
	{ "principal", required_argument, NULL, O_PRINCIPAL },
	{ "deputy", required_argument, NULL, O_DEPUTY },
	{ "from", required_argument, NULL, O_FROM },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "user", required_argument, NULL, O_USER },
	{ "active", no_argument, NULL, O_ACTIVE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct args {
	const char	*title, *parent, *tz, *head, *principal, *deputy;
	const char	*from, *until, *user;
	int		 root, none, json, active;
	unsigned	 seen;		/* bit per option, to refuse extras */
};

static void
parse(int argc, char **argv, struct args *a, unsigned allowed)
{
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			cli_help();
		if (ch < O_TITLE)
			cli_usage(NULL);
		if (!(allowed & (1u << (ch - O_TITLE))))
			cli_usage("option --%s does not apply here",
			    opts[ch - O_TITLE].name);
		a->seen |= 1u << (ch - O_TITLE);
		switch (ch) {
		case O_TITLE: a->title = optarg; break;
		case O_PARENT: a->parent = optarg; break;
		case O_TZ: a->tz = optarg; break;
		case O_HEAD: a->head = optarg; break;
		case O_ROOT: a->root = 1; break;
		case O_NONE: a->none = 1; break;
		case O_JSON: a->json = 1; break;
		case O_PRINCIPAL: a->principal = optarg; break;
		case O_DEPUTY: a->deputy = optarg; break;
		case O_FROM: a->from = optarg; break;
		case O_UNTIL: a->until = optarg; break;
		case O_USER: a->user = optarg; break;
		case O_ACTIVE: a->active = 1; break;
		}
	}
}
#define B(o) (1u << ((o) - O_TITLE))

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

/* Run one writer in a transaction, then print the unit. */
static void
finish(struct corp_db *db, int rc, struct corp_err *e, const char *name)
{
	if (rc != 0 || corp_db_commit(db, e) != 0) {
		corp_db_rollback(db);
		cli_fail(e);
	}
	print_unit(db, name);
	corp_db_close(db);
}

static struct corp_db *
begin(void)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;

	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	return db;
}

static int
cmd_add(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	long long id;
	int rc;

	parse(argc, argv, &a, B(O_TITLE) | B(O_PARENT) | B(O_TZ) | B(O_HEAD));
	if (argc - optind != 1)
		cli_usage("add needs one NAME");
	db = begin();
	rc = corp_dir_unit_add(db, argv[optind], a.title, a.parent, a.tz,
	    a.head, &id, &e);
	finish(db, rc, &e, argv[optind]);
	return 0;
}

static int
cmd_move(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	int rc;

	parse(argc, argv, &a, B(O_PARENT) | B(O_ROOT));
	if (argc - optind != 1 || (a.parent == NULL) == (a.root == 0))
		cli_usage("move needs NAME and one of --parent, --root");
	db = begin();
	rc = corp_dir_unit_move(db, argv[optind], a.parent, &e);
	finish(db, rc, &e, argv[optind]);
	return 0;
}

static int
set(int argc, char **argv, int what)
{
	struct corp_unit_in u;
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	int rc;

	parse(argc, argv, &a, what == 't' ? 0 : B(O_NONE));
	if (argc - optind != (a.none ? 1 : 2))
		cli_usage("expected NAME and %s", what == 'h' ? "LOGIN or "
		    "--none" : what == 'z' ? "ZONE or --none" : "TITLE");
	memset(&u, 0, sizeof(u));
	if (what == 'h') {
		u.has_head = 1;
		u.head = a.none ? NULL : argv[optind + 1];
	} else if (what == 'z') {
		u.has_tz = 1;
		u.tz = a.none ? NULL : argv[optind + 1];
	} else {
		u.has_title = 1;
		u.title = argv[optind + 1];
	}
	db = begin();
	rc = corp_dir_unit_set(db, argv[optind], &u, &e);
	finish(db, rc, &e, argv[optind]);
	return 0;
}

static int
cmd_set_head(int argc, char **argv)
{
	return set(argc, argv, 'h');
}

static int
cmd_set_tz(int argc, char **argv)
{
	return set(argc, argv, 'z');
}

static int
cmd_set_title(int argc, char **argv)
{
	return set(argc, argv, 't');
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_db *db;
	struct args a;

	parse(argc, argv, &a, 0);
	if (argc - optind != 1)
		cli_usage("show needs one NAME");
	db = cli_db(0);
	print_unit(db, argv[optind]);
	corp_db_close(db);
	return 0;
}

/* The tree: two spaces per level, "name  title  head=LOGIN tz=ZONE". */
static int
cmd_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr, *v;
	size_t i;

	parse(argc, argv, &a, B(O_JSON));
	if (argc != optind)
		cli_usage("list takes no arguments");
	db = cli_db(0);
	if (corp_dir_unit_list(db, &arr, &e) != 0)
		cli_fail(&e);
	json_array_foreach(arr, i, v) {
		json_t *h = json_object_get(v, "head");
		json_t *z = json_object_get(v, "tz");

		if (a.json) {
			cli_out(v);
			continue;
		}
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
cmd_delegate(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	time_t from, until;
	long long id;
	json_t *o;

	parse(argc, argv, &a, B(O_PRINCIPAL) | B(O_DEPUTY) | B(O_FROM) |
	    B(O_UNTIL));
	if (argc != optind || !a.principal || !a.deputy || !a.from ||
	    !a.until)
		cli_usage("delegate needs --principal, --deputy, --from and "
		    "--until");
	from = cli_time(a.from, "--from");
	until = cli_time(a.until, "--until");
	db = begin();
	if (corp_dir_delegate(db, a.principal, a.deputy, from, until, &id,
	    &e) != 0 || corp_db_commit(db, &e) != 0) {
		corp_db_rollback(db);
		cli_fail(&e);
	}
	if (corp_dir_delegation_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_delegations(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr;

	parse(argc, argv, &a, B(O_USER) | B(O_ACTIVE));
	if (argc != optind)
		cli_usage("delegations takes no arguments");
	db = cli_db(0);
	if (corp_dir_delegations(db, a.user, a.active, corp_now(), &arr,
	    &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_revoke(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	long long id;
	json_t *o;

	parse(argc, argv, &a, 0);
	if (argc - optind != 1)
		cli_usage("revoke needs one DELEGATION_ID");
	id = cli_num(argv[optind], 1, LLONG_MAX, "DELEGATION_ID");
	db = begin();
	if (corp_dir_revoke(db, id, &e) != 0 || corp_db_commit(db, &e) != 0) {
		corp_db_rollback(db);
		cli_fail(&e);
	}
	if (corp_dir_delegation_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", cmd_add },
		{ "move", cmd_move },
		{ "set-head", cmd_set_head },
		{ "set-tz", cmd_set_tz },
		{ "set-title", cmd_set_title },
		{ "show", cmd_show },
		{ "list", cmd_list },
		{ "delegate", cmd_delegate },
		{ "delegations", cmd_delegations },
		{ "revoke", cmd_revoke },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
