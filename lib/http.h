/*
 * http.h -- the one HTTP client of corp's network tools (libcurl).
 *
 * One handle per process, reused for every request so connections stay
 * open.  Certificate checks are always on; redirects are never followed
 * (a 3xx is returned to the caller as it is); HTTPS only unless the
 * handle allows plain HTTP; explicit connect and total timeouts.
 * Only network tools reference this file, so the others do not link
 * libcurl (the Makefile links with --as-needed).
 */
#ifndef CORP_HTTP_H
#define CORP_HTTP_H

#include <stddef.h>
#include <time.h>

#include "clock.h"	/* CORP_RETRY_AFTER_MAX */

struct corp_cidr;
struct corp_err;
struct corp_http;

struct corp_http_opts {
	int		 allow_http;	/* http:// as well as https:// */
	long		 connect_ms;	/* connect timeout */
	long		 total_ms;	/* whole request */
	const char	*ca_file;	/* CURLOPT_CAINFO, or NULL */
	int		 no_proxy;	/* ignore the *_proxy environment */
};

struct corp_http_resp {
	long		 status;	/* HTTP status */
	char		*body;		/* NUL-terminated; see body_max */
	size_t		 len;
	int		 truncated;	/* the answer was longer: cut */
	long long	 retry_after;	/* Retry-After in seconds, or -1 */
	int		 unreachable;	/* CORP_ETEMP: see corp_curl_unreached */
};

int	corp_http_open(struct corp_http **, const struct corp_http_opts *,
	    struct corp_err *);
void	corp_http_close(struct corp_http *);
/*
 * From now on the handle connects only to addresses corp_addr_refused()
 * accepts with this allow list (webhooks: the SSRF rule), judged on the
 * very address libcurl is about to connect to (CURLOPT_OPENSOCKETFUNCTION),
 * after every DNS answer.  allow must outlive the handle.  A refused
 * connection makes corp_http_post return CORP_ECONFIG naming the address
 * and what would allow it: a configuration error, the row held.
 */
void	corp_http_ssrf(struct corp_http *, const struct corp_cidr *allow,
	    size_t nallow);
/* What the operator of this tool changes to allow a range ("--allow
 * CIDR", "config webhook.allow"), static; corp_http_allow_how gives it,
 * "webhook.allow" when unset. */
void	corp_http_allow_hint(struct corp_http *, const char *);
const char *corp_http_allow_how(const struct corp_http *);
/* Keep at most max bytes of each answer (default 1 MiB); a longer one
 * is cut and marked truncated, never passed off as whole. */
void	corp_http_body_max(struct corp_http *, size_t max);

/*
 * POST body to url with the given extra headers (NULL-terminated list
 * of "Name: value").  connect_to, when not NULL, is a CURLOPT_CONNECT_TO
 * entry ("HOST:PORT:ADDR:PORT") pinning the connection to a vetted
 * address.  Every occurrence of secret (when not NULL) in an error
 * message is replaced by <redacted>; messages never carry the URL.
 *
 * Returns 0 when a response arrived (any status; resp filled, free it
 * with corp_http_resp_free), CORP_EINVAL for a URL or protocol the
 * handle refuses, CORP_ETEMP for a network, TLS or timeout failure;
 * then resp->unreachable is 1 when the request surely never reached the
 * server (corp_curl_unreached).
 */
int	corp_http_post(struct corp_http *, const char *url,
	    const char *const *headers, const char *body, size_t len,
	    const char *connect_to, const char *secret,
	    struct corp_http_resp *, struct corp_err *);
void	corp_http_resp_free(struct corp_http_resp *);

/*
 * Several requests in flight on one handle (libcurl's multi interface;
 * corp-deliver run --inflight): up to n connections to a host, or n
 * streams over one where the server offers HTTP/2.  The same request
 * and the same judgement of its answer as corp_http_post, in three
 * steps: corp_http_start sends it (body, url and headers must live until
 * its corp_http_finish), corp_http_wait waits up to ms for one to end
 * (*done NULL: none yet; *arg the start's arg), corp_http_finish gives
 * its outcome exactly as corp_http_post returns it and takes the request
 * back.  corp_http_pending: how many are in flight.
 */
struct corp_http_req;
int	corp_http_inflight(struct corp_http *, int n, struct corp_err *);
int	corp_http_start(struct corp_http *, const char *url,
	    const char *const *headers, const char *body, size_t len,
	    const char *connect_to, void *arg, struct corp_err *);
int	corp_http_wait(struct corp_http *, int ms, void **arg,
	    struct corp_http_req **done, struct corp_err *);
int	corp_http_finish(struct corp_http_req *, const char *url,
	    const char *secret, struct corp_http_resp *, struct corp_err *);
int	corp_http_pending(const struct corp_http *);

/*
 * A 2xx answer's JSON body (Telegram's sendMessage, the proposer's chat
 * completion): parsed as is, or, when jansson refuses it only for an
 * integer beyond int64 ("message_id": 1234...890), parsed again with every
 * integer read as a real, so that one outside number cannot turn a
 * delivered answer into "unexpected" and a resend.  NULL when it is no
 * JSON.  Never for numbers corp must keep exact (getUpdates offsets).
 */
struct json_t	*corp_http_json(const char *body);

/*
 * Replace every occurrence of secret in buf (size bytes) by <redacted>,
 * and of its forms a server may echo: percent-encoded (upper or lower
 * hex, as in a URL) and, for a token "ID:KEY", the KEY alone when it
 * has 8 or more characters.
 */
void	corp_redact(char *buf, size_t size, const char *secret);

/*
 * A Retry-After value (delay-seconds or an HTTP date, RFC 9110 10.2.3)
 * as seconds from now, 0..CORP_RETRY_AFTER_MAX (a date in the past is 0,
 * a larger number the maximum); -1 when it is neither.  Pure (fuzzed).
 */
int	corp_http_retry_after(const char *value, time_t now, long long *secs);

/*
 * Did a failed libcurl transfer (curl: a CURL *, code: its CURLcode)
 * surely never reach the server?  DNS failures, refused or timed-out
 * connections, TLS handshake and certificate failures, a server without
 * STARTTLS; a timeout only when no byte of the request was sent.
 * Such a failure is "unreachable" (corp-send.1): retry, not attempted,
 * and the endpoint pauses.
 */
int	corp_curl_unreached(void *curl, int code);

/* What a URL is for: the schemes it may have. */
enum corp_url_kind {
	CORP_URL_HTTP,		/* https://, or http:// (see below) */
	CORP_URL_SMTP,		/* smtps://, or smtp:// with STARTTLS required */
	CORP_URL_LINK		/* a link people open (base_url): https:// or
				 * http:// to any host, no query or fragment
				 * (paths are appended to it) */
};

/*
 * THE decision on a URL an operator gave (argv, the environment, a
 * configuration file, a setting), made on libcurl's parse of it (CURLU),
 * never on its text:
 *   - libcurl parses it and its scheme is one of kind's;
 *   - it carries no user name or password (user:password@host): the
 *     password comes from a secret only, the user from its own option;
 *   - plain http:// only when allow_plain, and only to a loopback host
 *     as written: "localhost", an address of 127.0.0.0/8, [::1] (or
 *     [::ffff:127.x.x.x]), so neither http://127.0.0.1@other.host/ nor
 *     http://localhost.evil.example/ passes.  SMTP is never plain.
 * what names the URL in messages ("--smtp-url", "CORP_TELEGRAM_API");
 * no message quotes the URL, which may hold a password.  Returns 0, or
 * code with err filled.  Pure (fuzzed).
 */
int	corp_url_check(const char *url, enum corp_url_kind kind,
	    int allow_plain, const char *what, int code, struct corp_err *);

#endif
