/*
 * corp-proposal -- the task proposals of analysis runs (DESIGN 8,
 * corp-proposal.1): list, show, edit while pending, approve (a task
 * through corp_task_run, in the same transaction as the decision),
 * reject, merge into an existing task.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proposal.h"
#include "db.h"

enum { O_AS = 1, O_RUN, O_STATUS, O_TITLE, O_DESC, O_ASSIGNEE, O_UNIT,
	O_DUE, O_REASON, O_TASK };

static const char *const none[] = { "none", NULL };
static const char *const statuses[] = { "pending", "approved", "rejected",
	"merged", NULL };

static const struct cli_opt opts[] = {
	{ O_AS, "as", "LOGIN", "the admin who decides", .comp = CLI_C_LOGIN },
	{ O_RUN, "run", "RUN", "only the proposals of this run", CLI_NUM },
	{ O_STATUS, "status", "STATUS", "only proposals in STATUS",
	    .comp = CLI_C_WORDS, .words = statuses },
	{ O_TITLE, "title", "TITLE", "the task's title" },
	{ O_DESC, "description", "TEXT", "the task's description" },
	{ O_ASSIGNEE, "assignee", "LOGIN", "the task's assignee (edit: none "
	    "clears it)", .comp = CLI_C_LOGIN },
	{ O_UNIT, "unit", "UNIT", "the task's unit", .comp = CLI_C_UNIT },
	{ O_DUE, "due", "TIME", "the task's due time; none: no due time",
	    CLI_TIME, .words = none },
	{ O_REASON, "reason", "TEXT", "why it is rejected" },
	{ O_TASK, "task", "TASK", "the task it merges into", CLI_NUM },
	{ 0 }
};

static long long
proposal_id(const struct cli_args *a)
{
	return cli_num(cli_arg(a, 0), 1, LLONG_MAX, "PROPOSAL");
}

static void
print_proposal(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_proposal_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

/* approve, reject, merge */
static int
cmd_decide(const struct cli_args *a)
{
	struct corp_decision d = {
		.verb = cli_verb_name(a),
		.id = proposal_id(a),
		.as = cli_str(a, O_AS),
		.reason = cli_str(a, O_REASON),
		.task_id = cli_int(a, O_TASK, 0),
		.assignee = cli_str(a, O_ASSIGNEE),
		.unit = cli_str(a, O_UNIT),
		.has_due = cli_has(a, O_DUE),
		.due_at = cli_int(a, O_DUE, 0)
	};
	struct corp_db *db;
	struct corp_err e;

	if (d.reason != NULL && *d.reason == '\0')
		cli_usage("reject needs --reason TEXT");
	db = cli_db(0);
	if (corp_proposal_decide(db, &d, &e) != 0)
		cli_fail(&e);
	print_proposal(db, d.id);
	corp_db_close(db);
	return 0;
}

static int
cmd_edit(const struct cli_args *a)
{
	const char *assignee = cli_str(a, O_ASSIGNEE);
	struct corp_proposal_edit ed = {
		.id = proposal_id(a),
		.as = cli_str(a, O_AS),
		.title = cli_str(a, O_TITLE),
		.description = cli_str(a, O_DESC),
		.assignee = assignee && strcmp(assignee, "none") == 0 ? "" :
		    assignee,
		.has_due = cli_has(a, O_DUE),
		.due_at = cli_int(a, O_DUE, 0)
	};
	struct corp_db *db;
	struct corp_err e;

	if (!ed.title && !ed.description && !ed.assignee && !ed.has_due)
		cli_usage("edit needs something to change");
	db = cli_db(0);
	if (corp_proposal_edit(db, &ed, &e) != 0)
		cli_fail(&e);
	print_proposal(db, ed.id);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr;

	if (corp_proposal_list(db, cli_int(a, O_RUN, 0), cli_str(a, O_STATUS),
	    &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(const struct cli_args *a)
{
	long long id = proposal_id(a);
	struct corp_db *db = cli_db(0);

	print_proposal(db, id);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
#define AS { O_AS, CLI_REQ }
static const struct cli_verb verbs[] = {
	{ "list", cmd_list, "proposals as JSON lines", NULL, 0, 0,
	    U({ O_RUN }, { O_STATUS }),
	    .list = CLI_LIST("proposal_id", "PROPOSAL") },
	{ "show", cmd_show, "one proposal as JSON", "PROPOSAL", 1, 1 },
	{ "edit", cmd_edit, "change a pending proposal", "PROPOSAL", 1, 1,
	    U(AS, { O_TITLE }, { O_DESC }, { O_ASSIGNEE }, { O_DUE }) },
	{ "approve", cmd_decide, "make its task", "PROPOSAL", 1, 1,
	    U(AS, { O_ASSIGNEE }, { O_UNIT }, { O_DUE }) },
	{ "reject", cmd_decide, "make no task", "PROPOSAL", 1, 1,
	    U(AS, { O_REASON, CLI_REQ }) },
	{ "merge", cmd_decide, "count it as an existing task", "PROPOSAL", 1,
	    1, U(AS, { O_TASK, CLI_REQ }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-proposal",
	"the task proposals of analysis runs", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
