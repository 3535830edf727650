/* apitls.c -- see apitls.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "corp.h"
#include "apitls.h"
#include "fsutil.h"

#define APITLS_MAX	(1 << 20)	/* bytes of a certificate chain */
#define APITLS_KEYMAX	65536		/* bytes of a private key */

/* A PEM passphrase is never asked for (no prompt on a terminal): an
 * encrypted key fails to parse. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* libssl's reason for the last failure, for a message. */
static const char *
ssl_why(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "not understood";
}

void
corp_apitls_free(struct corp_apitls *t)
{
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	EVP_PKEY_free(t->key);
	memset(t, 0, sizeof(*t));
}

static int
load_chain(struct corp_apitls *t, const char *path, const char *pem,
    size_t len, struct corp_err *err)
{
	BIO *b;
	X509 *x;
	unsigned long e;
	int rc = 0;

	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (t->chain = sk_X509_new_null()) == NULL) {
		BIO_free(b);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	ERR_clear_error();
	if ((t->cert = PEM_read_bio_X509_AUX(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		rc = corp_errf(err, CORP_ECONFIG, "%s: no PEM certificate "
		    "(%s)", path, ssl_why());
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL)
		if (!sk_X509_push(t->chain, x)) {
			X509_free(x);
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
	/* The end of the file, or a block that is no certificate. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		rc = corp_errf(err, CORP_ECONFIG, "%s: certificate %d of the "
		    "chain: %s", path, sk_X509_num(t->chain) + 2, ssl_why());
out:
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

int
corp_apitls_load(struct corp_apitls *t, const char *cert, const char *key,
    struct corp_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *b;
	int rc;

	memset(t, 0, sizeof(*t));
	/* The key first: a secret is judged before anything else is read
	 * (and corp_read_secret makes the process undumpable). */
	if ((rc = corp_read_secret(key, APITLS_KEYMAX, &pem, &len, err)) != 0)
		return rc;
	ERR_clear_error();
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else if ((t->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase,
	    NULL)) == NULL)
		rc = corp_errf(err, CORP_ECONFIG, "%s: no unencrypted PEM "
		    "private key (%s)", key, ssl_why());
	BIO_free(b);
	OPENSSL_cleanse(pem, len);
	free(pem);
	pem = NULL;
	ERR_clear_error();
	if (rc != 0)
		goto fail;
	if ((rc = corp_read_conf(cert, APITLS_MAX, &pem, &len, err)) != 0 ||
	    (rc = load_chain(t, cert, pem, len, err)) != 0)
		goto fail;
	free(pem);
	pem = NULL;
	if (X509_check_private_key(t->cert, t->key) != 1) {
		ERR_clear_error();
		rc = corp_errf(err, CORP_ECONFIG, "%s: the key does not "
		    "match the certificate %s", key, cert);
		goto fail;
	}
	return 0;
fail:
	free(pem);
	corp_apitls_free(t);
	return rc;
}

int
corp_apitls_use(const struct corp_apitls *t, void *ssl_ctx,
    struct corp_err *err)
{
	SSL_CTX *sc = ssl_ctx;
	int i;

	ERR_clear_error();
	if (SSL_CTX_use_certificate(sc, t->cert) != 1 ||
	    !SSL_CTX_clear_chain_certs(sc))
		goto bad;
	for (i = 0; i < sk_X509_num(t->chain); i++)
		if (!SSL_CTX_add1_chain_cert(sc, sk_X509_value(t->chain, i)))
			goto bad;
	if (SSL_CTX_use_PrivateKey(sc, t->key) != 1 ||
	    SSL_CTX_check_private_key(sc) != 1)
		goto bad;
	return 0;
bad:
	corp_errf(err, CORP_ECONFIG, "TLS: %s", ssl_why());
	ERR_clear_error();
	return CORP_ECONFIG;
}
