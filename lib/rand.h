/*
 * rand.h -- random tokens.  corp_random_* draw from OpenSSL's CSPRNG
 * (secrets a user types or holds: bind codes); corp_nonce_* from
 * arc4random_buf (libbsd, getrandom underneath: unguessable ids such as
 * lease tokens, trace ids, worker ids) without loading libcrypto, whose
 * start-up cost a pipe stage pays on every run.
 */
#ifndef CORP_RAND_H
#define CORP_RAND_H

#include <stddef.h>

struct corp_err;

int	corp_random_bytes(void *, size_t, struct corp_err *);
/* 2n lower-case hex characters + NUL into out (2n+1 bytes). */
int	corp_random_hex(char *out, size_t n, struct corp_err *);
/* n random bytes as unpadded base64url into out (4n/3+2 bytes). */
int	corp_random_b64url(char *out, size_t n, struct corp_err *);

/* Encoders: 2n hex characters; 4n/3 base64url characters (+ NUL). */
void	corp_hex_encode(char *out, const unsigned char *, size_t n);
void	corp_b64url_encode(char *out, const unsigned char *, size_t n);
int	corp_nonce_hex(char *out, size_t n);
int	corp_nonce_b64url(char *out, size_t n);

#endif
