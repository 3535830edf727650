/*
 * digest.h -- hashes of secrets (link codes, API tokens, the webhook's
 * secret token): what is stored or compared instead of the value.
 */
#ifndef CORP_DIGEST_H
#define CORP_DIGEST_H

#include <stddef.h>

struct corp_err;

/* Lower-case hex SHA-256 of n bytes into out (65 bytes). */
int	corp_sha256_hex(const void *, size_t n, char *out, struct corp_err *);

#endif
