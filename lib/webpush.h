/*
 * webpush.h -- the cryptography of the push channel: Web Push message
 * encryption (RFC 8291, "aes128gcm" content coding of RFC 8188), VAPID
 * (RFC 8292: an ES256 JWT naming the sender) and the browser's
 * PushSubscription object (W3C Push API), all through libcrypto.
 *
 * Contract.  Bytes in, bytes out: nothing here touches the database, a
 * file, the network, the environment or a clock (callers pass the time).
 * libcurl is used for its URL parser only (CURLU), jansson for JSON.
 * Every function is reentrant; outputs are fresh allocations the caller
 * frees, set to NULL (or left empty) on failure, never half filled.  A
 * bad input (a subscription, a key, a payload that does not fit) is
 * CORP_EINVAL with a message naming the field; a libcrypto failure is
 * CORP_EINTERNAL.  Messages never contain a key, the auth secret or the
 * payload.  Intermediate secrets (ECDH output, IKM, CEK, nonce) are
 * wiped before return.
 *
 * Encryption (RFC 8291 3.3-3.4, 4).  Each message gets a fresh ephemeral
 * P-256 key pair and a fresh 16-byte salt from OpenSSL's CSPRNG.  The
 * body is the RFC 8188 header -- salt (16), rs (4, big-endian), idlen
 * (1, = 65), keyid (the ephemeral public key, 65-byte uncompressed
 * point) -- followed by exactly one record: AES-128-GCM over the
 * plaintext and the 0x02 padding delimiter (no further padding), tag
 * appended.  rs is 4096 unless the caller gives another (18 .. 2^32-1);
 * the record is always shorter than rs, as RFC 8291 4 requires.  The
 * whole body stays within the 4096 bytes a push service must accept
 * (RFC 8030 7.2), so the plaintext is at most CORP_WEBPUSH_PLAIN_MAX =
 * 3993 bytes; a longer one is refused, never cut.
 *
 * VAPID (RFC 8292).  The key pair is P-256; the private key travels as
 * PEM (PKCS#8, unencrypted: the caller stores it 0600 under secrets/),
 * the public key as the unpadded base64url uncompressed point a web page
 * passes to pushManager.subscribe() as applicationServerKey.  The
 * Authorization header value is "vapid t=JWT, k=PUBLIC" where the JWT's
 * header is {"typ":"JWT","alg":"ES256"}, its claims
 * {"aud":ORIGIN,"exp":N,"sub":SUBJECT} (aud = the endpoint's
 * scheme://host[:port], the port only when not the scheme's default;
 * exp = now + expires_in, 12 h by default, at most 24 h) and its
 * signature ECDSA P-256 SHA-256 in JOSE form (r || s, 64 bytes), not
 * DER.  now must be wall-clock time (time(NULL)), never corp_now(): the
 * push service checks exp against its own clock.
 *
 * PushSubscription (the JSON a browser's subscription.toJSON() gives):
 *   {"endpoint": "https://push.example.net/...",
 *    "expirationTime": null | milliseconds since 1970,
 *    "keys": {"p256dh": base64url 65-byte point, "auth": base64url 16}}
 * Other members are ignored.  endpoint is an https URL (http only with
 * CORP_WEBPUSH_ALLOW_HTTP, for local fakes) with a host, no user name or
 * password, at most CORP_WEBPUSH_ENDPOINT_MAX bytes; p256dh must decode
 * to an uncompressed point that lies on the P-256 curve (RFC 8291 7:
 * an unchecked point can leak the private key); auth to exactly 16
 * bytes.  base64url may carry "=" padding; standard base64 ("+", "/")
 * is refused.  Keys are kept in canonical form (unpadded base64url).
 * Errors read 'push subscription "keys.auth": 12 bytes, expected 16'.
 */
#ifndef CORP_WEBPUSH_H
#define CORP_WEBPUSH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct corp_err;

#define CORP_WEBPUSH_BODY_MAX	4096	/* RFC 8030 7.2 */
#define CORP_WEBPUSH_HEADER_LEN	86	/* salt, rs, idlen, keyid */
#define CORP_WEBPUSH_TAG_LEN	16
/* 4096 - 86 - 16 - 1 (the delimiter): RFC 8291 4. */
#define CORP_WEBPUSH_PLAIN_MAX	3993
#define CORP_WEBPUSH_RS_DEFAULT	4096
#define CORP_WEBPUSH_RS_MIN	18
/* Sizes with the NUL: 65 bytes and 16 bytes as unpadded base64url. */
#define CORP_WEBPUSH_KEY_B64	88
#define CORP_WEBPUSH_AUTH_B64	23
#define CORP_WEBPUSH_ENDPOINT_MAX 2048
#define CORP_WEBPUSH_EXP_DEFAULT (12 * 3600)
#define CORP_WEBPUSH_EXP_MAX	(24 * 3600)

/*
 * Encrypt len bytes of plain for the subscription keys p256dh and auth
 * (base64url, as in a PushSubscription).  rs 0 means 4096.  *body gets
 * the whole request body (malloc), *bodylen its length (86 + len + 17).
 * CORP_EINVAL: bad keys, rs out of range, or a plaintext that does not
 * fit in one record of one push message.
 */
int	corp_webpush_encrypt(const char *p256dh, const char *auth,
	    const void *plain, size_t len, uint32_t rs, unsigned char **body,
	    size_t *bodylen, struct corp_err *);

/*
 * The same with a given ephemeral key pair (as_priv: the 32-byte scalar,
 * as_pub: the 65-byte point; they must match) and salt.  For tests only
 * (RFC 8291 Appendix A): a reused salt and key break confidentiality.
 */
int	corp_webpush_encrypt_fixed(const char *p256dh, const char *auth,
	    const void *plain, size_t len, uint32_t rs,
	    const unsigned char as_priv[32], const unsigned char as_pub[65],
	    const unsigned char salt[16], unsigned char **body,
	    size_t *bodylen, struct corp_err *);

/* A VAPID key loaded from its PEM (opaque; holds the private key). */
struct corp_webpush_vapid;

/* A fresh key pair: *pem (malloc, NUL-terminated) and the public key. */
int	corp_webpush_vapid_keygen(char **pem,
	    char pub[CORP_WEBPUSH_KEY_B64], struct corp_err *);
/* Load a private key from PEM text; CORP_EINVAL unless P-256 private. */
int	corp_webpush_vapid_load(const char *pem, size_t len,
	    struct corp_webpush_vapid **, struct corp_err *);
void	corp_webpush_vapid_free(struct corp_webpush_vapid *);
/* The public key (base64url uncompressed point); lives with the key. */
const char *corp_webpush_vapid_public(const struct corp_webpush_vapid *);
/*
 * The Authorization header value ("vapid t=..., k=...", malloc) for a
 * message to endpoint.  expires_in: seconds from now, 0 for 12 h,
 * 1 .. 86400.  CORP_EINVAL: a bad endpoint or subject, or expires_in
 * out of range.
 */
int	corp_webpush_vapid_header(const struct corp_webpush_vapid *,
	    const char *endpoint, const char *subject, time_t now,
	    long expires_in, char **value, struct corp_err *);
/* The subject claim: "mailto:" with an address, or an https URL. */
int	corp_webpush_subject_check(const char *subject, struct corp_err *);
/* The origin of an http or https URL: "https://host[:port]" (malloc). */
int	corp_webpush_origin(const char *url, char **origin,
	    struct corp_err *);

enum {
	CORP_WEBPUSH_ALLOW_HTTP = 1	/* accept http:// endpoints (fakes) */
};

struct corp_webpush_sub {
	char		*endpoint;	/* malloc; as given */
	char		 p256dh[CORP_WEBPUSH_KEY_B64];	/* canonical */
	char		 auth[CORP_WEBPUSH_AUTH_B64];	/* canonical */
	long long	 expiration_ms;	/* expirationTime; -1: null, absent */
};

/* Validate a PushSubscription object into *sub (free it when 0). */
int	corp_webpush_sub_parse(json_t *obj, int flags,
	    struct corp_webpush_sub *sub, struct corp_err *);
/*
 * The same from JSON text (one object, any layout); a syntax error reads
 * "NAME:LINE:COL: message".
 */
int	corp_webpush_sub_parse_text(const char *text, size_t len,
	    const char *name, int flags, struct corp_webpush_sub *sub,
	    struct corp_err *);
void	corp_webpush_sub_free(struct corp_webpush_sub *);

#endif
