/*
 * webhook.h -- Standard Webhooks delivery (https://www.standardwebhooks.com):
 * endpoints named by the operator, signed POSTs, and the SSRF rule.
 *
 * DATA_DIR/webhooks.conf: one endpoint per line, "NAME URL"; blank lines
 * and lines starting with # are ignored.  NAME is [A-Za-z0-9_.-]+.  The
 * file must not be writable by group or others (CORP_EFORBIDDEN).  The
 * secret of NAME ("whsec_" + base64) is DATA_DIR/secrets/webhook-NAME.
 */
#ifndef CORP_WEBHOOK_H
#define CORP_WEBHOOK_H

#include <stddef.h>

#include "webhookconf.h"

struct corp_cidr;
struct corp_err;
struct corp_http;
struct corp_sendres;

/* Endpoint names and URLs: webhookconf.h. */

/*
 * "v1," + base64(HMAC-SHA256(key, id "." ts "." body)) into out, where
 * key is the base64 after "whsec_" (the prefix is optional).
 */
int	corp_webhook_sign(const char *secret, const char *id, long long ts,
	    const char *body, size_t len, char *out, size_t size,
	    struct corp_err *);

/*
 * POST body (the event JSON) to url, signed with secret; webhook-id is
 * id.  The host is resolved here and the connection pinned to the first
 * address corp_addr_refused() accepts; none accepted: failed, naming
 * the address, its class and the IPv4 address it embeds.
 * 2xx sent, 410 unbound, 429 and 5xx retry (Retry-After kept, at most
 * CORP_RETRY_AFTER_MAX), other 4xx and 3xx failed, network errors retry;
 * a request that never reached the server (DNS, connect, TLS) is retry,
 * not attempted, error_class "unreachable".  The caller's handle should
 * have corp_http_ssrf set (the rule again at connect).
 */
void	corp_webhook_post(struct corp_http *, const char *url, const char *id,
	    const char *secret, const char *body, size_t len,
	    const struct corp_cidr *allow, size_t nallow,
	    struct corp_sendres *);

/*
 * corp_webhook_post in three steps, for a request in flight (http.h
 * corp_http_start; corp-deliver run --inflight).  corp_webhook_prepare
 * does everything before the request: the URL parsed, the host resolved
 * (blocking) and judged by the SSRF rule, the body signed; 0 when the
 * request is to be made with w->hdr and w->connect_to (the address
 * judged), else res says what became of the line (w needs no free).
 * corp_webhook_answer judges the outcome of the request (rc, e and r as
 * corp_http_post or corp_http_finish give them) into res and frees r;
 * corp_webhook_req_free after the request has ended.
 */
struct corp_webhook_req {
	char		*connect_to, *hid, *hts, *hsig;
	const char	*hdr[5];
};
struct corp_http_resp;
int	corp_webhook_prepare(struct corp_webhook_req *, struct corp_http *,
	    const char *url, const char *id, const char *secret,
	    const char *body, size_t len, const struct corp_cidr *allow,
	    size_t nallow, struct corp_sendres *);
void	corp_webhook_answer(int rc, const struct corp_err *,
	    struct corp_http_resp *, struct corp_sendres *);
void	corp_webhook_req_free(struct corp_webhook_req *);

#endif
