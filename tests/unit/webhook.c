/* webhook.c -- unit tests of the transports' pure parts: the Standard
 * Webhooks signature (its published test vector), the SSRF address
 * rule, chat ids, redaction. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>

#include "tap.h"
#include "corp.h"
#include "http.h"
#include "netaddr.h"
#include "telegram.h"
#include "webhook.h"

static void
test_sign(void)
{
	static const char body[] = "{\"test\": 2432232314}";
	struct corp_err e;
	char sig[128];

	ok(corp_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    sizeof(body) - 1, sig, sizeof(sig), &e) == 0, "sign");
	is_str(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "the Standard Webhooks test vector");
	ok(corp_webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    sizeof(body) - 1, sig, sizeof(sig), &e) == CORP_EINVAL,
	    "a raw secret without whsec_ is refused, not guessed at");
	ok(corp_webhook_sign("whsec_not base64!", "1", 1, "x", 1, sig,
	    sizeof(sig), &e) == CORP_EINVAL, "a secret that is not base64");
	ok(corp_webhook_sign("whsec_", "1", 1, "x", 1, sig, sizeof(sig), &e) ==
	    CORP_EINVAL, "an empty secret");
	ok(corp_webhook_sign("whsec_YWJj", "1", 1, "x", 1, sig, sizeof(sig),
	    &e) == CORP_EINVAL, "a key of 3 bytes is too short");
	ok(corp_webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa=w",
	    NULL, 0) == -1, "padding only at the end");
	ok(corp_webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
	    NULL, 0) == -1, "no white space");
	ok(corp_webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    NULL, 0) == 24, "24 bytes");
	ok(corp_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "1", 1,
	    "x", 1, sig, 8, &e) == CORP_EINTERNAL,
	    "a short buffer is an error, not a cut");
}

static const char *
refused(const char *addr, const struct corp_cidr *allow, size_t n)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return corp_addr_refused((struct sockaddr *)&s4, allow, n);
	}
	inet_pton(AF_INET6, addr, &s6.sin6_addr);
	s6.sin6_family = AF_INET6;
	return corp_addr_refused((struct sockaddr *)&s6, allow, n);
}

static void
test_ssrf(void)
{
	struct corp_cidr *allow = NULL;
	struct corp_err e;
	size_t n = 0;

	is_str(refused("127.0.0.1", NULL, 0), "loopback", "127.0.0.1");
	is_str(refused("127.9.9.9", NULL, 0), "loopback", "127/8");
	is_str(refused("10.1.2.3", NULL, 0), "private", "10/8");
	is_str(refused("172.16.0.1", NULL, 0), "private", "172.16/12");
	is_str(refused("172.31.255.1", NULL, 0), "private", "172.31");
	is_str(refused("172.32.0.1", NULL, 0), NULL, "172.32 is public");
	is_str(refused("192.168.1.1", NULL, 0), "private", "192.168/16");
	is_str(refused("169.254.169.254", NULL, 0), "link-local",
	    "the cloud metadata address");
	is_str(refused("0.0.0.0", NULL, 0), "unspecified", "0.0.0.0");
	is_str(refused("224.0.0.1", NULL, 0), "multicast", "224/4");
	is_str(refused("93.184.216.34", NULL, 0), NULL, "a public address");
	is_str(refused("::1", NULL, 0), "loopback", "::1");
	is_str(refused("::", NULL, 0), "unspecified", "::");
	is_str(refused("fd00::1", NULL, 0), "private", "fc00::/7");
	is_str(refused("fe80::1", NULL, 0), "link-local", "fe80::/10");
	is_str(refused("ff02::1", NULL, 0), "multicast", "ff00::/8");
	is_str(refused("::ffff:127.0.0.1", NULL, 0), "loopback",
	    "IPv4-mapped loopback");
	is_str(refused("2606:4700::1", NULL, 0), NULL, "a public IPv6");
	ok(corp_cidr_add(&allow, &n, "127.0.0.0/8", &e) == 0, "allow 127/8");
	ok(corp_cidr_add(&allow, &n, "10.20.0.0/16", &e) == 0,
	    "allow 10.20/16");
	ok(corp_cidr_add(&allow, &n, "fd00::/8", &e) == 0, "allow fd00::/8");
	is_str(refused("127.0.0.1", allow, n), NULL, "allowed loopback");
	is_str(refused("::ffff:127.0.0.1", allow, n), NULL,
	    "allowed loopback, mapped");
	is_str(refused("10.20.9.9", allow, n), NULL, "inside 10.20/16");
	is_str(refused("10.21.0.1", allow, n), "private", "outside 10.20/16");
	is_str(refused("fd12::1", allow, n), NULL, "inside fd00::/8");
	is_str(refused("::1", allow, n), "loopback", "::1 still refused");
	ok(corp_cidr_add(&allow, &n, "10.0.0.0/33", &e) == CORP_EUSAGE,
	    "prefix too long");
	ok(corp_cidr_add(&allow, &n, "example.com/8", &e) == CORP_EUSAGE,
	    "not an address");
	free(allow);
}

static void
test_misc(void)
{
	char buf[64];
	long long c;

	ok(corp_tg_chat_id("42", &c) == 0 && c == 42, "chat id 42");
	ok(corp_tg_chat_id("-100123", &c) != 0, "a group id is refused");
	ok(corp_tg_chat_id("042", &c) != 0, "a leading zero is refused");
	ok(corp_tg_chat_id("9007199254740992", &c) != 0, "2^53 is refused");
	ok(corp_tg_chat_id("", &c) != 0, "empty");
	strlcpy(buf, "GET /bot1:abc/sendMessage: bot1:abc!", sizeof(buf));
	corp_redact(buf, sizeof(buf), "1:abc");
	is_str(buf, "GET /bot<redacted>/sendMessage: bot<redacted>!",
	    "every occurrence redacted");
	strlcpy(buf, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxab",
	    sizeof(buf));
	corp_redact(buf, 60, "ab");
	ok(strstr(buf, "ab") == NULL, "no room: cut, never leaked");
	strlcpy(buf, "red red", sizeof(buf));
	corp_redact(buf, sizeof(buf), "red");
	is_str(buf, "<redacted> <redacted>", "a secret inside the mark ends");
	strlcpy(buf, "a S3cr%3At/pw b S3cr%3at/pw c S3cr%3At%2Fpw", sizeof(buf));
	corp_redact(buf, sizeof(buf), "S3cr:t/pw");
	is_str(buf, "a <redacted> b <redacted> c <redacted>",
	    "percent-encoded with '/' kept, either case, and whole");
	ok(corp_webhook_name_ok("crm-prod_1.x"), "endpoint name");
	ok(!corp_webhook_name_ok("../x"), "no path in an endpoint name");
	ok(!corp_webhook_name_ok("a/b"), "no slash");
	ok(!corp_webhook_name_ok(""), "not empty");
}

int
main(void)
{
	test_sign();
	test_ssrf();
	test_misc();
	return done_testing();
}
