/* vapid.c -- see vapid.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "fsutil.h"
#include "vapid.h"
#include "webpush.h"

int
corp_vapid_keygen(int force, char pub[CORP_WEBPUSH_KEY_B64],
    struct corp_err *err)
{
	char *pem = NULL, where[sizeof(err->msg)];
	int rc;

	pub[0] = '\0';
	if ((rc = corp_webpush_vapid_keygen(&pem, pub, err)) != 0)
		goto out;
	if ((rc = corp_secret_place(CORP_VAPID_SECRET, pem, force,
	    err)) == CORP_ECONFLICT) {
		strlcpy(where, err->msg, sizeof(where));
		corp_errf(err, CORP_ECONFLICT, "%s: a key pair is in use "
		    "(subscriptions made with it stop working when it "
		    "changes); replace it with --force", where);
	}
out:
	if (rc != 0)
		pub[0] = '\0';
	if (pem != NULL) {
		explicit_bzero(pem, strlen(pem));
		free(pem);
	}
	return rc;
}

int
corp_vapid_public(char pub[CORP_WEBPUSH_KEY_B64], struct corp_err *err)
{
	struct corp_webpush_vapid *v;
	char *pem;
	int rc;

	pub[0] = '\0';
	if ((rc = corp_secret(NULL, CORP_VAPID_SECRET, &pem, err)) != 0)
		return rc;
	rc = corp_webpush_vapid_load(pem, strlen(pem), &v, err);
	explicit_bzero(pem, strlen(pem));
	free(pem);
	if (rc != 0)
		return rc;
	strlcpy(pub, corp_webpush_vapid_public(v), CORP_WEBPUSH_KEY_B64);
	corp_webpush_vapid_free(v);
	return 0;
}
