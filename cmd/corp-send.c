/*
 * corp-send CHANNEL -- the transports: read formatted delivery lines,
 * send each, print one ack line per input line (corp-send.1).  Never
 * opens the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "jsonl.h"
#include "names.h"
#include "send.h"
#include "netaddr.h"
#include "sendline.h"

static const char synopsis[] =
"usage: corp-send telegram [--allow-http] [--max-wait DURATION]\n"
"                 [--max-pause DURATION] [--timeout DURATION]\n"
"                 [--connect-timeout DURATION]\n"
"       corp-send webhook [--allow CIDR ...] [--allow-http]\n"
"                 [--max-pause DURATION] [--timeout DURATION]\n"
"                 [--connect-timeout DURATION]\n"
"       corp-send email [--smtp-url URL] [--from ADDRESS]\n"
"                 [--smtp-user NAME] [--timeout DURATION]\n"
"       corp-send exec [--exec-timeout DURATION]\n"
"       corp-send file [--out FILE]\n"
"       corp-send push --subject SUBJECT [--allow CIDR ...] [--allow-http]\n"
"                 [--max-pause DURATION] [--timeout DURATION]\n"
"                 [--connect-timeout DURATION]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static struct corp_sender *snd;
static json_t	**acks;
static size_t	  nacks, capacks;

static void
flush_acks(void)
{
	struct corp_err e;
	size_t i;

	if (nacks == 0)
		return;
	if (corp_sender_flush(snd, &e) != 0)
		cli_fail(&e);
	for (i = 0; i < nacks; i++) {
		cli_out(acks[i]);
		json_decref(acks[i]);
	}
	nacks = 0;
}

static void
queue_ack(json_t *line)
{
	if (!corp_sender_buffers(snd)) {
		cli_out(line);
		json_decref(line);
		return;
	}
	if (nacks == capacks) {
		json_t **n;

		capacks = capacks ? capacks * 2 : 64;
		if ((n = reallocarray(acks, capacks, sizeof(*n))) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		acks = n;
	}
	acks[nacks++] = line;
	if (nacks >= 1000)
		flush_acks();
}

/* One line; returns 1 when it was invalid input (exit 65 at the end). */
static int
handle(json_t *line)
{
	struct corp_send_res res;
	struct corp_err e;
	const char *news;
	char msg[1400];
	int rc;

	if ((rc = corp_sender_line(snd, line, &res, &e)) < 0 ||
	    rc > CORP_SENDLINE_INVALID) {
		flush_acks();
		cli_fail(&e);
	}
	corp_sender_stage(snd, &news);
	if (news != NULL)
		cli_warn("%s", news);
	if (rc == CORP_SENDLINE_DONE &&
	    corp_sender_report(snd, line, &res, msg, sizeof(msg)))
		cli_warn("%s", msg);
	queue_ack(line);
	return rc == CORP_SENDLINE_INVALID;
}

static long
millis(const char *s, const char *what)
{
	return (long)cli_duration(s, what) * 1000;
}

/*
 * A usage error in a pipe: the lines pending leased come back at once
 * instead of after their lease (corp-send.1).  Each input line is
 * passed on as retry, not attempted, naming the error; ack stores it
 * PENDING without an attempt.  Not from a terminal (nothing leased).
 */
static void
usage_release(const char *why)
{
	struct corp_jsonl *in;
	struct corp_err e;
	json_t *line;
	char error[600];
	int rc;

	if (isatty(0) || (in = corp_jsonl_open(0, "<stdin>")) == NULL)
		return;
	snprintf(error, sizeof(error), "corp-send: usage error: %s", why);
	while ((rc = corp_jsonl_next(in, &line, -1, &e)) != CORP_JSONL_EOF &&
	    rc != CORP_JSONL_ERR) {
		if (rc != CORP_JSONL_OBJ)
			continue;
		json_object_set_new(line, "result", json_string("retry"));
		json_object_set_new(line, "attempted", json_false());
		json_object_set_new(line, "retry_after", json_integer(0));
		json_object_set_new(line, "error", json_string(error));
		rc = cli_out_try(line);
		json_decref(line);
		if (rc != 0)
			break;
	}
	corp_jsonl_close(in);
	(void)corp_out_close(stdout);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "allow-http", no_argument, NULL, 'H' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "max-pause", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "allow", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "exec-timeout", required_argument, NULL, 'x' },
		{ "smtp-url", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ "smtp-user", required_argument, NULL, 'U' },
		{ "subject", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_sender_opts opt;
	struct corp_cidr *allow = NULL;
	struct corp_jsonl *in;
	struct corp_err e;
	const char *name = NULL, *news;
	json_t *line;
	int c, rc, bad = 0, timeout;

	cli_synopsis = synopsis;
	cli_usage_hook = usage_release;
	cli_init(&argc, &argv);
	corp_sender_opts_init(&opt);
	/* corp-send CHANNEL [options]: options after the channel too. */
	if (argc > 1 && argv[1][0] != '-') {
		name = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((c = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (c) {
		case 'H': opt.allow_http = 1; break;
		case 'w':
			opt.max_wait_ms = millis(optarg, "--max-wait");
			break;
		case 'P':
			opt.max_pause = cli_duration(optarg, "--max-pause");
			if (opt.max_pause > 86400)
				cli_usage("--max-pause: at most 1d");
			break;
		case 't': opt.total_ms = millis(optarg, "--timeout"); break;
		case 'c':
			opt.connect_ms = millis(optarg, "--connect-timeout");
			break;
		case 'a':
			if (corp_cidr_add(&allow, &opt.nallow, optarg,
			    &e) != 0)
				cli_usage("--allow: %s", e.msg);
			break;
		case 'o': opt.out = optarg; break;
		case 'x': opt.exec_ms = millis(optarg, "--exec-timeout"); break;
		case 'u': opt.smtp_url = optarg; break;
		case 'f': opt.from = optarg; break;
		case 'U': opt.smtp_user = optarg; break;
		case 'S': opt.push_subject = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (name == NULL && optind < argc)
		name = argv[optind++];
	if (name == NULL)
		cli_usage("missing channel");
	if (optind != argc)
		cli_usage("too many arguments");
	/* A misspelt channel: 64 with the closest one (names.h). */
	if (corp_channel_check(name, &e) != 0)
		cli_fail(&e);
	if (!corp_sender_known(name))
		cli_usage("no sender for channel '%s'", name);
	opt.allow = allow;
	if (corp_sender_open(&snd, name, &opt, &e) != 0) {
		if (e.code == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	}
	if (corp_sender_stage(snd, &news) != 0)
		cli_warn("%s", news);

	if ((in = corp_jsonl_open(0, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	for (;;) {
		/* With acks held for a batch, flush when input pauses. */
		timeout = nacks > 0 ? 0 : -1;
		rc = corp_jsonl_next(in, &line, timeout, &e);
		if (rc == CORP_JSONL_TIMEOUT) {
			flush_acks();
			continue;
		}
		if (rc == CORP_JSONL_EOF)
			break;
		if (rc == CORP_JSONL_BAD) {
			cli_warnerr(&e);
			bad = 1;
			continue;
		}
		if (rc == CORP_JSONL_ERR) {
			flush_acks();
			cli_fail(&e);
		}
		bad |= handle(line);
	}
	flush_acks();
	corp_jsonl_close(in);
	rc = corp_sender_stage(snd, NULL);
	corp_sender_close(snd);
	free(allow);
	free(acks);
	cli_exit(rc ? rc : bad ? CORP_EINVAL : 0);
}
