/*
 * corp-send CHANNEL -- the transports: read formatted delivery lines,
 * send each, print one ack line per input line (corp-send.1).  Never
 * opens the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "clisend.h"
#include "jsonl.h"
#include "names.h"
#include "sender.h"
#include "sendres.h"

enum { O_SUBJECT = 1 };

static const struct cli_opt opts[] = {
	CLI_SENDER_OPTS,
	{ O_SUBJECT, "subject", "SUBJECT", "push: the VAPID subject, a "
	    "mailto: or https: URL (push.subject)" },
	{ O_MAX_PAUSE, "max-pause", "DURATION", "longest pause a server's "
	    "retry_after imposes (1h, at most 1d)", CLI_DURATION, 0, 86400 },
	{ 0 }
};

static struct corp_sender *snd;
static json_t	**acks;		/* held while the channel buffers (file) */
static size_t	  nacks;

static int
flush_acks(void *arg, struct corp_err *e)
{
	size_t i;

	(void)arg;
	if (nacks > 0 && corp_sender_flush(snd, e) != 0)
		cli_fail(e);
	for (i = 0; i < nacks; i++) {
		cli_out(acks[i]);
		json_decref(acks[i]);
	}
	nacks = 0;
	return 0;
}

/* One line sent and its ack passed on; an invalid line is counted for
 * the exit code (65 at the end). */
static int
each(struct corp_jsonl_item *it, size_t n, void *bad, struct corp_err *e)
{
	struct corp_sendres res;
	const char *news;
	char msg[1400];
	int rc;

	(void)n;
	if ((rc = corp_sender_line(snd, it->obj, &res, e)) < 0 ||
	    rc > CORP_SENDER_INVALID) {
		flush_acks(NULL, e);
		cli_fail(e);
	}
	*(int *)bad |= rc == CORP_SENDER_INVALID;
	corp_sender_stage(snd, &news);
	if (news != NULL)
		cli_warn("%s", news);
	if (rc == CORP_SENDER_DONE &&
	    corp_sender_report(snd, it->obj, &res, msg, sizeof(msg)))
		cli_warn("%s", msg);
	if (!corp_sender_buffers(snd))
		cli_out(it->obj);
	else {
		acks[nacks++] = it->obj;
		it->obj = NULL;
		if (nacks == 1000)
			flush_acks(NULL, e);
	}
	return 0;
}

static void
bad_line(const struct corp_err *e, void *arg)
{
	(void)arg;
	cli_warnerr(e);
}

static void
bad_quiet(const struct corp_err *e, void *arg)
{
	(void)e;
	(void)arg;
}

/*
 * A usage error in a pipe: the lines pending leased come back at once
 * instead of after their lease (corp-send.1).  Each input line is
 * passed on as retry, not attempted, naming the error; ack stores it
 * PENDING without an attempt.  Not from a terminal (nothing leased).
 */
static int
release_each(struct corp_jsonl_item *it, size_t n, void *error,
    struct corp_err *e)
{
	(void)n;
	(void)e;
	json_object_set_new(it->obj, "result", json_string("retry"));
	json_object_set_new(it->obj, "attempted", json_false());
	json_object_set_new(it->obj, "retry_after", json_integer(0));
	json_object_set_new(it->obj, "error", json_string(error));
	return cli_out_try(it->obj) != 0 ? CORP_LOOP_STOP : 0;
}

static void
usage_release(const char *why)
{
	char error[600];
	struct corp_loop l = { .batch = 1, .batch_ms = -1,
	    .each = release_each, .bad = bad_quiet, .arg = error };
	struct corp_err e;

	if (isatty(0))
		return;
	snprintf(error, sizeof(error), "corp-send: usage error: %s", why);
	(void)corp_jsonl_loop(0, NULL, &l, &e);
	(void)corp_out_close(stdout);
}

static int
cmd_send(const struct cli_args *a)
{
	const char *name = cli_arg(a, 0), *news;
	struct corp_sender_opts opt;
	struct corp_cidr *allow = NULL;
	struct corp_loop l = { .batch = 1, .batch_ms = -1, .each = each,
	    .pause = flush_acks, .bad = bad_line };
	struct corp_err e;
	int bad = 0, rc;

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
	if (corp_sender_open(&snd, name, &opt, &e) != 0) {
		if (e.code == CORP_EUSAGE)
			cli_usage("%s", e.msg);
		cli_fail(&e);
	}
	if (corp_sender_stage(snd, &news) != 0)
		cli_warn("%s", news);
	if ((acks = calloc(1000, sizeof(*acks))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	l.arg = &bad;
	rc = corp_jsonl_loop(0, NULL, &l, &e);
	flush_acks(NULL, &e);	/* what was sent, before any failure */
	if (rc != 0)
		cli_fail(&e);
	bad |= l.nbad > 0;
	rc = corp_sender_stage(snd, NULL);
	corp_sender_close(snd);
	free(allow);
	free(acks);
	return rc ? rc : bad ? CORP_EINVAL : 0;
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
