/*
 * apitls.h -- corp-api's TLS certificate and key (corp-api.1, corp.7
 * SECURITY): read once at start from the descriptors corp judged, parsed
 * with libssl, and installed into the server's SSL_CTX from memory, so
 * that the key checked is the key served and libwebsockets opens no
 * path at all (fresh-eyes round 9: given paths, it loaded an unchecked
 * KEY.upd / CERT.upd planted beside them, renaming them into place).
 * No HTTP here.  Only corp-api references this file (it links libssl).
 */
#ifndef CORP_APITLS_H
#define CORP_APITLS_H

struct corp_err;

struct corp_apitls {
	void		*cert;		/* X509 *: the first certificate */
	void		*chain;		/* STACK_OF(X509) *: the rest */
	void		*key;		/* EVP_PKEY * */
};

/*
 * The certificate chain (PEM: the server's certificate first, then its
 * intermediates) and the private key (PEM, unencrypted).  The
 * certificate file passes the ownership rule (corp_read_conf: O_NOFOLLOW,
 * a regular file owned by the running user or root, writable by neither
 * group nor others), the key the rule for a secret (corp_read_secret);
 * CORP_EFORBIDDEN naming the file otherwise.  A file that holds no PEM
 * certificate or key, an encrypted key, or a key that does not match
 * the certificate is CORP_ECONFIG naming the file.  The key's text is
 * wiped (OPENSSL_cleanse) as soon as it is parsed.
 */
int	corp_apitls_load(struct corp_apitls *, const char *cert,
	    const char *key, struct corp_err *);
/* Into ssl_ctx (an SSL_CTX *): certificate, chain and key; CORP_ECONFIG
 * when libssl refuses one. */
int	corp_apitls_use(const struct corp_apitls *, void *ssl_ctx,
	    struct corp_err *);
void	corp_apitls_free(struct corp_apitls *);

#endif
