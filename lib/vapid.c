/* vapid.c -- see vapid.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "fsutil.h"
#include "vapid.h"
#include "webpush.h"

int
corp_vapid_keygen(int force, char pub[CORP_WEBPUSH_KEY_B64],
    struct corp_err *err)
{
	char *dir = NULL, *pem = NULL, tmp[64];
	int rc, dfd = -1, fd = -1, placed = 0;

	pub[0] = '\0';
	if ((rc = corp_data_path(&dir, "secrets", err)) != 0)
		return rc;
	if ((rc = corp_dir_open(dir, 1, &dfd, err)) != 0)
		goto out;
	if ((rc = corp_webpush_vapid_keygen(&pem, pub, err)) != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", CORP_VAPID_SECRET,
	    (long)getpid());
	(void)unlinkat(dfd, tmp, 0);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir, tmp,
		    strerror(errno));
		goto out;
	}
	if (corp_write_all(fd, pem, strlen(pem)) != 0 || fsync(fd) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir, tmp,
		    strerror(errno));
		goto unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: close: %s", dir,
		    tmp, strerror(errno));
		goto unlink;
	}
	fd = -1;
	if (force) {
		if (renameat(dfd, tmp, dfd, CORP_VAPID_SECRET) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir,
			    CORP_VAPID_SECRET, strerror(errno));
			goto unlink;
		}
		placed = 1;
	} else if (linkat(dfd, tmp, dfd, CORP_VAPID_SECRET, 0) != 0) {
		rc = errno == EEXIST ? corp_errf(err, CORP_ECONFLICT,
		    "%s/%s exists: a key pair is in use (subscriptions made "
		    "with it stop working when it changes); replace it with "
		    "--force", dir, CORP_VAPID_SECRET) :
		    corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir,
		    CORP_VAPID_SECRET, strerror(errno));
		goto unlink;
	}
	if (fsync(dfd) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: fsync: %s", dir,
		    strerror(errno));
		goto unlink;
	}
unlink:
	if (!placed)
		(void)unlinkat(dfd, tmp, 0);
out:
	if (rc != 0)
		pub[0] = '\0';
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (pem != NULL) {
		explicit_bzero(pem, strlen(pem));
		free(pem);
	}
	free(dir);
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
