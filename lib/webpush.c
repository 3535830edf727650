/* webpush.c -- see webpush.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "corp.h"
#include "http.h"
#include "rand.h"
#include "webpush.h"

#define SUB "push subscription"

struct corp_webpush_vapid {
	EVP_PKEY	*key;
	char		 pub[CORP_WEBPUSH_KEY_B64];
};

/*
 * base64url (RFC 4648 5) into out, at most max bytes; "=" padding is
 * allowed, "+" and "/" are not.  The decoding itself is OpenSSL's
 * EVP_DecodeBlock on the translated text.  -1 when s is not base64url
 * or decodes to more than max bytes.
 */
static int
b64url_decode(const char *s, unsigned char *out, size_t max, size_t *outlen)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strspn(s, alpha), i, padded;
	unsigned char *tmp, *dec;
	int got;

	if (s[n + strspn(s + n, "=")] != '\0' || strspn(s + n, "=") > 2 ||
	    n % 4 == 1 || n > (max + 2) / 3 * 4)
		return -1;
	if (strspn(s + n, "=") > 0 && (n + strspn(s + n, "=")) % 4 != 0)
		return -1;
	padded = (n + 3) / 4 * 4;
	if ((tmp = malloc(padded + 1)) == NULL)
		return -1;
	if ((dec = malloc(padded / 4 * 3 + 1)) == NULL) {
		free(tmp);
		return -1;
	}
	for (i = 0; i < n; i++)
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (; i < padded; i++)
		tmp[i] = '=';
	tmp[padded] = '\0';
	got = padded == 0 ? 0 : EVP_DecodeBlock(dec, tmp, (int)padded);
	if (got >= 0)
		got -= (int)(padded - n);	/* bytes the padding stood for */
	if (got < 0 || (size_t)got > max) {
		free(tmp);
		OPENSSL_clear_free(dec, padded / 4 * 3 + 1);
		return -1;
	}
	memcpy(out, dec, (size_t)got);
	*outlen = (size_t)got;
	free(tmp);
	OPENSSL_clear_free(dec, padded / 4 * 3 + 1);
	return 0;
}

/* A P-256 public key from its uncompressed point; NULL if off the curve. */
static EVP_PKEY *
point_key(const unsigned char pt[65])
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx, *chk = NULL;
	EVP_PKEY *key = NULL;

	if (pt[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, 65);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	/* fromdata decodes the point; the explicit check states the rule. */
	if (key != NULL && ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, key,
	    NULL)) == NULL || EVP_PKEY_public_check(chk) != 1)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	return key;
}

/* The uncompressed point of a P-256 key. */
static int
key_point(EVP_PKEY *key, unsigned char pt[65])
{
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    65, &n) != 1 || n != 65 || pt[0] != 0x04)
		return -1;
	return 0;
}

/* Is key an EC key on P-256? */
static int
is_p256(EVP_PKEY *key)
{
	char group[64];

	return EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
}

/*
 * The subscription keys, decoded and checked; messages name the fields
 * as a PushSubscription does ("keys.p256dh", "keys.auth").
 */
static int
decode_keys(const char *p256dh, const char *auth, unsigned char pt[65],
    unsigned char sec[16], EVP_PKEY **ua, struct corp_err *err)
{
	size_t n;

	*ua = NULL;
	if (p256dh == NULL || b64url_decode(p256dh, pt, 65, &n) != 0)
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.p256dh\": "
		    "not base64url, or longer than a 65-byte point");
	if (n != 65 || pt[0] != 0x04)
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.p256dh\": "
		    "%zu bytes%s, expected a 65-byte uncompressed P-256 point",
		    n, n == 65 ? " not starting with 0x04" : "");
	if (auth == NULL || b64url_decode(auth, sec, 16, &n) != 0)
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.auth\": not "
		    "base64url, or longer than 16 bytes");
	if (n != 16)
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.auth\": %zu "
		    "bytes, expected 16", n);
	if ((*ua = point_key(pt)) == NULL)
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.p256dh\": "
		    "not a point on the P-256 curve");
	return 0;
}

/* HKDF-SHA256 (RFC 5869, extract then expand) into out[outlen]. */
static int
hkdf(const unsigned char *salt, size_t saltlen, const unsigned char *ikm,
    size_t ikmlen, const unsigned char *info, size_t infolen,
    unsigned char *out, size_t outlen)
{
	OSSL_PARAM params[5];
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	int ok = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, saltlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, infolen);
	params[4] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) != NULL &&
	    (ctx = EVP_KDF_CTX_new(kdf)) != NULL &&
	    EVP_KDF_derive(ctx, out, outlen, params) == 1)
		ok = 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

/* ECDH(as, ua) into secret[32]. */
static int
ecdh(EVP_PKEY *as, EVP_PKEY *ua, unsigned char secret[32])
{
	EVP_PKEY_CTX *ctx;
	size_t n = 32;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, as, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, ua) == 1 &&
	    EVP_PKEY_derive(ctx, secret, &n) == 1 && n == 32;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* AES-128-GCM of in[len] || delim into out (len + 1 + 16 bytes). */
static int
seal(const unsigned char key[16], const unsigned char nonce[12],
    const unsigned char *in, size_t len, unsigned char delim,
    unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, m = 0, f = 0, ok;

	if (len > INT_MAX - 64 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_EncryptInit_ex2(ctx, EVP_aes_128_gcm(), key, nonce,
	    NULL) == 1;
	if (ok && len > 0)
		ok = EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1;
	if (ok)
		ok = EVP_EncryptUpdate(ctx, out + n, &m, &delim, 1) == 1 &&
		    EVP_EncryptFinal_ex(ctx, out + n + m, &f) == 1 &&
		    (size_t)n + m + f == len + 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
		    CORP_WEBPUSH_TAG_LEN, out + len + 1) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * RFC 8291 3.3-3.4 and 4 with the ephemeral key as and its point as_pub.
 * The derivation is the RFC's, step for step:
 *   ecdh_secret = ECDH(as_private, ua_public)
 *   IKM   = HKDF(salt=auth, ikm=ecdh_secret,
 *                info="WebPush: info" 0x00 ua_public as_public, L=32)
 *   CEK   = HKDF(salt=salt, ikm=IKM, info="Content-Encoding: aes128gcm" 0x00,
 *                L=16)
 *   NONCE = HKDF(salt=salt, ikm=IKM, info="Content-Encoding: nonce" 0x00,
 *                L=12)
 * (one record, sequence number 0: the nonce is used as is).
 */
static int
encrypt_with(const char *p256dh, const char *auth, const void *plain,
    size_t len, uint32_t rs, EVP_PKEY *as, const unsigned char as_pub[65],
    const unsigned char salt[16], unsigned char **body, size_t *bodylen,
    struct corp_err *err)
{
	static const char key_label[] = "WebPush: info";
	static const char cek_info[] = "Content-Encoding: aes128gcm";
	static const char nonce_info[] = "Content-Encoding: nonce";
	unsigned char ua_pub[65], sec[16], shared[32], ikm[32], cek[16];
	unsigned char nonce[12], info[sizeof(key_label) + 130], *out = NULL;
	EVP_PKEY *ua = NULL;
	size_t total;
	int rc;

	*body = NULL;
	*bodylen = 0;
	if (rs == 0)
		rs = CORP_WEBPUSH_RS_DEFAULT;
	if (rs < CORP_WEBPUSH_RS_MIN)
		return corp_errf(err, CORP_EINVAL, "push record size %lu: "
		    "must be at least %d", (unsigned long)rs,
		    CORP_WEBPUSH_RS_MIN);
	if (len > CORP_WEBPUSH_PLAIN_MAX)
		return corp_errf(err, CORP_EINVAL, "%zu-byte push payload: "
		    "at most %d bytes fit in one %d-byte push message "
		    "(RFC 8291 section 4)", len, CORP_WEBPUSH_PLAIN_MAX,
		    CORP_WEBPUSH_BODY_MAX);
	if (len + 1 + CORP_WEBPUSH_TAG_LEN >= rs)
		return corp_errf(err, CORP_EINVAL, "%zu-byte push payload: "
		    "at most %lu bytes fit in one record of %lu bytes "
		    "(RFC 8291 section 4)", len,
		    (unsigned long)rs - 1 - 1 - CORP_WEBPUSH_TAG_LEN,
		    (unsigned long)rs);
	if ((rc = decode_keys(p256dh, auth, ua_pub, sec, &ua, err)) != 0)
		goto done;

	total = CORP_WEBPUSH_HEADER_LEN + len + 1 + CORP_WEBPUSH_TAG_LEN;
	if ((out = malloc(total)) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto done;
	}
	memcpy(info, key_label, sizeof(key_label));	/* with its NUL */
	memcpy(info + sizeof(key_label), ua_pub, 65);
	memcpy(info + sizeof(key_label) + 65, as_pub, 65);
	if (ecdh(as, ua, shared) != 0 ||
	    hkdf(sec, 16, shared, 32, info, sizeof(info), ikm, 32) != 0 ||
	    hkdf(salt, 16, ikm, 32, (const unsigned char *)cek_info,
	    sizeof(cek_info), cek, 16) != 0 ||
	    hkdf(salt, 16, ikm, 32, (const unsigned char *)nonce_info,
	    sizeof(nonce_info), nonce, 12) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "push encryption: key "
		    "derivation failed in libcrypto");
		goto done;
	}
	memcpy(out, salt, 16);
	out[16] = (unsigned char)(rs >> 24);
	out[17] = (unsigned char)(rs >> 16);
	out[18] = (unsigned char)(rs >> 8);
	out[19] = (unsigned char)rs;
	out[20] = 65;
	memcpy(out + 21, as_pub, 65);
	if (seal(cek, nonce, plain, len, 0x02,
	    out + CORP_WEBPUSH_HEADER_LEN) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "push encryption: "
		    "AES-128-GCM failed in libcrypto");
		goto done;
	}
	*body = out;
	*bodylen = total;
	out = NULL;
	rc = 0;
done:
	free(out);
	EVP_PKEY_free(ua);
	OPENSSL_cleanse(sec, sizeof(sec));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(ikm, sizeof(ikm));
	OPENSSL_cleanse(cek, sizeof(cek));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return rc;
}

int
corp_webpush_encrypt(const char *p256dh, const char *auth, const void *plain,
    size_t len, uint32_t rs, unsigned char **body, size_t *bodylen,
    struct corp_err *err)
{
	unsigned char salt[16], as_pub[65];
	EVP_PKEY *as;
	int rc;

	*body = NULL;
	*bodylen = 0;
	if ((as = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    key_point(as, as_pub) != 0) {
		EVP_PKEY_free(as);
		return corp_errf(err, CORP_EINTERNAL, "push encryption: no "
		    "ephemeral P-256 key from libcrypto");
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		EVP_PKEY_free(as);
		return corp_errf(err, CORP_EINTERNAL, "push encryption: no "
		    "random salt from libcrypto");
	}
	rc = encrypt_with(p256dh, auth, plain, len, rs, as, as_pub, salt,
	    body, bodylen, err);
	EVP_PKEY_free(as);
	return rc;
}

int
corp_webpush_encrypt_fixed(const char *p256dh, const char *auth,
    const void *plain, size_t len, uint32_t rs,
    const unsigned char as_priv[32], const unsigned char as_pub[65],
    const unsigned char salt[16], unsigned char **body, size_t *bodylen,
    struct corp_err *err)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *as = NULL;
	BIGNUM *d = NULL;
	int rc;

	*body = NULL;
	*bodylen = 0;
	if ((d = BN_bin2bn(as_priv, 32, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    as_pub, 65) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &as, EVP_PKEY_KEYPAIR, params) != 1 ||
	    (chk = EVP_PKEY_CTX_new_from_pkey(NULL, as, NULL)) == NULL ||
	    EVP_PKEY_pairwise_check(chk) != 1)
		rc = corp_errf(err, CORP_EINVAL, "push encryption: the fixed "
		    "key pair is not a matching P-256 key pair");
	else
		rc = encrypt_with(p256dh, auth, plain, len, rs, as, as_pub,
		    salt, body, bodylen, err);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(as);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return rc;
}

/* --- VAPID ------------------------------------------------------------- */

int
corp_webpush_vapid_keygen(char **pem, char pub[CORP_WEBPUSH_KEY_B64],
    struct corp_err *err)
{
	unsigned char pt[65];
	EVP_PKEY *key;
	BIO *bio = NULL;
	char *data;
	long n;
	int rc = 0;

	*pem = NULL;
	pub[0] = '\0';
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    key_point(key, pt) != 0 ||
	    (bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1 || (n = BIO_get_mem_data(bio, &data)) <= 0)
		rc = corp_errf(err, CORP_EINTERNAL, "VAPID: no P-256 key "
		    "pair from libcrypto");
	else if ((*pem = malloc((size_t)n + 1)) == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else {
		memcpy(*pem, data, (size_t)n);
		(*pem)[n] = '\0';
		corp_b64url_encode(pub, pt, 65);
	}
	BIO_free(bio);
	EVP_PKEY_free(key);
	return rc;
}

int
corp_webpush_vapid_load(const char *pem, size_t len,
    struct corp_webpush_vapid **out, struct corp_err *err)
{
	struct corp_webpush_vapid *v;
	unsigned char pt[65];
	EVP_PKEY *key = NULL;
	BIO *bio;

	*out = NULL;
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL || !is_p256(key) || key_point(key, pt) != 0) {
		EVP_PKEY_free(key);
		return corp_errf(err, CORP_EINVAL, "VAPID key: not a P-256 "
		    "private key in PEM (make one with corp-settings push "
		    "keygen)");
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		EVP_PKEY_free(key);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	v->key = key;
	corp_b64url_encode(v->pub, pt, 65);
	*out = v;
	return 0;
}

void
corp_webpush_vapid_free(struct corp_webpush_vapid *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->key);
	free(v);
}

const char *
corp_webpush_vapid_public(const struct corp_webpush_vapid *v)
{
	return v->pub;
}

/* Parse url with libcurl; the scheme must be http(s), with a host. */
static int
url_parse(const char *url, int allow_http, const char *what, CURLU **up,
    struct corp_err *err)
{
	CURLUcode uc;
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
	int rc = 0;

	*up = NULL;
	if ((u = curl_url()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK)
		rc = corp_errf(err, CORP_EINVAL, "%s: not a URL (%s)", what,
		    curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 &&
	    (!allow_http || strcmp(scheme, "http") != 0)))
		rc = corp_errf(err, CORP_EINVAL, "%s: must be an https URL",
		    what);
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0')
		rc = corp_errf(err, CORP_EINVAL, "%s: the URL has no host",
		    what);
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) !=
	    CURLUE_NO_PASSWORD)
		rc = corp_errf(err, CORP_EINVAL, "%s: the URL must not carry "
		    "a user name or password", what);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	if (rc != 0)
		curl_url_cleanup(u);
	else
		*up = u;
	return rc;
}

int
corp_webpush_origin(const char *url, char **origin, struct corp_err *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *p;
	int rc;

	*origin = NULL;
	if ((rc = url_parse(url, 1, "push endpoint", &u, err)) != 0)
		return rc;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* CURLUE_NO_PORT: none given, or the scheme's default. */
	else if (curl_url_get(u, CURLUPART_PORT, &port,
	    CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		port = NULL;
	if (rc == 0) {
		/* An origin's host is lower case (RFC 6454 4). */
		for (p = host; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if ((port != NULL ? corp_asprintf(origin, "%s://%s:%s",
		    scheme, host, port) : corp_asprintf(origin, "%s://%s",
		    scheme, host)) < 0) {
			*origin = NULL;
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
corp_webpush_subject_check(const char *subject, struct corp_err *err)
{
	const char *p;
	CURLU *u;
	int rc;

	if (subject == NULL || *subject == '\0')
		return corp_errf(err, CORP_EINVAL, "VAPID subject: empty; "
		    "give mailto:ADDRESS or an https URL");
	if (strlen(subject) > 1024)
		return corp_errf(err, CORP_EINVAL, "VAPID subject: longer "
		    "than 1024 bytes");
	for (p = subject; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return corp_errf(err, CORP_EINVAL, "VAPID subject: "
			    "contains a space or control character");
	if (strncmp(subject, "mailto:", 7) == 0) {
		p = strchr(subject + 7, '@');
		if (p == NULL || p == subject + 7 || p[1] == '\0')
			return corp_errf(err, CORP_EINVAL, "VAPID subject "
			    "\"%s\": expected mailto:NAME@DOMAIN", subject);
		return 0;
	}
	if (strncmp(subject, "https:", 6) != 0)
		return corp_errf(err, CORP_EINVAL, "VAPID subject \"%s\": "
		    "must be a mailto: or https: URI (RFC 8292 section 2.1)",
		    subject);
	if ((rc = url_parse(subject, 0, "VAPID subject", &u, err)) != 0)
		return rc;
	curl_url_cleanup(u);
	return 0;
}

/* base64url of a JSON value's compact text, key order kept (malloc). */
static char *
b64url_json(json_t *v)
{
	char *txt, *out;
	size_t n;

	if (v == NULL || (txt = json_dumps(v, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		return NULL;
	n = strlen(txt);
	if ((out = malloc(n / 3 * 4 + 5)) != NULL)
		corp_b64url_encode(out, (const unsigned char *)txt, n);
	free(txt);
	return out;
}

/* ES256 over data: the JOSE form, r || s, each 32 bytes big-endian. */
static int
es256(EVP_PKEY *key, const char *data, unsigned char sig[64])
{
	EVP_MD_CTX *md;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	unsigned char der[80];
	const unsigned char *p = der;
	size_t n = sizeof(der);
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key,
	    NULL) == 1 &&
	    EVP_DigestSign(md, der, &n, (const unsigned char *)data,
	    strlen(data)) == 1 &&
	    (es = d2i_ECDSA_SIG(NULL, &p, (long)n)) != NULL;
	if (ok) {
		ECDSA_SIG_get0(es, &r, &s);
		ok = BN_bn2binpad(r, sig, 32) == 32 &&
		    BN_bn2binpad(s, sig + 32, 32) == 32;
	}
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int
corp_webpush_vapid_header(const struct corp_webpush_vapid *v,
    const char *endpoint, const char *subject, time_t now, long expires_in,
    char **value, struct corp_err *err)
{
	unsigned char sig[64];
	char sig64[90], *aud = NULL, *head = NULL, *claims = NULL,
	    *input = NULL;
	json_t *h, *c;
	int rc;

	*value = NULL;
	if (expires_in == 0)
		expires_in = CORP_WEBPUSH_EXP_DEFAULT;
	if (expires_in < 1 || expires_in > CORP_WEBPUSH_EXP_MAX)
		return corp_errf(err, CORP_EINVAL, "VAPID expiry of %ld "
		    "seconds: must be 1 to %d (24 h, RFC 8292 section 2)",
		    expires_in, CORP_WEBPUSH_EXP_MAX);
	if ((rc = corp_webpush_subject_check(subject, err)) != 0)
		return rc;
	if ((rc = corp_webpush_origin(endpoint, &aud, err)) != 0)
		return rc;
	h = json_pack("{s:s, s:s}", "typ", "JWT", "alg", "ES256");
	c = json_pack("{s:s, s:I, s:s}", "aud", aud, "exp",
	    (json_int_t)now + expires_in, "sub", subject);
	head = b64url_json(h);
	claims = b64url_json(c);
	json_decref(h);
	json_decref(c);
	if (head == NULL || claims == NULL ||
	    corp_asprintf(&input, "%s.%s", head, claims) < 0) {
		input = NULL;
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	} else if (es256(v->key, input, sig) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "VAPID: ES256 signing "
		    "failed in libcrypto");
	else {
		corp_b64url_encode(sig64, sig, sizeof(sig));
		if (corp_asprintf(value, "vapid t=%s.%s, k=%s", input, sig64,
		    v->pub) < 0) {
			*value = NULL;
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	free(aud);
	free(head);
	free(claims);
	free(input);
	return rc;
}

/* --- PushSubscription -------------------------------------------------- */

static int
sub_key(json_t *keys, const char *name, const char **out,
    struct corp_err *err)
{
	json_t *v = json_object_get(keys, name);

	if (v == NULL || json_is_null(v))
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.%s\" is "
		    "missing", name);
	if (!json_is_string(v))
		return corp_errf(err, CORP_EINVAL, SUB " \"keys.%s\" must be "
		    "a string", name);
	*out = json_string_value(v);
	return 0;
}

int
corp_webpush_sub_parse(json_t *obj, int flags, struct corp_webpush_sub *sub,
    struct corp_err *err)
{
	unsigned char pt[65], sec[16];
	const char *endpoint, *p256dh, *auth;
	json_t *v, *keys;
	EVP_PKEY *ua = NULL;
	CURLU *u;
	double ms;
	int rc;

	memset(sub, 0, sizeof(*sub));
	sub->expiration_ms = -1;
	if (!json_is_object(obj))
		return corp_errf(err, CORP_EINVAL, SUB ": not a JSON object");
	v = json_object_get(obj, "endpoint");
	if (v == NULL || json_is_null(v))
		return corp_errf(err, CORP_EINVAL, SUB " \"endpoint\" is "
		    "missing");
	if (!json_is_string(v))
		return corp_errf(err, CORP_EINVAL, SUB " \"endpoint\" must be "
		    "a string");
	endpoint = json_string_value(v);
	if (strlen(endpoint) > CORP_WEBPUSH_ENDPOINT_MAX)
		return corp_errf(err, CORP_EINVAL, SUB " \"endpoint\": longer "
		    "than %d bytes", CORP_WEBPUSH_ENDPOINT_MAX);
	if ((rc = url_parse(endpoint, flags & CORP_WEBPUSH_ALLOW_HTTP,
	    SUB " \"endpoint\"", &u, err)) != 0)
		return rc;
	curl_url_cleanup(u);
	/* Plain http:// only to a loopback host, as the webhook and the
	 * Bot API: the host as libcurl parsed it (corp_url_check). */
	if ((flags & CORP_WEBPUSH_ALLOW_HTTP) && (rc = corp_url_check(endpoint,
	    CORP_URL_HTTP, 1, SUB " \"endpoint\"", CORP_EINVAL, err)) != 0)
		return rc;

	keys = json_object_get(obj, "keys");
	if (keys == NULL || json_is_null(keys))
		return corp_errf(err, CORP_EINVAL, SUB " \"keys\" is missing");
	if (!json_is_object(keys))
		return corp_errf(err, CORP_EINVAL, SUB " \"keys\" must be an "
		    "object");
	if ((rc = sub_key(keys, "p256dh", &p256dh, err)) != 0 ||
	    (rc = sub_key(keys, "auth", &auth, err)) != 0)
		return rc;
	rc = decode_keys(p256dh, auth, pt, sec, &ua, err);
	EVP_PKEY_free(ua);
	if (rc != 0) {
		OPENSSL_cleanse(sec, sizeof(sec));
		return rc;
	}

	v = json_object_get(obj, "expirationTime");
	if (v != NULL && !json_is_null(v)) {
		/* A DOMHighResTimeStamp: a number, maybe with a fraction. */
		ms = json_is_number(v) ? json_number_value(v) : -1;
		if (!(ms >= 0 && ms <= 9007199254740991.0)) {
			OPENSSL_cleanse(sec, sizeof(sec));
			return corp_errf(err, CORP_EINVAL, SUB
			    " \"expirationTime\" must be null or a number of "
			    "milliseconds since 1970");
		}
		sub->expiration_ms = (long long)ms;
	}
	if ((sub->endpoint = strdup(endpoint)) == NULL) {
		OPENSSL_cleanse(sec, sizeof(sec));
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	corp_b64url_encode(sub->p256dh, pt, 65);
	corp_b64url_encode(sub->auth, sec, 16);
	OPENSSL_cleanse(sec, sizeof(sec));
	return 0;
}

int
corp_webpush_sub_parse_text(const char *text, size_t len, const char *name,
    int flags, struct corp_webpush_sub *sub, struct corp_err *err)
{
	json_error_t je;
	json_t *obj;
	int rc;

	memset(sub, 0, sizeof(*sub));
	sub->expiration_ms = -1;
	obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (obj == NULL)
		return corp_errf(err, CORP_EINVAL, "%s:%d:%d: %s", name,
		    je.line, je.column, je.text);
	rc = corp_webpush_sub_parse(obj, flags, sub, err);
	json_decref(obj);
	return rc;
}

void
corp_webpush_sub_free(struct corp_webpush_sub *sub)
{
	if (sub == NULL)
		return;
	free(sub->endpoint);
	sub->endpoint = NULL;
}
