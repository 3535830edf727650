/*
 * corp-task -- tasks: create, open, show, list, assign, set-due, submit,
 * approve, reject, cancel, reports, viewers.  Every transition runs
 * through corp_task_run (lib/task.c): the role table, the state machine,
 * the event and the idempotency key in one transaction.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "names.h"
#include "task.h"
#include "visibility.h"

enum { O_AS = 1, O_IFV, O_KEY, O_TITLE, O_DESC, O_DRAFT, O_TPL, O_PERIOD,
	O_ASSIGNEE, O_UNIT, O_DUE, O_TEXT, O_LINK, O_FILE, O_REASON, O_STATE,
	O_INITIATOR, O_OVERDUE, O_ALL };

static const char *const none[] = { "none", NULL };
static const char *const states[] = { "DRAFT", "OPEN", "WAITING_APPROVAL",
	"DONE", "CANCELLED", NULL };

static const struct cli_opt opts[] = {
	{ O_AS, "as", "LOGIN", "the user who acts (or looks)",
	    .comp = CLI_C_LOGIN },
	{ O_IFV, "if-version", "N", "refuse (79) unless the task is at "
	    "version N", CLI_NUM },
	{ O_KEY, "idempotency-key", "KEY", "a retry with KEY prints the "
	    "first answer and writes nothing" },
	{ O_TITLE, "title", "TITLE", "the task's title" },
	{ O_DESC, "description", "TEXT", "the task's description" },
	{ O_DRAFT, "draft", NULL, "a DRAFT, private to its initiator" },
	{ O_TPL, "template", "ID", "a template's instance; list: of that "
	    "template", CLI_NUM },
	{ O_PERIOD, "period", "KEY", "the instance's period (2026-01, "
	    "2026-W05, 2026-01-31, once)" },
	{ O_ASSIGNEE, "assignee", "LOGIN", "the executor",
	    .comp = CLI_C_LOGIN },
	{ O_UNIT, "unit", "UNIT", "the assignee unit", .comp = CLI_C_UNIT },
	{ O_DUE, "due", "TIME", "due time (RFC 3339 or +DURATION); none "
	    "clears it", CLI_TIME, .words = none },
	{ O_TEXT, "text", "TEXT", "the report" },
	{ O_LINK, "link", "URL", "a link in the report" },
	{ O_FILE, "file", "REF", "a file reference in the report" },
	{ O_REASON, "reason", "TEXT", "why" },
	{ O_STATE, "state", "STATE", "only tasks in STATE",
	    .comp = CLI_C_WORDS, .words = states },
	{ O_INITIATOR, "initiator", "LOGIN", "only tasks this user started",
	    .comp = CLI_C_LOGIN },
	{ O_OVERDUE, "overdue", NULL, "only open tasks past their due time" },
	{ O_ALL, "all", NULL, "every task" },
	{ 0 }
};

static long long
task_id(const struct cli_args *a)
{
	return cli_num(cli_arg(a, 0), 1, LLONG_MAX, "TASK");
}

/* A transition: the request from the options, its stored answer. */
static int
cmd_run(const struct cli_args *a)
{
	struct corp_task_req r;
	struct corp_db *db;
	struct corp_err e;
	char *out;
	json_t *o;
	int rc, replayed;

	memset(&r, 0, sizeof(r));
	r.verb = cli_verb_name(a);
	if (strcmp(r.verb, "create") != 0)
		r.task_id = task_id(a);
	r.as = cli_str(a, O_AS);
	r.if_version = cli_int(a, O_IFV, 0);
	r.idem_key = cli_str(a, O_KEY);
	r.title = cli_str(a, O_TITLE);
	r.description = cli_str(a, O_DESC);
	r.draft = cli_has(a, O_DRAFT);
	r.template_id = cli_int(a, O_TPL, 0);
	r.period_key = cli_str(a, O_PERIOD);
	r.assignee = cli_str(a, O_ASSIGNEE);
	r.unit = cli_str(a, O_UNIT);
	r.has_due = cli_has(a, O_DUE);
	r.due_at = cli_int(a, O_DUE, 0);
	r.text = cli_str(a, O_TEXT);
	r.link = cli_str(a, O_LINK);
	r.file_ref = cli_str(a, O_FILE);
	r.reason = cli_str(a, O_REASON);
	if (strcmp(r.verb, "create") == 0) {
		/* Two forms (cli.h CLI_VARIANT): which one is ours. */
		if (r.as == NULL)
			cli_usage("create needs --as LOGIN");
		if (r.template_id > 0) {
			if (r.period_key == NULL || r.title || r.description ||
			    r.assignee || r.unit || r.has_due || r.draft)
				cli_usage("create --template takes --period "
				    "and no task fields");
		} else {
			if (r.title == NULL)
				cli_usage("create needs --title");
			if (r.assignee == NULL && r.unit == NULL)
				cli_usage("create needs --assignee or --unit");
			if (r.period_key != NULL)
				cli_usage("--period goes with --template");
			if (r.has_due && r.due_at == 0)
				r.has_due = 0;
		}
	}
	db = cli_db(0);
	rc = corp_task_run(db, &r, &out, &replayed, &e);
	if (out == NULL)
		cli_fail(&e);
	if ((o = json_loads(out, 0, NULL)) == NULL)
		cli_die(CORP_EINTERNAL, "stored answer is not JSON");
	cli_out(o);
	json_decref(o);
	free(out);
	corp_db_close(db);
	return rc;
}

/* show, reports: what --as may see. */
static int
cmd_show(const struct cli_args *a)
{
	long long id = task_id(a);
	const char *as = cli_str(a, O_AS);
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *o;

	if (as != NULL && corp_task_may_see(db, id, as, &e) != 0)
		cli_fail(&e);
	if (strcmp(cli_verb_name(a), "show") == 0) {
		if (corp_task_json(db, id, &o, &e) != 0)
			cli_fail(&e);
		cli_row(a, o);
	} else {
		if (corp_task_reports(db, id, &o, &e) != 0)
			cli_fail(&e);
		cli_rows(a, o);
	}
	corp_db_close(db);
	return 0;
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_task_filter f = {
		.state = cli_str(a, O_STATE),
		.assignee = cli_str(a, O_ASSIGNEE),
		.initiator = cli_str(a, O_INITIATOR),
		.unit = cli_str(a, O_UNIT),
		.period_key = cli_str(a, O_PERIOD),
		.template_id = cli_int(a, O_TPL, 0),
		.overdue = cli_has(a, O_OVERDUE)
	};
	struct corp_db *db;
	struct corp_err e;
	long long uid = 0;
	json_t *arr;

	/* A misspelt state would list nothing, silently: 64. */
	if (f.state != NULL && corp_task_state_check(f.state, &e) != 0)
		cli_fail(&e);
	db = cli_db(0);
	if (cli_has(a, O_AS) &&
	    corp_dir_user_id(db, cli_str(a, O_AS), &uid, NULL, &e) != 0)
		cli_fail(&e);
	if (corp_task_list(db, &f, uid, &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

static int
viewer(long long tid, long long uid, const char *role, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:I, s:I, s:s}",
	    "task_id", (json_int_t)tid, "user_id", (json_int_t)uid,
	    "role", role));
}

/* The (task, user, role) relation from the visibility function. */
static int
cmd_viewers(const struct cli_args *a)
{
	long long id = cli_has(a, O_ALL) ? 0 : task_id(a);
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr, *v;

	if (id > 0) {
		if (corp_task_json(db, id, &v, &e) != 0)
			cli_fail(&e);
		json_decref(v);
	}
	arr = json_array();
	if (corp_viewers_tasks(db, id, 0, corp_now(), viewer, arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
#define AS { O_AS, CLI_REQ }
#define IFV_KEY { O_IFV }, { O_KEY }
static const struct cli_verb verbs[] = {
	{ "create", cmd_run, "a new task (OPEN, or DRAFT with --draft)",
	    NULL, 0, 0, U(AS, { O_TITLE, CLI_REQ }, { O_DESC },
	    { O_ASSIGNEE, CLI_REQ | CLI_ANY, 1 },
	    { O_UNIT, CLI_REQ | CLI_ANY, 1 }, { O_DUE }, { O_DRAFT },
	    { O_KEY }) },
	{ "create", cmd_run, "a template's instance for a period", NULL, 0, 0,
	    U(AS, { O_TPL, CLI_REQ }, { O_PERIOD, CLI_REQ },
	    { O_KEY }), .flags = CLI_VARIANT },
	{ "open", cmd_run, "DRAFT to OPEN", "TASK", 1, 1, U(AS, IFV_KEY) },
	{ "assign", cmd_run, "a new assignee", "TASK", 1, 1,
	    U(AS, { O_ASSIGNEE, CLI_REQ | CLI_ANY, 1 },
	    { O_UNIT, CLI_REQ | CLI_ANY, 1 }, IFV_KEY) },
	{ "set-due", cmd_run, "change or clear the due time", "TASK", 1, 1,
	    U(AS, { O_DUE, CLI_REQ }, IFV_KEY) },
	{ "submit", cmd_run, "a report: OPEN to WAITING_APPROVAL", "TASK", 1,
	    1, U(AS, { O_TEXT, CLI_REQ }, { O_LINK }, { O_FILE }, IFV_KEY) },
	{ "approve", cmd_run, "WAITING_APPROVAL to DONE", "TASK", 1, 1,
	    U(AS, IFV_KEY) },
	{ "reject", cmd_run, "WAITING_APPROVAL back to OPEN", "TASK", 1, 1,
	    U(AS, { O_REASON, CLI_REQ }, IFV_KEY) },
	{ "cancel", cmd_run, "OPEN or WAITING_APPROVAL to CANCELLED", "TASK",
	    1, 1, U(AS, { O_REASON }, IFV_KEY) },
	{ "show", cmd_show, "one task as JSON", "TASK", 1, 1, U({ O_AS }) },
	{ "list", cmd_list, "tasks as JSON lines", NULL, 0, 0,
	    U({ O_AS }, { O_STATE }, { O_ASSIGNEE }, { O_INITIATOR },
	    { O_UNIT }, { O_PERIOD }, { O_TPL }, { O_OVERDUE }),
	    .list = CLI_LIST("task_id", "TASK") },
	{ "reports", cmd_show, "a task's reports as JSON lines", "TASK", 1, 1,
	    U({ O_AS }), .list = CLI_LIST("version", "VERSION") },
	{ "viewers", cmd_viewers, "who sees a task, in which role",
	    "(TASK | --all)", 0, 1, U({ O_ALL, CLI_OPERAND }),
	    .list = CLI_LIST("task_id,user_id,role", "TASK:USER_ID:ROLE") },
	{ NULL }
};

static const struct cli_tool tool = { "corp-task",
	"tasks: their steps, reports and viewers", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
