/*
 * nonce.c -- unguessable ids from arc4random_buf, and the encoders the
 * token functions share; kept apart from rand.c so that a program that
 * needs only these does not link libcrypto (see rand.h).
 */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "rand.h"

void
corp_hex_encode(char *out, const unsigned char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void
corp_b64url_encode(char *out, const unsigned char *b, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;
	unsigned v = 0;
	int bits = 0;

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
}

int
corp_nonce_hex(char *out, size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b))
		return -1;
	arc4random_buf(b, n);
	corp_hex_encode(out, b, n);
	return 0;
}

int
corp_nonce_b64url(char *out, size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b))
		return -1;
	arc4random_buf(b, n);
	corp_b64url_encode(out, b, n);
	return 0;
}
