/*
 * corp-template -- regular task templates: add, set, show, list,
 * deactivate.  Instances are made by corp-task create --template (and
 * by the scheduler).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "jsonl.h"
#include "template.h"

static const char synopsis[] =
"usage: corp-template add --title TITLE [--description TEXT]\n"
"           --schedule (monthly | weekly | daily | once) --due RULE\n"
"           (--assignee LOGIN | --unit UNIT | both) --initiator LOGIN\n"
"           [--starts TIME]\n"
"       corp-template set ID [--title TITLE] [--description TEXT]\n"
"           [--schedule SCHEDULE] [--due RULE] [--assignee LOGIN | --no-assignee]\n"
"           [--unit UNIT | --no-unit] [--initiator LOGIN] [--starts TIME]\n"
"           [--active]\n"
"       corp-template show ID\n"
"       corp-template list [--all]\n"
"       corp-template deactivate ID\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_TITLE = 256, O_DESC, O_SCHED, O_DUE, O_ASSIGNEE, O_NOASSIGNEE,
	O_UNIT, O_NOUNIT, O_INITIATOR, O_STARTS, O_ACTIVE, O_ALL };

static const struct option opts[] = {
	{ "title", required_argument, NULL, O_TITLE },
	{ "description", required_argument, NULL, O_DESC },
	{ "schedule", required_argument, NULL, O_SCHED },
	{ "due", required_argument, NULL, O_DUE },
	{ "assignee", required_argument, NULL, O_ASSIGNEE },
	{ "no-assignee", no_argument, NULL, O_NOASSIGNEE },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "no-unit", no_argument, NULL, O_NOUNIT },
	{ "initiator", required_argument, NULL, O_INITIATOR },
	{ "starts", required_argument, NULL, O_STARTS },
	{ "active", no_argument, NULL, O_ACTIVE },
	{ "all", no_argument, NULL, O_ALL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
#define B(o) (1u << ((o) - O_TITLE))
#define FIELDS (B(O_TITLE) | B(O_DESC) | B(O_SCHED) | B(O_DUE) | \
	B(O_ASSIGNEE) | B(O_UNIT) | B(O_INITIATOR) | B(O_STARTS))

static long long
parse(int argc, char **argv, struct corp_template_in *t, int *all,
    unsigned allowed, int nid)
{
	int ch;

	memset(t, 0, sizeof(*t));
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			cli_help();
		if (ch < O_TITLE)
			cli_usage(NULL);
		if (!(allowed & B(ch)))
			cli_usage("%s does not take --%s", argv[0],
			    opts[ch - O_TITLE].name);
		switch (ch) {
		case O_TITLE: t->title = optarg; t->has_title = 1; break;
		case O_DESC:
			t->description = optarg;
			t->has_description = 1;
			break;
		case O_SCHED: t->schedule = optarg; t->has_schedule = 1; break;
		case O_DUE: t->due_rule = optarg; t->has_due_rule = 1; break;
		case O_ASSIGNEE:
			t->assignee = optarg;
			t->has_assignee = 1;
			break;
		case O_NOASSIGNEE:
			t->assignee = NULL;
			t->has_assignee = 1;
			break;
		case O_UNIT: t->unit = optarg; t->has_unit = 1; break;
		case O_NOUNIT: t->unit = NULL; t->has_unit = 1; break;
		case O_INITIATOR:
			t->initiator = optarg;
			t->has_initiator = 1;
			break;
		case O_STARTS:
			t->starts_at = cli_time(optarg, "--starts");
			t->has_starts_at = 1;
			break;
		case O_ACTIVE: t->active = 1; t->has_active = 1; break;
		case O_ALL: *all = 1; break;
		}
	}
	if (argc - optind != nid)
		cli_usage(nid ? "%s needs one template ID" :
		    "%s takes no arguments", argv[0]);
	return nid ? cli_num(argv[optind], 1, LLONG_MAX, "ID") : 0;
}

static void
print(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_template_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static int
write_tpl(long long id, struct corp_template_in *t)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	int rc;

	if (corp_db_begin(db, &e) != 0)
		cli_fail(&e);
	rc = id > 0 ? corp_template_set(db, id, t, &e) :
	    corp_template_add(db, t, &id, &e);
	if (rc != 0 || corp_db_commit(db, &e) != 0) {
		corp_db_rollback(db);
		cli_fail(&e);
	}
	print(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_add(int argc, char **argv)
{
	struct corp_template_in t;
	int all = 0;

	parse(argc, argv, &t, &all, FIELDS, 0);
	if (!t.has_title || !t.has_schedule || !t.has_due_rule ||
	    !t.has_initiator || (!t.has_assignee && !t.has_unit))
		cli_usage("add needs --title, --schedule, --due, --initiator "
		    "and --assignee or --unit");
	return write_tpl(0, &t);
}

static int
cmd_set(int argc, char **argv)
{
	struct corp_template_in t;
	long long id;
	int all = 0;

	id = parse(argc, argv, &t, &all, FIELDS | B(O_NOASSIGNEE) |
	    B(O_NOUNIT) | B(O_ACTIVE), 1);
	return write_tpl(id, &t);
}

static int
cmd_deactivate(int argc, char **argv)
{
	struct corp_template_in t;
	long long id;
	int all = 0;

	id = parse(argc, argv, &t, &all, 0, 1);
	t.has_active = 1;
	t.active = 0;
	return write_tpl(id, &t);
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_template_in t;
	struct corp_db *db;
	long long id;
	int all = 0;

	id = parse(argc, argv, &t, &all, 0, 1);
	db = cli_db(0);
	print(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_template_in t;
	struct corp_db *db;
	struct corp_err e;
	json_t *arr;
	int all = 0;

	parse(argc, argv, &t, &all, B(O_ALL), 0);
	db = cli_db(0);
	if (corp_template_list(db, all, &arr, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
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
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
