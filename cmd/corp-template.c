/*
 * corp-template -- regular task templates: add, set, show, list,
 * deactivate.  Instances are made by corp-task create --template (and
 * by the scheduler).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "tasktpl.h"

enum { O_TITLE = 1, O_DESC, O_SCHED, O_DUE, O_ASSIGNEE, O_NOASSIGNEE,
	O_UNIT, O_NOUNIT, O_INITIATOR, O_STARTS, O_ACTIVE, O_ALL };

static const char *const schedules[] = { "monthly", "weekly", "daily",
	"once", NULL };

static const struct cli_opt opts[] = {
	{ O_TITLE, "title", "TITLE", "the instances' title" },
	{ O_DESC, "description", "TEXT", "the instances' description" },
	{ O_SCHED, "schedule", "SCHEDULE", "monthly, weekly, daily or once",
	    .comp = CLI_C_WORDS, .words = schedules },
	{ O_DUE, "due", "RULE", "when an instance is due: \"D HH:MM\", "
	    "\"DOW HH:MM\", \"HH:MM\" or an instant (corp-template(1))" },
	{ O_ASSIGNEE, "assignee", "LOGIN", "the instances' assignee",
	    .comp = CLI_C_LOGIN },
	{ O_NOASSIGNEE, "no-assignee", NULL, "no assignee user" },
	{ O_UNIT, "unit", "UNIT", "the instances' unit", .comp = CLI_C_UNIT },
	{ O_NOUNIT, "no-unit", NULL, "no assignee unit" },
	{ O_INITIATOR, "initiator", "LOGIN", "the instances' initiator",
	    .comp = CLI_C_LOGIN },
	{ O_STARTS, "starts", "TIME", "the first period is the one holding "
	    "TIME (default: now)", CLI_TIME },
	{ O_ACTIVE, "active", NULL, "make it active again" },
	{ O_ALL, "all", NULL, "inactive templates too" },
	{ 0 }
};

static void
print(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_tasktpl_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static long long
template_id(const struct cli_args *a)
{
	return cli_num(cli_arg(a, 0), 1, LLONG_MAX, "ID");
}

/* add, set, deactivate: the fields given, one writer, the template. */
static int
cmd_put(const struct cli_args *a)
{
	struct corp_tasktpl_in t;
	struct corp_db *db;
	struct corp_err e;
	long long id = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	if (strcmp(cli_verb_name(a), "add") != 0)
		id = template_id(a);
	t.title = cli_str(a, O_TITLE);
	t.has_title = t.title != NULL;
	t.description = cli_str(a, O_DESC);
	t.has_description = t.description != NULL;
	t.schedule = cli_str(a, O_SCHED);
	t.has_schedule = t.schedule != NULL;
	t.due_rule = cli_str(a, O_DUE);
	t.has_due_rule = t.due_rule != NULL;
	t.assignee = cli_str(a, O_ASSIGNEE);
	t.has_assignee = t.assignee != NULL || cli_has(a, O_NOASSIGNEE);
	t.unit = cli_str(a, O_UNIT);
	t.has_unit = t.unit != NULL || cli_has(a, O_NOUNIT);
	t.initiator = cli_str(a, O_INITIATOR);
	t.has_initiator = t.initiator != NULL;
	t.starts_at = cli_int(a, O_STARTS, 0);
	t.has_starts_at = cli_has(a, O_STARTS);
	t.has_active = cli_has(a, O_ACTIVE) ||
	    strcmp(cli_verb_name(a), "deactivate") == 0;
	t.active = cli_has(a, O_ACTIVE);
	db = cli_db(0);
	rc = id > 0 ? corp_tasktpl_set(db, id, &t, &e) :
	    corp_tasktpl_add(db, &t, &id, &e);
	if (rc != 0)
		cli_fail(&e);
	print(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(const struct cli_args *a)
{
	long long id = template_id(a);
	struct corp_db *db = cli_db(0);

	print(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr;

	if (corp_tasktpl_list(db, cli_has(a, O_ALL), &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "add", cmd_put, "add a template", NULL, 0, 0,
	    U({ O_TITLE, CLI_REQ }, { O_DESC }, { O_SCHED, CLI_REQ },
	    { O_DUE, CLI_REQ }, { O_ASSIGNEE, CLI_REQ | CLI_ANY, 1 },
	    { O_UNIT, CLI_REQ | CLI_ANY, 1 }, { O_INITIATOR, CLI_REQ },
	    { O_STARTS }) },
	{ "set", cmd_put, "change a template's fields", "ID", 1, 1,
	    U({ O_TITLE }, { O_DESC }, { O_SCHED }, { O_DUE },
	    { O_ASSIGNEE, 0, 1 }, { O_NOASSIGNEE, 0, 1 }, { O_UNIT, 0, 2 },
	    { O_NOUNIT, 0, 2 }, { O_INITIATOR }, { O_STARTS },
	    { O_ACTIVE }) },
	{ "show", cmd_show, "one template as JSON", "ID", 1, 1 },
	{ "list", cmd_list, "active templates as JSON lines", NULL, 0, 0,
	    U({ O_ALL }), .list = CLI_LIST("template_id", "ID") },
	{ "deactivate", cmd_put, "make no more instances", "ID", 1, 1 },
	{ NULL }
};

static const struct cli_tool tool = { "corp-template",
	"regular task templates", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
