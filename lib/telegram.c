/* telegram.c -- see telegram.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corp.h"
#include "http.h"
#include "sendres.h"
#include "telegram.h"
#include "text.h"

int
corp_tg_chat_id(const char *s, long long *chat)
{
	const char *es;
	long long v;

	if (s == NULL || *s == '\0' || *s == '+' || *s == '0')
		return -1;
	v = strtonum(s, 1, (1LL << 53) - 1, &es);
	if (es != NULL)
		return -1;
	*chat = v;
	return 0;
}

/*
 * Telegram's description, or a stand-in, made safe for an ack line: the
 * token is redacted from the whole text before it is cut to size, so a
 * cut can never leave part of it behind.
 */
static void
description(json_t *doc, long status, const char *token, char *buf,
    size_t size)
{
	json_t *d = json_object_get(doc, "description");
	size_t len, cap, i;
	char *full;

	if (!json_is_string(d)) {
		snprintf(buf, size, "HTTP %ld", status);
		return;
	}
	/* "<redacted>" may be longer than a short token: room for that. */
	len = json_string_length(d);
	cap = len * 11 + 1;
	if ((full = malloc(cap)) == NULL) {
		snprintf(buf, size, "HTTP %ld", status);
		return;
	}
	memcpy(full, json_string_value(d), len);
	full[len] = '\0';
	/* U+0000 inside (the answer is read with JSON_ALLOW_NUL): a '?',
	 * never the end of the text. */
	for (i = 0; i < len; i++)
		if (full[i] == '\0')
			full[i] = '?';
	corp_redact(full, cap, token);
	snprintf(buf, size, "%s", full);
	free(full);
	corp_server_text(buf);
}

json_t *
corp_tg_body_new(void)
{
	return json_pack("{s:I, s:s, s:s, s:{s:b}}", "chat_id", (json_int_t)0,
	    "text", "", "parse_mode", "HTML", "link_preview_options",
	    "is_disabled", 1);
}

int
corp_tg_url(const char *api, const char *token, char **url)
{
	size_t alen = strlen(api);

	while (alen > 0 && api[alen - 1] == '/')
		alen--;
	return corp_asprintf(url, "%.*s/bot%s/sendMessage", (int)alen, api,
	    token) < 0 ? -1 : 0;
}

/*
 * The template's chat_id and text are replaced in place (the keys keep
 * their places: the body is byte for byte what a new object gives),
 * reply_markup added at the end and taken out again; the text is
 * dumped into a buffer on the stack, then copied once to the heap.
 */
int
corp_tg_body(json_t *tpl, long long chat, const char *text,
    json_t *reply_markup, char **data, struct corp_sendres *res)
{
	char buf[4096];
	size_t n = 0;
	int bad;

	*data = NULL;
	bad = json_object_set_new(tpl, "chat_id", json_integer(
	    (json_int_t)chat)) != 0 || json_object_set_new(tpl, "text",
	    json_string(text)) != 0 || (reply_markup != NULL &&
	    json_object_set(tpl, "reply_markup", reply_markup) != 0);
	if (!bad && (n = json_dumpb(tpl, buf, sizeof(buf), JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) > 0 && n < sizeof(buf)) {
		if ((*data = malloc(n + 1)) != NULL) {
			memcpy(*data, buf, n);
			(*data)[n] = '\0';
		}
	} else if (!bad && n > 0)
		*data = json_dumps(tpl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (reply_markup != NULL)
		(void)json_object_del(tpl, "reply_markup");
	if (*data == NULL) {
		corp_sendres_init(res);
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
		res->attempted = 0;
		return -1;
	}
	return 0;
}

int
corp_tg_send_req(const char *api, const char *token, long long chat,
    const char *text, json_t *reply_markup, char **url, char **data,
    struct corp_sendres *res)
{
	json_t *tpl;
	int rc;

	corp_sendres_init(res);
	*url = *data = NULL;
	if ((tpl = corp_tg_body_new()) == NULL || corp_tg_url(api, token,
	    url) != 0 || (rc = corp_tg_body(tpl, chat, text, reply_markup,
	    data, res)) != 0) {
		json_decref(tpl);
		free(*url);
		*url = NULL;
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
		res->attempted = 0;
		return -1;
	}
	json_decref(tpl);
	return rc;
}

void
corp_tg_answer(int rc, const struct corp_err *e, struct corp_http_resp *r,
    const char *token, struct corp_sendres *res)
{
	if (rc != 0) {
		corp_sendres_set(res, rc == CORP_ETEMP ? CORP_SEND_RETRY :
		    CORP_SEND_FAILED, "telegram: %s", e->msg);
		/* A refused URL never left; a timeout may have. */
		if (rc != CORP_ETEMP)
			res->attempted = 0;
		else if (r->unreachable) {
			res->attempted = 0;
			res->error_class = "unreachable";
		}
		return;
	}
	corp_tg_classify(r->status, r->body, r->retry_after, token, res);
	corp_http_resp_free(r);
}

const char *const corp_tg_headers[] = {
	"Content-Type: application/json", NULL
};

void
corp_tg_send(struct corp_http *h, const char *api, const char *token,
    long long chat, const char *text, json_t *reply_markup,
    struct corp_sendres *res)
{
	struct corp_http_resp r;
	struct corp_err e;
	char *url, *data;
	int rc;

	if (corp_tg_send_req(api, token, chat, text, reply_markup, &url,
	    &data, res) != 0)
		return;
	rc = corp_http_post(h, url, corp_tg_headers, data, strlen(data), NULL, token, &r,
	    &e);
	free(url);
	free(data);
	corp_tg_answer(rc, &e, &r, token, res);
}

void
corp_tg_call(struct corp_http *h, const char *api, const char *token,
    const char *method, json_t *body, struct corp_sendres *res)
{
	static const char *const hdr[] = {
		"Content-Type: application/json", NULL
	};
	struct corp_http_resp r;
	struct corp_err e;
	char *url = NULL, *data = NULL;
	size_t alen = strlen(api);
	int rc;

	corp_sendres_init(res);
	while (alen > 0 && api[alen - 1] == '/')
		alen--;
	if (corp_asprintf(&url, "%.*s/bot%s/%s", (int)alen, api, token,
	    method) < 0 || (data = json_dumps(body, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		free(url);
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
		res->attempted = 0;
		return;
	}
	rc = corp_http_post(h, url, hdr, data, strlen(data), NULL, token, &r,
	    &e);
	free(url);
	free(data);
	if (rc != 0) {
		corp_sendres_set(res, rc == CORP_ETEMP ? CORP_SEND_RETRY :
		    CORP_SEND_FAILED, "telegram: %s", e.msg);
		if (rc != CORP_ETEMP || r.unreachable) {
			res->attempted = 0;
			if (rc == CORP_ETEMP)
				res->error_class = "unreachable";
		}
		return;
	}
	corp_tg_classify(r.status, r.body, r.retry_after, token, res);
	corp_http_resp_free(&r);
}

/*
 * A Bot API answer read with jansson.  U+0000 in a string is taken (the
 * reader of a string checks it), an integer beyond 64 bits is read as a
 * double; *unreadable is set when the body is JSON jansson still cannot
 * hold: a number beyond a double's range (1e400), U+0000 in a key, or
 * nesting past jansson's depth.  Anything else that does not parse (an
 * empty or cut body, a proxy's HTML page) is NULL without *unreadable.
 */
static json_t *
tg_json(const char *body, size_t len, int *unreadable, char *why,
    size_t whysize)
{
	json_error_t je;
	json_t *doc;
	int code;

	*unreadable = 0;
	if (why != NULL)
		why[0] = '\0';
	if (body == NULL)
		return NULL;
	if ((doc = json_loadb(body, len, JSON_ALLOW_NUL, &je)) != NULL)
		return doc;
	if (json_error_code(&je) == json_error_numeric_overflow &&
	    (doc = json_loadb(body, len, JSON_ALLOW_NUL |
	    JSON_DECODE_INT_AS_REAL, &je)) != NULL)
		return doc;
	code = json_error_code(&je);
	*unreadable = code == json_error_numeric_overflow ||
	    code == json_error_null_byte_in_key ||
	    code == json_error_stack_overflow;
	if (why != NULL) {
		/* jansson quotes the input: made one safe line. */
		snprintf(why, whysize, "%s", je.text);
		corp_server_text(why);
	}
	return NULL;
}

void
corp_tg_classify(long status, const char *body, long long retry_after,
    const char *token, struct corp_sendres *res)
{
	json_t *doc, *v;
	char desc[400];
	int unreadable;

	doc = tg_json(body, body != NULL ? strlen(body) : 0, &unreadable,
	    NULL, 0);
	description(doc, status, token, desc, sizeof(desc));
	if (status == 200 && unreadable) {
		/*
		 * The Bot API answers 200 only with "ok":true: the message
		 * went.  An answer jansson cannot hold (1e400 in any field)
		 * is sent with no id, and said so: a retry would send it
		 * again on every attempt (corp-send.1).
		 */
		corp_sendres_set(res, CORP_SEND_SENT, "telegram: the "
		    "answer (HTTP 200) holds a number or key jansson cannot "
		    "read; taken as sent, message id unknown");
	} else if (status == 200) {
		v = json_object_get(json_object_get(doc, "result"),
		    "message_id");
		if (json_is_true(json_object_get(doc, "ok"))) {
			/* Telegram says it went: sent, whatever the id
			 * (an id that is no positive integer, 1e300 say, is
			 * not kept; sending again would duplicate). */
			if (json_is_integer(v) && json_integer_value(v) > 0)
				snprintf(res->provider_id,
				    sizeof(res->provider_id), "%lld",
				    (long long)json_integer_value(v));
		} else
			/* It may have been sent: at least once, DESIGN 5. */
			corp_sendres_set(res, CORP_SEND_RETRY,
			    "telegram: unexpected answer to sendMessage");
	} else if (status == 401 || status == 404) {
		corp_sendres_set(res, CORP_SEND_RETRY, "bad token");
		res->attempted = 0;
		res->bad_token = 1;
	} else if (status == 429) {
		/* An outside number: 1..CORP_RETRY_AFTER_MAX (the senders
		 * cap the pause far lower, --max-pause). */
		v = json_object_get(json_object_get(doc, "parameters"),
		    "retry_after");
		if (unreadable)
			/* 1e400 somewhere, perhaps retry_after: the header's
			 * value, else the most (then capped by
			 * telegram.max_pause, and said so). */
			res->retry_after = retry_after >= 0 ? retry_after :
			    CORP_RETRY_AFTER_MAX;
		else if (json_is_integer(v) && json_integer_value(v) > 0)
			res->retry_after = json_integer_value(v);
		else if (json_is_real(v) && json_real_value(v) > 0)
			/* 30.5 waits 31 s; 1e300 the most (then capped by
			 * telegram.max_pause, and said so). */
			res->retry_after = json_real_value(v) >=
			    (double)CORP_RETRY_AFTER_MAX ?
			    CORP_RETRY_AFTER_MAX :
			    (long long)ceil(json_real_value(v));
		else
			res->retry_after = 1;
		if (res->retry_after > CORP_RETRY_AFTER_MAX)
			res->retry_after = CORP_RETRY_AFTER_MAX;
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", desc);
	} else if (status == 403)
		corp_sendres_set(res, CORP_SEND_UNBOUND, "%s", desc);
	else if (status >= 500)
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", desc);
	else if (status >= 300 && status < 400)
		corp_sendres_set(res, CORP_SEND_FAILED,
		    "telegram: HTTP %ld redirect not followed", status);
	else
		corp_sendres_set(res, CORP_SEND_FAILED, "%s", desc);
	if (res->result != CORP_SEND_SENT && retry_after >= 0 &&
	    res->retry_after < 0)
		res->retry_after = retry_after;
	json_decref(doc);
}

int
corp_tg_get_updates(struct corp_http *h, const char *api, const char *token,
    long long offset, int timeout, int limit, json_t **updates,
    int *too_big, char **raw, size_t *rawlen, struct corp_err *err)
{
	static const char *const hdr[] = {
		"Content-Type: application/json", NULL
	};
	struct corp_http_resp r;
	json_t *body, *doc = NULL, *res;
	char *url = NULL, *data = NULL, desc[400], why[JSON_ERROR_TEXT_LENGTH];
	size_t alen = strlen(api);
	int rc, unreadable;

	*updates = NULL;
	*too_big = 0;
	*raw = NULL;
	*rawlen = 0;
	while (alen > 0 && api[alen - 1] == '/')
		alen--;
	body = json_pack("{s:i, s:i, s:[s,s,s,s,s,s]}", "timeout", timeout,
	    "limit", limit, "allowed_updates", "message", "edited_message",
	    "channel_post", "edited_channel_post", "my_chat_member",
	    "callback_query");
	if (body != NULL && offset >= 0 && json_object_set_new(body, "offset",
	    json_integer(offset)) != 0) {
		json_decref(body);
		body = NULL;
	}
	if (body == NULL || corp_asprintf(&url, "%.*s/bot%s/getUpdates",
	    (int)alen, api, token) < 0 || (data = json_dumps(body,
	    JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(body);
		free(url);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	json_decref(body);
	rc = corp_http_post(h, url, hdr, data, strlen(data), NULL, token, &r,
	    err);
	free(url);
	free(data);
	if (rc != 0)
		return corp_errprefix(err, "telegram: getUpdates");
	if (r.status == 200 && r.truncated) {
		/* A cut answer never parses: the caller asks for less. */
		*too_big = 1;
		rc = corp_errf(err, CORP_ETEMP, "telegram: getUpdates: the "
		    "answer to limit=%d is larger than %zu bytes", limit,
		    r.len);
		corp_http_resp_free(&r);
		return rc;
	}
	/* U+0000 in one update must not spoil the answer: the handler
	 * (corp_tgupdate_handle_tx) refuses that update alone. */
	doc = tg_json(r.body, r.len, &unreadable, why, sizeof(why));
	description(doc, r.status, token, desc, sizeof(desc));
	corp_redact(desc, sizeof(desc), token);
	res = json_object_get(doc, "result");
	if (r.status == 200 && json_is_true(json_object_get(doc, "ok")) &&
	    json_is_array(res)) {
		*updates = json_incref(res);
		rc = 0;
	} else if (r.status == 200 && unreadable) {
		/* JSON, but not what jansson holds: the caller asks for
		 * fewer, down to the one update that holds it. */
		corp_redact(why, sizeof(why), token);
		rc = corp_errf(err, CORP_ETEMP, "telegram: getUpdates: the "
		    "answer to limit=%d cannot be read (%s)", limit, why);
		*raw = r.body;
		*rawlen = r.len;
		r.body = NULL;
	} else if (r.status == 200)
		rc = corp_errf(err, CORP_ETEMP, "telegram: getUpdates: "
		    "unexpected answer");
	else if (r.status == 409)
		rc = corp_errf(err, CORP_ECONFLICT, "telegram: getUpdates: %s",
		    desc);
	else if (r.status == 401 || r.status == 404)
		rc = corp_errf(err, CORP_EFORBIDDEN, "telegram: getUpdates: "
		    "bad token (HTTP %ld)", r.status);
	else
		rc = corp_errf(err, CORP_ETEMP, "telegram: getUpdates: %s",
		    desc);
	json_decref(doc);
	corp_http_resp_free(&r);
	return rc;
}

int
corp_tg_get_updates_fit(struct corp_http *h, const char *api,
    const char *token, long long offset, int timeout, int *limit,
    json_t **updates, char **raw, size_t *rawlen,
    void (*warn)(void *, const char *), void *arg, struct corp_err *err)
{
	char *msg;
	int rc, big;

	*raw = NULL;
	*rawlen = 0;
	for (;;) {
		rc = corp_tg_get_updates(h, api, token, offset, timeout,
		    *limit, updates, &big, raw, rawlen, err);
		if (rc == 0 || (!big && *raw == NULL))
			return rc;
		if (*raw != NULL && *limit == 1)
			/* The one update at the offset: the caller refuses
			 * it from its bytes (corp-tg.1, Poison updates). */
			return 0;
		free(*raw);
		*raw = NULL;
		*rawlen = 0;
		if (big && *limit == 1)
			return corp_errf(err, CORP_EINVAL, "telegram: "
			    "getUpdates: the update at offset %lld is larger "
			    "than %d bytes alone; the poller cannot pass it "
			    "(see corp-tg(1) CAVEATS)", offset,
			    CORP_TG_UPDATES_MAX);
		*limit /= 2;
		if (corp_asprintf(&msg, "%s; asking for %d at a time",
		    err->msg, *limit) < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		if (warn != NULL)
			warn(arg, msg);
		free(msg);
	}
}
