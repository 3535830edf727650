/* netaddr.c -- see netaddr.h. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "netaddr.h"

int
corp_cidr_add(struct corp_cidr **list, size_t *n, const char *s,
    struct corp_err *err)
{
	struct corp_cidr c, *nl;
	char buf[64], *slash;
	const char *es;
	int max;

	memset(&c, 0, sizeof(c));
	if (strlen(s) >= sizeof(buf))
		return corp_errf(err, CORP_EUSAGE, "'%s': not an address "
		    "range", s);
	strlcpy(buf, s, sizeof(buf));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else
		return corp_errf(err, CORP_EUSAGE, "'%s': not an address "
		    "range (e.g. 10.0.0.0/8)", s);
	c.bits = max;
	if (slash != NULL) {
		c.bits = (int)strtonum(slash, 0, max, &es);
		if (es != NULL)
			return corp_errf(err, CORP_EUSAGE, "'%s': prefix "
			    "length is %s", s, es);
	}
	if ((nl = reallocarray(*list, *n + 1, sizeof(*nl))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	nl[(*n)++] = c;
	*list = nl;
	return 0;
}

static int
prefix_match(const unsigned char *a, const unsigned char *p, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, p, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ p[full]) & (0xff << (8 - rest))) == 0;
}

static const char *
v4_class(const unsigned char *a)
{
	if (a[0] == 127)
		return "loopback";
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168))
		return "private";
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return "shared (carrier-grade NAT)";
	if (a[0] == 169 && a[1] == 254)
		return "link-local";
	if (a[0] == 0)
		return "unspecified";
	if ((a[0] & 0xf0) == 224)
		return "multicast";
	if (a[0] >= 240)
		return "reserved or broadcast";
	return NULL;
}

static const char *
v6_class(const unsigned char *a)
{
	static const unsigned char zero[16];

	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "loopback";
	if (memcmp(a, zero, 16) == 0)
		return "unspecified";
	if ((a[0] & 0xfe) == 0xfc)
		return "private";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "site-local";
	if (a[0] == 0xff)
		return "multicast";
	return NULL;
}

const char *
corp_addr_refused(const struct sockaddr *sa, const struct corp_cidr *allow,
    size_t nallow)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	unsigned char a[16];
	const char *why;
	int family;
	size_t i;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		if (memcmp(a, mapped, 12) == 0) {
			family = AF_INET;
			memmove(a, a + 12, 4);
		}
	} else
		return "not an internet address";
	why = family == AF_INET ? v4_class(a) : v6_class(a);
	if (why == NULL)
		return NULL;
	for (i = 0; i < nallow; i++)
		if (allow[i].family == family &&
		    prefix_match(a, allow[i].addr, allow[i].bits))
			return NULL;
	return why;
}
