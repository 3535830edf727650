/*
 * corp-analysis -- seed 004's analysis runs over a chat's stored
 * messages (DESIGN 8, corp-analysis.1): create, start (in the
 * foreground, holding a lease), review, close, cancel, list, show,
 * errors; tie, untie, ties (a chat's space, lib/chatspace.c).  The state machine and the proposers live in lib/analysis.c
 * and lib/proposer.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "analysis.h"
#include "chatspace.h"
#include "db.h"
#include "proposer.h"

enum { O_AS = 1, O_CHAT, O_FROM, O_UNTIL, O_MINLEN, O_KEYWORD, O_MENTION,
	O_PROPOSER, O_TIMEOUT, O_LEASE, O_URL, O_MODEL, O_STATUS, O_UNIT };

static const char *const proposers[] = { "builtin", "openai", "exec:",
	NULL };
static const char *const statuses[] = { "pending", "running", "completed",
	"failed", "reviewed", "closed", "cancelled", NULL };

static const struct cli_opt opts[] = {
	{ O_AS, "as", "LOGIN", "the admin who acts", .comp = CLI_C_LOGIN },
	{ O_CHAT, "chat", "CHAT", "the Telegram chat id", CLI_NUM,
	    LLONG_MIN + 1, LLONG_MAX },
	{ O_FROM, "from", "TIME", "messages from TIME", CLI_TIME },
	{ O_UNTIL, "until", "TIME", "to before TIME", CLI_TIME },
	{ O_MINLEN, "min-length", "N", "skip messages shorter than N code "
	    "points (default 10)", CLI_NUM, 0, 1000000 },
	{ O_KEYWORD, "keyword", "WORD", "keep messages with one of the words "
	    "(repeatable, at most 64)", CLI_MULTI, 0, 64 },
	{ O_MENTION, "require-mention", NULL, "keep messages that mention the "
	    "bot" },
	{ O_PROPOSER, "proposer", "builtin | exec:NAME | openai", "who "
	    "proposes tasks (default builtin)", .comp = CLI_C_WORDS,
	    .words = proposers },
	{ O_TIMEOUT, "proposer-timeout", "DURATION", "a batch's time limit "
	    "(default 2m)", CLI_DURATION },
	{ O_LEASE, "lease", "DURATION", "the run's lease, renewed per batch "
	    "(default 10m)", CLI_DURATION },
	{ O_URL, "openai-url", "URL", "the OpenAI API (default: the "
	    "openai.url setting)" },
	{ O_MODEL, "model", "MODEL", "the OpenAI model (default: the "
	    "openai.model setting)" },
	{ O_STATUS, "status", "STATUS", "only runs in STATUS",
	    .comp = CLI_C_WORDS, .words = statuses },
	{ O_UNIT, "unit", "UNIT", "the org unit, the chat's space",
	    .comp = CLI_C_UNIT },
	{ 0 }
};

static long long
run_id(const struct cli_args *a)
{
	return cli_num(cli_arg(a, 0), 1, LLONG_MAX, "RUN");
}

static void
print_run(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_analysis_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static int
cmd_create(const struct cli_args *a)
{
	struct corp_analysis_new n = {
		.as = cli_str(a, O_AS),
		.chat_id = cli_int(a, O_CHAT, 0),
		.from = cli_int(a, O_FROM, 0),
		.until = cli_int(a, O_UNTIL, 0),
		.min_length = cli_int(a, O_MINLEN, CORP_ANALYSIS_MIN_LENGTH),
		.require_mention = cli_has(a, O_MENTION)
	};
	const char *const *kw;
	struct corp_db *db;
	struct corp_err e;
	long long id;
	size_t i, nkw;

	kw = cli_multi(a, O_KEYWORD, &nkw);
	for (i = 0; i < nkw; i++)
		if (*kw[i] == '\0')
			cli_usage("--keyword must not be empty");
	n.keywords = kw;
	db = cli_db(0);
	if (corp_analysis_create(db, &n, &id, &e) != 0)
		cli_fail(&e);
	print_run(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_start(const struct cli_args *a)
{
	const char *proposer = cli_str(a, O_PROPOSER);
	const char *url = cli_str(a, O_URL), *model = cli_str(a, O_MODEL);
	long long run = run_id(a), timeout_s, lease_s;
	struct corp_proposer p;
	struct corp_db *db;
	struct corp_err e;
	int rc;

	if (proposer == NULL)
		proposer = "builtin";
	timeout_s = cli_int(a, O_TIMEOUT, 120);
	lease_s = cli_int(a, O_LEASE, 600);
	if (timeout_s < 1)
		cli_usage("--proposer-timeout must be at least 1s");
	if (lease_s <= timeout_s)
		cli_usage("--lease must be longer than --proposer-timeout");
	if ((url != NULL || model != NULL) && strcmp(proposer, "openai") != 0)
		cli_usage("--openai-url and --model go with --proposer openai");
	db = cli_db(0);
	if (corp_proposer_init(db, &p, proposer, url, model,
	    timeout_s * 1000, &e) != 0)
		cli_fail(&e);
	cli_log_timed();	/* may run for minutes (corp.7 Errors) */
	cli_debug("run %lld: proposer %s, timeout %llds, lease %llds", run,
	    proposer, timeout_s, lease_s);
	/* A signal while the exec proposer runs: its command's group is
	 * killed, the run fails saying so, then we die of it. */
	if (strncmp(proposer, "exec:", 5) == 0)
		cli_exec_signals();
	rc = corp_analysis_start(db, run, cli_str(a, O_AS), &p, lease_s, &e);
	corp_proposer_free(&p);
	if (rc != 0) {
		cli_warnerr(&e);
		/* A failed run is still shown: what finished is kept. */
		if (rc != CORP_ENOTFOUND && rc != CORP_EFORBIDDEN)
			print_run(db, run);
		corp_db_close(db);
		cli_exec_interrupted();
		return rc;
	}
	print_run(db, run);
	corp_db_close(db);
	return 0;
}

/* review, close, cancel */
static int
cmd_step(const struct cli_args *a)
{
	long long run = run_id(a);
	struct corp_db *db = cli_db(0);
	struct corp_err e;

	if (corp_analysis_step(db, run, cli_verb_name(a), cli_str(a, O_AS),
	    &e) != 0)
		cli_fail(&e);
	print_run(db, run);
	corp_db_close(db);
	return 0;
}

static int
cmd_list(const struct cli_args *a)
{
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr;

	if (corp_analysis_list(db, cli_has(a, O_CHAT), cli_int(a, O_CHAT, 0),
	    cli_str(a, O_STATUS), &arr, &e) != 0)
		cli_fail(&e);
	cli_rows(a, arr);
	corp_db_close(db);
	return 0;
}

/* show, errors */
static int
cmd_show(const struct cli_args *a)
{
	long long run = run_id(a);
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *arr;

	if (strcmp(cli_verb_name(a), "show") == 0)
		print_run(db, run);
	else {
		if (corp_analysis_json(db, run, &arr, &e) != 0)
			cli_fail(&e);
		json_decref(arr);
		if (corp_analysis_errors(db, run, &arr, &e) != 0)
			cli_fail(&e);
		cli_rows(a, arr);
	}
	corp_db_close(db);
	return 0;
}

/* tie --chat CHAT --unit UNIT, untie --chat CHAT, ties: a chat's space. */
static int
cmd_tie(const struct cli_args *a)
{
	const char *verb = cli_verb_name(a);
	struct corp_db *db = cli_db(0);
	struct corp_err e;
	json_t *o;
	long long chat;
	int rc;

	if (strcmp(verb, "ties") == 0) {
		if (corp_chatspace_list(db, &o, &e) != 0)
			cli_fail(&e);
		cli_rows(a, o);
		corp_db_close(db);
		return 0;
	}
	chat = cli_int(a, O_CHAT, 0);
	if (strcmp(verb, "tie") == 0)
		rc = corp_chatspace_tie(db, chat, cli_str(a, O_UNIT),
		    cli_str(a, O_AS), &o, &e);
	else
		rc = corp_chatspace_untie(db, chat, cli_str(a, O_AS), &o, &e);
	if (rc != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
#define AS { O_AS, CLI_REQ }
static const struct cli_verb verbs[] = {
	{ "create", cmd_create, "a pending run over a chat's messages", NULL,
	    0, 0, U(AS, { O_CHAT, CLI_REQ }, { O_FROM, CLI_REQ },
	    { O_UNTIL, CLI_REQ }, { O_MINLEN }, { O_KEYWORD }, { O_MENTION }) },
	{ "start", cmd_start, "run it in the foreground, holding a lease",
	    "RUN", 1, 1, U(AS, { O_PROPOSER }, { O_TIMEOUT }, { O_LEASE },
	    { O_URL }, { O_MODEL }) },
	{ "review", cmd_step, "completed to reviewed", "RUN", 1, 1, U(AS) },
	{ "close", cmd_step, "reviewed to closed", "RUN", 1, 1, U(AS) },
	{ "cancel", cmd_step, "pending to cancelled", "RUN", 1, 1, U(AS) },
	{ "list", cmd_list, "runs as JSON lines", NULL, 0, 0,
	    U({ O_CHAT }, { O_STATUS }), .list = CLI_LIST("run_id", "RUN") },
	{ "show", cmd_show, "one run as JSON", "RUN", 1, 1 },
	{ "errors", cmd_show, "a run's invalid proposals as JSON lines", "RUN",
	    1, 1, .list = CLI_LIST("batch,line", NULL, CLI_L_NOPAGE) },
	{ "tie", cmd_tie, "tie a chat to an org unit, its space", NULL, 0,
	    0, U(AS, { O_CHAT, CLI_REQ }, { O_UNIT, CLI_REQ }) },
	{ "untie", cmd_tie, "the chat leaves its space", NULL, 0, 0,
	    U(AS, { O_CHAT, CLI_REQ }) },
	{ "ties", cmd_tie, "every chat's space as JSON lines", NULL, 0, 0,
	    .list = CLI_LIST("chat_id", NULL, CLI_L_NOPAGE) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-analysis",
	"analysis runs over a chat's stored messages", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
