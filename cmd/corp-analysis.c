/*
 * corp-analysis -- seed 004's analysis runs over a chat's stored
 * messages (DESIGN 8, corp-analysis.1): create, start (in the
 * foreground, holding a lease), review, close, cancel, list, show,
 * errors.  The state machine and the proposers live in lib/analysis.c
 * and lib/proposer.c.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "analysis.h"
#include "db.h"
#include "proposer.h"

static const char synopsis[] =
"usage: corp-analysis create --as LOGIN --chat CHAT --from TIME --until TIME\n"
"           [--min-length N] [--keyword WORD ...] [--require-mention]\n"
"       corp-analysis start RUN --as LOGIN [--proposer builtin | exec:NAME |\n"
"           openai] [--proposer-timeout DURATION] [--lease DURATION]\n"
"           [--openai-url URL] [--model MODEL]\n"
"       corp-analysis review RUN --as LOGIN\n"
"       corp-analysis close RUN --as LOGIN\n"
"       corp-analysis cancel RUN --as LOGIN\n"
"       corp-analysis list [--chat CHAT] [--status STATUS]\n"
"       corp-analysis show RUN\n"
"       corp-analysis errors RUN\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

enum { O_AS = 256, O_CHAT, O_FROM, O_UNTIL, O_MINLEN, O_KEYWORD, O_MENTION,
	O_PROPOSER, O_TIMEOUT, O_LEASE, O_URL, O_MODEL, O_STATUS };

static const struct option opts[] = {
	{ "as", required_argument, NULL, O_AS },
	{ "chat", required_argument, NULL, O_CHAT },
	{ "from", required_argument, NULL, O_FROM },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "min-length", required_argument, NULL, O_MINLEN },
	{ "keyword", required_argument, NULL, O_KEYWORD },
	{ "require-mention", no_argument, NULL, O_MENTION },
	{ "proposer", required_argument, NULL, O_PROPOSER },
	{ "proposer-timeout", required_argument, NULL, O_TIMEOUT },
	{ "lease", required_argument, NULL, O_LEASE },
	{ "openai-url", required_argument, NULL, O_URL },
	{ "model", required_argument, NULL, O_MODEL },
	{ "status", required_argument, NULL, O_STATUS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
#define B(o) (1u << ((o) - O_AS))

struct args {
	struct corp_run_new	 n;
	const char		*kw[65];
	int			 nkw, has_chat;
	long long		 run, timeout_s, lease_s;
	const char		*proposer, *url, *model, *status;
	unsigned		 seen;
};

static void
parse(int argc, char **argv, struct args *a, unsigned allowed, int nrun)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->n.min_length = CORP_RUN_MIN_LENGTH;
	a->proposer = "builtin";
	a->timeout_s = 120;
	a->lease_s = 600;
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
		case O_AS: a->n.as = optarg; break;
		case O_CHAT:
			a->has_chat = 1;
			a->n.chat_id = cli_num(optarg, LLONG_MIN + 1,
			    LLONG_MAX, "--chat");
			break;
		case O_FROM: a->n.from = cli_time(optarg, "--from"); break;
		case O_UNTIL: a->n.until = cli_time(optarg, "--until"); break;
		case O_MINLEN:
			a->n.min_length = cli_num(optarg, 0, 1000000,
			    "--min-length");
			break;
		case O_KEYWORD:
			if (a->nkw == 64)
				cli_usage("at most 64 --keyword");
			if (*optarg == '\0')
				cli_usage("--keyword must not be empty");
			a->kw[a->nkw++] = optarg;
			break;
		case O_MENTION: a->n.require_mention = 1; break;
		case O_PROPOSER: a->proposer = optarg; break;
		case O_TIMEOUT:
			a->timeout_s = cli_duration(optarg,
			    "--proposer-timeout");
			break;
		case O_LEASE: a->lease_s = cli_duration(optarg, "--lease");
			break;
		case O_URL: a->url = optarg; break;
		case O_MODEL: a->model = optarg; break;
		case O_STATUS: a->status = optarg; break;
		}
	}
	a->n.keywords = a->nkw ? a->kw : NULL;
	if (argc - optind != nrun)
		cli_usage(nrun ? "%s needs one RUN id" :
		    "%s takes no arguments", argv[0]);
	if (nrun)
		a->run = cli_num(argv[optind], 1, LLONG_MAX, "RUN");
	if ((allowed & B(O_AS)) && a->n.as == NULL)
		cli_usage("%s needs --as LOGIN", argv[0]);
}

static void
print_run(struct corp_db *db, long long id)
{
	struct corp_err e;
	json_t *o;

	if (corp_run_json(db, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
}

static int
cmd_create(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	long long id;

	parse(argc, argv, &a, B(O_AS) | B(O_CHAT) | B(O_FROM) | B(O_UNTIL) |
	    B(O_MINLEN) | B(O_KEYWORD) | B(O_MENTION), 0);
	if (!a.has_chat || !(a.seen & B(O_FROM)) || !(a.seen & B(O_UNTIL)))
		cli_usage("create needs --chat, --from and --until");
	db = cli_db(0);
	if (corp_run_create(db, &a.n, &id, &e) != 0)
		cli_fail(&e);
	print_run(db, id);
	corp_db_close(db);
	return 0;
}

static int
cmd_start(int argc, char **argv)
{
	struct corp_proposer p;
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	int rc;

	parse(argc, argv, &a, B(O_AS) | B(O_PROPOSER) | B(O_TIMEOUT) |
	    B(O_LEASE) | B(O_URL) | B(O_MODEL), 1);
	if (a.timeout_s < 1)
		cli_usage("--proposer-timeout must be at least 1s");
	if (a.lease_s <= a.timeout_s)
		cli_usage("--lease must be longer than --proposer-timeout");
	if ((a.url != NULL || a.model != NULL) &&
	    strcmp(a.proposer, "openai") != 0)
		cli_usage("--openai-url and --model go with --proposer openai");
	db = cli_db(0);
	if (corp_proposer_init(db, &p, a.proposer, a.url, a.model,
	    a.timeout_s * 1000, &e) != 0)
		cli_fail(&e);
	rc = corp_run_start(db, a.run, a.n.as, &p, a.lease_s, &e);
	corp_proposer_free(&p);
	if (rc != 0) {
		cli_warnerr(&e);
		/* A failed run is still shown: what finished is kept. */
		if (rc != CORP_ENOTFOUND && rc != CORP_EFORBIDDEN)
			print_run(db, a.run);
		corp_db_close(db);
		return rc;
	}
	print_run(db, a.run);
	corp_db_close(db);
	return 0;
}

static int
step(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;

	parse(argc, argv, &a, B(O_AS), 1);
	db = cli_db(0);
	if (corp_run_step(db, a.run, argv[0], a.n.as, &e) != 0)
		cli_fail(&e);
	print_run(db, a.run);
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

	parse(argc, argv, &a, B(O_CHAT) | B(O_STATUS), 0);
	db = cli_db(0);
	if (corp_run_list(db, a.has_chat, a.n.chat_id, a.status, &arr, &e) != 0)
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
	print_run(db, a.run);
	corp_db_close(db);
	return 0;
}

static int
cmd_errors(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	struct args a;
	json_t *arr, *o;

	parse(argc, argv, &a, 0, 1);
	db = cli_db(0);
	if (corp_run_json(db, a.run, &o, &e) != 0)
		cli_fail(&e);
	json_decref(o);
	if (corp_run_errors(db, a.run, &arr, &e) != 0)
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
		{ "start", cmd_start },
		{ "review", step },
		{ "close", step },
		{ "cancel", step },
		{ "list", cmd_list },
		{ "show", cmd_show },
		{ "errors", cmd_errors },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
