/*
 * corp-send CHANNEL -- the transports: read formatted delivery lines,
 * send each, print one ack line per input line (corp-send.1; the stage
 * is lib/sendpipe.c).  Never opens the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clisend.h"
#include "jsonl.h"
#include "names.h"
#include "sender.h"
#include "sendpipe.h"

enum { O_SUBJECT = 1 };

static const struct cli_opt opts[] = {
	CLI_SENDER_OPTS,
	{ O_SUBJECT, "subject", "SUBJECT", "push: the VAPID subject, a "
	    "mailto: or https: URL (push.subject)" },
	{ O_MAX_PAUSE, "max-pause", "DURATION", "longest pause a server's "
	    "retry_after imposes (1h, at most 1d)", CLI_DURATION, 0, 86400 },
	{ 0 }
};

/* After each ack: a signal that interrupted an exec command ends the
 * stage once that line's ack is out (corp-send.1). */
static int
out(void *arg, json_t *o)
{
	(void)arg;
	cli_out(o);
	cli_exec_interrupted();
	return 0;
}

static int
out_try(void *arg, json_t *o)
{
	int rc;

	(void)arg;
	rc = cli_out_try(o);
	cli_exec_interrupted();
	return rc;
}

static void
warn(void *arg, const char *msg)
{
	(void)arg;
	cli_warn("%s", msg);
}

/* A usage error in a pipe: the lines leased come back at once
 * (sendpipe.h; corp-send.1).  Not from a terminal (nothing leased). */
static void
usage_release(const char *why)
{
	const struct corp_sendpipe_hooks h = { out_try, warn, NULL };
	char error[600];

	if (isatty(0))
		return;
	snprintf(error, sizeof(error), "corp-send: usage error: %s", why);
	corp_sendpipe_release(error, &h);
	(void)corp_out_close(stdout);
}

static int
cmd_send(const struct cli_args *a)
{
	const struct corp_sendpipe_hooks h = { out, warn, NULL };
	const char *name = cli_arg(a, 0);
	struct corp_sender_opts opt;
	struct corp_sender *snd;
	struct corp_cidr *allow = NULL;
	struct corp_err e;
	int code;

	corp_sender_opts_init(&opt);
	cli_sender_opts_get(a, &opt, &allow);
	if (cli_has(a, O_MAX_PAUSE) &&
	    (opt.max_pause = cli_int(a, O_MAX_PAUSE, 0)) > 86400)
		cli_usage("--max-pause: at most 1d");
	opt.push_subject = cli_str(a, O_SUBJECT);
	/* A misspelt channel: 64 with the closest one (names.h). */
	if (corp_channel_check(name, &e) != 0)
		cli_fail(&e);
	if (!corp_sender_known(name))
		cli_usage("no sender for channel '%s'", name);
	if (strcmp(name, "exec") == 0)
		cli_exec_signals();
	if (corp_sender_open(&snd, name, &opt, &e) != 0) {
		if (e.code == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	}
	if (corp_sendpipe_run(snd, &h, &code, &e) != 0)
		cli_fail(&e);
	corp_sender_close(snd);
	free(allow);
	return code;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "", cmd_send, "send each delivery line on CHANNEL, print its ack",
	    "CHANNEL", 1, 1, U({ O_ALLOW_HTTP }, { O_MAX_WAIT },
	    { O_MAX_PAUSE }, { O_TIMEOUT }, { O_CONNECT_TIMEOUT }, { O_ALLOW },
	    { O_SMTP_URL }, { O_FROM }, { O_SMTP_USER }, { O_EXEC_TIMEOUT },
	    { O_OUT }, { O_SUBJECT }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-send",
	"the transports of a delivery pipe (telegram, webhook, email, exec, "
	"file, push)", opts, verbs, CLI_COMMON_DATA_DIR | CLI_COMMON_NOW };

int
main(int argc, char *argv[])
{
	cli_usage_hook = usage_release;
	cli_main(&tool, argc, argv);
}
