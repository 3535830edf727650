/* http.c -- see http.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "corp.h"
#include "http.h"

#define BODY_MAX	(1024 * 1024)

struct corp_http {
	CURL			*c;
	struct corp_http_opts	 o;
	char			*ca_file;
	char			 errbuf[CURL_ERROR_SIZE];
	struct corp_http_resp	*cur;
	size_t			 body_max;
};

static int curl_ready;

int
corp_http_open(struct corp_http **hp, const struct corp_http_opts *o,
    struct corp_err *err)
{
	struct corp_http *h;

	*hp = NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return corp_errf(err, CORP_EINTERNAL,
			    "libcurl: global init failed");
		curl_ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	h->o = *o;
	if (o->ca_file != NULL && (h->ca_file = strdup(o->ca_file)) == NULL) {
		free(h);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	h->o.ca_file = h->ca_file;
	if ((h->c = curl_easy_init()) == NULL) {
		free(h->ca_file);
		free(h);
		return corp_errf(err, CORP_EINTERNAL, "libcurl: no handle");
	}
	*hp = h;
	return 0;
}

void
corp_http_close(struct corp_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->c);
	free(h->ca_file);
	free(h);
}

void
corp_http_body_max(struct corp_http *h, size_t max)
{
	h->body_max = max;
}

void
corp_http_resp_free(struct corp_http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void
corp_redact(char *buf, size_t size, const char *secret)
{
	static const char mark[] = "<redacted>";
	size_t sl, ml = sizeof(mark) - 1, off, tail;
	char *p, *from = buf;

	if (secret == NULL || (sl = strlen(secret)) == 0)
		return;
	while ((p = strstr(from, secret)) != NULL) {
		off = (size_t)(p - buf);
		if (off + ml + 1 > size) {
			*p = '\0';	/* no room for the mark: cut there */
			break;
		}
		tail = strlen(p + sl);
		if (off + ml + tail + 1 > size)
			tail = size - off - ml - 1;
		memmove(p + ml, p + sl, tail);
		p[ml + tail] = '\0';
		memcpy(p, mark, ml);
		from = p + ml;
	}
}

/* Keeps the first body_max bytes; a longer answer sets truncated, so
 * that no caller mistakes a cut body for the answer. */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct corp_http *h = arg;
	struct corp_http_resp *r = h->cur;
	size_t add = size * n, keep = add;
	size_t max = h->body_max > 0 ? h->body_max : BODY_MAX;
	char *nb;

	if (r->len + keep > max) {
		keep = max - r->len;
		r->truncated = 1;
	}
	if (keep == 0)
		return add;
	if ((nb = realloc(r->body, r->len + keep + 1)) == NULL)
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	memcpy(nb + r->len, data, keep);
	r->len += keep;
	nb[r->len] = '\0';
	r->body = nb;
	return add;
}

int
corp_http_retry_after(const char *v, time_t now, long long *secs)
{
	char *e;
	long long n;
	time_t t;

	v += strspn(v, " \t");
	errno = 0;
	n = strtoll(v, &e, 10);
	if (e != v && *e == '\0' && n >= 0 && errno == 0) {
		*secs = n;
		return 0;
	}
	if ((t = curl_getdate(v, NULL)) == (time_t)-1)
		return -1;
	*secs = t > now ? (long long)(t - now) : 0;
	return 0;
}

/* Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct corp_http_resp *r = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	char buf[128], *v;
	long long secs;

	if (len < sizeof(name) || len >= sizeof(buf) ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return len;
	memcpy(buf, data + sizeof(name) - 1, len - (sizeof(name) - 1));
	buf[len - (sizeof(name) - 1)] = '\0';
	v = buf + strspn(buf, " \t");
	v[strcspn(v, "\r\n")] = '\0';
	if (corp_http_retry_after(v, time(NULL), &secs) == 0)
		r->retry_after = secs;
	return len;
}

int
corp_http_post(struct corp_http *h, const char *url,
    const char *const *headers, const char *body, size_t len,
    const char *connect_to, const char *secret, struct corp_http_resp *r,
    struct corp_err *err)
{
	struct curl_slist *hl = NULL, *ct = NULL, *t;
	CURL *c = h->c;
	CURLcode cc;
	size_t i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((t = curl_slist_append(hl, headers[i])) == NULL)
			goto oom;
		hl = t;
	}
	/* No "Expect: 100-continue" round trip for large bodies. */
	if ((t = curl_slist_append(hl, "Expect:")) == NULL)
		goto oom;
	hl = t;
	if (connect_to != NULL) {
		if ((ct = curl_slist_append(NULL, connect_to)) == NULL)
			goto oom;
	}
	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    h->o.allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.no_proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.total_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "corp/" CORP_VERSION);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (ct != NULL)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	h->cur = r;
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		char msg[CURL_ERROR_SIZE + 128];

		/* errbuf may name the URL, and the URL may hold a token. */
		snprintf(msg, sizeof(msg), "%s%s%s", curl_easy_strerror(cc),
		    h->errbuf[0] ? ": " : "", h->errbuf);
		corp_redact(msg, sizeof(msg), secret);
		corp_redact(msg, sizeof(msg), url);
		rc = corp_errf(err, cc == CURLE_UNSUPPORTED_PROTOCOL ||
		    cc == CURLE_URL_MALFORMAT ? CORP_EINVAL : CORP_ETEMP,
		    "%s", msg);
		corp_http_resp_free(r);
	}
	/* Drop the per-request lists before they are freed. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
	curl_slist_free_all(hl);
	curl_slist_free_all(ct);
	return rc;
oom:
	curl_slist_free_all(hl);
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}
