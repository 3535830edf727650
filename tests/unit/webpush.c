/* webpush.c -- unit tests of lib/webpush.c: RFC 8291 Appendix A byte for
 * byte, the record-size limits, VAPID JWTs verified here with libcrypto
 * and the public key, origins, subjects, and PushSubscription checks with
 * their exact messages.  (The independent decryption is
 * tests/0560-webpush-crypto.t, against tests/fakes/fake-push.) */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "tap.h"
#include "corp.h"
#include "rand.h"
#include "webpush.h"

/* RFC 8291 Appendix A (and section 5). */
#define A_PLAIN		"When I grow up, I want to be a watermelon"
#define A_AS_PUB	"BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIg" \
			"Dll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
#define A_AS_PRIV	"yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
#define A_UA_PUB	"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx" \
			"aOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define A_SALT		"DGv6ra1nlYgDCS1FRnbzlw"
#define A_AUTH		"BTBZMqHH6r4Tts7J_aSIgg"
#define A_BODY		"DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJS" \
			"PQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6P" \
			"Bru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLW" \
			"youBWLVWGNWQexSgSxsj_Qulcy4a-fN"

/* base64url to bytes (the test's own decoder: OpenSSL's base64). */
static size_t
unb64(const char *s, unsigned char *out, size_t max)
{
	char buf[1024];
	unsigned char tmp[800];
	size_t n = strlen(s), i;
	int got;

	if (n + 4 > sizeof(buf))
		abort();
	for (i = 0; i < n; i++)
		buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4)
		buf[i++] = '=';
	buf[i] = '\0';
	got = EVP_DecodeBlock(tmp, (unsigned char *)buf, (int)i);
	if (got < 0)
		abort();
	got -= (int)(i - n);
	if ((size_t)got > max)
		abort();
	memcpy(out, tmp, (size_t)got);
	return (size_t)got;
}

static char *
b64(const unsigned char *b, size_t n)
{
	char *s = malloc(n / 3 * 4 + 5);

	corp_b64url_encode(s, b, n);
	return s;
}

static void
test_rfc8291(void)
{
	unsigned char priv[32], pub[65], salt[16], *body;
	struct corp_err e;
	size_t len;
	char *got;

	ok(unb64(A_AS_PRIV, priv, 32) == 32 && unb64(A_AS_PUB, pub, 65) ==
	    65 && unb64(A_SALT, salt, 16) == 16, "the RFC's inputs decode");
	ok(corp_webpush_encrypt_fixed(A_UA_PUB, A_AUTH, A_PLAIN,
	    strlen(A_PLAIN), 4096, priv, pub, salt, &body, &len, &e) == 0,
	    "encrypt the Appendix A message");
	is_int(len, 144, "body length 86 + 41 + 1 + 16");
	got = b64(body, len);
	is_str(got, A_BODY, "RFC 8291 Appendix A body, byte for byte");
	free(got);
	free(body);

	ok(corp_webpush_encrypt_fixed(A_UA_PUB, A_AUTH, A_PLAIN,
	    strlen(A_PLAIN), 0, priv, pub, salt, &body, &len, &e) == 0 &&
	    (got = b64(body, len)) != NULL, "rs 0 means 4096");
	is_str(got, A_BODY, "the same body");
	free(got);
	free(body);

	pub[64] ^= 1;
	ok(corp_webpush_encrypt_fixed(A_UA_PUB, A_AUTH, A_PLAIN,
	    strlen(A_PLAIN), 0, priv, pub, salt, &body, &len, &e) ==
	    CORP_EINVAL && body == NULL, "a fixed key pair that does not "
	    "match is refused");
}

static void
test_random(void)
{
	unsigned char *b1, *b2;
	size_t l1, l2;
	struct corp_err e;

	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, "hi", 2, 0, &b1, &l1,
	    &e) == 0, "encrypt with a fresh key and salt");
	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, "hi", 2, 0, &b2, &l2,
	    &e) == 0, "again");
	is_int(l1, 86 + 2 + 1 + 16, "length");
	ok(l1 == l2 && memcmp(b1, b2, 16) != 0, "fresh salt each time");
	ok(memcmp(b1 + 21, b2 + 21, 65) != 0, "fresh ephemeral key each time");
	ok(b1[16] == 0 && b1[17] == 0 && b1[18] == 0x10 && b1[19] == 0 &&
	    b1[20] == 65 && b1[21] == 0x04, "rs 4096, idlen 65, an "
	    "uncompressed point as keyid");
	free(b1);
	free(b2);
	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, NULL, 0, 0, &b1, &l1,
	    &e) == 0 && l1 == 86 + 17, "an empty payload");
	free(b1);
}

static void
test_limits(void)
{
	static unsigned char big[5000];
	unsigned char *b;
	struct corp_err e;
	size_t l;

	memset(big, 'x', sizeof(big));
	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 3993, 0, &b, &l,
	    &e) == 0, "3993 bytes fit");
	is_int(l, 4096, "into a body of exactly 4096 bytes");
	free(b);
	b = (unsigned char *)"x";
	l = 1;
	is_int(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 3994, 0, &b, &l,
	    &e), CORP_EINVAL, "3994 bytes do not");
	ok(b == NULL && l == 0, "no body on failure");
	is_str(e.msg, "3994-byte push payload: at most 3993 bytes fit in "
	    "one 4096-byte push message (RFC 8291 section 4)", "the message");
	is_int(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 5000, 0, &b, &l,
	    &e), CORP_EINVAL, "5000 bytes do not");

	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 0, 18, &b, &l, &e) ==
	    0 && l == 86 + 17 && b[19] == 18, "rs 18 holds the empty payload");
	free(b);
	is_int(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 1, 18, &b, &l, &e),
	    CORP_EINVAL, "rs 18 does not hold one byte");
	is_str(e.msg, "1-byte push payload: at most 0 bytes fit in one "
	    "record of 18 bytes (RFC 8291 section 4)", "the message");
	is_int(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 0, 17, &b, &l, &e),
	    CORP_EINVAL, "rs 17 is too small");
	is_str(e.msg, "push record size 17: must be at least 18",
	    "the message");
	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 82, 100, &b, &l, &e) ==
	    0 && l == 86 + 82 + 17, "rs 100 holds 82 bytes: the record (99) "
	    "is shorter than rs");
	free(b);
	is_int(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 83, 100, &b, &l,
	    &e), CORP_EINVAL, "but not 83 (a record of 100 = rs)");
	ok(corp_webpush_encrypt(A_UA_PUB, A_AUTH, big, 3993, 0xffffffffu, &b,
	    &l, &e) == 0 && b[16] == 0xff && b[19] == 0xff,
	    "the largest rs is written big-endian");
	free(b);
}

/* Verify a VAPID header value; fills the JWT's header and claims. */
static int
verify_vapid(const char *value, const char *pub, json_t **head,
    json_t **claims)
{
	unsigned char pt[65], sig[64], der[80], *p = der, js[512];
	const char *t, *k, *dot1, *dot2;
	char tok[1024], *kpart;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md;
	ECDSA_SIG *es;
	size_t n;
	int derlen, okv;

	*head = *claims = NULL;
	if (strncmp(value, "vapid t=", 8) != 0 ||
	    (k = strstr(value, ", k=")) == NULL)
		return -1;
	t = value + 8;
	if ((size_t)(k - t) >= sizeof(tok))
		return -1;
	memcpy(tok, t, (size_t)(k - t));
	tok[k - t] = '\0';
	kpart = (char *)k + 4;
	if (strcmp(kpart, pub) != 0)
		return -2;
	if ((dot1 = strchr(tok, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || strchr(dot2 + 1, '.'))
		return -3;
	tok[dot1 - tok] = '\0';
	n = unb64(tok, js, sizeof(js) - 1);
	js[n] = '\0';
	*head = json_loads((char *)js, 0, NULL);
	tok[dot2 - tok] = '\0';
	n = unb64(dot1 + 1, js, sizeof(js) - 1);
	js[n] = '\0';
	*claims = json_loads((char *)js, 0, NULL);
	if (unb64(dot2 + 1, sig, 64) != 64)
		return -4;
	tok[dot1 - tok] = '.';		/* the signing input again */
	if (unb64(pub, pt, 65) != 65)
		return -5;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pt, 65);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (EVP_PKEY_fromdata_init(pctx) != 1 || EVP_PKEY_fromdata(pctx,
	    &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		return -6;
	EVP_PKEY_CTX_free(pctx);
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
	    BN_bin2bn(sig + 32, 32, NULL));
	derlen = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	md = EVP_MD_CTX_new();
	okv = EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key,
	    NULL) == 1 && EVP_DigestVerify(md, der, (size_t)derlen,
	    (unsigned char *)tok, strlen(tok)) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return okv ? 0 : -7;
}

static void
test_vapid(void)
{
	struct corp_webpush_vapid *v = NULL, *v2 = NULL;
	char pub[CORP_WEBPUSH_KEY_B64], pub2[CORP_WEBPUSH_KEY_B64];
	char *pem = NULL, *pem2 = NULL, *val = NULL, *tampered, *c, *s;
	json_t *h, *cl;
	struct corp_err e;
	EVP_PKEY *other;
	BIO *bio;
	char *data;
	long n;

	ok(corp_webpush_vapid_keygen(&pem, pub, &e) == 0, "keygen");
	ok(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
	    "the private key is PKCS#8 PEM");
	is_int(strlen(pub), 87, "the public key is 87 base64url characters");
	ok(pub[0] == 'B', "an uncompressed point (0x04)");
	ok(corp_webpush_vapid_load(pem, strlen(pem), &v, &e) == 0, "load");
	is_str(corp_webpush_vapid_public(v), pub, "the same public key");
	ok(corp_webpush_vapid_keygen(&pem2, pub2, &e) == 0 &&
	    strcmp(pub, pub2) != 0, "a second key differs");

	ok(corp_webpush_vapid_header(v, "https://Push.Example.NET:443/wpush/"
	    "v2/abc?x=1", "mailto:ops@example.com", 1700000000, 0, &val,
	    &e) == 0, "header");
	is_int(verify_vapid(val, pub, &h, &cl), 0,
	    "the JWT verifies with the public key (r||s, 64 bytes)");
	c = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(c, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}", "JWT header");
	free(c);
	c = json_dumps(cl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(c, "{\"aud\":\"https://push.example.net\",\"exp\":1700043200,"
	    "\"sub\":\"mailto:ops@example.com\"}",
	    "claims: the origin, now + 12 h, the subject");
	free(c);
	json_decref(h);
	json_decref(cl);

	tampered = strdup(val);
	s = strchr(tampered, '.');
	s[3] = s[3] == 'A' ? 'B' : 'A';	/* a claim byte changed */
	ok(verify_vapid(tampered, pub, &h, &cl) != 0,
	    "a changed claim does not verify (the check can fail)");
	json_decref(h);
	json_decref(cl);
	free(tampered);
	ok(verify_vapid(val, pub2, &h, &cl) != 0, "nor with another key");
	json_decref(h);
	json_decref(cl);
	free(val);

	ok(corp_webpush_vapid_header(v, "http://127.0.0.1:8080/push/1",
	    "https://corp.example.com/contact", 1700000000, 86400, &val,
	    &e) == 0 && verify_vapid(val, pub, &h, &cl) == 0,
	    "24 h and an https subject");
	c = json_dumps(cl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(c, "{\"aud\":\"http://127.0.0.1:8080\",\"exp\":1700086400,"
	    "\"sub\":\"https://corp.example.com/contact\"}", "claims");
	free(c);
	json_decref(h);
	json_decref(cl);
	free(val);

	is_int(corp_webpush_vapid_header(v, "https://p.example/x",
	    "mailto:a@b", 1700000000, 86401, &val, &e), CORP_EINVAL,
	    "more than 24 h is refused");
	is_str(e.msg, "VAPID expiry of 86401 seconds: must be 1 to 86400 "
	    "(24 h, RFC 8292 section 2)", "the message");
	ok(val == NULL, "no value on failure");
	is_int(corp_webpush_vapid_header(v, "https://p.example/x",
	    "mailto:a@b", 1700000000, -5, &val, &e), CORP_EINVAL,
	    "a negative expiry is refused");
	is_int(corp_webpush_vapid_header(v, "https://p.example/x",
	    "ops@example.com", 1700000000, 0, &val, &e), CORP_EINVAL,
	    "a subject without a scheme");
	is_str(e.msg, "VAPID subject \"ops@example.com\": must be a mailto: "
	    "or https: URI (RFC 8292 section 2.1)", "the message");
	is_int(corp_webpush_vapid_header(v, "ftp://p.example/x",
	    "mailto:a@b", 1700000000, 0, &val, &e), CORP_EINVAL,
	    "an ftp endpoint");
	is_str(e.msg, "push endpoint: must be an https URL", "the message");

	is_int(corp_webpush_vapid_load("junk", 4, &v2, &e), CORP_EINVAL,
	    "junk is not a key");
	is_str(e.msg, "VAPID key: not a P-256 private key in PEM (make one "
	    "with corp-settings push keygen)", "the message");
	ok(v2 == NULL, "no key on failure");
	/* A P-384 key in PEM: right format, wrong curve. */
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, other, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	is_int(corp_webpush_vapid_load(data, (size_t)n, &v2, &e), CORP_EINVAL,
	    "a P-384 key is refused");
	BIO_free(bio);
	EVP_PKEY_free(other);
	/* A PEM cut short. */
	is_int(corp_webpush_vapid_load(pem, 30, &v2, &e), CORP_EINVAL,
	    "a cut PEM is refused");

	corp_webpush_vapid_free(v);
	free(pem);
	free(pem2);
}

static void
test_origin_subject(void)
{
	static const struct {
		const char *url, *origin;
	} cases[] = {
		{ "https://fcm.googleapis.com/fcm/send/dQw4", "https://fcm.googleapis.com" },
		{ "https://Updates.Push.Services.Mozilla.com/wpush/v2/gAAA", "https://updates.push.services.mozilla.com" },
		{ "https://web.push.apple.com:443/QGuQ", "https://web.push.apple.com" },
		{ "https://push.example.net:8443/p?q=1#f", "https://push.example.net:8443" },
		{ "http://127.0.0.1:5000/push/a1", "http://127.0.0.1:5000" },
		{ "http://localhost:80/x", "http://localhost" },
		{ "https://[::1]:8443/x", "https://[::1]:8443" },
	};
	static const struct {
		const char *subject, *msg;
	} subjects[] = {
		{ "mailto:ops@example.com", NULL },
		{ "https://corp.example.com/", NULL },
		{ "mailto:", "VAPID subject \"mailto:\": expected mailto:NAME@DOMAIN" },
		{ "mailto:@x", "VAPID subject \"mailto:@x\": expected mailto:NAME@DOMAIN" },
		{ "mailto:ops@", "VAPID subject \"mailto:ops@\": expected mailto:NAME@DOMAIN" },
		{ "http://corp.example.com/", "VAPID subject \"http://corp.example.com/\": must be a mailto: or https: URI (RFC 8292 section 2.1)" },
		{ "https://", "VAPID subject: not a URL (No host part in the URL)" },
		{ "https://u:p@corp.example.com/", "VAPID subject: the URL must not carry a user name or password" },
		{ "mailto:a b@c", "VAPID subject: contains a space or control character" },
		{ "", "VAPID subject: empty; give mailto:ADDRESS or an https URL" },
	};
	struct corp_err e;
	char *o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = NULL;
		ok(corp_webpush_origin(cases[i].url, &o, &e) == 0, "origin "
		    "of %s", cases[i].url);
		is_str(o, cases[i].origin, "is %s", cases[i].origin);
		free(o);
	}
	is_int(corp_webpush_origin("push.example.net/x", &o, &e), CORP_EINVAL,
	    "no scheme");
	ok(strncmp(e.msg, "push endpoint: not a URL (", 26) == 0,
	    "names the endpoint: %s", e.msg);
	for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		corp_errclear(&e);
		is_int(corp_webpush_subject_check(subjects[i].subject, &e),
		    subjects[i].msg ? CORP_EINVAL : 0, "subject \"%s\"",
		    subjects[i].subject);
		if (subjects[i].msg)
			is_str(e.msg, subjects[i].msg, "its message");
	}
}

/* Not on P-256: the RFC's point with y + 1 (the last character's data
 * bits, not its two padding bits). */
#define OFF_CURVE	"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx" \
			"aOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw8"

static void
test_sub(void)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "[]", "push subscription: not a JSON object" },
		{ "{\"keys\":{}}", "push subscription \"endpoint\" is missing" },
		{ "{\"endpoint\":7}", "push subscription \"endpoint\" must be a string" },
		{ "{\"endpoint\":\"http://p.example/x\"}", "push subscription \"endpoint\": must be an https URL" },
		{ "{\"endpoint\":\"ftp://p.example/x\"}", "push subscription \"endpoint\": must be an https URL" },
		{ "{\"endpoint\":\"https://u:pw@p.example/x\"}", "push subscription \"endpoint\": the URL must not carry a user name or password" },
		{ "{\"endpoint\":\"/push/1\"}", NULL },	/* curl's own words */
		{ "{\"endpoint\":\"https://p.example/x\"}", "push subscription \"keys\" is missing" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":[]}", "push subscription \"keys\" must be an object" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\" is missing" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\"}}", "push subscription \"keys.auth\" is missing" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":1,\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\" must be a string" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":null}}", "push subscription \"keys.auth\" is missing" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"BCVx+r7N\",\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\": not base64url, or longer than a 65-byte point" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "AAAA\",\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\": not base64url, or longer than a 65-byte point" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"AyVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx\",\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\": 33 bytes, expected a 65-byte uncompressed P-256 point" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" OFF_CURVE "\",\"auth\":\"" A_AUTH "\"}}", "push subscription \"keys.p256dh\": not a point on the P-256 curve" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"BTBZMqHH6r4Tts7J\"}}", "push subscription \"keys.auth\": 12 bytes, expected 16" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"BTBZMqHH6r4Tts7J_aSIggAA\"}}", "push subscription \"keys.auth\": not base64url, or longer than 16 bytes" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"BTBZMqHH6r4Tts7J_aSI\"}}", "push subscription \"keys.auth\": 15 bytes, expected 16" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"" A_AUTH "\"},\"expirationTime\":\"soon\"}", "push subscription \"expirationTime\" must be null or a number of milliseconds since 1970" },
		{ "{\"endpoint\":\"https://p.example/x\",\"keys\":{\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"" A_AUTH "\"},\"expirationTime\":-1}", "push subscription \"expirationTime\" must be null or a number of milliseconds since 1970" },
	};
	struct corp_webpush_sub sub;
	struct corp_err e;
	char *json, *big;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		corp_errclear(&e);
		is_int(corp_webpush_sub_parse_text(bad[i].json,
		    strlen(bad[i].json), "sub.json", 0, &sub, &e), CORP_EINVAL,
		    "refused: %s", bad[i].json);
		if (bad[i].msg != NULL)
			is_str(e.msg, bad[i].msg, "its message");
		else
			ok(strncmp(e.msg, "push subscription \"endpoint\": "
			    "not a URL (", 39) == 0, "its message: %s", e.msg);
		ok(sub.endpoint == NULL, "nothing kept");
	}

	json = "{\n  \"endpoint\": \"https://fcm.googleapis.com/fcm/send/"
	    "dQw4\",\n  \"expirationTime\": 1700000000000.5,\n  \"keys\": {\n"
	    "    \"p256dh\": \"" A_UA_PUB "=\",\n    \"auth\": \"" A_AUTH
	    "==\"\n  },\n  \"extra\": true\n}\n";
	ok(corp_webpush_sub_parse_text(json, strlen(json), "sub.json", 0,
	    &sub, &e) == 0, "a browser's pretty-printed subscription, padded "
	    "keys, an unknown member");
	is_str(sub.endpoint, "https://fcm.googleapis.com/fcm/send/dQw4",
	    "endpoint");
	is_str(sub.p256dh, A_UA_PUB, "p256dh in canonical form");
	is_str(sub.auth, A_AUTH, "auth in canonical form");
	is_int(sub.expiration_ms, 1700000000000LL, "expirationTime (ms)");
	corp_webpush_sub_free(&sub);

	json = "{\"endpoint\":\"http://127.0.0.1:9/push/a\",\"keys\":{"
	    "\"p256dh\":\"" A_UA_PUB "\",\"auth\":\"" A_AUTH "\"},"
	    "\"expirationTime\":null}";
	is_int(corp_webpush_sub_parse_text(json, strlen(json), "s", 0, &sub,
	    &e), CORP_EINVAL, "http refused by default");
	ok(corp_webpush_sub_parse_text(json, strlen(json), "s",
	    CORP_WEBPUSH_ALLOW_HTTP, &sub, &e) == 0 &&
	    sub.expiration_ms == -1, "allowed with CORP_WEBPUSH_ALLOW_HTTP; "
	    "null expirationTime is -1");
	corp_webpush_sub_free(&sub);

	is_int(corp_webpush_sub_parse_text("{\"endpoint\":", 12, "sub.json", 0,
	    &sub, &e), CORP_EINVAL, "not JSON");
	ok(strncmp(e.msg, "sub.json:1:12: ", 15) == 0,
	    "NAME:LINE:COL: %s", e.msg);
	json = "{\"endpoint\":\"a\",\"endpoint\":\"b\"}";
	is_int(corp_webpush_sub_parse_text(json, strlen(json), "sub.json", 0,
	    &sub, &e), CORP_EINVAL, "a duplicate member is refused");

	big = malloc(CORP_WEBPUSH_ENDPOINT_MAX + 200);
	strcpy(big, "{\"endpoint\":\"https://p.example/");
	memset(big + strlen(big), 'a', CORP_WEBPUSH_ENDPOINT_MAX);
	strcpy(big + 31 + CORP_WEBPUSH_ENDPOINT_MAX, "\"}");
	is_int(corp_webpush_sub_parse_text(big, strlen(big), "s", 0, &sub,
	    &e), CORP_EINVAL, "a long endpoint");
	is_str(e.msg, "push subscription \"endpoint\": longer than 2048 "
	    "bytes", "the message");
	free(big);

	/* The keys a subscription carries are what encryption checks too. */
	is_int(corp_webpush_encrypt(OFF_CURVE, A_AUTH, "x", 1, 0,
	    (unsigned char **)&big, &i, &e), CORP_EINVAL,
	    "encrypt refuses a point off the curve");
	is_str(e.msg, "push subscription \"keys.p256dh\": not a point on the "
	    "P-256 curve", "the message");
}

int
main(void)
{
	test_rfc8291();
	test_random();
	test_limits();
	test_vapid();
	test_origin_subject();
	test_sub();
	return done_testing();
}
