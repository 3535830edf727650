/* The SSRF address rule (corp_addr_refused): the first byte picks the
 * family, then 16 address bytes, then an allow range as text.  An IPv4
 * address, its IPv4-mapped and its NAT64 (64:ff9b::/96) forms get the
 * same verdict; a 6to4 or IPv4-compatible form of a refused IPv4 address
 * is refused too. */
#include <sys/socket.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "corp.h"
#include "netaddr.h"

static const char *
v6(const unsigned char *pre, size_t plen, const unsigned char *v4,
    size_t at, const struct corp_cidr *allow, size_t n)
{
	struct sockaddr_in6 s6;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	memcpy(s6.sin6_addr.s6_addr, pre, plen);
	memcpy(s6.sin6_addr.s6_addr + at, v4, 4);
	return corp_addr_refused((struct sockaddr *)&s6, allow, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff },
	    nat64[12] = { 0, 0x64, 0xff, 0x9b }, sixto4[2] = { 0x20, 0x02 };
	struct corp_cidr *allow = NULL;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	struct corp_err e;
	const char *w4, *wm, *wn;
	char v4txt[16], *s;
	size_t n = 0;

	if (size < 17)
		return 0;
	s = fuzz_str(data + 17, size - 17);
	(void)corp_cidr_add(&allow, &n, s, &e);
	free(s);
	if (data[0] & 1) {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(s6.sin6_addr.s6_addr, data + 1, 16);
		(void)corp_addr_refused((struct sockaddr *)&s6, allow, n);
		(void)corp_addr_embedded((struct sockaddr *)&s6, v4txt,
		    sizeof(v4txt));
	}
	/* Without an IPv6 allow range, the embedded forms follow IPv4. */
	if (n == 1 && allow[0].family == AF_INET6)
		n = 0;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	memcpy(&s4.sin_addr, data + 1, 4);
	w4 = corp_addr_refused((struct sockaddr *)&s4, allow, n);
	wm = v6(mapped, 12, data + 1, 12, allow, n);
	wn = v6(nat64, 12, data + 1, 12, allow, n);
	if ((w4 == NULL) != (wm == NULL) || (w4 == NULL) != (wn == NULL))
		abort();
	if (w4 != NULL && v6(sixto4, 2, data + 1, 2, allow, n) == NULL)
		abort();
	free(allow);
	return 0;
}
