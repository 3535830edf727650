/* digest.c -- see digest.h. */
#include <stdio.h>

#include <openssl/evp.h>

#include "corp.h"
#include "digest.h"

int
corp_sha256_hex(const void *p, size_t n, char *out, struct corp_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return corp_errf(err, CORP_EINTERNAL, "SHA-256 failed");
	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
