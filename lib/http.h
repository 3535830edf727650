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
};

int	corp_http_open(struct corp_http **, const struct corp_http_opts *,
	    struct corp_err *);
void	corp_http_close(struct corp_http *);
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
 * handle refuses, CORP_ETEMP for a network, TLS or timeout failure.
 */
int	corp_http_post(struct corp_http *, const char *url,
	    const char *const *headers, const char *body, size_t len,
	    const char *connect_to, const char *secret,
	    struct corp_http_resp *, struct corp_err *);
void	corp_http_resp_free(struct corp_http_resp *);

/* Replace every occurrence of secret in buf (size bytes) by <redacted>. */
void	corp_redact(char *buf, size_t size, const char *secret);

/*
 * A Retry-After value (delay-seconds or an HTTP date, RFC 9110 10.2.3)
 * as seconds from now; -1 when it is neither.  Pure (fuzzed).
 */
int	corp_http_retry_after(const char *value, time_t now, long long *secs);

#endif
