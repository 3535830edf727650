/*
 * vapid.h -- the push channel's VAPID key pair on disk (issue 19,
 * corp-settings.1 "push keygen"): DATA_DIR/secrets/vapid.pem, the P-256
 * private key as PKCS#8 PEM (webpush.h), mode 0600, in the secrets
 * directory corp trusts (corp_dir_open: owned by the user or root, not
 * writable by others).  corp-send push reads it with corp_secret.
 */
#ifndef CORP_VAPID_H
#define CORP_VAPID_H

#include "webpush.h"

struct corp_err;

#define CORP_VAPID_SECRET	"vapid.pem"

/*
 * A fresh key pair into secrets/vapid.pem (the directory made 0700 when
 * missing): written to a temporary file (O_EXCL, O_NOFOLLOW, 0600),
 * fsynced, then linked into place, which never replaces a key -- an
 * existing one is CORP_ECONFLICT unless force, when it is renamed over
 * (atomically).  pub gets the public key (base64url, the
 * applicationServerKey).
 */
int	corp_vapid_keygen(int force, char pub[CORP_WEBPUSH_KEY_B64],
	    struct corp_err *);
/* The public key of the stored pair; CORP_ENOTFOUND without one. */
int	corp_vapid_public(char pub[CORP_WEBPUSH_KEY_B64], struct corp_err *);

#endif
