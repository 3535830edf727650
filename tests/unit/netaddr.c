/* netaddr.c -- the SSRF rule's table (netaddr.h): every range of the
 * IANA IPv4 and IPv6 Special-Purpose Address Registries refused, the
 * IPv6 forms that embed an IPv4 address judged by that address, and
 * webhook.allow (--allow) lifting a refusal only for what it names. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "corp.h"
#include "netaddr.h"

static const char *
judge(const char *addr, const struct corp_cidr *allow, size_t n)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return corp_addr_refused((struct sockaddr *)&s4, allow, n);
	}
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) != 1)
		return "(test: not an address)";
	s6.sin6_family = AF_INET6;
	return corp_addr_refused((struct sockaddr *)&s6, allow, n);
}

/* One row: an address, the verdict without an allow list. */
static const struct {
	const char *addr, *why;
} table[] = {
	/* IPv4 special-purpose registry, first and last of each block */
	{ "0.0.0.0", "unspecified" },
	{ "0.255.255.255", "unspecified" },
	{ "10.0.0.0", "private" },
	{ "10.255.255.255", "private" },
	{ "100.64.0.0", "shared (carrier-grade NAT)" },
	{ "100.127.255.255", "shared (carrier-grade NAT)" },
	{ "100.128.0.0", NULL },
	{ "127.0.0.1", "loopback" },
	{ "127.255.255.255", "loopback" },
	{ "169.254.169.254", "link-local" },
	{ "172.16.0.0", "private" },
	{ "172.31.255.255", "private" },
	{ "172.32.0.0", NULL },
	{ "192.0.0.0", "IETF protocol assignment" },
	{ "192.0.0.170", "IETF protocol assignment" },
	{ "192.0.0.255", "IETF protocol assignment" },
	{ "192.0.1.0", NULL },
	{ "192.0.2.1", "documentation" },
	{ "192.31.196.1", "AS112" },
	{ "192.52.193.1", "AMT" },
	{ "192.88.99.1", "6to4 relay anycast" },
	{ "192.168.0.1", "private" },
	{ "192.175.48.1", "AS112" },
	{ "198.17.255.255", NULL },
	{ "198.18.0.0", "benchmarking" },
	{ "198.19.255.255", "benchmarking" },
	{ "198.20.0.0", NULL },
	{ "198.51.100.7", "documentation" },
	{ "203.0.113.9", "documentation" },
	{ "224.0.0.1", "multicast" },
	{ "239.255.255.255", "multicast" },
	{ "240.0.0.1", "reserved or broadcast" },
	{ "255.255.255.255", "reserved or broadcast" },
	{ "8.8.8.8", NULL },
	{ "93.184.216.34", NULL },
	/* IPv6 special-purpose registry */
	{ "::", "unspecified" },
	{ "::1", "loopback" },
	{ "64:ff9b:1::", "NAT64 local-use" },
	{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "NAT64 local-use" },
	{ "100::1", "discard-only" },
	{ "100:0:0:1::1", "dummy prefix" },
	{ "2001::1", "IETF protocol assignment" },
	{ "2001:2::1", "IETF protocol assignment" },
	{ "2001:1ff:ffff::1", "IETF protocol assignment" },
	{ "2001:200::1", NULL },
	{ "2001:db8::1", "documentation" },
	{ "2620:4f:8000::1", "AS112" },
	{ "3fff::1", "documentation" },
	{ "3fff:fff::1", "documentation" },
	{ "5f00::1", "segment routing (SRv6)" },
	{ "fc00::1", "private" },
	{ "fdff::1", "private" },
	{ "fe80::1", "link-local" },
	{ "fec0::1", "site-local" },
	{ "ff02::1", "multicast" },
	{ "2606:4700::1111", NULL },
	{ "2a00:1450:4001::1", NULL },
	/* IPv4 embedded in IPv6: judged as IPv4 */
	{ "::ffff:127.0.0.1", "loopback" },
	{ "::ffff:169.254.169.254", "link-local" },
	{ "::ffff:198.18.0.1", "benchmarking" },
	{ "::ffff:8.8.8.8", NULL },
	/* SIIT's IPv4-translated form, ::ffff:0:a.b.c.d (RFC 6145/6052) */
	{ "::ffff:0:7f00:1", "loopback" },
	{ "::ffff:0:127.0.0.1", "loopback" },
	{ "::ffff:0:a9fe:a9fe", "link-local" },
	{ "::ffff:0:10.0.0.1", "private" },
	{ "::ffff:0:0.0.0.0", "unspecified" },
	{ "::ffff:0:8.8.8.8", NULL },
	{ "64:ff9b::a9fe:a9fe", "link-local" },
	{ "64:ff9b::127.0.0.1", "loopback" },
	{ "64:ff9b::10.0.0.1", "private" },
	{ "64:ff9b::198.18.0.1", "benchmarking" },
	{ "64:ff9b::8.8.8.8", NULL },
	{ "2002:a9fe:a9fe::1", "link-local" },
	{ "2002:7f00:1::", "loopback" },
	{ "2002:808:808::1", "6to4" },
	{ "::169.254.169.254", "link-local" },
	{ "::127.0.0.1", "loopback" },
	{ "::0.0.0.2", "unspecified" },
	{ "::8.8.8.8", "IPv4-compatible (deprecated)" },
};

static void
test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		is_str(judge(table[i].addr, NULL, 0), table[i].why, "%s: %s",
		    table[i].addr, table[i].why ? table[i].why : "allowed");
}

static void
test_allow(void)
{
	struct corp_cidr *allow = NULL;
	struct corp_err e;
	size_t n = 0;

	ok(corp_cidr_add(&allow, &n, "10.0.0.0/8", &e) == 0, "allow 10/8");
	ok(corp_cidr_add(&allow, &n, "198.18.0.0/15", &e) == 0,
	    "allow 198.18/15");
	ok(corp_cidr_add(&allow, &n, "2002::/16", &e) == 0, "allow 2002::/16");
	is_str(judge("10.1.2.3", allow, n), NULL, "10.1.2.3 allowed");
	is_str(judge("::ffff:10.1.2.3", allow, n), NULL, "mapped, allowed");
	is_str(judge("64:ff9b::10.1.2.3", allow, n), NULL,
	    "NAT64 of an allowed IPv4, allowed");
	is_str(judge("64:ff9b::a9fe:a9fe", allow, n), "link-local",
	    "NAT64 of link-local, still refused");
	is_str(judge("198.19.0.1", allow, n), NULL, "benchmarking allowed");
	is_str(judge("2002:a01:203::", allow, n), NULL,
	    "6to4 allowed by 2002::/16 as written");
	is_str(judge("::10.1.2.3", allow, n), "IPv4-compatible (deprecated)",
	    "::/96 still needs its own range");
	is_str(judge("192.168.1.1", allow, n), "private",
	    "192.168/16 is not 10/8");
	ok(corp_cidr_add(&allow, &n, "64:ff9b::/96", &e) == 0,
	    "allow 64:ff9b::/96");
	is_str(judge("64:ff9b::a9fe:a9fe", allow, n), NULL,
	    "an operator who names the NAT64 prefix gets it whole");
	ok(corp_cidr_add(&allow, &n, "::/200", &e) == CORP_EUSAGE,
	    "prefix out of range");
	ok(corp_cidr_add(&allow, &n, "127.0.0.1/8", &e) == CORP_EUSAGE,
	    "host bits set");
	is_str(e.msg, "'127.0.0.1/8': host bits are set (did you mean "
	    "127.0.0.0/8?)", "names the network");
	ok(corp_cidr_add(&allow, &n, "127.0.0.1/0", &e) == CORP_EUSAGE,
	    "not all of IPv4 by a typo");
	ok(corp_cidr_add(&allow, &n, "10.1.2.3/31", &e) == CORP_EUSAGE,
	    "a bit inside the last byte");
	ok(corp_cidr_add(&allow, &n, "10.1.2.2/31", &e) == 0, "/31 exact");
	free(allow);
}

static void
test_embedded(void)
{
	struct sockaddr_in6 s6;
	char v4[16];

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "64:ff9b::a9fe:a9fe", &s6.sin6_addr);
	is_str(corp_addr_embedded((struct sockaddr *)&s6, v4, sizeof(v4)),
	    "NAT64", "NAT64 named");
	is_str(v4, "169.254.169.254", "its IPv4 address");
	inet_pton(AF_INET6, "2002:c000:0201::", &s6.sin6_addr);
	is_str(corp_addr_embedded((struct sockaddr *)&s6, v4, sizeof(v4)),
	    "6to4", "6to4 named");
	is_str(v4, "192.0.2.1", "its IPv4 address");
	inet_pton(AF_INET6, "::ffff:0:7f00:1", &s6.sin6_addr);
	is_str(corp_addr_embedded((struct sockaddr *)&s6, v4, sizeof(v4)),
	    "IPv4-translated", "SIIT's form named");
	is_str(v4, "127.0.0.1", "its IPv4 address");
	inet_pton(AF_INET6, "2606:4700::1", &s6.sin6_addr);
	is_str(corp_addr_embedded((struct sockaddr *)&s6, v4, sizeof(v4)),
	    NULL, "a plain IPv6 address embeds nothing");
}

/* Every refusal reads as English after "a"/"an": "an unspecified
 * address", "an AS112 address", "a loopback address". */
static void
test_article(void)
{
	static const struct {
		const char	*addr, *phrase;
	} t[] = {
		{ "0.0.0.1", "an unspecified" },
		{ "::", "an unspecified" },
		{ "192.0.0.1", "an IETF protocol assignment" },
		{ "192.31.196.1", "an AS112" },
		{ "192.52.193.1", "an AMT" },
		{ "::8.8.8.8", "an IPv4-compatible (deprecated)" },
		{ "2002:808:808::1", "a 6to4" },
		{ "127.0.0.1", "a loopback" },
		{ "64:ff9b:1::1", "a NAT64 local-use" },
	};
	char buf[80];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *why = judge(t[i].addr, NULL, 0);

		snprintf(buf, sizeof(buf), "%s %s", corp_addr_article(why),
		    why ? why : "(allowed)");
		is_str(buf, t[i].phrase, "%s: %s address", t[i].addr,
		    t[i].phrase);
	}
}

int
main(void)
{
	test_table();
	test_article();
	test_allow();
	test_embedded();
	return done_testing();
}
