/* The URL decision (corp_url_check): the first byte chooses the kind and
 * whether plain http may be allowed, the rest is the URL.  A refusal's
 * message is one of the fixed texts (never a piece of the URL, which may
 * hold a password); an accepted plain http:// URL has a loopback host as
 * libcurl itself parses it again. */
#include <arpa/inet.h>
#include <strings.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "corp.h"
#include "http.h"

static const char *const canned[] = {
	"", "ftp://x/", "https://u:p@x/", "https://u@x/", "http://x/",
	"smtp://x/", "smtp://u:p@x/", "smtp://u@x/"
};
static char	msgs[2][2][8][512];
static size_t	nmsgs[2][2];

static void
learn(int kind, int plain)
{
	struct corp_err e;
	size_t i;

	for (i = 0; i < sizeof(canned) / sizeof(canned[0]); i++)
		if (corp_url_check(canned[i], kind, plain, "W", CORP_EUSAGE,
		    &e) != 0 && nmsgs[kind][plain] < 8)
			strlcpy(msgs[kind][plain][nmsgs[kind][plain]++], e.msg,
			    sizeof(msgs[0][0][0]));
}

static int
loopback(const char *url)
{
	unsigned char a[16];
	char *host = NULL, buf[64];
	CURLU *u = curl_url();
	int yes = 0;
	size_t n;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		n = strlen(host);
		if (strcasecmp(host, "localhost") == 0 ||
		    strcasecmp(host, "localhost.") == 0)
			yes = 1;
		else if (inet_pton(AF_INET, host, a) == 1)
			yes = a[0] == 127;
		else if (n > 2 && n - 2 < sizeof(buf) && host[0] == '[') {
			memcpy(buf, host + 1, n - 2);
			buf[n - 2] = '\0';
			yes = inet_pton(AF_INET6, buf, a) == 1 &&
			    (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a) ||
			    (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a) &&
			    a[12] == 127));
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_err e;
	int kind, plain, rc;
	size_t i;
	char *s;

	if (nmsgs[0][0] == 0)
		for (kind = 0; kind < 2; kind++)
			for (plain = 0; plain < 2; plain++)
				learn(kind, plain);
	if (size < 1)
		return 0;
	kind = data[0] & 1 ? CORP_URL_SMTP : CORP_URL_HTTP;
	plain = (data[0] >> 1) & 1;
	s = fuzz_str(data + 1, size - 1);
	rc = corp_url_check(s, kind, plain, "W", CORP_EUSAGE, &e);
	if (rc != 0) {
		for (i = 0; i < nmsgs[kind][plain]; i++)
			if (strcmp(e.msg, msgs[kind][plain][i]) == 0)
				break;
		if (i == nmsgs[kind][plain] &&
		    strcmp(e.msg, "out of memory") != 0)
			abort();	/* a message built from the URL */
	} else if (kind == CORP_URL_HTTP && strncasecmp(s, "http:", 5) == 0 &&
	    !loopback(s))
		abort();	/* plain http to a host that is not loopback */
	free(s);
	return 0;
}
