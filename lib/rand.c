/* rand.c -- see rand.h. */
#include <stdlib.h>
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
	unsigned char b[64];
	int rc;

	if (n > sizeof(b))
		return corp_errf(err, CORP_EINTERNAL, "token too long");
	if ((rc = corp_random_bytes(b, n, err)) != 0)
		return rc;
	corp_hex_encode(out, b, n);
	return 0;
}

int
corp_random_b64url(char *out, size_t n, struct corp_err *err)
{
	unsigned char b[64];
	int rc;

	if (n > sizeof(b))
		return corp_errf(err, CORP_EINTERNAL, "token too long");
	if ((rc = corp_random_bytes(b, n, err)) != 0)
		return rc;
	corp_b64url_encode(out, b, n);
	return 0;
}

