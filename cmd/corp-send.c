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
#include "email.h"
#include "execcmd.h"
#include "clock.h"
#include "fsutil.h"
#include "http.h"
#include "jsonl.h"
#include "ratelimit.h"
#include "send.h"
#include "telegram.h"
#include "webhook.h"
#include "netaddr.h"

static const char synopsis[] =
"usage: corp-send telegram [--allow-http] [--max-wait DURATION]\n"
"                 [--timeout DURATION] [--connect-timeout DURATION]\n"
"       corp-send webhook [--allow CIDR ...] [--allow-http]\n"
"                 [--timeout DURATION] [--connect-timeout DURATION]\n"
"       corp-send email [--smtp-url URL] [--from ADDRESS]\n"
"                 [--smtp-user NAME] [--timeout DURATION]\n"
"       corp-send exec [--exec-timeout DURATION]\n"
"       corp-send file [--out FILE]\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static struct {
	int		 allow_http;
	long long	 max_wait_ms;
	long		 total_ms, connect_ms, exec_ms;
	const char	*out, *smtp_url, *from, *smtp_user;
	struct corp_cidr *allow;
	size_t		 nallow;
} opt = { 0, 5000, 30000, 10000, 30000, NULL, NULL, NULL, NULL, NULL, 0 };

/*
 * A stage failure (a bad token, an unusable secret or configuration):
 * from then on every delivery line passes on as retry, not attempted,
 * with this error, and the program exits with stage_code at the end.
 */
static char	 stage_err[1024];
static int	 stage_code;

static struct corp_http *http;

static void
stage_fail(int code, const char *lineerr, const char *why)
{
	if (stage_code != 0)
		return;
	stage_code = code ? code : CORP_EINTERNAL;
	strlcpy(stage_err, lineerr, sizeof(stage_err));
	cli_warn("%s; every remaining line passes on as retry", why);
}

static void
http_open(int no_proxy)
{
	struct corp_http_opts o = { opt.allow_http, opt.connect_ms,
	    opt.total_ms, corp_cfg.ca_file, no_proxy };
	struct corp_err e;

	if (corp_http_open(&http, &o, &e) != 0)
		cli_fail(&e);
}

/* ---- telegram ---------------------------------------------------- */

static char		*tg_token;
static struct corp_rl	*tg_rl;

static void
tg_init(void)
{
	struct corp_err e;
	const char *api = corp_cfg.telegram_api;

	if (strncmp(api, "https://", 8) != 0 &&
	    !(opt.allow_http && strncmp(api, "http://", 7) == 0))
		cli_usage("CORP_TELEGRAM_API must be an https:// URL "
		    "(http:// only with --allow-http)");
	http_open(0);
	if (corp_secret(corp_cfg.telegram_token, "telegram_token", &tg_token,
	    &e) != 0) {
		stage_fail(e.code, e.msg, e.msg);
		return;
	}
	if (!corp_cfg.rate_limit_off && corp_rl_open(&tg_rl, "telegram",
	    tg_token, 30, corp_cfg.rate_margin, &e) != 0)
		stage_fail(e.code, e.msg, e.msg);
}

static void
tg_send(json_t *line, struct corp_send_res *res)
{
	json_t *a = json_object_get(line, "address");
	const char *text = NULL;
	struct corp_err e;
	long long chat = 0, wait;
	char chatbuf[32];
	int rc;

	corp_send_res_init(res);
	if (json_is_integer(a))
		chat = json_integer_value(a);
	if (json_is_string(a) &&
	    corp_tg_chat_id(json_string_value(a), &chat) != 0)
		chat = 0;
	if (chat <= 0 || chat >= (1LL << 53)) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_FAILED, "address is not a "
		    "private chat id (a positive integer)");
		return;
	}
	if (corp_json_str(line, "text", &text, 1, &e) != 0) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_FAILED, "%s", text == NULL &&
		    json_object_get(line, "text") == NULL ? "missing text" :
		    e.msg);
		return;
	}
	if (tg_rl != NULL) {
		snprintf(chatbuf, sizeof(chatbuf), "%lld", chat);
		rc = corp_rl_reserve(tg_rl, chatbuf, opt.max_wait_ms, &wait,
		    &e);
		if (rc == CORP_ETEMP) {
			res->attempted = 0;
			res->retry_after = (wait + 999) / 1000;
			corp_send_set(res, CORP_SEND_RETRY, "rate limit: a slot "
			    "is %lld ms away, more than --max-wait", wait);
			return;
		}
		if (rc != 0) {
			res->attempted = 0;
			corp_send_set(res, CORP_SEND_RETRY, "%s", e.msg);
			return;
		}
		corp_sleep_ms(wait);
	}
	corp_tg_send(http, corp_cfg.telegram_api, tg_token, chat, text, res);
	if (res->bad_token) {
		stage_fail(CORP_EFORBIDDEN, "bad token", "telegram: bad "
		    "token (the Bot API answered 401 or 404)");
		return;
	}
	if (tg_rl != NULL && res->result == CORP_SEND_RETRY &&
	    res->retry_after > 0 && !res->attempted &&
	    corp_rl_pause(tg_rl, res->retry_after * 1000, &e) != 0)
		cli_warnerr(&e);
}

/* ---- webhook --------------------------------------------------- */

static void
wh_init(void)
{
	http_open(1);	/* no proxies: the vetted address is the peer */
}

static void
wh_send(json_t *line, struct corp_send_res *res)
{
	json_t *a = json_object_get(line, "address"),
	    *ev = json_object_get(line, "event");
	const char *name = json_string_value(a);
	char *url = NULL, *secret = NULL, *body = NULL, *sname = NULL,
	    id[32];
	struct corp_err e;
	int rc;

	corp_send_res_init(res);
	res->attempted = 0;
	if (!corp_webhook_name_ok(name)) {
		corp_send_set(res, CORP_SEND_FAILED, "address is not a "
		    "webhook endpoint name ([A-Za-z0-9_.-]+)");
		return;
	}
	if (!json_is_object(ev)) {
		corp_send_set(res, CORP_SEND_FAILED, "missing event");
		return;
	}
	if ((rc = corp_webhook_url(name, &url, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_send_set(res, CORP_SEND_FAILED, "%s", e.msg);
		else
			stage_fail(rc, e.msg, e.msg);
		return;
	}
	if (strncmp(url, "https://", 8) != 0 &&
	    !(opt.allow_http && strncmp(url, "http://", 7) == 0)) {
		corp_send_set(res, CORP_SEND_FAILED, "webhook endpoint %s: "
		    "the URL must be https://", name);
		goto out;
	}
	if (corp_asprintf(&sname, "webhook-%s", name) < 0)
		cli_die(CORP_EINTERNAL, "out of memory");
	if ((rc = corp_secret(NULL, sname, &secret, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_send_set(res, CORP_SEND_FAILED, "%s", e.msg);
		else
			stage_fail(rc, e.msg, e.msg);
		goto out;
	}
	if ((body = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	snprintf(id, sizeof(id), "%lld",
	    (long long)json_integer_value(json_object_get(line,
	    "delivery_id")));
	corp_webhook_post(http, url, id, secret, body, strlen(body),
	    opt.allow, opt.nallow, res);
out:
	free(url);
	free(sname);
	free(body);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

/* ---- email ----------------------------------------------------- */

static struct corp_smtp *smtp;
static struct corp_smtp_conf smtp_conf;

static void
email_init(void)
{
	struct corp_err e;
	char *pw = NULL;
	int rc;

	smtp_conf.url = corp_strdup(opt.smtp_url);
	smtp_conf.from = corp_strdup(opt.from);
	smtp_conf.user = corp_strdup(opt.smtp_user);
	if (corp_smtp_conf_load(&smtp_conf, &e) != 0)
		cli_fail(&e);
	if (smtp_conf.url == NULL || smtp_conf.from == NULL)
		cli_usage("email needs a server and a sender: --smtp-url "
		    "and --from, or url and from in smtp.conf");
	if (strncmp(smtp_conf.url, "smtp://", 7) != 0 &&
	    strncmp(smtp_conf.url, "smtps://", 8) != 0)
		cli_usage("--smtp-url: expected smtp:// or smtps://");
	if (!corp_email_addr_ok(smtp_conf.from))
		cli_usage("--from: '%s' is not an e-mail address",
		    smtp_conf.from);
	if (smtp_conf.user != NULL && (rc = corp_secret(
	    corp_cfg.smtp_password, "smtp_password", &pw, &e)) != 0) {
		stage_fail(rc, e.msg, e.msg);
		return;
	}
	if (corp_smtp_open(&smtp, &smtp_conf, pw, corp_cfg.ca_file,
	    opt.connect_ms, opt.total_ms, &e) != 0)
		cli_fail(&e);
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
}

static void
email_send(json_t *line, struct corp_send_res *res)
{
	const char *to = json_string_value(json_object_get(line, "address"));
	const char *text = NULL, *subject = NULL;
	struct corp_err e;
	char *msg;

	corp_send_res_init(res);
	res->attempted = 0;
	if (!corp_email_addr_ok(to)) {
		corp_send_set(res, CORP_SEND_FAILED, "address is not an "
		    "e-mail address");
		return;
	}
	if (corp_json_str(line, "text", &text, 1, &e) != 0 ||
	    corp_json_str(line, "subject", &subject, 0, &e) != 0) {
		corp_send_set(res, CORP_SEND_FAILED, "%s", text == NULL ?
		    "missing text" : e.msg);
		return;
	}
	if (corp_email_message(smtp_conf.from, to, subject, text, time(NULL),
	    &msg, &e) != 0)
		cli_fail(&e);
	corp_smtp_send(smtp, to, msg, res);
	free(msg);
	if (res->bad_token)
		stage_fail(CORP_EFORBIDDEN, "smtp login denied", "email: the "
		    "SMTP server refused the login");
}

/* ---- exec ------------------------------------------------------ */

static void
exec_init(void)
{
}

static void
exec_send(json_t *line, struct corp_send_res *res)
{
	const char *name = json_string_value(json_object_get(line,
	    "address"));
	struct corp_err e;
	char *path = NULL, *s;
	int rc;

	corp_send_res_init(res);
	res->attempted = 0;
	if (!corp_webhook_name_ok(name)) {
		corp_send_set(res, CORP_SEND_FAILED, "address is not an exec "
		    "command name ([A-Za-z0-9_.-]+)");
		return;
	}
	if ((rc = corp_exec_lookup(name, &path, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_send_set(res, CORP_SEND_FAILED, "%s", e.msg);
		else
			stage_fail(rc, e.msg, e.msg);
		return;
	}
	if ((s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	corp_exec_run(path, s, strlen(s), opt.exec_ms, res);
	free(s);
	free(path);
}

/* ---- file -------------------------------------------------------- */

static int	 file_fd = -1;
static char	*file_path;

static void
file_init(void)
{
	struct corp_err e;

	if (opt.out != NULL) {
		if ((file_path = strdup(opt.out)) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
	} else if (corp_data_path(&file_path, "outbox.jsonl", &e) != 0)
		cli_fail(&e);
	file_fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (file_fd < 0)
		cli_die(CORP_EINTERNAL, "%s: %s", file_path, strerror(errno));
}

static void
file_send(json_t *line, struct corp_send_res *res)
{
	char *s;
	size_t len, off = 0;
	ssize_t n;

	corp_send_res_init(res);
	if ((s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	len = strlen(s);
	s[len++] = '\n';	/* json_dumps left room: it was the NUL */
	while (off < len) {
		n = write(file_fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cli_die(CORP_EINTERNAL, "%s: write: %s", file_path,
			    strerror(errno));
		off += (size_t)n;
	}
	free(s);
}

static void
file_flush(void)
{
	if (fsync(file_fd) != 0)
		cli_die(CORP_EINTERNAL, "%s: fsync: %s", file_path,
		    strerror(errno));
}

/* ---- the loop ---------------------------------------------------- */

struct channel {
	const char	*name;
	void		(*init)(void);
	void		(*send)(json_t *, struct corp_send_res *);
	void		(*flush)(void);	/* before acks are printed */
};

static const struct channel channels[] = {
	{ "telegram", tg_init, tg_send, NULL },
	{ "webhook", wh_init, wh_send, NULL },
	{ "email", email_init, email_send, NULL },
	{ "exec", exec_init, exec_send, NULL },
	{ "file", file_init, file_send, file_flush },
	{ NULL, NULL, NULL, NULL }
};

static const struct channel *ch;
static json_t	**acks;
static size_t	  nacks, capacks;

static void
flush_acks(void)
{
	size_t i;

	if (nacks == 0)
		return;
	if (ch->flush != NULL)
		ch->flush();
	for (i = 0; i < nacks; i++) {
		cli_out(acks[i]);
		json_decref(acks[i]);
	}
	nacks = 0;
}

static void
queue_ack(json_t *line)
{
	if (ch->flush == NULL) {
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

static void
ack(json_t *line, const struct corp_send_res *r)
{
	corp_json_set(line, "result",
	    json_string(corp_send_result_name(r->result)));
	corp_json_set(line, "provider_message_id",
	    r->provider_id[0] ? json_string(r->provider_id) : json_null());
	corp_json_set(line, "error",
	    r->error[0] ? json_string(r->error) : json_null());
	if (r->retry_after >= 0)
		corp_json_set(line, "retry_after",
		    json_integer(r->retry_after));
	corp_json_set(line, "attempted", json_boolean(r->attempted));
}

static void
report(json_t *line, long long id, const struct corp_send_res *r)
{
	json_t *t = json_object_get(json_object_get(line, "event"),
	    "trace_id");

	if (r->result == CORP_SEND_SENT || stage_code != 0)
		return;
	cli_warn("delivery %lld: %s: %s%s%s", id,
	    corp_send_result_name(r->result), r->error,
	    json_is_string(t) ? " trace=" : "",
	    json_is_string(t) ? json_string_value(t) : "");
}

/* One line; returns 1 when it was invalid input (exit 65 at the end). */
static int
handle(json_t *line)
{
	struct corp_send_res res;
	struct corp_err e;
	const char *lease, *until, *c;
	long long id;
	time_t t;

	if (json_object_get(line, "result") != NULL) {
		queue_ack(line);	/* an earlier stage decided */
		return 0;
	}
	corp_send_res_init(&res);
	if (corp_json_id(line, "delivery_id", &id, 1, &e) != 0 ||
	    corp_json_str(line, "lease", &lease, 1, &e) != 0) {
		corp_send_set(&res, CORP_SEND_FAILED, "%s",
		    strncmp(e.msg, "missing field \"", 15) == 0 ?
		    (strstr(e.msg, "delivery_id") ? "missing delivery_id" :
		    "missing lease") : e.msg);
		res.attempted = 0;
		ack(line, &res);
		queue_ack(line);
		return 1;
	}
	if (stage_code != 0) {
		res.attempted = 0;
		corp_send_set(&res, CORP_SEND_RETRY, "%s", stage_err);
	} else if (corp_json_str(line, "lease_until", &until, 0, &e) != 0 ||
	    (until != NULL && corp_time_parse(until, &t, &e) != 0)) {
		corp_send_set(&res, CORP_SEND_FAILED, "lease_until: %s",
		    e.msg);
		res.attempted = 0;
	} else if (until != NULL && corp_now() >= t) {
		res.attempted = 0;
		corp_send_set(&res, CORP_SEND_RETRY, "lease expired");
	} else if (corp_json_str(line, "channel", &c, 0, &e) != 0 ||
	    (c != NULL && strcmp(c, ch->name) != 0)) {
		res.attempted = 0;
		corp_send_set(&res, CORP_SEND_FAILED, "the line is for "
		    "channel %s, not %s", c != NULL ? c : "?", ch->name);
	} else {
		ch->send(line, &res);
		if (stage_code != 0) {
			res.attempted = 0;
			corp_send_set(&res, CORP_SEND_RETRY, "%s", stage_err);
		}
	}
	report(line, id, &res);
	ack(line, &res);
	queue_ack(line);
	return 0;
}

static long
millis(const char *s, const char *what)
{
	return (long)cli_duration(s, what) * 1000;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "allow-http", no_argument, NULL, 'H' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "allow", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "exec-timeout", required_argument, NULL, 'x' },
		{ "smtp-url", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ "smtp-user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_jsonl *in;
	struct corp_err e;
	const char *name = NULL;
	json_t *line;
	int c, rc, bad = 0, timeout;

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	/* corp-send CHANNEL [options]: options after the channel too. */
	if (argc > 1 && argv[1][0] != '-') {
		name = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		switch (c) {
		case 'H': opt.allow_http = 1; break;
		case 'w':
			opt.max_wait_ms = millis(optarg, "--max-wait");
			break;
		case 't': opt.total_ms = millis(optarg, "--timeout"); break;
		case 'c':
			opt.connect_ms = millis(optarg, "--connect-timeout");
			break;
		case 'a':
			if (corp_cidr_add(&opt.allow, &opt.nallow, optarg,
			    &e) != 0)
				cli_usage("--allow: %s", e.msg);
			break;
		case 'o': opt.out = optarg; break;
		case 'x': opt.exec_ms = millis(optarg, "--exec-timeout"); break;
		case 'u': opt.smtp_url = optarg; break;
		case 'f': opt.from = optarg; break;
		case 'U': opt.smtp_user = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (name == NULL && optind < argc)
		name = argv[optind++];
	if (name == NULL)
		cli_usage("missing channel");
	if (optind != argc)
		cli_usage("too many arguments");
	for (ch = channels; ch->name != NULL; ch++)
		if (strcmp(ch->name, name) == 0)
			break;
	if (ch->name == NULL)
		cli_usage("unknown channel '%s'", name);
	ch->init();

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
	corp_http_close(http);
	corp_rl_close(tg_rl);
	corp_smtp_close(smtp);
	free(smtp_conf.url);
	free(smtp_conf.from);
	free(smtp_conf.user);
	free(tg_token);
	free(opt.allow);
	cli_exit(stage_code ? stage_code : bad ? CORP_EINVAL : 0);
}
