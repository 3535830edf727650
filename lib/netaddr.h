/*
 * netaddr.h -- address ranges and the SSRF rule for outgoing requests
 * to operator-named endpoints (webhooks): loopback, private, link-local,
 * unspecified, multicast and broadcast addresses are refused unless a
 * range the operator allowed (config webhook.allow, passed as --allow)
 * holds them.
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
 * "private", ...).  IPv4-mapped IPv6 addresses are judged as IPv4.
 */
const char *corp_addr_refused(const struct sockaddr *,
	    const struct corp_cidr *allow, size_t nallow);

#endif
