/* worker.c -- see worker.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "fsutil.h"
#include "queue.h"
#include "rand.h"
#include "worker.h"

int
corp_worker_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= 64 && strspn(id,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "._:-") == n;
}

int
corp_worker_take(struct corp_db *db, const char *id, int *fdp,
    long long *released, struct corp_err *err)
{
	char *name = NULL, *path = NULL;
	int rc, fd = -1;

	*fdp = -1;
	*released = 0;
	if (!corp_worker_valid(id))
		return corp_errf(err, CORP_EUSAGE,
		    "--worker: 1-64 of A-Z a-z 0-9 . _ : -");
	if (corp_asprintf(&name, "worker-%s.lock", id) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_data_mkpath(&path, name, err)) != 0)
		goto out;
	if ((rc = corp_lock(path, 1, 0, &fd, err)) != 0) {
		if (rc == CORP_ETEMP)
			corp_errf(err, CORP_ETEMP, "worker %s: another live "
			    "process holds %s", id, path);
		goto out;
	}
	if ((rc = corp_queue_release_worker(db, id, released, err)) != 0) {
		close(fd);
		goto out;
	}
	*fdp = fd;
out:
	free(name);
	free(path);
	return rc;
}

int
corp_worker_default(char **id, struct corp_err *err)
{
	char host[64], rnd[9];

	*id = NULL;
	if (gethostname(host, sizeof(host)) != 0)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if (corp_nonce_hex(rnd, 4) != 0)
		return corp_errf(err, CORP_EINTERNAL, "worker id");
	if (corp_asprintf(id, "%s:%ld:%s", host, (long)getpid(), rnd) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}
