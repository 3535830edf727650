/* rand.h -- random tokens from OpenSSL's CSPRNG. */
#ifndef CORP_RAND_H
#define CORP_RAND_H

#include <stddef.h>

struct corp_err;

int	corp_random_bytes(void *, size_t, struct corp_err *);
/* 2n lower-case hex characters + NUL into out (2n+1 bytes). */
int	corp_random_hex(char *out, size_t n, struct corp_err *);
/* n random bytes as unpadded base64url into out (4n/3+2 bytes). */
int	corp_random_b64url(char *out, size_t n, struct corp_err *);

#endif
