/*
 * pushsend.h -- the push channel's transport (issue 19, corp-send.1
 * "PUSH"): one formatted delivery line, POSTed as an RFC 8291 aes128gcm
 * message with a VAPID (RFC 8292) Authorization to every subscription
 * the claim put in it ("subscriptions", pushsub.h), through the caller's
 * HTTP handle (http.h; the SSRF rule set on it).
 *
 * The payload is the JSON {"title","body","url","tag"}: title the
 * rendered "subject", body the rendered "text" (corp-fmt renders push
 * lines as plain text, as email), url the event's task link (or null),
 * tag the event id as a string.  It fits CORP_WEBPUSH_PLAIN_MAX bytes:
 * a longer body is cut at a character boundary and ends in "...", the
 * JSON never.
 *
 * Headers from the row's priority: urgent "Urgency: high", TTL 86400;
 * p2p "normal", 86400; broadcast "low", 43200.
 *
 * Per subscription: 2xx accepted; 404/410 gone (its endpoint goes to
 * the line's "push_gone", which the ack deactivates); 429 and 5xx retry
 * with the service's Retry-After; other answers failed; a request that
 * never reached the service, retry, not attempted.  The line: sent when
 * any subscription accepted it (never sent twice to one that did);
 * else retry when any asked to; else failed when any refused; else
 * (every one gone, or none in the line) unbound.  Errors name a
 * subscription by its place and origin, never its path or keys.
 */
#ifndef CORP_PUSHSEND_H
#define CORP_PUSHSEND_H

#include <stddef.h>
#include <jansson.h>

struct corp_cidr;
struct corp_db;
struct corp_err;
struct corp_http;
struct corp_sendres;
struct corp_pushsend;

/*
 * The sender with the VAPID private key (PEM) and subject.  CORP_ECONFIG
 * for a key that is not a P-256 private key or a bad subject, naming
 * what (never the key).
 */
int	corp_pushsend_open(struct corp_pushsend **, const char *pem,
	    size_t len, const char *subject, struct corp_err *);
void	corp_pushsend_close(struct corp_pushsend *);
/* Send line; res as sender.h's channels fill it.  -1 only when out of
 * memory. */
int	corp_pushsend_line(struct corp_pushsend *, struct corp_http *,
	    json_t *line, struct corp_sendres *, struct corp_err *);
/* The payload of line (malloc, *len bytes, at most
 * CORP_WEBPUSH_PLAIN_MAX).  CORP_EINVAL: no rendered text. */
int	corp_push_payload(json_t *line, char **out, size_t *len,
	    struct corp_err *);
/* TTL and Urgency of a priority (unknown: as p2p). */
void	corp_push_headers(const char *priority, long *ttl,
	    const char **urgency);
/*
 * May the endpoint's host be contacted?  Every address its name
 * resolves to must pass corp_addr_refused with allow; CORP_EFORBIDDEN
 * naming the address, why, and "config webhook.allow"; CORP_ETEMP when
 * the name does not resolve.
 */
int	corp_push_reachable(const char *endpoint,
	    const struct corp_cidr *allow, size_t nallow, struct corp_err *);

/*
 * corp-bind add --channel push: parse the PushSubscription JSON text
 * (name: where it came from, for messages; http:// endpoints only with
 * allow_http), check its endpoint against config webhook.allow
 * (corp_push_reachable) and bind it (corp_pushsub_add).
 */
int	corp_push_bind(struct corp_db *, long long user_id, const char *text,
	    size_t len, const char *name, int allow_http, json_t **row,
	    struct corp_err *);

#endif
