/* netaddr.c -- see netaddr.h. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "netaddr.h"

/*
 * The refused ranges, most specific first where they nest: the IANA
 * IPv4 and IPv6 Special-Purpose Address Registries (as of 2025), plus
 * multicast and IPv6 site-local.  The IPv6 forms that embed an IPv4
 * address (::ffff:0:0/96, ::ffff:0:0:0/96, 64:ff9b::/96, 2002::/16,
 * ::/96) are handled
 * before this table is consulted.
 */
static const struct {
	const char	*range, *why;
} special[] = {
	{ "0.0.0.0/8",		"unspecified" },
	{ "10.0.0.0/8",		"private" },
	{ "100.64.0.0/10",	"shared (carrier-grade NAT)" },
	{ "127.0.0.0/8",	"loopback" },
	{ "169.254.0.0/16",	"link-local" },
	{ "172.16.0.0/12",	"private" },
	{ "192.0.0.0/24",	"IETF protocol assignment" },
	{ "192.0.2.0/24",	"documentation" },
	{ "192.31.196.0/24",	"AS112" },
	{ "192.52.193.0/24",	"AMT" },
	{ "192.88.99.0/24",	"6to4 relay anycast" },
	{ "192.168.0.0/16",	"private" },
	{ "192.175.48.0/24",	"AS112" },
	{ "198.18.0.0/15",	"benchmarking" },
	{ "198.51.100.0/24",	"documentation" },
	{ "203.0.113.0/24",	"documentation" },
	{ "224.0.0.0/4",	"multicast" },
	{ "240.0.0.0/4",	"reserved or broadcast" },
	{ "::/128",		"unspecified" },
	{ "::1/128",		"loopback" },
	{ "64:ff9b:1::/48",	"NAT64 local-use" },
	{ "100::/64",		"discard-only" },
	{ "100:0:0:1::/64",	"dummy prefix" },
	{ "2001::/23",		"IETF protocol assignment" },
	{ "2001:db8::/32",	"documentation" },
	{ "2620:4f:8000::/48",	"AS112" },
	{ "3fff::/20",		"documentation" },
	{ "5f00::/16",		"segment routing (SRv6)" },
	{ "fc00::/7",		"private" },
	{ "fe80::/10",		"link-local" },
	{ "fec0::/10",		"site-local" },
	{ "ff00::/8",		"multicast" },
};
#define NSPECIAL (sizeof(special) / sizeof(special[0]))

static struct corp_cidr	table[NSPECIAL];
static int		table_ready;

static int
parse(const char *s, struct corp_cidr *c)
{
	char buf[64], *slash;
	const char *es;
	int max;

	memset(c, 0, sizeof(*c));
	if (strlen(s) >= sizeof(buf))
		return -1;
	strlcpy(buf, s, sizeof(buf));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->bits = max;
	if (slash != NULL) {
		c->bits = (int)strtonum(slash, 0, max, &es);
		if (es != NULL)
			return -2;
	}
	return 0;
}

/*
 * Does c have bits set after its prefix?  A typo (127.0.0.1/8 for
 * 127.0.0.0/8, or 127.0.0.1/0 for all of IPv4) would otherwise allow
 * more or other than the operator read; net gets the network.
 */
static int
host_bits(const struct corp_cidr *c, char *net, size_t size)
{
	unsigned char a[16];
	int i, len = c->family == AF_INET ? 4 : 16;

	for (i = 0; i < len; i++) {
		int keep = c->bits - i * 8;

		a[i] = keep >= 8 ? c->addr[i] : keep <= 0 ? 0 :
		    (unsigned char)(c->addr[i] & (0xff << (8 - keep)));
	}
	if (memcmp(a, c->addr, (size_t)len) == 0)
		return 0;
	if (inet_ntop(c->family, a, net, (socklen_t)size) == NULL)
		strlcpy(net, "?", size);
	return 1;
}

int
corp_cidr_add(struct corp_cidr **list, size_t *n, const char *s,
    struct corp_err *err)
{
	struct corp_cidr c, *nl;
	char net[INET6_ADDRSTRLEN];
	int rc;

	if ((rc = parse(s, &c)) == -2)
		return corp_errf(err, CORP_EUSAGE, "'%s': prefix length is "
		    "out of range", s);
	if (rc != 0)
		return corp_errf(err, CORP_EUSAGE, "'%s': not an address "
		    "range (e.g. 10.0.0.0/8)", s);
	if (host_bits(&c, net, sizeof(net)))
		return corp_errf(err, CORP_EUSAGE, "'%s': host bits are set "
		    "(did you mean %s/%d?)", s, net, c.bits);
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

static int
allowed(int family, const unsigned char *a, const struct corp_cidr *allow,
    size_t nallow)
{
	size_t i;

	for (i = 0; i < nallow; i++)
		if (allow[i].family == family &&
		    prefix_match(a, allow[i].addr, allow[i].bits))
			return 1;
	return 0;
}

static const char *
lookup(int family, const unsigned char *a)
{
	size_t i;

	if (!table_ready) {
		for (i = 0; i < NSPECIAL; i++)
			if (parse(special[i].range, &table[i]) != 0)
				abort();	/* the table above is wrong */
		table_ready = 1;
	}
	for (i = 0; i < NSPECIAL; i++)
		if (table[i].family == family &&
		    prefix_match(a, table[i].addr, table[i].bits))
			return special[i].why;
	return NULL;
}

static const char *
v4_refused(const unsigned char *a, const struct corp_cidr *allow,
    size_t nallow)
{
	const char *why = lookup(AF_INET, a);

	return why != NULL && !allowed(AF_INET, a, allow, nallow) ? why : NULL;
}

/* The embedding form of a (16 bytes), its IPv4 address into v4. */
static const char *
embedding(const unsigned char *a, unsigned char *v4)
{
	static const unsigned char zero[12], mapped[12] = { 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0xff, 0xff }, nat64[12] = { 0, 0x64, 0xff, 0x9b },
	    siit[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 };

	if (memcmp(a, mapped, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return "IPv4-mapped";
	}
	/* ::ffff:0:a.b.c.d, SIIT's IPv4-translated form (RFC 6145/6052). */
	if (memcmp(a, siit, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return "IPv4-translated";
	}
	if (memcmp(a, nat64, 12) == 0) {
		memcpy(v4, a + 12, 4);
		return "NAT64";
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return "6to4";
	}
	/* ::/96 less :: and ::1, which the table names. */
	if (memcmp(a, zero, 12) == 0 && ((a[12] | a[13] | a[14]) != 0 ||
	    a[15] > 1)) {
		memcpy(v4, a + 12, 4);
		return "IPv4-compatible";
	}
	return NULL;
}

const char *
corp_addr_refused(const struct sockaddr *sa, const struct corp_cidr *allow,
    size_t nallow)
{
	unsigned char a[16], v4[4];
	const char *form, *why;

	if (sa->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return v4_refused(a, allow, nallow);
	}
	if (sa->sa_family != AF_INET6)
		return "not an internet address";
	memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
	    16);
	/* What the operator named as written always passes. */
	if (allowed(AF_INET6, a, allow, nallow))
		return NULL;
	if ((form = embedding(a, v4)) != NULL) {
		if ((why = v4_refused(v4, allow, nallow)) != NULL)
			return why;
		/* Mapped, translated and NAT64 reach the IPv4 address,
		 * nothing else. */
		if (strcmp(form, "IPv4-mapped") == 0 ||
		    strcmp(form, "IPv4-translated") == 0 ||
		    strcmp(form, "NAT64") == 0)
			return NULL;
		return strcmp(form, "6to4") == 0 ? "6to4" :
		    "IPv4-compatible (deprecated)";
	}
	return lookup(AF_INET6, a);
}

const char *
corp_addr_embedded(const struct sockaddr *sa, char *buf, size_t size)
{
	unsigned char a[16], v4[4];
	const char *form;

	if (sa->sa_family != AF_INET6)
		return NULL;
	memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
	    16);
	if ((form = embedding(a, v4)) == NULL)
		return NULL;
	snprintf(buf, size, "%u.%u.%u.%u", v4[0], v4[1], v4[2], v4[3]);
	return form;
}

const char *
corp_addr_article(const char *why)
{
	return why != NULL && why[0] != '\0' &&
	    strchr("AEIOUaeiou", why[0]) != NULL ? "an" : "a";
}
