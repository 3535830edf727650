/*
 * netaddr.h -- address ranges and the SSRF rule for outgoing requests
 * to operator-named endpoints (webhooks).
 *
 * Refused: every range of the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and its successors: loopback, private, shared,
 * link-local, documentation, benchmarking, protocol assignments, ...),
 * IPv4 and IPv6 multicast, and the deprecated IPv6 site-local range,
 * unless a range the operator allowed (config webhook.allow, passed as
 * --allow) holds the address.
 *
 * IPv6 forms that embed an IPv4 address are judged by that address, so
 * 169.254.169.254 cannot be reached as 64:ff9b::a9fe:a9fe:
 *   ::ffff:0:0/96   IPv4-mapped: judged as the IPv4 address alone;
 *   ::ffff:0:0:0/96 IPv4-translated (SIIT, RFC 6145/6052): judged as
 *                   the IPv4 address alone;
 *   64:ff9b::/96    NAT64's well-known prefix: judged as the IPv4
 *                   address alone (an IPv6-only host reaches public IPv4
 *                   servers this way);
 *   2002::/16       6to4, and ::/96 IPv4-compatible (deprecated): the
 *                   IPv4 address must pass, and then the IPv6 range
 *                   itself is refused unless allowed.
 * 64:ff9b:1::/48 (NAT64 local use) places the IPv4 address where its
 * operator chose, so it is refused as a whole unless allowed.
 * An allow range of the IPv6 family that holds the address as written
 * always lets it through (the operator named it).
 */
#ifndef CORP_NETADDR_H
#define CORP_NETADDR_H

#include <stddef.h>

struct corp_err;
struct sockaddr;

struct corp_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		bits;
};

/* Parse "10.0.0.0/8", "::1/128" or a bare address; append to *list. */
int	corp_cidr_add(struct corp_cidr **list, size_t *n, const char *s,
	    struct corp_err *);
/*
 * NULL when the address may be contacted, else why not ("loopback",
 * "private", "documentation", ...: a static string).  Pure (fuzzed).
 */
const char *corp_addr_refused(const struct sockaddr *,
	    const struct corp_cidr *allow, size_t nallow);
/*
 * The IPv6 form that embeds an IPv4 address ("IPv4-mapped",
 * "IPv4-translated", "NAT64", "6to4", "IPv4-compatible"), with that
 * address in dotted form in v4 (at least 16 bytes); NULL for any other
 * address.
 */
const char *corp_addr_embedded(const struct sockaddr *, char *v4,
	    size_t size);
/* "a" or "an", the article before why ("an unspecified address"). */
const char *corp_addr_article(const char *why);

#endif
