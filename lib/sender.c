/* sender.c -- see sender.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "email.h"
#include "execcmd.h"
#include "fsutil.h"
#include "http.h"
#include "jsonl.h"
#include "pushsend.h"
#include "ratelimit.h"
#include "sender.h"
#include "sendres.h"
#include "telegram.h"
#include "tgbutton.h"
#include "tgbot.h"
#include "webhook.h"

struct channel;
struct flying;

struct corp_sender {
	const struct channel	*ch;
	struct corp_sender_opts	 o;
	void			(*on_wait)(void *, long long);
	void			*on_wait_arg;
	struct corp_http	*http;
	/* A stage failure: every later line is retry, not attempted. */
	int			 stage_code;
	int			 stage_told;
	int			 stage_held;	/* by the configuration */
	char			 stage_err[1024];
	char			 stage_why[1100];
	/* telegram */
	char			*tg_token;
	char			*tg_down;	/* outage key: API and token */
	char			*tg_down_path;	/* its file (corp_down_get_at) */
	char			*tg_url;	/* sendMessage's, made once */
	json_t			*tg_body;	/* the body's template */
	char			*tg_button_key;	/* tgbutton.h, read once */
	struct corp_rl		*tg_rl;
	/* email */
	struct corp_smtp	*smtp;
	struct corp_smtp_conf	 smtp_conf;
	/* file */
	int			 file_fd;
	char			*file_path;
	/* push (pushsend.h) */
	struct corp_pushsend	*push;
	int			 inflight;	/* corp_sender_inflight */
};

struct channel {
	const char	*name;
	int		 needs_text;	/* sends the rendered "text" */
	int		(*init)(struct corp_sender *, struct corp_err *);
	int		(*send)(struct corp_sender *, json_t *,
			    struct corp_sendres *, struct corp_err *);
	int		(*flush)(struct corp_sender *, struct corp_err *);
	/* in flight (corp_sender_start, _wait); NULL: one at a time */
	int		(*start)(struct corp_sender *, json_t *, void *,
			    struct corp_sendres *, struct corp_err *);
	void		(*end)(struct corp_sender *, struct corp_http_req *,
			    void *, struct flying *);
};

/* A line in flight once its answer is judged (a channel's end). */
struct flying {
	json_t			*line;
	void			*arg;		/* corp_sender_start's */
	struct corp_sendres	 res;
	int			 stage0;	/* the stage before it */
};

void
corp_sender_opts_init(struct corp_sender_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_wait_ms = 5000;
	o->max_pause = 3600;
	o->total_ms = 30000;
	o->connect_ms = 10000;
	o->exec_ms = 30000;
}

static void
stage_fail(struct corp_sender *s, int code, const char *lineerr,
    const char *why)
{
	if (s->stage_code != 0)
		return;
	s->stage_code = code ? code : CORP_EINTERNAL;
	strlcpy(s->stage_err, lineerr, sizeof(s->stage_err));
	snprintf(s->stage_why, sizeof(s->stage_why),
	    "%s; every remaining line passes on as retry", why);
}

/*
 * A stage failure the operator's configuration caused (a missing,
 * unparsable or unsafe secret or file): its lines are held, error_class
 * "config".  The stage exits 78 (corp.7), or 77 when a file is unsafe.
 */
static void
stage_hold(struct corp_sender *s, int code, const char *msg)
{
	if (s->stage_code != 0)
		return;
	stage_fail(s, code == CORP_EFORBIDDEN ? code : CORP_ECONFIG, msg,
	    msg);
	s->stage_held = 1;
}

static int
oom(struct corp_err *err)
{
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

static int
http_open(struct corp_sender *s, int no_proxy, struct corp_err *err)
{
	struct corp_http_opts o = { s->o.allow_http, s->o.connect_ms,
	    s->o.total_ms, corp_cfg.ca_file, no_proxy };

	return corp_http_open(&s->http, &o, err);
}

/* ---- outages (ratelimit.h) ---------------------------------------- */

/*
 * Right before a request to the endpoint kind/key: while it is paused
 * the line is not sent (retry, not attempted, unreachable, retry_after
 * the pause left) and 1 is returned.  The pause is advisory: a state
 * that cannot be read lets the request go -- but an unsafe ratelimit/
 * (a link, open to others: CORP_EFORBIDDEN) stops the stage (77, every
 * line retry) before anything is sent, as the Telegram limiter's does:
 * a pause never silently goes unkept.
 */
static int
down_before(struct corp_sender *s, const char *kind, const char *key,
    char **path, struct corp_down *d, struct corp_sendres *res)
{
	struct corp_err e;

	if ((path != NULL ? corp_down_get_at(kind, key, path,
	    (long long)corp_now(), d, &e) : corp_down_get(kind, key,
	    (long long)corp_now(), d, &e)) != 0) {
		memset(d, 0, sizeof(*d));
		if (e.code != CORP_EFORBIDDEN)
			return 0;
		stage_fail(s, e.code, e.msg, e.msg);
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", e.msg);
		return 1;
	}
	if (d->remaining <= 0)
		return 0;
	res->attempted = 0;
	res->error_class = "unreachable";
	res->retry_after = d->remaining;
	corp_sendres_set(res, CORP_SEND_RETRY, "%s (unreachable: paused %llds "
	    "more)", d->error[0] ? d->error : kind, d->remaining);
	return 1;
}

/* Right after it: never reached starts or lengthens the pause, an
 * answer ends it. */
static void
down_after(struct corp_sender *s, const char *kind, const char *key,
    const struct corp_down *d, struct corp_sendres *res)
{
	struct corp_err e;
	long long pause;
	size_t len;

	if (res->error_class == NULL ||
	    strcmp(res->error_class, "unreachable") != 0) {
		if (d->known)
			(void)corp_down_clear(kind, key, &e);
		return;
	}
	if (corp_down_mark(kind, key, (long long)corp_now(), res->error,
	    &pause, &e) != 0) {
		pause = CORP_DOWN_FIRST;
		/* Made unsafe since down_before: the line was never sent,
		 * so the stage may stop on it (down_before). */
		if (e.code == CORP_EFORBIDDEN)
			stage_fail(s, e.code, e.msg, e.msg);
	}
	res->retry_after = pause;
	len = strlen(res->error);
	snprintf(res->error + len, sizeof(res->error) - len,
	    " (unreachable: paused %llds)", pause);
}

/* A server's retry_after above --max-pause: capped, and said so. */
static void
cap_pause(struct corp_sender *s, struct corp_sendres *res)
{
	size_t len;

	if (res->retry_after <= s->o.max_pause)
		return;
	len = strlen(res->error);
	snprintf(res->error + len, sizeof(res->error) - len, " (pause "
	    "capped at %llds: telegram.max_pause)", s->o.max_pause);
	res->retry_after = s->o.max_pause;
}

/* ---- telegram ---------------------------------------------------- */

static int
tg_init(struct corp_sender *s, struct corp_err *err)
{
	struct corp_err e;
	const char *api = corp_cfg.telegram_api;
	int rc;

	if ((rc = corp_url_check(api, CORP_URL_HTTP, s->o.allow_http,
	    "CORP_TELEGRAM_API", CORP_EUSAGE, err)) != 0)
		return rc;
	if ((rc = http_open(s, 0, err)) != 0)
		return rc;
	if (corp_tg_token(&s->tg_token, &e) != 0) {
		stage_hold(s, e.code, e.msg);
		return 0;
	}
	if (!corp_cfg.rate_limit_off && corp_rl_open(&s->tg_rl, s->o.rl_store,
	    "telegram", s->tg_token, 30, corp_cfg.rate_margin, &e) != 0)
		stage_fail(s, e.code, e.msg, e.msg);
	if (s->tg_rl != NULL)
		corp_rl_max_pause(s->tg_rl, s->o.max_pause * 1000);
	/* Outages are the API's and the token's (ratelimit.h). */
	if (corp_asprintf(&s->tg_down, "%s\n%s", api, s->tg_token) < 0)
		return oom(err);
	/* The URL and the body's fixed fields once, not per line. */
	if (corp_tg_url(api, s->tg_token, &s->tg_url) != 0 ||
	    (s->tg_body = corp_tg_body_new()) == NULL)
		return oom(err);
	return 0;
}

/*
 * The inline keyboard of a line's "buttons" (corp-fmt), each action
 * signed for this delivery (tgbutton.h): NULL when there are none.
 * The key is made on first use; when it cannot be read the line is
 * held (a configuration error) and 1 returned.  A malformed "buttons"
 * (not corp-fmt's) fails the line.
 */
static int
tg_markup(struct corp_sender *s, json_t *line, json_t **markup,
    struct corp_sendres *res)
{
	json_t *rows = json_object_get(line, "buttons"), *row, *b, *kb, *kr;
	const char *label, *action;
	char tok[CORP_TGBUTTON_TOKEN_MAX + 1];
	struct corp_err e;
	long long id;
	size_t i, j;

	*markup = NULL;
	if (rows == NULL || json_is_null(rows))
		return 0;
	id = json_integer_value(json_object_get(line, "delivery_id"));
	if (!json_is_array(rows) || json_array_size(rows) == 0 || id <= 0) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "buttons: expected "
		    "an array of rows of {text, action}");
		return 1;
	}
	if (s->tg_button_key == NULL &&
	    corp_tgbutton_key(1, &s->tg_button_key, &e) != 0) {
		corp_sendres_hold(res, "telegram: buttons: %s", e.msg);
		return 1;
	}
	if ((kb = json_array()) == NULL ||
	    (*markup = json_pack("{s:o}", "inline_keyboard", kb)) == NULL)
		goto oom;
	json_array_foreach(rows, i, row) {
		if (!json_is_array(row) || json_array_size(row) == 0)
			goto bad;
		if ((kr = json_array()) == NULL ||
		    json_array_append_new(kb, kr) != 0)
			goto oom;
		json_array_foreach(row, j, b) {
			label = json_string_value(json_object_get(b, "text"));
			action = json_string_value(json_object_get(b,
			    "action"));
			if (label == NULL || *label == '\0' || action == NULL)
				goto bad;
			if (corp_tgbutton_sign(s->tg_button_key, id, action,
			    tok, &e) != 0)
				goto bad;
			if (json_array_append_new(kr, json_pack("{s:s, s:s}",
			    "text", label, "callback_data", tok)) != 0)
				goto oom;
		}
	}
	return 0;
bad:
	json_decref(*markup);
	*markup = NULL;
	res->attempted = 0;
	corp_sendres_set(res, CORP_SEND_FAILED, "buttons: expected an array "
	    "of rows of {text, action} (an action: 1-20 of a-z 0-9 _)");
	return 1;
oom:
	json_decref(*markup);
	*markup = NULL;
	res->attempted = 0;
	corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
	return 1;
}

/* A Telegram line between the checks and the answer (tg_send, or in
 * flight: corp_sender_start). */
struct tg_req {
	json_t			*line;
	void			*arg;		/* corp_sender_start's */
	struct corp_sendres	 res;
	long long		 chat;
	char			 chatbuf[32];
	struct corp_down	 down;
	int			 stage0;	/* the stage before it */
	char			*data;		/* the body; the URL is s's */
};

/*
 * Everything before the request: the address, the buttons, the outage
 * pause, the limiter's slot (waited for here).  1 when the request is
 * to be made; 0 when q->res already says what became of the line.
 */
static int
tg_before(struct corp_sender *s, struct tg_req *q, json_t **markup)
{
	json_t *a = json_object_get(q->line, "address");
	struct corp_sendres *res = &q->res;
	struct corp_err e;
	long long chat = 0, wait;
	int rc;

	*markup = NULL;
	corp_sendres_init(res);
	if (json_is_integer(a))
		chat = json_integer_value(a);
	if (json_is_string(a) &&
	    corp_tg_chat_id(json_string_value(a), &chat) != 0)
		chat = 0;
	if (chat <= 0 || chat >= (1LL << 53)) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "address is not a "
		    "private chat id (a positive integer)");
		return 0;
	}
	q->chat = chat;
	if (tg_markup(s, q->line, markup, res) != 0)
		return 0;
	if (down_before(s, "telegram", s->tg_down, &s->tg_down_path, &q->down,
	    res)) {
		json_decref(*markup);
		return 0;
	}
	snprintf(q->chatbuf, sizeof(q->chatbuf), "%lld", chat);
	if (s->tg_rl != NULL) {
		rc = corp_rl_reserve(s->tg_rl, q->chatbuf, s->o.max_wait_ms,
		    &wait, &e);
		if (rc == CORP_ETEMP) {
			long long pms;
			int own;
			char end[CORP_TIMEBUF];

			res->attempted = 0;
			res->retry_after = (wait + 999) / 1000;
			corp_rl_last_pause(s->tg_rl, &pms, &own);
			/* A 429's pause says whose and until when. */
			if (pms > 0)
				corp_sendres_set(res, CORP_SEND_RETRY,
				    "telegram: 429 pause of %s%s until %s "
				    "(%llds more)",
				    own ? "chat " : "the bot", own ? q->chatbuf :
				    "", corp_time_fmt(corp_now() +
				    (time_t)res->retry_after, end),
				    res->retry_after);
			else
				corp_sendres_set(res, CORP_SEND_RETRY,
				    "rate limit: a slot is %lld ms away, "
				    "more than --max-wait", wait);
			json_decref(*markup);
			return 0;
		}
		if (rc != 0) {
			res->attempted = 0;
			corp_sendres_set(res, CORP_SEND_RETRY, "%s", e.msg);
			json_decref(*markup);
			return 0;
		}
		if (wait > 0 && s->on_wait != NULL)
			s->on_wait(s->on_wait_arg, wait);
		corp_sleep_ms(wait);
	}
	return 1;
}

/* Everything after the answer: the outage, the pause cap, a bad token,
 * a chat's 429. */
static void
tg_after(struct corp_sender *s, struct tg_req *q)
{
	struct corp_sendres *res = &q->res;
	struct corp_err e;

	/* A request that reached the Bot API: the chat's next one waits W
	 * from this answer too (corp_rl_answered). */
	if (q->data != NULL && s->tg_rl != NULL && (res->error_class ==
	    NULL || strcmp(res->error_class, "unreachable") != 0))
		corp_rl_answered(s->tg_rl, q->chatbuf);
	down_after(s, "telegram", s->tg_down, &q->down, res);
	if (res->result == CORP_SEND_RETRY && res->error_class == NULL)
		cap_pause(s, res);
	if (res->bad_token) {
		stage_fail(s, CORP_EFORBIDDEN, "bad token", "telegram: bad "
		    "token (the Bot API answered 401 or 404)");
		return;
	}
	/*
	 * A 429 pauses that chat for every sender of the token (the Bot
	 * API's limits are per chat; corp's own limiter keeps the bot
	 * under the overall one): other chats go on.  A failure to record
	 * the pause only costs another 429.
	 */
	if (res->result == CORP_SEND_RETRY && res->retry_after > 0 &&
	    !res->attempted && res->error_class == NULL) {
		char end[CORP_TIMEBUF];
		size_t len = strlen(res->error);

		if (s->tg_rl != NULL)
			(void)corp_rl_pause_chat(s->tg_rl, q->chatbuf,
			    res->retry_after * 1000, &e);
		snprintf(res->error + len, sizeof(res->error) - len,
		    " (429: chat %lld paused until %s)", q->chat,
		    corp_time_fmt(corp_now() + (time_t)res->retry_after,
		    end));
	}
}

static int
tg_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	struct tg_req q;
	json_t *markup;

	(void)err;
	memset(&q, 0, sizeof(q));
	q.line = line;
	if (tg_before(s, &q, &markup)) {
		struct corp_http_resp r;
		struct corp_err e;
		int rc;

		if (corp_tg_body(s->tg_body, q.chat, json_string_value(
		    json_object_get(line, "text")), markup, &q.data,
		    &q.res) == 0) {
			rc = corp_http_post(s->http, s->tg_url, corp_tg_headers,
			    q.data, strlen(q.data), NULL, s->tg_token, &r, &e);
			corp_tg_answer(rc, &e, &r, s->tg_token, &q.res);
		}
		json_decref(markup);
		tg_after(s, &q);
		free(q.data);
	}
	*res = q.res;
	return 0;
}

/*
 * The same line in flight (corp_sender_start): the request is started,
 * its answer judged in tg_end.  CORP_SENDER_STARTED, or 0 when res says
 * what became of the line at once; -1 for a failure of the stage.
 */
static int
tg_start(struct corp_sender *s, json_t *line, void *arg,
    struct corp_sendres *res, struct corp_err *err)
{
	struct tg_req *q;
	json_t *markup;
	int rc = 0;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return oom(err);
	q->line = line;
	q->arg = arg;
	q->stage0 = s->stage_code;
	if (tg_before(s, q, &markup)) {
		if (corp_tg_body(s->tg_body, q->chat, json_string_value(
		    json_object_get(line, "text")), markup, &q->data,
		    &q->res) != 0)
			tg_after(s, q);
		else if (corp_http_start(s->http, s->tg_url, corp_tg_headers,
		    q->data, strlen(q->data), NULL, q, err) != 0)
			rc = -1;
		else
			rc = CORP_SENDER_STARTED;
		json_decref(markup);
	}
	if (rc != CORP_SENDER_STARTED) {
		*res = q->res;
		free(q->data);
		free(q);
	}
	return rc;
}

/* The answer to a request tg_start made, judged as tg_send judges it. */
static void
tg_end(struct corp_sender *s, struct corp_http_req *h, void *arg,
    struct flying *f)
{
	struct tg_req *q = arg;
	struct corp_http_resp r;
	struct corp_err e;
	int rc;

	rc = corp_http_finish(h, s->tg_url, s->tg_token, &r, &e);
	corp_tg_answer(rc, &e, &r, s->tg_token, &q->res);
	tg_after(s, q);
	f->line = q->line;
	f->arg = q->arg;
	f->res = q->res;
	f->stage0 = q->stage0;
	free(q->data);
	free(q);
}

/* ---- webhook --------------------------------------------------- */

static int
wh_init(struct corp_sender *s, struct corp_err *err)
{
	int rc;

	/* No proxies: the vetted address is the peer. */
	if ((rc = http_open(s, 1, err)) != 0)
		return rc;
	corp_http_ssrf(s->http, s->o.allow, s->o.nallow);
	corp_http_allow_hint(s->http, s->o.allow_hint != NULL ?
	    s->o.allow_hint : "--allow CIDR of corp-send; corp-pipeline "
	    "passes config webhook.allow");
	return 0;
}

/*
 * The body: the event, with the recipient added at the end (corp-json.5
 * "The webhook body"), since many users may bind one endpoint.  A
 * shallow copy: the line's own event passes on unchanged.
 */
static char *
wh_body(json_t *line, json_t *ev)
{
	static const char *const keys[] = {
		"user_id", "login", "name", "role", "roles", NULL
	};
	json_t *body, *rcpt, *v;
	char *str = NULL;
	size_t i;

	if ((body = json_copy(ev)) == NULL || (rcpt = json_object()) == NULL) {
		json_decref(body);
		return NULL;
	}
	for (i = 0; keys[i] != NULL; i++)
		if ((v = json_object_get(line, keys[i])) != NULL &&
		    json_object_set(rcpt, keys[i], v) != 0)
			goto out;
	if (json_object_set(body, "recipient", rcpt) == 0)
		str = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(rcpt);
	json_decref(body);
	return str;
}

/* A webhook line between the checks and the answer (wh_send, or in
 * flight: corp_sender_start). */
struct wh_req {
	json_t			*line;
	void			*arg;		/* corp_sender_start's */
	struct corp_sendres	 res;
	int			 stage0;	/* the stage before it */
	const char		*name;		/* the endpoint (the line's) */
	char			*url, *secret, *body, *sname, id[32];
	struct corp_down	 down;
	struct corp_webhook_req	 w;		/* wh_start's request */
};

/*
 * Everything before the request: the endpoint, its URL and secret, the
 * body, the outage pause.  1 when the request is to be made; 0 when
 * q->res already says what became of the line; -1 for a failure of the
 * stage (err).
 */
static int
wh_before(struct corp_sender *s, struct wh_req *q, struct corp_err *err)
{
	json_t *ev = json_object_get(q->line, "event");
	struct corp_sendres *res = &q->res;
	char what[100];
	struct corp_err e;
	int rc;

	corp_sendres_init(res);
	res->attempted = 0;
	q->name = json_string_value(json_object_get(q->line, "address"));
	if (!corp_webhook_name_ok(q->name)) {
		corp_sendres_set(res, CORP_SEND_FAILED, "address is not a "
		    "webhook endpoint name ([A-Za-z0-9_.-]+)");
		return 0;
	}
	if (!json_is_object(ev)) {
		corp_sendres_set(res, CORP_SEND_FAILED, "missing event");
		return 0;
	}
	/* An endpoint or secret the operator has not set up holds the
	 * line; an unsafe or unparsable file holds the stage. */
	if ((rc = corp_webhook_url(q->name, &q->url, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_sendres_hold(res, "%s", e.msg);
		else
			stage_hold(s, rc, e.msg);
		return 0;
	}
	snprintf(what, sizeof(what), "webhook endpoint %s", q->name);
	if (corp_url_check(q->url, CORP_URL_HTTP, s->o.allow_http, what,
	    CORP_ECONFIG, &e) != 0) {
		/* The operator's file: held until it is fixed. */
		corp_sendres_hold(res, "%s", e.msg);
		return 0;
	}
	if (corp_asprintf(&q->sname, "webhook-%s", q->name) < 0) {
		oom(err);
		return -1;
	}
	if ((rc = corp_secret(NULL, q->sname, &q->secret, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_sendres_hold(res, "%s", e.msg);
		else
			stage_hold(s, rc, e.msg);
		return 0;
	}
	/* A malformed secret is the operator's to fix: held, as a missing
	 * one is, never failed. */
	if (corp_webhook_secret_check(q->secret, q->sname, &e) != 0) {
		corp_sendres_hold(res, "%s/secrets/%s", corp_cfg.data_dir,
		    e.msg);
		return 0;
	}
	if ((q->body = wh_body(q->line, ev)) == NULL) {
		oom(err);
		return -1;
	}
	snprintf(q->id, sizeof(q->id), "%lld",
	    (long long)json_integer_value(json_object_get(q->line,
	    "delivery_id")));
	return down_before(s, "webhook", q->name, NULL, &q->down,
	    res) ? 0 : 1;
}

/* Everything after the answer: the outage, the pause cap. */
static void
wh_after(struct corp_sender *s, struct wh_req *q)
{
	down_after(s, "webhook", q->name, &q->down, &q->res);
	if (q->res.result == CORP_SEND_RETRY && q->res.error_class == NULL)
		cap_pause(s, &q->res);
}

static void
wh_free(struct wh_req *q)
{
	free(q->url);
	free(q->sname);
	free(q->body);
	if (q->secret != NULL) {
		explicit_bzero(q->secret, strlen(q->secret));
		free(q->secret);
	}
	corp_webhook_req_free(&q->w);
	q->url = q->sname = q->body = q->secret = NULL;
}

static int
wh_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	struct wh_req q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.line = line;
	if ((rc = wh_before(s, &q, err)) == 1) {
		corp_webhook_post(s->http, q.url, q.id, q.secret, q.body,
		    strlen(q.body), s->o.allow, s->o.nallow, &q.res);
		wh_after(s, &q);
	}
	*res = q.res;
	wh_free(&q);
	return rc < 0 ? -1 : 0;
}

/*
 * The same line in flight (corp_sender_start): the checks and the SSRF
 * judgement (the host resolved here, blocking, the connection pinned to
 * the address judged, the rule applied again at connect) before the
 * request is added; its answer judged in wh_end.  CORP_SENDER_STARTED,
 * or 0 when res says what became of the line at once; -1 for a failure
 * of the stage.
 */
static int
wh_start(struct corp_sender *s, json_t *line, void *arg,
    struct corp_sendres *res, struct corp_err *err)
{
	struct wh_req *q;
	int rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return oom(err);
	q->line = line;
	q->arg = arg;
	q->stage0 = s->stage_code;
	if ((rc = wh_before(s, q, err)) == 1) {
		if (corp_webhook_prepare(&q->w, s->http, q->url, q->id,
		    q->secret, q->body, strlen(q->body), s->o.allow,
		    s->o.nallow, &q->res) != 0) {
			wh_after(s, q);
			rc = 0;
		} else if (corp_http_start(s->http, q->url, q->w.hdr, q->body,
		    strlen(q->body), q->w.connect_to, q, err) != 0)
			rc = -1;
		else
			return CORP_SENDER_STARTED;
	}
	*res = q->res;
	wh_free(q);
	free(q);
	return rc < 0 ? -1 : 0;
}

/* The answer to a request wh_start made, judged as wh_send judges it. */
static void
wh_end(struct corp_sender *s, struct corp_http_req *h, void *arg,
    struct flying *f)
{
	struct wh_req *q = arg;
	struct corp_http_resp r;
	struct corp_err e;
	int rc;

	rc = corp_http_finish(h, q->url, NULL, &r, &e);
	corp_webhook_answer(rc, &e, &r, &q->res);
	wh_after(s, q);
	f->line = q->line;
	f->arg = q->arg;
	f->res = q->res;
	f->stage0 = q->stage0;
	wh_free(q);
	free(q);
}

/* ---- email ----------------------------------------------------- */

static int
email_init(struct corp_sender *s, struct corp_err *err)
{
	struct corp_smtp_conf *c = &s->smtp_conf;
	struct corp_err e;
	char *pw = NULL;
	int rc;

	if ((s->o.smtp_url && (c->url = strdup(s->o.smtp_url)) == NULL) ||
	    (s->o.from && (c->from = strdup(s->o.from)) == NULL) ||
	    (s->o.smtp_user && (c->user = strdup(s->o.smtp_user)) == NULL))
		return oom(err);
	/* smtp.conf is configuration: what is wrong in it holds the
	 * lines (78); a bad option is a usage error (64). */
	if ((rc = corp_smtp_conf_load(c, &e)) != 0) {
		if (rc == CORP_EINTERNAL)
			return corp_errf(err, rc, "%s", e.msg);
		stage_hold(s, rc, e.msg);
		return 0;
	}
	if (c->url == NULL || c->from == NULL) {
		if (s->o.smtp_url != NULL || s->o.from != NULL)
			return corp_errf(err, CORP_EUSAGE, "email needs a "
			    "server and a sender: --smtp-url and --from, or "
			    "url and from in smtp.conf");
		if ((rc = corp_data_path(&pw, "smtp.conf", err)) != 0)
			return rc;
		corp_errf(&e, CORP_ECONFIG, "email needs a server and a "
		    "sender: url and from in %s (or --smtp-url and --from)",
		    pw);
		free(pw);
		stage_hold(s, CORP_ECONFIG, e.msg);
		return 0;
	}
	if (s->o.smtp_url != NULL) {
		if ((rc = corp_url_check(c->url, CORP_URL_SMTP, 0,
		    "--smtp-url", CORP_EUSAGE, err)) != 0)
			return rc;
	} else if (corp_url_check(c->url, CORP_URL_SMTP, 0, "smtp.conf: url",
	    CORP_ECONFIG, &e) != 0) {
		stage_hold(s, CORP_ECONFIG, e.msg);
		return 0;
	}
	if (corp_email_addr_check(c->from, &e) != 0) {
		if (s->o.from != NULL) {
			corp_errf(err, CORP_EUSAGE, "--from: %s", e.msg);
			return CORP_EUSAGE;
		}
		corp_errprefix(&e, "smtp.conf: from");
		stage_hold(s, CORP_ECONFIG, e.msg);
		return 0;
	}
	if (c->user != NULL && (rc = corp_secret(corp_cfg.smtp_password,
	    "smtp_password", &pw, &e)) != 0) {
		stage_hold(s, rc, e.msg);
		return 0;
	}
	rc = corp_smtp_open(&s->smtp, c, pw, corp_cfg.ca_file,
	    s->o.connect_ms, s->o.total_ms, err);
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	return rc;
}

static int
email_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	const char *to = json_string_value(json_object_get(line, "address"));
	const char *text = json_string_value(json_object_get(line, "text"));
	const char *subject = NULL;
	struct corp_down down;
	struct corp_err e;
	char *msg;
	int rc;

	corp_sendres_init(res);
	res->attempted = 0;
	/* Never an 8-bit address on the wire: corp does not use SMTPUTF8. */
	if (corp_email_addr_check(to, &e) != 0) {
		corp_sendres_set(res, CORP_SEND_FAILED, "address: %s",
		    to == NULL ? "not a string" : e.msg);
		return 0;
	}
	if (corp_json_str(line, "subject", &subject, 0, &e) != 0) {
		corp_sendres_set(res, CORP_SEND_FAILED, "%s", e.msg);
		return 0;
	}
	if ((rc = corp_email_message(s->smtp_conf.from, to, subject, text,
	    time(NULL), &msg, err)) != 0)
		return rc;
	if (!down_before(s, "email", s->smtp_conf.url, NULL, &down, res)) {
		corp_smtp_send(s->smtp, to, msg, res);
		down_after(s, "email", s->smtp_conf.url, &down, res);
	}
	free(msg);
	if (res->bad_token)
		stage_fail(s, CORP_EFORBIDDEN, "smtp login denied", "email: "
		    "the SMTP server refused the login");
	return 0;
}

/* ---- exec ------------------------------------------------------ */

static int
exec_init(struct corp_sender *s, struct corp_err *err)
{
	(void)s;
	(void)err;
	return 0;
}

static int
exec_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	const char *name = json_string_value(json_object_get(line,
	    "address"));
	struct corp_err e;
	char *path = NULL, *str;
	size_t len;
	struct corp_cmd cmd;
	int rc;

	corp_sendres_init(res);
	res->attempted = 0;
	if (!corp_webhook_name_ok(name)) {
		corp_sendres_set(res, CORP_SEND_FAILED, "address is not an exec "
		    "command name ([A-Za-z0-9_.-]+)");
		return 0;
	}
	if ((rc = corp_exec_lookup_fd(name, &path, &cmd, &e)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_sendres_hold(res, "%s", e.msg);
		else
			stage_hold(s, rc, e.msg);
		return 0;
	}
	if ((str = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		corp_cmd_close(&cmd);
		free(path);
		return oom(err);
	}
	len = strlen(str);
	str[len++] = '\n';	/* one JSON line; json_dumps left room */
	corp_exec_run(&cmd, path, str, len, s->o.exec_ms, res);
	corp_cmd_close(&cmd);
	free(str);
	free(path);
	return 0;
}

/* ---- file -------------------------------------------------------- */

/*
 * An outbox that cannot be opened fails the stage, not the lines: each
 * passes on as retry, not attempted (corp-send.1 EXIT STATUS), so that
 * a pipe gives its leases back at once; a link planted in the data dir
 * is the configuration's fault: its lines are held (77).
 */
static int
file_init(struct corp_sender *s, struct corp_err *err)
{
	struct corp_err e;
	struct stat st;
	int rc;

	if (s->o.out != NULL) {
		if ((s->file_path = strdup(s->o.out)) == NULL)
			return oom(err);
	} else if ((rc = corp_data_mkpath(&s->file_path, "outbox.jsonl",
	    err)) != 0)
		return rc;
	/*
	 * The outbox and --out alike: never through a symbolic link
	 * (O_NOFOLLOW), only a regular file (a FIFO would hang the stage,
	 * a device is no outbox; O_NONBLOCK so the open itself cannot
	 * block), appended to and never truncated.  An outbox that cannot
	 * be used holds (refused: 77) or retries (1) every line: the
	 * stage still acks each one, so no row waits out its lease.
	 */
	if (lstat(s->file_path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISLNK(st.st_mode))
		(void)corp_errf(&e, CORP_EFORBIDDEN, "%s: not a regular "
		    "file", s->file_path);
	else if ((s->o.out != NULL ? corp_out_open(s->file_path, O_WRONLY |
	    O_APPEND | O_CREAT | O_NONBLOCK, 0600, &s->file_fd, &e) :
	    corp_open_nofollow(s->file_path, O_WRONLY | O_APPEND | O_CREAT |
	    O_NONBLOCK, 0600, &s->file_fd, &e)) != 0)
		s->file_fd = -1;
	else {
		/*
		 * The file opened is the file judged (fstat of its own
		 * descriptor): an existing one must be the running user's
		 * or root's, writable by neither group nor others, and have
		 * no other name (a hard link to a victim, where
		 * fs.protected_hardlinks is 0).  One corp creates is 0600.
		 */
		if (fstat(s->file_fd, &st) != 0)
			rc = corp_errf(&e, CORP_EINTERNAL, "%s: %s",
			    s->file_path, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			rc = corp_errf(&e, CORP_EFORBIDDEN, "%s: not a "
			    "regular file", s->file_path);
		else if (st.st_nlink != 1)
			rc = corp_errf(&e, CORP_EFORBIDDEN, "%s: %ju hard "
			    "links; corp appends only to a file with one "
			    "name: remove the other links or name another "
			    "file", s->file_path, (uintmax_t)st.st_nlink);
		else
			rc = corp_trust_stat(s->file_path, &st, &e);
		if (rc != 0) {
			(void)close(s->file_fd);
			s->file_fd = -1;
		}
	}
	if (s->file_fd >= 0)
		return 0;
	if (e.code == CORP_EFORBIDDEN)
		stage_hold(s, e.code, e.msg);
	else
		stage_fail(s, e.code, e.msg, e.msg);
	return 0;
}

/*
 * Append one line.  Under an flock of the outbox (another corp-send or
 * run worker appends between our lines, never inside them), from the
 * file's end: a write that fails or stops short (a full disk) is cut
 * back out with ftruncate, so the file holds only whole lines (issue
 * 16.9), and the stage fails: this line and the rest are retry.
 */
static int
file_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	char *str, why[900];
	size_t len, off = 0;
	off_t start = -1;
	ssize_t n;
	int e = 0;

	corp_sendres_init(res);
	if ((str = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		return oom(err);
	len = strlen(str);
	str[len++] = '\n';	/* json_dumps left room: it was the NUL */
	if (flock(s->file_fd, LOCK_EX) != 0 ||
	    (start = lseek(s->file_fd, 0, SEEK_END)) < 0)
		e = errno;
	while (e == 0 && off < len) {
		n = write(s->file_fd, str + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			e = n < 0 ? errno : ENOSPC;
		else
			off += (size_t)n;
	}
	free(str);
	if (e != 0) {
		snprintf(why, sizeof(why), "%s: write: %s", s->file_path,
		    strerror(e));
		if (off > 0 && ftruncate(s->file_fd, start) != 0)
			snprintf(why, sizeof(why), "%s: write: %s, and "
			    "cutting the partial line back out failed: %s",
			    s->file_path, strerror(e), strerror(errno));
		stage_fail(s, CORP_EINTERNAL, why, why);
	}
	(void)flock(s->file_fd, LOCK_UN);
	return 0;
}

static int
file_flush(struct corp_sender *s, struct corp_err *err)
{
	if (s->file_fd < 0)	/* never opened: nothing was written */
		return 0;
	if (fsync(s->file_fd) != 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: fsync: %s",
		    s->file_path, strerror(errno));
	return 0;
}

/* ---- push (pushsend.h) ------------------------------------------ */

/* No key or subject holds the stage (78), as a missing token does. */
static int
push_init(struct corp_sender *s, struct corp_err *err)
{
	struct corp_err e;
	char *pem = NULL;
	int rc;

	if ((rc = http_open(s, 1, err)) != 0)
		return rc;
	corp_http_ssrf(s->http, s->o.allow, s->o.nallow);
	corp_http_allow_hint(s->http, s->o.allow_hint != NULL ?
	    s->o.allow_hint : "--allow CIDR of corp-send; corp-deliver run "
	    "passes config webhook.allow");
	if ((rc = corp_secret(NULL, "vapid.pem", &pem, &e)) != 0) {
		stage_hold(s, rc == CORP_ENOTFOUND ? CORP_ECONFIG : rc,
		    rc == CORP_ENOTFOUND ? "no VAPID key (corp-settings push "
		    "keygen)" : e.msg);
		return 0;
	}
	if (corp_pushsend_open(&s->push, pem, strlen(pem),
	    s->o.push_subject, &e) != 0)
		stage_hold(s, e.code == CORP_EINTERNAL ? e.code :
		    CORP_ECONFIG, e.msg);
	explicit_bzero(pem, strlen(pem));
	free(pem);
	return 0;
}

static int
push_send(struct corp_sender *s, json_t *line, struct corp_sendres *res,
    struct corp_err *err)
{
	if (corp_pushsend_line(s->push, s->http, line, res, err) != 0)
		return -1;
	if (res->result == CORP_SEND_RETRY && res->error_class == NULL)
		cap_pause(s, res);
	return 0;
}

/* ---- the stage --------------------------------------------------- */

static const struct channel channels[] = {
	{ "telegram", 1, tg_init, tg_send, NULL, tg_start, tg_end },
	{ "webhook", 0, wh_init, wh_send, NULL, wh_start, wh_end },
	{ "email", 1, email_init, email_send, NULL, NULL, NULL },
	{ "exec", 1, exec_init, exec_send, NULL, NULL, NULL },
	{ "file", 1, file_init, file_send, file_flush, NULL, NULL },
	{ "push", 1, push_init, push_send, NULL, NULL, NULL },
	{ NULL, 0, NULL, NULL, NULL, NULL, NULL }
};

static const struct channel *
find(const char *name)
{
	const struct channel *c;

	for (c = channels; name != NULL && c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
corp_sender_known(const char *name)
{
	return find(name) != NULL;
}

int
corp_sender_open(struct corp_sender **sp, const char *name,
    const struct corp_sender_opts *o, struct corp_err *err)
{
	struct corp_sender *s;
	int rc;

	*sp = NULL;
	if (find(name) == NULL)
		return corp_errf(err, CORP_EUSAGE, "unknown channel '%s'",
		    name ? name : "");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return oom(err);
	s->ch = find(name);
	s->o = *o;
	s->file_fd = -1;
	if ((rc = s->ch->init(s, err)) != 0) {
		corp_sender_close(s);
		return rc;
	}
	*sp = s;
	return 0;
}

void
corp_sender_close(struct corp_sender *s)
{
	if (s == NULL)
		return;
	corp_http_close(s->http);
	corp_rl_close(s->tg_rl);
	corp_smtp_close(s->smtp);
	corp_pushsend_close(s->push);
	free(s->smtp_conf.url);
	free(s->smtp_conf.from);
	free(s->smtp_conf.user);
	if (s->tg_token != NULL) {
		explicit_bzero(s->tg_token, strlen(s->tg_token));
		free(s->tg_token);
	}
	if (s->tg_down != NULL) {
		explicit_bzero(s->tg_down, strlen(s->tg_down));
		free(s->tg_down);
	}
	free(s->tg_down_path);
	json_decref(s->tg_body);
	if (s->tg_url != NULL) {	/* it holds the token */
		explicit_bzero(s->tg_url, strlen(s->tg_url));
		free(s->tg_url);
	}
	if (s->tg_button_key != NULL) {
		explicit_bzero(s->tg_button_key, strlen(s->tg_button_key));
		free(s->tg_button_key);
	}
	if (s->file_fd >= 0)
		close(s->file_fd);
	free(s->file_path);
	free(s);
}

int
corp_sender_stage(struct corp_sender *s, const char **news)
{
	if (news != NULL) {
		*news = NULL;
		if (s->stage_code != 0 && !s->stage_told) {
			s->stage_told = 1;
			*news = s->stage_why;
		}
	}
	return s->stage_code;
}

int
corp_sender_buffers(const struct corp_sender *s)
{
	return s->ch->flush != NULL;
}

int
corp_sender_flush(struct corp_sender *s, struct corp_err *err)
{
	return s->ch->flush != NULL ? s->ch->flush(s, err) : 0;
}

static int
ack(json_t *line, const struct corp_sendres *r)
{
	if (corp_json_set(line, "result",
	    json_string(corp_sendres_result_name(r->result))) != 0 ||
	    corp_json_set(line, "provider_message_id",
	    r->provider_id[0] ? json_string(r->provider_id) : json_null()) != 0 ||
	    corp_json_set(line, "error",
	    r->error[0] ? json_string(r->error) : json_null()) != 0 ||
	    (r->retry_after >= 0 && corp_json_set(line, "retry_after",
	    json_integer(r->retry_after)) != 0) ||
	    corp_json_set(line, "attempted", json_boolean(r->attempted)) != 0 ||
	    (r->error_class != NULL && corp_json_set(line, "error_class",
	    json_string(r->error_class)) != 0))
		return -1;
	return 0;
}

/* A line after a stage failure: retry, not attempted; held when the
 * configuration caused it. */
static void
stage_res(const struct corp_sender *s, struct corp_sendres *res)
{
	corp_sendres_init(res);
	if (s->stage_held)
		corp_sendres_hold(res, "%s", s->stage_err);
	else {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", s->stage_err);
	}
}

/*
 * A channel that sends text gets a line without it when corp-fmt was
 * left out of the pipe: never send "null" (corp-send.1).  1 when res
 * now says failed.
 */
static int
unrendered(json_t *line, struct corp_sendres *res)
{
	json_t *t = json_object_get(line, "text");

	if (json_is_string(t))
		return 0;
	res->attempted = 0;
	if (t == NULL || json_is_null(t))
		corp_sendres_set(res, CORP_SEND_FAILED,
		    "not rendered (missing corp-fmt?)");
	else
		corp_sendres_set(res, CORP_SEND_FAILED,
		    "field \"text\" must be a string");
	return 1;
}

/*
 * corp_sender_line, or with arg != NULL corp_sender_start: the checks,
 * then the channel's send (or start: CORP_SENDER_STARTED, no ack yet).
 */
static int
line_do(struct corp_sender *s, json_t *line, void *arg,
    struct corp_sendres *resp, struct corp_err *err)
{
	struct corp_sendres res0, *res = resp ? resp : &res0;
	struct corp_err e;
	const char *lease, *until, *c;
	long long id;
	time_t t;
	int rc, ret = CORP_SENDER_DONE;

	corp_sendres_init(res);
	if (json_object_get(line, "result") != NULL) {
		res->result = -1;	/* an earlier stage decided */
		return CORP_SENDER_DONE;
	}
	if (corp_json_id(line, "delivery_id", &id, 1, &e) != 0 ||
	    corp_json_str(line, "lease", &lease, 1, &e) != 0) {
		corp_sendres_set(res, CORP_SEND_FAILED, "%s",
		    strncmp(e.msg, "missing field \"", 15) == 0 ?
		    (strstr(e.msg, "delivery_id") ? "missing delivery_id" :
		    "missing lease") : e.msg);
		res->attempted = 0;
		ret = CORP_SENDER_INVALID;
	} else if (s->stage_code != 0) {
		stage_res(s, res);
	} else if (corp_json_str(line, "lease_until", &until, 0, &e) != 0 ||
	    (until != NULL && corp_time_parse(until, &t, &e) != 0)) {
		corp_sendres_set(res, CORP_SEND_FAILED, "lease_until: %s",
		    e.msg);
		res->attempted = 0;
	} else if (until != NULL && corp_now() >= t) {
		/* Never send on a lease that may be someone else's now. */
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "lease expired");
	} else if (corp_json_str(line, "channel", &c, 0, &e) != 0 ||
	    (c != NULL && strcmp(c, s->ch->name) != 0)) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "the line is for "
		    "channel %s, not %s", c != NULL ? c : "?", s->ch->name);
	} else if (s->ch->needs_text && unrendered(line, res)) {
		;
	} else if (arg != NULL && s->inflight > 0) {
		if ((rc = s->ch->start(s, line, arg, res, err)) ==
		    CORP_SENDER_STARTED)
			return rc;
		if (rc != 0)
			return -1;
		if (s->stage_code != 0)
			stage_res(s, res);
	} else {
		/* A failure of the channel itself (not of this line) ends
		 * the stage: negative, so it never reads as a line result. */
		if ((rc = s->ch->send(s, line, res, err)) != 0)
			return -1;
		if (s->stage_code != 0)
			stage_res(s, res);
	}
	if (ack(line, res) != 0) {
		oom(err);
		return -1;
	}
	return ret;
}

int
corp_sender_line(struct corp_sender *s, json_t *line,
    struct corp_sendres *resp, struct corp_err *err)
{
	return line_do(s, line, NULL, resp, err);
}

void
corp_sender_on_wait(struct corp_sender *s, void (*fn)(void *, long long),
    void *arg)
{
	s->on_wait = fn;
	s->on_wait_arg = arg;
}

int
corp_sender_inflight(struct corp_sender *s, int n, struct corp_err *err)
{
	int rc;

	if (n <= 1 || s->ch->start == NULL || s->http == NULL)
		return 0;
	if ((rc = corp_http_inflight(s->http, n, err)) != 0)
		return rc;
	s->inflight = n;
	return 0;
}

int
corp_sender_start(struct corp_sender *s, json_t *line, void *arg,
    struct corp_sendres *res, struct corp_err *err)
{
	return line_do(s, line, arg, res, err);
}

int
corp_sender_pending(const struct corp_sender *s)
{
	return s->inflight > 0 ? corp_http_pending(s->http) : 0;
}

int
corp_sender_wait(struct corp_sender *s, int ms, void **arg,
    struct corp_sendres *res, struct corp_err *err)
{
	struct corp_http_req *h;
	struct flying f;
	void *a;
	int rc;

	*arg = NULL;
	if (s->inflight == 0 || corp_http_pending(s->http) == 0)
		return 0;
	if ((rc = corp_http_wait(s->http, ms, &a, &h, err)) != 0)
		return -1;
	if (h == NULL)
		return 0;
	s->ch->end(s, h, a, &f);
	/* The stage failed on this very answer (a bad token): the line
	 * says so, as corp_sender_line's does; answers to requests made
	 * before it keep what the server said. */
	if (f.stage0 == 0 && s->stage_code != 0)
		stage_res(s, &f.res);
	*res = f.res;
	*arg = f.arg;
	rc = ack(f.line, res);
	if (rc != 0) {
		oom(err);
		return -1;
	}
	return 0;
}

int
corp_sender_report(struct corp_sender *s, json_t *line,
    const struct corp_sendres *r, char *buf, size_t len)
{
	json_t *t = json_object_get(json_object_get(line, "event"),
	    "trace_id");

	buf[0] = '\0';
	if (r->result < 0 || r->result == CORP_SEND_SENT ||
	    s->stage_code != 0)
		return 0;
	snprintf(buf, len, "delivery %lld: %s: %s%s%s",
	    (long long)json_integer_value(json_object_get(line,
	    "delivery_id")), corp_sendres_result_name(r->result), r->error,
	    json_is_string(t) ? " trace=" : "",
	    json_is_string(t) ? json_string_value(t) : "");
	return 1;
}
