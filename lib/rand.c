/* rand.c -- see rand.h. */
#include <string.h>

#include <openssl/rand.h>

#include "corp.h"
#include "rand.h"

int
corp_random_bytes(void *buf, size_t n, struct corp_err *err)
{
	if (RAND_bytes(buf, (int)n) != 1)
		return corp_errf(err, CORP_EINTERNAL,
		    "no random bytes from OpenSSL");
	return 0;
}

int
corp_random_hex(char *out, size_t n, struct corp_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	size_t i;
	int rc;

	if (n > sizeof(b))
		return corp_errf(err, CORP_EINTERNAL, "token too long");
	if ((rc = corp_random_bytes(b, n, err)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

int
corp_random_b64url(char *out, size_t n, struct corp_err *err)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char b[64];
	size_t i, o = 0;
	unsigned v;
	int bits = 0, rc;

	if (n > sizeof(b))
		return corp_errf(err, CORP_EINTERNAL, "token too long");
	if ((rc = corp_random_bytes(b, n, err)) != 0)
		return rc;
	v = 0;
	for (i = 0; i < n; i++) {
		v = (v << 8) | b[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = tab[(v >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = tab[(v << (6 - bits)) & 63];
	out[o] = '\0';
	return 0;
}
