/*
 * corp-task -- tasks: create, open, show, list, assign, set-due, submit,
 * approve, reject, cancel, reports, viewers.  Every transition runs
 * through corp_task_run (lib/task.c): the role table, the state machine,
 * the event and the idempotency key in one transaction.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"
#include "task.h"
#include "visibility.h"
#include "clock.h"

static const char synopsis[] =
"usage: corp-task create --as LOGIN --title TITLE [--description TEXT]\n"
"           (--assignee LOGIN | --unit UNIT | both) [--due TIME] [--draft]\n"
"           [--idempotency-key KEY]\n"
"       corp-task create --as LOGIN --template ID --period KEY\n"
"           [--idempotency-key KEY]\n"
"       corp-task open TASK --as LOGIN [--if-version N] [--idempotency-key KEY]\n"
"       corp-task assign TASK --as LOGIN (--assignee LOGIN | --unit UNIT |\n"
"           both) [--if-version N] [--idempotency-key KEY]\n"
"       corp-task set-due TASK --as LOGIN --due (TIME | none) [--if-version N]\n"
"           [--idempotency-key KEY]\n"
"       corp-task submit TASK --as LOGIN --text TEXT [--link URL]\n"
"           [--file REF] [--if-version N] [--idempotency-key KEY]\n"
"       corp-task approve TASK --as LOGIN [--if-version N]\n"
"           [--idempotency-key KEY]\n"
"       corp-task reject TASK --as LOGIN --reason TEXT [--if-version N]\n"
"           [--idempotency-key KEY]\n"
"       corp-task cancel TASK --as LOGIN [--reason TEXT] [--if-version N]\n"
"           [--idempotency-key KEY]\n"
"       corp-task show TASK [--as LOGIN]\n"
"       corp-task list [--as LOGIN] [--state STATE] [--assignee LOGIN]\n"
"           [--initiator LOGIN] [--unit UNIT] [--period KEY]\n"
"           [--template ID] [--overdue]\n"
"       corp-task reports TASK [--as LOGIN]\n"
"       corp-task viewers (TASK | --all)\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_AS = 256, O_IFV, O_KEY, O_TITLE, O_DESC, O_DRAFT, O_TPL, O_PERIOD,
	O_ASSIGNEE, O_UNIT, O_DUE, O_TEXT, O_LINK, O_FILE, O_REASON, O_STATE,
	O_INITIATOR, O_OVERDUE, O_ALL };

static const struct option opts[] = {
	{ "as", required_argument, NULL, O_AS },
	{ "if-version", required_argument, NULL, O_IFV },
	{ "idempotency-key", required_argument, NULL, O_KEY },
	{ "title", required_argument, NULL, O_TITLE },
	{ "description", required_argument, NULL, O_DESC },
	{ "draft", no_argument, NULL, O_DRAFT },
	{ "template", required_argument, NULL, O_TPL },
	{ "period", required_argument, NULL, O_PERIOD },
	{ "assignee", required_argument, NULL, O_ASSIGNEE },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "due", required_argument, NULL, O_DUE },
	{ "text", required_argument, NULL, O_TEXT },
	{ "link", required_argument, NULL, O_LINK },
	{ "file", required_argument, NULL, O_FILE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "state", required_argument, NULL, O_STATE },
	{ "initiator", required_argument, NULL, O_INITIATOR },
	{ "overdue", no_argument, NULL, O_OVERDUE },
	{ "all", no_argument, NULL, O_ALL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
#define B(o) (1u << ((o) - O_AS))
#define COMMON (B(O_AS) | B(O_IFV) | B(O_KEY))

struct args {
	struct corp_task_req	 r;
	struct corp_task_filter	 f;
	int			 all;
	unsigned		 seen;
};

static void
parse(int argc, char **argv, struct args *a, unsigned allowed, int ntask)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->r.verb = argv[0];
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			cli_help();
		if (ch < O_AS)
			cli_usage(NULL);
		if (!(allowed & B(ch)))
			cli_usage("%s does not take --%s", argv[0],
			    opts[ch - O_AS].name);
		a->seen |= B(ch);
		switch (ch) {
		case O_AS: a->r.as = optarg; break;
		case O_IFV:
			a->r.if_version = cli_num(optarg, 1, LLONG_MAX,
			    "--if-version");
			break;
		case O_KEY: a->r.idem_key = optarg; break;
		case O_TITLE: a->r.title = optarg; break;
		case O_DESC: a->r.description = optarg; break;
		case O_DRAFT: a->r.draft = 1; break;
		case O_TPL:
			a->r.template_id = a->f.template_id = cli_num(optarg,
			    1, LLONG_MAX, "--template");
			break;
		case O_PERIOD: a->r.period_key = a->f.period_key = optarg;
			break;
		case O_ASSIGNEE: a->r.assignee = a->f.assignee = optarg; break;
		case O_UNIT: a->r.unit = a->f.unit = optarg; break;
		case O_DUE:
			a->r.has_due = 1;
			a->r.due_at = strcmp(optarg, "none") == 0 ? 0 :
			    cli_time(optarg, "--due");
			break;
		case O_TEXT: a->r.text = optarg; break;
		case O_LINK: a->r.link = optarg; break;
		case O_FILE: a->r.file_ref = optarg; break;
		case O_REASON: a->r.reason = optarg; break;
		case O_STATE: a->f.state = optarg; break;
		case O_INITIATOR: a->f.initiator = optarg; break;
		case O_OVERDUE: a->f.overdue = 1; break;
		case O_ALL: a->all = 1; break;
		}
	}
	if (argc - optind != ntask)
		cli_usage(ntask ? "%s needs one TASK id" :
		    "%s takes no arguments", argv[0]);
	if (ntask)
		a->r.task_id = cli_num(argv[optind], 1, LLONG_MAX, "TASK");
	if ((allowed & B(O_AS)) && (allowed & B(O_KEY)) && a->r.as == NULL)
		cli_usage("%s needs --as LOGIN", argv[0]);
}

static int
run(struct args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	char *out;
	json_t *o;
	int rc, replayed;

	rc = corp_task_run(db, &a->r, &out, &replayed, &e);
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

static int
cmd_create(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, B(O_AS) | B(O_KEY) | B(O_TITLE) | B(O_DESC) |
	    B(O_DRAFT) | B(O_TPL) | B(O_PERIOD) | B(O_ASSIGNEE) | B(O_UNIT) |
	    B(O_DUE), 0);
	if (a.r.template_id > 0) {
		if (a.r.period_key == NULL || a.r.title || a.r.description ||
		    a.r.assignee || a.r.unit || a.r.has_due || a.r.draft)
			cli_usage("create --template takes --period and no "
			    "task fields");
	} else {
		if (a.r.title == NULL)
			cli_usage("create needs --title");
		if (a.r.assignee == NULL && a.r.unit == NULL)
			cli_usage("create needs --assignee or --unit");
		if (a.r.period_key != NULL)
			cli_usage("--period goes with --template");
		if (a.r.has_due && a.r.due_at == 0)
			a.r.has_due = 0;
	}
	return run(&a);
}

static int
cmd_open(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON, 1);
	return run(&a);
}

static int
cmd_assign(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON | B(O_ASSIGNEE) | B(O_UNIT), 1);
	if (a.r.assignee == NULL && a.r.unit == NULL)
		cli_usage("assign needs --assignee or --unit");
	return run(&a);
}

static int
cmd_set_due(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON | B(O_DUE), 1);
	if (!a.r.has_due)
		cli_usage("set-due needs --due TIME or --due none");
	return run(&a);
}

static int
cmd_submit(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON | B(O_TEXT) | B(O_LINK) | B(O_FILE), 1);
	if (a.r.text == NULL)
		cli_usage("submit needs --text");
	return run(&a);
}

static int
cmd_approve(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON, 1);
	return run(&a);
}

static int
cmd_reject(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON | B(O_REASON), 1);
	if (a.r.reason == NULL)
		cli_usage("reject needs --reason");
	return run(&a);
}

static int
cmd_cancel(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, COMMON | B(O_REASON), 1);
	return run(&a);
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *o;

	parse(argc, argv, &a, B(O_AS), 1);
	db = cli_db(0);
	if ((a.r.as != NULL &&
	    corp_task_may_see(db, a.r.task_id, a.r.as, &e) != 0) ||
	    corp_task_json(db, a.r.task_id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_reports(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr;

	parse(argc, argv, &a, B(O_AS), 1);
	db = cli_db(0);
	if ((a.r.as != NULL &&
	    corp_task_may_see(db, a.r.task_id, a.r.as, &e) != 0) ||
	    corp_task_reports(db, a.r.task_id, &arr, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	long long uid = 0;
	json_t *arr;

	parse(argc, argv, &a, B(O_AS) | B(O_STATE) | B(O_ASSIGNEE) |
	    B(O_INITIATOR) | B(O_UNIT) | B(O_PERIOD) | B(O_TPL) |
	    B(O_OVERDUE), 0);
	db = cli_db(0);
	if (a.r.as != NULL &&
	    corp_dir_user_id(db, a.r.as, &uid, NULL, &e) != 0)
		cli_fail(&e);
	if (corp_task_list(db, &a.f, uid, &arr, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
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
cmd_viewers(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr, *v;

	if (argc >= 2 && strcmp(argv[argc - 1], "--all") == 0) {
		parse(argc, argv, &a, B(O_ALL), 0);
	} else {
		parse(argc, argv, &a, 0, 1);
		db = cli_db(0);
		if (corp_task_json(db, a.r.task_id, &v, &e) != 0)
			cli_fail(&e);
		json_decref(v);
		corp_db_close(db);
	}
	db = cli_db(0);
	arr = json_array();
	if (corp_viewers_tasks(db, a.r.task_id, 0, corp_now(), viewer, arr,
	    &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "create", cmd_create },
		{ "open", cmd_open },
		{ "assign", cmd_assign },
		{ "set-due", cmd_set_due },
		{ "submit", cmd_submit },
		{ "approve", cmd_approve },
		{ "reject", cmd_reject },
		{ "cancel", cmd_cancel },
		{ "show", cmd_show },
		{ "list", cmd_list },
		{ "reports", cmd_reports },
		{ "viewers", cmd_viewers },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
