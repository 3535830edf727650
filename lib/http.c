/* http.c -- see http.h. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "corp.h"
#include "http.h"
#include "netaddr.h"

#define BODY_MAX	(1024 * 1024)

/*
 * One request: its easy handle and what it needs until its answer is
 * judged.  corp_http_post uses the handle's own; corp_http_start takes
 * one from the free list (the multi interface, corp_http_inflight).
 */
struct corp_http_req {
	struct corp_http	*h;
	CURL			*c;
	struct curl_slist	*hl, *ct;
	char			 errbuf[CURL_ERROR_SIZE];
	struct corp_http_resp	*cur;
	size_t			 cur_cap;	/* bytes allocated at cur->body */
	struct corp_http_resp	 resp;		/* corp_http_start's */
	CURLcode		 cc;
	/* corp_http_ssrf: what it refused in this request */
	const char		*refused;
	char			 refused_addr[INET6_ADDRSTRLEN];
	void			*arg;		/* the caller's */
	char			*set_url;	/* set up for (see reusable) */
	struct corp_http_req	*next;		/* the free list */
	struct corp_http_req	*all;		/* every one, for close */
};

struct corp_http {
	CURL			*c;
	struct corp_http_opts	 o;
	char			*ca_file;
	struct corp_http_req	 one;		/* corp_http_post's */
	/* corp_http_ssrf: the rule */
	int			 ssrf;
	const struct corp_cidr	*allow;
	size_t			 nallow;
	const char		*allow_hint;	/* what allows a range */
	size_t			 body_max;
	/* corp_http_inflight: the multi handle, its requests */
	CURLM			*m;
	int			 nrun;
	struct corp_http_req	*idle, *all;
};

static int curl_ready;

static void	forget_url(struct corp_http_req *);

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
	h->one.h = h;
	h->one.c = h->c;
	*hp = h;
	return 0;
}

void
corp_http_close(struct corp_http *h)
{
	struct corp_http_req *q;

	if (h == NULL)
		return;
	while ((q = h->all) != NULL) {
		h->all = q->all;
		if (h->m != NULL)
			curl_multi_remove_handle(h->m, q->c);
		curl_slist_free_all(q->hl);
		curl_slist_free_all(q->ct);
		forget_url(q);
		corp_http_resp_free(&q->resp);
		curl_easy_cleanup(q->c);
		free(q);
	}
	if (h->m != NULL)
		curl_multi_cleanup(h->m);
	curl_easy_cleanup(h->c);
	curl_slist_free_all(h->one.hl);
	forget_url(&h->one);
	free(h->ca_file);
	free(h);
}

void
corp_http_ssrf(struct corp_http *h, const struct corp_cidr *allow,
    size_t nallow)
{
	h->ssrf = 1;
	h->allow = allow;
	h->nallow = nallow;
}

void
corp_http_allow_hint(struct corp_http *h, const char *hint)
{
	h->allow_hint = hint;
}

const char *
corp_http_allow_how(const struct corp_http *h)
{
	return h != NULL && h->allow_hint != NULL ? h->allow_hint :
	    "webhook.allow";
}

/* The last gate: the address libcurl is about to connect to. */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct corp_http_req *q = arg;
	struct corp_http *h = q->h;
	const void *ip;

	(void)purpose;
	if ((q->refused = corp_addr_refused(&a->addr, h->allow,
	    h->nallow)) != NULL) {
		ip = a->family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->
		    sin6_addr :
		    (const void *)&((struct sockaddr_in *)(void *)&a->addr)->
		    sin_addr;
		if (a->family != AF_INET && a->family != AF_INET6)
			strlcpy(q->refused_addr, "?", sizeof(q->refused_addr));
		else if (inet_ntop(a->family, ip, q->refused_addr,
		    sizeof(q->refused_addr)) == NULL)
			strlcpy(q->refused_addr, "?", sizeof(q->refused_addr));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void
corp_http_body_max(struct corp_http *h, size_t max)
{
	h->body_max = max;
}

json_t *
corp_http_json(const char *body)
{
	json_error_t je;
	json_t *doc;

	if (body == NULL)
		return NULL;
	if ((doc = json_loads(body, 0, &je)) != NULL ||
	    json_error_code(&je) != json_error_numeric_overflow)
		return doc;
	return json_loads(body, JSON_DECODE_INT_AS_REAL, NULL);
}

void
corp_http_resp_free(struct corp_http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static void
redact_one(char *buf, size_t size, const char *secret)
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

void
corp_redact(char *buf, size_t size, const char *secret)
{
	const char *colon;
	char *esc, *q;
	int i;

	if (secret == NULL || *secret == '\0')
		return;
	redact_one(buf, size, secret);
	/* Each form only when it differs: a second pass over the same
	 * text would find it inside the marks. */
	if ((esc = curl_easy_escape(NULL, secret, 0)) != NULL &&
	    strchr(esc, '%') != NULL) {
		redact_one(buf, size, esc);
		for (q = esc; (q = strchr(q, '%')) != NULL; q++)
			for (i = 1; i <= 2 && q[i] != '\0'; i++)
				q[i] = (char)tolower((unsigned char)q[i]);
		redact_one(buf, size, esc);
		/* and with '/' left as it is, as most URL quoting does
		 * (Python's quote(); fresh-eyes round 14) */
		for (q = esc; (q = strstr(q, "%2f")) != NULL; ) {
			*q = '/';
			memmove(q + 1, q + 3, strlen(q + 3) + 1);
		}
		if (strchr(secret, '/') != NULL && strchr(esc, '%') != NULL) {
			redact_one(buf, size, esc);
			for (q = esc; (q = strchr(q, '%')) != NULL; q++)
				for (i = 1; i <= 2 && q[i] != '\0'; i++)
					q[i] = (char)toupper((unsigned char)q[i]);
			redact_one(buf, size, esc);
		}
	}
	curl_free(esc);
	if ((colon = strchr(secret, ':')) != NULL && strlen(colon + 1) >= 8 &&
	    strstr("<redacted>", colon + 1) == NULL)
		redact_one(buf, size, colon + 1);
}

/* Keeps the first body_max bytes; a longer answer sets truncated, so
 * that no caller mistakes a cut body for the answer. */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct corp_http_req *h = arg;
	struct corp_http_resp *r = h->cur;
	size_t add = size * n, keep = add, cap;
	size_t max = h->h->body_max > 0 ? h->h->body_max : BODY_MAX;
	char *nb;

	if (r->len + keep > max) {
		keep = max - r->len;
		r->truncated = 1;
	}
	if (keep == 0)
		return add;
	/*
	 * The buffer at least doubles: growing it by each chunk (16 KB)
	 * copied an answer of megabytes hundreds of times, slow enough
	 * under ASan on a busy machine to pass the request's timeout.
	 */
	if (r->body == NULL || r->len + keep + 1 > h->cur_cap) {
		cap = r->body == NULL ? 0 : h->cur_cap;
		cap = cap > max / 2 ? max + 1 : cap * 2;
		if (cap < r->len + keep + 1)
			cap = r->len + keep + 1;
		if ((nb = realloc(r->body, cap)) == NULL)
			return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
		r->body = nb;
		h->cur_cap = cap;
	}
	memcpy(r->body + r->len, data, keep);
	r->len += keep;
	r->body[r->len] = '\0';
	return add;
}

int
corp_http_retry_after(const char *v, time_t now, long long *secs)
{
	long long n = 0;
	const char *p;
	time_t t;

	v += strspn(v, " \t");
	if (isdigit((unsigned char)*v)) {
		for (p = v; isdigit((unsigned char)*p); p++)
			if (n <= CORP_RETRY_AFTER_MAX)
				n = n * 10 + (*p - '0');
		if (*p == '\0') {
			*secs = n < CORP_RETRY_AFTER_MAX ? n :
			    CORP_RETRY_AFTER_MAX;
			return 0;
		}
	}
	if ((t = curl_getdate(v, NULL)) == (time_t)-1)
		return -1;
	if (t <= now)
		*secs = 0;
	else if ((long long)t - (long long)now > CORP_RETRY_AFTER_MAX)
		*secs = CORP_RETRY_AFTER_MAX;
	else
		*secs = (long long)(t - now);
	return 0;
}

int
corp_curl_unreached(void *curl, int code)
{
	curl_off_t up = 0;
	long req = 0;

	switch ((CURLcode)code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
		/* Only when not one byte of the request went out. */
		if (curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &req) !=
		    CURLE_OK || curl_easy_getinfo(curl,
		    CURLINFO_SIZE_UPLOAD_T, &up) != CURLE_OK)
			return 0;
		return req == 0 && up == 0;
	default:
		return 0;
	}
}

/* A loopback host as libcurl parsed it: a name or an address literal. */
static int
loopback_host(const char *host)
{
	unsigned char a[16];
	char buf[64];
	size_t n = strlen(host);
	static const unsigned char one[16] = { [15] = 1 }, mapped[12] = {
	    [10] = 0xff, [11] = 0xff };

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (n < 3 || n - 2 >= sizeof(buf) || host[0] != '[' ||
	    host[n - 1] != ']')
		return 0;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1)
		return 0;
	return memcmp(a, one, 16) == 0 ||
	    (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

int
corp_url_check(const char *url, enum corp_url_kind kind, int allow_plain,
    const char *what, int code, struct corp_err *err)
{
	char *scheme = NULL, *user = NULL, *pw = NULL, *opts = NULL,
	    *host = NULL, *zone = NULL, *query = NULL, *frag = NULL;
	CURLU *u;
	int rc = 0, plain;

	if ((u = curl_url()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* No guessing: a URL without a scheme is refused, never http. */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		rc = corp_errf(err, code, "%s: not a valid URL", what);
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_USER, &user, 0);
	(void)curl_url_get(u, CURLUPART_PASSWORD, &pw, 0);
	(void)curl_url_get(u, CURLUPART_OPTIONS, &opts, 0);
	(void)curl_url_get(u, CURLUPART_ZONEID, &zone, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
	(void)curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (kind == CORP_URL_LINK && strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "http") != 0) {
		rc = corp_errf(err, code, "%s: expected an http:// or https:// "
		    "URL", what);
		goto out;
	}
	if (kind == CORP_URL_LINK && (query != NULL || frag != NULL)) {
		rc = corp_errf(err, code, "%s: a query (?) or fragment (#) "
		    "is refused: links are made by appending /tasks/ID", what);
		goto out;
	}
	if (kind != CORP_URL_LINK && (kind == CORP_URL_SMTP ?
	    strcmp(scheme, "smtps") != 0 &&
	    strcmp(scheme, "smtp") != 0 : strcmp(scheme, "https") != 0 &&
	    strcmp(scheme, "http") != 0)) {
		rc = corp_errf(err, code, "%s: expected %s", what,
		    kind == CORP_URL_SMTP ? "smtp:// or smtps://" :
		    "an https:// URL");
		goto out;
	}
	if (pw != NULL) {
		rc = corp_errf(err, code, "%s: a password in the URL "
		    "(user:password@host) is refused: it would show in "
		    "process lists and files; the password comes from a "
		    "secret only", what);
		goto out;
	}
	if (user != NULL || opts != NULL) {
		rc = corp_errf(err, code, "%s: a user name in the URL "
		    "(user@host) is refused: give the user with its own "
		    "option, the password as a secret", what);
		goto out;
	}
	/* A link is opened by people, not by corp: any host. */
	plain = kind == CORP_URL_HTTP && strcmp(scheme, "http") == 0;
	if (plain && !allow_plain)
		rc = corp_errf(err, code, "%s: expected an https:// URL "
		    "(http:// only to a loopback host, with --allow-http)",
		    what);
	else if (plain && (zone != NULL || !loopback_host(host)))
		rc = corp_errf(err, code, "%s: plain http:// only to a "
		    "loopback host (localhost, 127.0.0.0/8, [::1]); use "
		    "https://", what);
out:
	curl_free(scheme);
	curl_free(user);
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	curl_free(pw);
	curl_free(opts);
	curl_free(host);
	curl_free(zone);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
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
		r->retry_after = secs;	/* 0..CORP_RETRY_AFTER_MAX */
	return len;
}

/*
 * A request to the same URL with the same headers as q's last one (the
 * Bot API's sendMessage, line after line) needs only its body and its
 * answer's place set: the handle keeps every other option, so the
 * reset and the twenty options of a new request are skipped (issue 18).
 * A request through CONNECT_TO (a pinned address) is set up afresh.
 */
static int
reusable(const struct corp_http_req *q, const char *url,
    const char *const *headers, const char *connect_to)
{
	const struct curl_slist *t = q->hl;
	size_t i;

	if (q->set_url == NULL || connect_to != NULL || q->ct != NULL ||
	    strcmp(q->set_url, url) != 0)
		return 0;
	for (i = 0; headers != NULL && headers[i] != NULL; i++, t = t->next)
		if (t == NULL || strcmp(t->data, headers[i]) != 0)
			return 0;
	/* then "Expect:", which req_setup always adds last */
	return t != NULL && t->next == NULL;
}

static void
forget_url(struct corp_http_req *q)
{
	if (q->set_url != NULL) {	/* it may hold a token */
		explicit_bzero(q->set_url, strlen(q->set_url));
		free(q->set_url);
	}
	q->set_url = NULL;
}

/* Set up q's easy handle for a POST (corp_http_post). */
static int
req_setup(struct corp_http_req *q, const char *url,
    const char *const *headers, const char *body, size_t len,
    const char *connect_to, struct corp_http_resp *r, struct corp_err *err)
{
	struct corp_http *h = q->h;
	struct curl_slist *t;
	CURL *c = q->c;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	q->errbuf[0] = '\0';
	q->refused = NULL;
	q->cur_cap = 0;
	q->cur = r;
	if (reusable(q, url, headers, connect_to)) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
		return 0;
	}
	/* Afresh: the lists of the last request go with the reset. */
	curl_easy_reset(c);
	forget_url(q);
	curl_slist_free_all(q->hl);
	curl_slist_free_all(q->ct);
	q->hl = q->ct = NULL;
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((t = curl_slist_append(q->hl, headers[i])) == NULL)
			goto oom;
		q->hl = t;
	}
	/* No "Expect: 100-continue" round trip for large bodies. */
	if ((t = curl_slist_append(q->hl, "Expect:")) == NULL)
		goto oom;
	q->hl = t;
	if (connect_to != NULL &&
	    (q->ct = curl_slist_append(NULL, connect_to)) == NULL)
		goto oom;
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->errbuf);
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
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->hl);
	if (q->ct != NULL)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, q->ct);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (h->ssrf) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, q);
	}
	/* No copy (out of memory): the next request is set up afresh. */
	if (connect_to == NULL)
		q->set_url = strdup(url);
	return 0;
oom:
	curl_slist_free_all(q->hl);
	q->hl = NULL;
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

/* The outcome of q's transfer (cc), as corp_http_post returns it. */
static int
req_judge(struct corp_http_req *q, CURLcode cc, const char *url,
    const char *secret, struct corp_http_resp *r, struct corp_err *err)
{
	CURL *c = q->c;
	int rc = 0;

	if (cc != CURLE_OK && q->refused != NULL) {
		rc = corp_errf(err, CORP_ECONFIG, "the connection to %s was "
		    "refused: %s %s address (refused unless allowed by %s)",
		    q->refused_addr, corp_addr_article(q->refused), q->refused,
		    corp_http_allow_how(q->h));
		corp_http_resp_free(r);
	} else if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		char msg[CURL_ERROR_SIZE + 128];

		/* errbuf may name the URL, and the URL may hold a token. */
		snprintf(msg, sizeof(msg), "%s%s%s", curl_easy_strerror(cc),
		    q->errbuf[0] ? ": " : "", q->errbuf);
		corp_redact(msg, sizeof(msg), secret);
		corp_redact(msg, sizeof(msg), url);
		rc = corp_errf(err, cc == CURLE_UNSUPPORTED_PROTOCOL ||
		    cc == CURLE_URL_MALFORMAT ? CORP_EINVAL : CORP_ETEMP,
		    "%s", msg);
		r->unreachable = rc == CORP_ETEMP && corp_curl_unreached(c,
		    (int)cc);
		corp_http_resp_free(r);
	}
	/* A pinned request's lists are dropped before they are freed; the
	 * others stay with the handle for the next request (reusable). */
	if (q->ct != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
		curl_slist_free_all(q->hl);
		curl_slist_free_all(q->ct);
		q->hl = q->ct = NULL;
		forget_url(q);
	}
	return rc;
}

int
corp_http_post(struct corp_http *h, const char *url,
    const char *const *headers, const char *body, size_t len,
    const char *connect_to, const char *secret, struct corp_http_resp *r,
    struct corp_err *err)
{
	int rc;

	if ((rc = req_setup(&h->one, url, headers, body, len, connect_to, r,
	    err)) != 0)
		return rc;
	return req_judge(&h->one, curl_easy_perform(h->c), url, secret, r,
	    err);
}

/* ---- several requests in flight (the multi interface) ------------ */

int
corp_http_inflight(struct corp_http *h, int n, struct corp_err *err)
{
	if (h->m == NULL && (h->m = curl_multi_init()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "libcurl: no multi "
		    "handle");
	/* n connections to the API (HTTP/1.1), or n streams over one
	 * (HTTP/2, where the server offers it). */
	curl_multi_setopt(h->m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(h->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
	curl_multi_setopt(h->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	curl_multi_setopt(h->m, CURLMOPT_MAXCONNECTS, (long)n);
	return 0;
}

int
corp_http_start(struct corp_http *h, const char *url,
    const char *const *headers, const char *body, size_t len,
    const char *connect_to, void *arg, struct corp_err *err)
{
	struct corp_http_req *q;
	int rc, running;

	if ((q = h->idle) != NULL)
		h->idle = q->next;
	else {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		q->h = h;
		if ((q->c = curl_easy_init()) == NULL) {
			free(q);
			return corp_errf(err, CORP_EINTERNAL,
			    "libcurl: no handle");
		}
		q->all = h->all;
		h->all = q;
	}
	q->next = NULL;
	if ((rc = req_setup(q, url, headers, body, len, connect_to, &q->resp,
	    err)) != 0)
		goto back;
	q->arg = arg;
	curl_easy_setopt(q->c, CURLOPT_PRIVATE, q);
	/* No CURLOPT_PIPEWAIT: it holds a request until the connection in
	 * use shows whether it multiplexes, i.e. behind a slow answer. */
	if (curl_multi_add_handle(h->m, q->c) != CURLM_OK) {
		curl_easy_reset(q->c);
		curl_slist_free_all(q->hl);
		curl_slist_free_all(q->ct);
		q->hl = q->ct = NULL;
		forget_url(q);
		rc = corp_errf(err, CORP_EINTERNAL, "libcurl: cannot add a "
		    "request");
		goto back;
	}
	h->nrun++;
	/* On the wire now, at the limiter's slot, not at the next wait
	 * (a failure shows there). */
	(void)curl_multi_perform(h->m, &running);
	return 0;
back:
	q->next = h->idle;
	h->idle = q;
	return rc;
}

int
corp_http_pending(const struct corp_http *h)
{
	return h->nrun;
}

/* A finished request of the multi handle, off it; NULL when none. */
static struct corp_http_req *
take_done(struct corp_http *h)
{
	struct corp_http_req *q;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&q);
		q->cc = msg->data.result;
		curl_multi_remove_handle(h->m, q->c);
		h->nrun--;
		return q;
	}
	return NULL;
}

int
corp_http_wait(struct corp_http *h, int ms, void **arg,
    struct corp_http_req **done, struct corp_err *err)
{
	int running, polled = 0;

	*done = NULL;
	for (;;) {
		if ((*done = take_done(h)) != NULL) {
			*arg = (*done)->arg;
			return 0;
		}
		if (h->nrun == 0 || polled)
			return 0;
		if (curl_multi_perform(h->m, &running) != CURLM_OK)
			return corp_errf(err, CORP_EINTERNAL,
			    "libcurl: multi perform failed");
		if ((*done = take_done(h)) != NULL) {
			*arg = (*done)->arg;
			return 0;
		}
		if (curl_multi_poll(h->m, NULL, 0, ms, NULL) != CURLM_OK)
			return corp_errf(err, CORP_EINTERNAL,
			    "libcurl: multi poll failed");
		polled = 1;
		if (curl_multi_perform(h->m, &running) != CURLM_OK)
			return corp_errf(err, CORP_EINTERNAL,
			    "libcurl: multi perform failed");
	}
}

int
corp_http_finish(struct corp_http_req *q, const char *url,
    const char *secret, struct corp_http_resp *r, struct corp_err *err)
{
	struct corp_http *h = q->h;
	int rc;

	rc = req_judge(q, q->cc, url, secret, &q->resp, err);
	*r = q->resp;
	memset(&q->resp, 0, sizeof(q->resp));
	q->next = h->idle;
	h->idle = q;
	return rc;
}
