/* webhook.c -- see webhook.h. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "corp.h"
#include "fsutil.h"
#include "http.h"
#include "netaddr.h"
#include "sendres.h"
#include "webhook.h"

int
corp_webhook_sign(const char *secret, const char *id, long long ts,
    const char *body, size_t len, char *out, size_t size,
    struct corp_err *err)
{
	unsigned char key[256], mac[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char tsbuf[32];
	int klen;
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int ok = 0;

	if ((klen = corp_webhook_secret_key(secret, key, sizeof(key))) < 0)
		return corp_errf(err, CORP_EINVAL, "webhook secret is not "
		    "whsec_ followed by the base64 of %d to %d bytes",
		    CORP_WEBHOOK_KEY_MIN, CORP_WEBHOOK_KEY_MAX);
	snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
	m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = m != NULL ? EVP_MAC_CTX_new(m) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest",
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, (size_t)klen, params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)tsbuf,
	    strlen(tsbuf)) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)body, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &outl, sizeof(mac)) == 1)
		ok = 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok)
		return corp_errf(err, CORP_EINTERNAL, "HMAC-SHA256 failed");
	EVP_EncodeBlock(b64, mac, (int)outl);
	if ((size_t)snprintf(out, size, "v1,%s", b64) >= size)
		return corp_errf(err, CORP_EINTERNAL, "signature too long");
	return 0;
}

/* Resolve host and pick the first address the SSRF rule accepts. */
static int
vet(const char *host, const struct corp_cidr *allow, size_t nallow,
    const char *how, char *addr, size_t size, struct corp_sendres *res)
{
	struct addrinfo hints, *ai = NULL, *p;
	char bare[256], first[INET6_ADDRSTRLEN] = "", embedded[48] = "";
	const char *why = NULL;
	size_t hl = strlen(host);
	int rc;

	if (hl >= sizeof(bare))
		hl = sizeof(bare) - 1;
	if (host[0] == '[' && hl > 2) {	/* an IPv6 literal */
		memcpy(bare, host + 1, hl - 2);
		bare[hl - 2] = '\0';
	} else {
		memcpy(bare, host, hl);
		bare[hl] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(bare, NULL, &hints, &ai)) != 0) {
		/* No answer, or "no such name" (often a resolver's passing
		 * trouble): never reached, the endpoint pauses. */
		corp_sendres_set(res, CORP_SEND_RETRY, "webhook: %s: %s", bare,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		res->attempted = 0;
		res->error_class = "unreachable";
		return -1;
	}
	for (p = ai; p != NULL; p = p->ai_next) {
		const void *a = p->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)
		    p->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)(void *)
		    p->ai_addr)->sin6_addr;
		const char *w, *form;
		char txt[INET6_ADDRSTRLEN], v4[16];

		if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
			continue;
		inet_ntop(p->ai_family, a, txt, sizeof(txt));
		if ((w = corp_addr_refused(p->ai_addr, allow, nallow)) !=
		    NULL) {
			if (why == NULL) {
				why = w;
				strlcpy(first, txt, sizeof(first));
				if ((form = corp_addr_embedded(p->ai_addr, v4,
				    sizeof(v4))) != NULL)
					snprintf(embedded, sizeof(embedded),
					    " (%s, embedding %s)", form, v4);
			}
			continue;
		}
		snprintf(addr, size, p->ai_family == AF_INET6 ? "[%s]" : "%s",
		    txt);
		freeaddrinfo(ai);
		return 0;
	}
	freeaddrinfo(ai);
	/* The operator's allow list decides: held until it allows the
	 * range or the endpoint changes, never dead-lettered at once. */
	corp_sendres_hold(res, "webhook: %s resolves to %s%s, %s %s address "
	    "(refused unless allowed by %s)", bare,
	    first[0] ? first : "nothing usable", embedded,
	    corp_addr_article(why ? why : "unusable"),
	    why ? why : "unusable", how);
	return -1;
}

int
corp_webhook_prepare(struct corp_webhook_req *w, struct corp_http *h,
    const char *url, const char *id, const char *secret, const char *body,
    size_t len, const struct corp_cidr *allow, size_t nallow,
    struct corp_sendres *res)
{
	char addr[INET6_ADDRSTRLEN + 3], sig[128];
	char *host = NULL, *port = NULL;
	struct corp_err e;
	long long ts = (long long)time(NULL);
	CURLU *u;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	corp_sendres_init(res);
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "webhook: the endpoint "
		    "URL is not a valid URL");
		goto out;
	}
	if (vet(host, allow, nallow, corp_http_allow_how(h), addr,
	    sizeof(addr), res) != 0)
		goto out;
	if (corp_webhook_sign(secret, id, ts, body, len, sig, sizeof(sig),
	    &e) != 0) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "%s", e.msg);
		goto out;
	}
	if (corp_asprintf(&w->connect_to, "%s:%s:%s:%s", host, port, addr,
	    port) < 0 || corp_asprintf(&w->hid, "webhook-id: %s", id) < 0 ||
	    corp_asprintf(&w->hts, "webhook-timestamp: %lld", ts) < 0 ||
	    corp_asprintf(&w->hsig, "webhook-signature: %s", sig) < 0) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
		goto out;
	}
	w->hdr[0] = "Content-Type: application/json";
	w->hdr[1] = w->hid;
	w->hdr[2] = w->hts;
	w->hdr[3] = w->hsig;
	w->hdr[4] = NULL;
	rc = 0;
out:
	if (rc != 0)
		corp_webhook_req_free(w);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

void
corp_webhook_answer(int rc, const struct corp_err *e,
    struct corp_http_resp *r, struct corp_sendres *res)
{
	if (rc == CORP_ECONFIG) {	/* the SSRF rule's last gate */
		corp_sendres_hold(res, "webhook: %s", e->msg);
		return;
	}
	if (rc != 0) {
		corp_sendres_set(res, rc == CORP_ETEMP ? CORP_SEND_RETRY :
		    CORP_SEND_FAILED, "webhook: %s", e->msg);
		if (rc != CORP_ETEMP)
			res->attempted = 0;
		else if (r->unreachable) {
			res->attempted = 0;
			res->error_class = "unreachable";
		}
		return;
	}
	if (r->status >= 200 && r->status < 300)
		;
	else if (r->status == 410)
		corp_sendres_set(res, CORP_SEND_UNBOUND,
		    "webhook: HTTP 410 Gone");
	else if (r->status == 429 || r->status >= 500) {
		corp_sendres_set(res, CORP_SEND_RETRY, "webhook: HTTP %ld",
		    r->status);
		res->retry_after = r->retry_after; /* 0..CORP_RETRY_AFTER_MAX */
	} else if (r->status >= 300 && r->status < 400)
		corp_sendres_set(res, CORP_SEND_FAILED, "webhook: HTTP %ld "
		    "redirect not followed", r->status);
	else
		corp_sendres_set(res, CORP_SEND_FAILED, "webhook: HTTP %ld",
		    r->status);
	corp_http_resp_free(r);
}

void
corp_webhook_req_free(struct corp_webhook_req *w)
{
	free(w->connect_to);
	free(w->hid);
	free(w->hts);
	free(w->hsig);
	memset(w, 0, sizeof(*w));
}

void
corp_webhook_post(struct corp_http *h, const char *url, const char *id,
    const char *secret, const char *body, size_t len,
    const struct corp_cidr *allow, size_t nallow, struct corp_sendres *res)
{
	struct corp_webhook_req w;
	struct corp_http_resp r;
	struct corp_err e;
	int rc;

	if (corp_webhook_prepare(&w, h, url, id, secret, body, len, allow,
	    nallow, res) != 0)
		return;
	rc = corp_http_post(h, url, w.hdr, body, len, w.connect_to, NULL, &r,
	    &e);
	corp_webhook_answer(rc, &e, &r, res);
	corp_webhook_req_free(&w);
}
