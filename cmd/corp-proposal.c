/*
 * corp-proposal -- the task proposals of analysis runs (DESIGN 8,
 * corp-proposal.1): list, show, edit while pending, approve (a task
 * through corp_task_run, in the same transaction as the decision),
 * reject, merge into an existing task.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "analysis.h"
#include "db.h"

static const char synopsis[] =
"usage: corp-proposal list [--run RUN] [--status STATUS]\n"
"       corp-proposal show PROPOSAL\n"
"       corp-proposal edit PROPOSAL --as LOGIN [--title TITLE]\n"
"           [--description TEXT] [--assignee LOGIN | none]\n"
"           [--due TIME | none]\n"
"       corp-proposal approve PROPOSAL --as LOGIN [--assignee LOGIN]\n"
"           [--unit UNIT] [--due TIME | none]\n"
"       corp-proposal reject PROPOSAL --as LOGIN --reason TEXT\n"
"       corp-proposal merge PROPOSAL --as LOGIN --task TASK\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_AS = 256, O_RUN, O_STATUS, O_TITLE, O_DESC, O_ASSIGNEE, O_UNIT,
	O_DUE, O_REASON, O_TASK };

static const struct option opts[] = {
	{ "as", required_argument, NULL, O_AS },
	{ "run", required_argument, NULL, O_RUN },
	{ "status", required_argument, NULL, O_STATUS },
	{ "title", required_argument, NULL, O_TITLE },
	{ "description", required_argument, NULL, O_DESC },
	{ "assignee", required_argument, NULL, O_ASSIGNEE },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "due", required_argument, NULL, O_DUE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "task", required_argument, NULL, O_TASK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
#define B(o) (1u << ((o) - O_AS))

struct args {
	struct corp_decision	 d;
	struct corp_proposal_edit ed;
	long long		 run, id;
	const char		*status;
	unsigned		 seen;
};

static void
parse(int argc, char **argv, struct args *a, unsigned allowed, int nid)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->d.verb = argv[0];
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
		case O_AS: a->d.as = a->ed.as = optarg; break;
		case O_RUN: a->run = cli_num(optarg, 1, LLONG_MAX, "--run");
			break;
		case O_STATUS: a->status = optarg; break;
		case O_TITLE: a->ed.title = optarg; break;
		case O_DESC: a->ed.description = optarg; break;
		case O_ASSIGNEE:
			a->d.assignee = optarg;
			a->ed.assignee = strcmp(optarg, "none") == 0 ? "" :
			    optarg;
			break;
		case O_UNIT: a->d.unit = optarg; break;
		case O_DUE:
			a->d.has_due = a->ed.has_due = 1;
			a->d.due_at = a->ed.due_at = strcmp(optarg, "none") ==
			    0 ? 0 : cli_time(optarg, "--due");
			break;
		case O_REASON: a->d.reason = optarg; break;
		case O_TASK: a->d.task_id = cli_num(optarg, 1, LLONG_MAX,
		    "--task"); break;
		}
	}
	if (argc - optind != nid)
		cli_usage(nid ? "%s needs one PROPOSAL id" :
		    "%s takes no arguments", argv[0]);
	if (nid)
		a->id = a->d.id = a->ed.id = cli_num(argv[optind], 1,
		    LLONG_MAX, "PROPOSAL");
	if ((allowed & B(O_AS)) && a->d.as == NULL)
		cli_usage("%s needs --as LOGIN", argv[0]);
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

static int
decide(struct args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;

	if (corp_proposal_decide(db, &a->d, &e) != 0)
		cli_fail(&e);
	print_proposal(db, a->id);
	corp_db_close(db);
	return 0;
}

static int
cmd_approve(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, B(O_AS) | B(O_ASSIGNEE) | B(O_UNIT) | B(O_DUE),
	    1);
	return decide(&a);
}

static int
cmd_reject(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, B(O_AS) | B(O_REASON), 1);
	if (a.d.reason == NULL || *a.d.reason == '\0')
		cli_usage("reject needs --reason TEXT");
	return decide(&a);
}

static int
cmd_merge(int argc, char **argv)
{
	struct args a;

	parse(argc, argv, &a, B(O_AS) | B(O_TASK), 1);
	if (a.d.task_id == 0)
		cli_usage("merge needs --task TASK");
	return decide(&a);
}

static int
cmd_edit(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;

	parse(argc, argv, &a, B(O_AS) | B(O_TITLE) | B(O_DESC) |
	    B(O_ASSIGNEE) | B(O_DUE), 1);
	if (!(a.seen & (B(O_TITLE) | B(O_DESC) | B(O_ASSIGNEE) | B(O_DUE))))
		cli_usage("edit needs something to change");
	db = cli_db(0);
	if (corp_proposal_edit(db, &a.ed, &e) != 0)
		cli_fail(&e);
	print_proposal(db, a.id);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr;

	parse(argc, argv, &a, B(O_RUN) | B(O_STATUS), 0);
	db = cli_db(0);
	if (corp_proposal_list(db, a.run, a.status, &arr, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_db *db;
	struct args a;

	parse(argc, argv, &a, 0, 1);
	db = cli_db(0);
	print_proposal(db, a.id);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", cmd_list },
		{ "show", cmd_show },
		{ "edit", cmd_edit },
		{ "approve", cmd_approve },
		{ "reject", cmd_reject },
		{ "merge", cmd_merge },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
