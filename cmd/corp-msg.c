/*
 * corp-msg -- the Telegram messages corp stored (DESIGN 8): import Bot
 * API Update objects, list them with filters, show one with its edit
 * history.  import hands each update to corp_tg_handle, the one handler
 * corp-tg poll and corp-tg process use, so an update has the same
 * effects whichever way it arrives, and a message is stored once per
 * (chat, message id).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "catalog.h"
#include "db.h"
#include "jsonl.h"
#include "clock.h"
#include "message.h"
#include "settings.h"
#include "tgupdate.h"

static const char synopsis[] =
"usage: corp-msg import [FILE] < updates.jsonl\n"
"       corp-msg list [--chat CHAT] [--author NAME] [--since TIME]\n"
"           [--until TIME] [--text TEXT] [--limit N]\n"
"       corp-msg show CHAT MESSAGE_ID\n"
"       corp-msg prune [--before TIME | --older-than DURATION] [--dry-run]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

/* Updates handled per transaction by import. */
#define IMPORT_BATCH 100

static int
cmd_import(int argc, char **argv)
{
	struct corp_catalog *cat;
	struct corp_tg_ctx ctx;
	struct corp_jsonl *r;
	struct corp_db *db;
	struct corp_err e;
	json_t *obj, *sum;
	const char *name = "<stdin>";
	long long handled = 0, dups = 0, bad = 0, intx = 0;
	int rc, fd = 0, outcome, eof = 0;

	if (cli_getopt(argc, argv, "h", (const struct option[]){
	    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } },
	    NULL) != -1)
		cli_help();
	if (argc - optind > 1)
		cli_usage("import takes at most one FILE");
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0)
			cli_die(CORP_ENOTFOUND, "%s: %s", name,
			    strerror(errno));
	}
	db = cli_db(0);
	if ((cat = corp_catalog_new()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	if (corp_catalog_load_std(cat, &e) != 0 ||
	    corp_tg_ctx_init(db, &ctx, cat, &e) != 0)
		cli_fail(&e);
	if ((r = corp_jsonl_open(fd, name)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	/*
	 * Reading stdin inside a write transaction is safe only because
	 * each read is of a line already buffered or of a file: a pipe that
	 * stalls would hold the lock, so the transaction ends whenever no
	 * complete line is ready (timeout 0) and before blocking.
	 */
	while (!eof) {
		rc = corp_jsonl_next(r, &obj, intx ? 0 : -1, &e);
		if (rc == CORP_JSONL_TIMEOUT || rc == CORP_JSONL_EOF ||
		    rc == CORP_JSONL_ERR || intx == IMPORT_BATCH) {
			if (intx > 0 && corp_db_commit(db, &e) != 0)
				cli_fail(&e);
			intx = 0;
		}
		if (rc == CORP_JSONL_TIMEOUT)
			continue;
		if (rc == CORP_JSONL_EOF)
			eof = 1;
		if (rc == CORP_JSONL_ERR)
			cli_fail(&e);
		if (rc == CORP_JSONL_BAD) {
			cli_warnerr(&e);
			bad++;
			continue;
		}
		if (rc != CORP_JSONL_OBJ)
			continue;
		if (intx == 0 && corp_db_begin(db, &e) != 0)
			cli_fail(&e);
		intx++;
		if (corp_tg_handle(db, &ctx, obj, &outcome, &e) != 0) {
			corp_db_rollback(db);
			cli_fail(&e);
		}
		if (outcome == CORP_TG_HANDLED)
			handled++;
		else if (outcome == CORP_TG_DUPLICATE)
			dups++;
		else {
			cli_warn("%s:%lu: not a Telegram Update object (no "
			    "integer update_id)", name, corp_jsonl_lineno(r));
			bad++;
		}
		json_decref(obj);
	}
	corp_jsonl_close(r);
	sum = json_pack("{sI sI sI}", "handled", (json_int_t)handled,
	    "duplicates", (json_int_t)dups, "invalid", (json_int_t)bad);
	cli_out(sum);
	json_decref(sum);
	corp_tg_ctx_free(&ctx);
	corp_catalog_free(cat);
	corp_db_close(db);
	return bad ? CORP_EINVAL : 0;
}

enum { O_CHAT = 256, O_AUTHOR, O_SINCE, O_UNTIL, O_TEXT, O_LIMIT };

static int
cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chat", required_argument, NULL, O_CHAT },
		{ "author", required_argument, NULL, O_AUTHOR },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "text", required_argument, NULL, O_TEXT },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_msg_filter f;
	struct corp_db *db;
	struct corp_err e;
	json_t *arr;
	int ch;

	memset(&f, 0, sizeof(f));
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_CHAT:
			f.has_chat = 1;
			f.chat_id = cli_num(optarg, LLONG_MIN + 1, LLONG_MAX,
			    "--chat");
			break;
		case O_AUTHOR: f.author = optarg; break;
		case O_SINCE: f.since = cli_time(optarg, "--since"); break;
		case O_UNTIL: f.until = cli_time(optarg, "--until"); break;
		case O_TEXT: f.text = optarg; break;
		case O_LIMIT: f.limit = cli_num(optarg, 1, LLONG_MAX,
		    "--limit"); break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	}
	if (optind != argc)
		cli_usage("list takes no arguments");
	db = cli_db(0);
	if (corp_msg_list(db, &f, &arr, &e) != 0)
		cli_fail(&e);
	cli_out_all(arr);
	corp_db_close(db);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	long long chat, id;
	const char *ops[3];
	int i, nops = 0;
	json_t *o;

	/*
	 * Group and channel ids are negative: "-100..." is the CHAT
	 * operand, not a cluster of options (corp-msg.1).
	 */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				ops[nops < 3 ? nops++ : 2] = argv[i];
			break;
		}
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			cli_help();
		if (argv[i][0] == '-' && argv[i][1] != '\0' &&
		    strspn(argv[i] + 1, "0123456789") != strlen(argv[i] + 1))
			cli_usage("unknown option '%s'", argv[i]);
		ops[nops < 3 ? nops++ : 2] = argv[i];
	}
	if (nops != 2)
		cli_usage("show needs CHAT and MESSAGE_ID");
	chat = cli_num(ops[0], LLONG_MIN + 1, LLONG_MAX, "CHAT");
	id = cli_num(ops[1], 1, LLONG_MAX, "MESSAGE_ID");
	db = cli_db(0);
	if (corp_msg_show(db, chat, id, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

enum { O_BEFORE = 300, O_OLDER, O_DRY };

/* Retention: messages older than --before, --older-than or the
 * messages.retention setting go, with their history. */
static int
cmd_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "before", required_argument, NULL, O_BEFORE },
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_msg_pruned p;
	struct corp_db *db;
	struct corp_err e;
	time_t now = corp_now(), before = 0;
	long long age = -1;
	char ts[32], nowbuf[32];
	json_t *o;
	int ch, dry = 0, have_before = 0;

	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_BEFORE:
			before = cli_time(optarg, "--before");
			have_before = 1;
			break;
		case O_OLDER:
			age = cli_duration(optarg, "--older-than");
			break;
		case O_DRY: dry = 1; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	}
	if (optind != argc)
		cli_usage("prune takes no arguments");
	if (have_before && age >= 0)
		cli_usage("prune takes --before or --older-than, not both");
	if (have_before && before > now)
		cli_usage("--before %s is in the future (now is %s)",
		    corp_time_fmt(before, ts), corp_time_fmt(now, nowbuf));
	db = cli_db(0);
	if (!have_before && age < 0 && corp_setting_duration(db,
	    "messages.retention", &age, &e) != 0) {
		corp_errprefix(&e, "messages.retention");
		cli_fail(&e);
	}
	if (!have_before)
		before = age > (long long)now ? 0 : now - (time_t)age;
	if (corp_msg_prune(db, before, dry, &p, &e) != 0)
		cli_fail(&e);
	o = json_pack("{ss sI sI sI sb}", "before", corp_time_fmt(before, ts),
	    "messages", (json_int_t)p.messages, "edits", (json_int_t)p.edits,
	    "callbacks", (json_int_t)p.callbacks, "dry_run", dry);
	if (o == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "import", cmd_import },
		{ "list", cmd_list },
		{ "show", cmd_show },
		{ "prune", cmd_prune },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
