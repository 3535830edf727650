/*
 * telegram.h -- the Bot API calls corp makes (sendMessage), over the
 * shared HTTP client.  The token goes only into the request URL; every
 * error message is redacted.
 */
#ifndef CORP_TELEGRAM_H
#define CORP_TELEGRAM_H

#include <jansson.h>

struct corp_err;
struct corp_http;
struct corp_sendres;

/*
 * Parse a private-chat id: a positive integer (JSON number or decimal
 * string) below 2^53.  Returns 0 and sets *chat, or -1.
 */
int	corp_tg_chat_id(const char *, long long *chat);

/*
 * sendMessage chat_id, text (HTML), previews off, to API/bot<TOKEN>/.
 * Classifies the answer into res (DESIGN 6):
 *   200 ok            sent, provider_id = result.message_id
 *   403               unbound (blocked, deactivated)
 *   400, other 4xx    failed with Telegram's description
 *   429               retry, not attempted, retry_after (also set
 *                     when absent: 1)
 *   401, 404          retry, not attempted, "bad token", bad_token = 1
 *   3xx               failed (redirects are not followed)
 *   5xx, network      retry
 *   never reached     retry, not attempted, error_class "unreachable"
 *                     (corp_curl_unreached; the caller pauses the API)
 * retry_after is 1..CORP_RETRY_AFTER_MAX whatever Telegram says.
 */
void	corp_tg_send(struct corp_http *, const char *api, const char *token,
	    long long chat, const char *text, json_t *reply_markup,
	    struct corp_sendres *res);
/*
 * corp_tg_send in halves, for a request in flight (http.h
 * corp_http_start): the URL and JSON body of sendMessage (-1 with res
 * set when out of memory; the caller frees both), then the outcome of
 * corp_http_post or corp_http_finish (rc, e, r) classified as above.
 * CORP_TG_HEADERS: the request's headers.
 */
int	corp_tg_send_req(const char *api, const char *token, long long chat,
	    const char *text, json_t *reply_markup, char **url, char **data,
	    struct corp_sendres *res);
/*
 * The same in parts, for a sender that sends many (issue 18): the URL
 * once (corp_tg_url: -1 when out of memory), a body template once
 * (corp_tg_body_new: NULL when out of memory), then per line the body
 * from the template (corp_tg_body: *data the caller frees; -1 with res
 * set when out of memory or text is not UTF-8, as corp_tg_send_req).
 */
int	corp_tg_url(const char *api, const char *token, char **url);
json_t	*corp_tg_body_new(void);
int	corp_tg_body(json_t *tpl, long long chat, const char *text,
	    json_t *reply_markup, char **data, struct corp_sendres *res);
struct corp_http_resp;
void	corp_tg_answer(int rc, const struct corp_err *e,
	    struct corp_http_resp *r, const char *token,
	    struct corp_sendres *res);
extern const char *const corp_tg_headers[];
/*
 * A method of the Bot API other than sendMessage (answerCallbackQuery,
 * editMessageText: tgreply.c), body a JSON object; classified as above
 * (a "result" without message_id is still sent).
 */
void	corp_tg_call(struct corp_http *, const char *api, const char *token,
	    const char *method, json_t *body, struct corp_sendres *res);
/*
 * The classification above of one answer: HTTP status, the body (NUL-
 * terminated, or NULL), the Retry-After header in seconds (< 0: none).
 * Pure: the Bot API's reply is outside input (and fuzzed).
 */
void	corp_tg_classify(long status, const char *body, long long retry_after,
	    const char *token, struct corp_sendres *res);

/*
 * The most a getUpdates answer may be: give the handle that polls this
 * body_max.  One update at Telegram's limits (a 4096-character message
 * replying to another, quoting it, with entities and a keyboard, every
 * character escaped as \uXXXX) stays far below it; 100 such updates do
 * not, so the poller lowers its limit when an answer does not fit.
 */
#define CORP_TG_UPDATES_MAX	(4 * 1024 * 1024)

/*
 * getUpdates (long polling): offset < 0 for none, timeout in seconds
 * (0: answer at once), limit 1..100, the update kinds corp handles.
 * *updates gets the result array.  Returns 0, CORP_ECONFLICT on 409
 * (another poller, or a webhook is set), CORP_EFORBIDDEN on 401/404 (a
 * wrong or revoked token), CORP_ETEMP on 429, 5xx, network failures and
 * answers that are not the documented JSON, CORP_EINVAL for a refused
 * URL.  An answer longer than the handle's body_max is never parsed:
 * CORP_ETEMP with *too_big set, and the caller asks for fewer updates
 * (the same request would be cut again).  A 200 answer that is JSON
 * jansson cannot hold (a number beyond a double's range such as 1e400,
 * U+0000 in a key, nesting past its depth; U+0000 in a string is read)
 * is CORP_ETEMP with *raw (malloc'd, *rawlen bytes) its body: asking
 * again would meet it again.  Messages are redacted.
 */
int	corp_tg_get_updates(struct corp_http *, const char *api,
	    const char *token, long long offset, int timeout, int limit,
	    json_t **updates, int *too_big, char **raw, size_t *rawlen,
	    struct corp_err *);
/*
 * corp_tg_get_updates with *limit lowered while the answer does not
 * fit or cannot be read: asked again at once for half as many, down to
 * one, each time said through warn (lib never prints); an update that
 * does not fit even alone can never be read: CORP_EINVAL, rather than
 * retrying a request that cannot succeed.  One that cannot be read
 * alone (limit 1) is 0 with *updates NULL and *raw its answer's bytes
 * (the caller frees them): the first update at or past the offset, and
 * no readable one lies between, so the caller refuses it from its bytes
 * (tgupdate.h corp_tgupdate_refuse_raw) and moves the offset by one.
 */
int	corp_tg_get_updates_fit(struct corp_http *, const char *api,
	    const char *token, long long offset, int timeout, int *limit,
	    json_t **updates, char **raw, size_t *rawlen,
	    void (*warn)(void *, const char *), void *arg,
	    struct corp_err *);

#endif
