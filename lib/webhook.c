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
#include "send.h"
#include "webhook.h"

int
corp_webhook_name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '.' || strlen(s) > 64)
		return 0;
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-")] == '\0';
}

int
corp_webhook_url(const char *name, char **url, struct corp_err *err)
{
	char *path, *buf, *line, *next, *sp;
	int rc, lineno = 0;

	*url = NULL;
	if ((rc = corp_data_path(&path, "webhooks.conf", err)) != 0)
		return rc;
	/* The ownership rule (corp_read_conf) is what keeps others out. */
	rc = corp_read_conf(path, 1024 * 1024, &buf, NULL, err);
	if (rc != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_errf(err, rc, "no webhook endpoint \"%s\" "
			    "(no file %s)", name, path);
		free(path);
		return rc;
	}
	rc = corp_errf(err, CORP_ENOTFOUND, "no webhook endpoint \"%s\" in %s",
	    name, path);
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0')
			continue;
		sp = line + strcspn(line, " \t");
		if (*sp == '\0') {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: expected "
			    "NAME URL", path, lineno);
			break;
		}
		*sp++ = '\0';
		if (strcmp(line, name) != 0)
			continue;
		sp += strspn(sp, " \t");
		sp[strcspn(sp, " \t\r")] = '\0';
		if ((*url = strdup(sp)) == NULL)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		else
			rc = 0;
		break;
	}
	free(buf);
	free(path);
	return rc;
}

int
corp_webhook_sign(const char *secret, const char *id, long long ts,
    const char *body, size_t len, char *out, size_t size,
    struct corp_err *err)
{
	unsigned char key[256], mac[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char tsbuf[32];
	size_t slen;
	int klen, pad = 0;
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int ok = 0;

	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	slen = strlen(secret);
	if (slen == 0 || slen % 4 != 0 || slen / 4 * 3 > sizeof(key))
		return corp_errf(err, CORP_EINVAL, "webhook secret is not "
		    "whsec_ followed by base64");
	if ((klen = EVP_DecodeBlock(key, (const unsigned char *)secret,
	    (int)slen)) < 0)
		return corp_errf(err, CORP_EINVAL, "webhook secret is not "
		    "whsec_ followed by base64");
	if (secret[slen - 1] == '=')
		pad++;
	if (secret[slen - 2] == '=')
		pad++;
	klen -= pad;
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
    char *addr, size_t size, struct corp_send_res *res)
{
	struct addrinfo hints, *ai = NULL, *p;
	char bare[256], first[INET6_ADDRSTRLEN] = "";
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
		corp_send_set(res, rc == EAI_NONAME ? CORP_SEND_FAILED :
		    CORP_SEND_RETRY, "webhook: %s: %s", bare,
		    gai_strerror(rc));
		res->attempted = 0;
		return -1;
	}
	for (p = ai; p != NULL; p = p->ai_next) {
		const void *a = p->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)
		    p->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)(void *)
		    p->ai_addr)->sin6_addr;
		const char *w;
		char txt[INET6_ADDRSTRLEN];

		if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
			continue;
		inet_ntop(p->ai_family, a, txt, sizeof(txt));
		if ((w = corp_addr_refused(p->ai_addr, allow, nallow)) !=
		    NULL) {
			if (why == NULL) {
				why = w;
				strlcpy(first, txt, sizeof(first));
			}
			continue;
		}
		snprintf(addr, size, p->ai_family == AF_INET6 ? "[%s]" : "%s",
		    txt);
		freeaddrinfo(ai);
		return 0;
	}
	freeaddrinfo(ai);
	corp_send_set(res, CORP_SEND_FAILED, "webhook: %s resolves to %s, a "
	    "%s address (refused unless allowed by webhook.allow)", bare,
	    first[0] ? first : "nothing usable", why ? why : "unusable");
	res->attempted = 0;
	return -1;
}

void
corp_webhook_post(struct corp_http *h, const char *url, const char *id,
    const char *secret, const char *body, size_t len,
    const struct corp_cidr *allow, size_t nallow, struct corp_send_res *res)
{
	char addr[INET6_ADDRSTRLEN + 3], sig[128], *connect_to = NULL;
	char *hid = NULL, *hts = NULL, *hsig = NULL, *host = NULL,
	    *port = NULL;
	const char *hdr[5];
	struct corp_http_resp r;
	struct corp_err e;
	long long ts = (long long)time(NULL);
	CURLU *u;
	int rc;

	corp_send_res_init(res);
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_FAILED, "webhook: the endpoint "
		    "URL is not a valid URL");
		goto out;
	}
	if (vet(host, allow, nallow, addr, sizeof(addr), res) != 0)
		goto out;
	if (corp_webhook_sign(secret, id, ts, body, len, sig, sizeof(sig),
	    &e) != 0) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_FAILED, "%s", e.msg);
		goto out;
	}
	if (corp_asprintf(&connect_to, "%s:%s:%s:%s", host, port, addr,
	    port) < 0 || corp_asprintf(&hid, "webhook-id: %s", id) < 0 ||
	    corp_asprintf(&hts, "webhook-timestamp: %lld", ts) < 0 ||
	    corp_asprintf(&hsig, "webhook-signature: %s", sig) < 0) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_RETRY, "out of memory");
		goto out;
	}
	hdr[0] = "Content-Type: application/json";
	hdr[1] = hid;
	hdr[2] = hts;
	hdr[3] = hsig;
	hdr[4] = NULL;
	rc = corp_http_post(h, url, hdr, body, len, connect_to, NULL, &r, &e);
	if (rc != 0) {
		corp_send_set(res, rc == CORP_ETEMP ? CORP_SEND_RETRY :
		    CORP_SEND_FAILED, "webhook: %s", e.msg);
		if (rc != CORP_ETEMP)
			res->attempted = 0;
		goto out;
	}
	if (r.status >= 200 && r.status < 300)
		;
	else if (r.status == 410)
		corp_send_set(res, CORP_SEND_UNBOUND, "webhook: HTTP 410 Gone");
	else if (r.status == 429 || r.status >= 500) {
		corp_send_set(res, CORP_SEND_RETRY, "webhook: HTTP %ld",
		    r.status);
		res->retry_after = r.retry_after;
	} else if (r.status >= 300 && r.status < 400)
		corp_send_set(res, CORP_SEND_FAILED, "webhook: HTTP %ld "
		    "redirect not followed", r.status);
	else
		corp_send_set(res, CORP_SEND_FAILED, "webhook: HTTP %ld",
		    r.status);
	corp_http_resp_free(&r);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	free(connect_to);
	free(hid);
	free(hts);
	free(hsig);
}
