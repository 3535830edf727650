/* fsutil.c -- see fsutil.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "fsutil.h"

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
corp_sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1, e;

	if (copy == NULL)
		return -1;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    >= 0) {
		rc = fsync(fd);
		e = errno;
		close(fd);
		errno = e;
	}
	e = errno;
	free(copy);
	errno = e;
	return rc;
}

int
corp_atomic_write(const char *path, const void *data, size_t len,
    struct corp_err *err)
{
	char *tmp = NULL;
	int fd = -1, e;
	const char *what;

	if (corp_asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	what = "create temporary file";
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	what = "chmod";
	if (fchmod(fd, 0600) != 0)
		goto fail;
	what = "write";
	if (write_all(fd, data, len) != 0)
		goto fail;
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	what = "close";
	e = close(fd);
	fd = -1;
	if (e != 0)
		goto fail;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	what = "fsync directory";
	if (corp_sync_dir(path) != 0)
		goto fail_renamed;
	free(tmp);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	corp_errf(err, CORP_EINTERNAL, "%s: %s: %s", path, what, strerror(e));
	free(tmp);
	return CORP_EINTERNAL;
fail_renamed:
	/* The new file is in place but may not survive a crash: say so. */
	corp_errf(err, CORP_EINTERNAL, "%s: %s: %s", path, what,
	    strerror(errno));
	free(tmp);
	return CORP_EINTERNAL;
}

int
corp_read_file(const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return corp_errf(err, CORP_ENOTFOUND, "%s: no such file",
			    path);
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				close(fd);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return corp_errf(err, CORP_EINTERNAL, "%s: read: %s",
			    path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			close(fd);
			return corp_errf(err, CORP_EINVAL,
			    "%s: larger than %zu bytes", path, max);
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

int
corp_lock(const char *path, int exclusive, int wait, int *fdp,
    struct corp_err *err)
{
	int fd, op;

	*fdp = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
	while (flock(fd, op) != 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		if (e == EWOULDBLOCK)
			return corp_errf(err, CORP_ETEMP,
			    "%s: held by another process", path);
		return corp_errf(err, CORP_EINTERNAL, "%s: flock: %s", path,
		    strerror(e));
	}
	*fdp = fd;
	return 0;
}

int
corp_secret(const char *envval, const char *name, char **out,
    struct corp_err *err)
{
	struct stat st;
	char *path, *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (envval != NULL && *envval != '\0') {
		if ((*out = strdup(envval)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		return 0;
	}
	if ((rc = corp_data_path(&path, "secrets", err)) != 0)
		return rc;
	free(path);
	if (corp_asprintf(&path, "%s/secrets/%s", corp_cfg.data_dir, name) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (stat(path, &st) != 0) {
		rc = errno == ENOENT ? corp_errf(err, CORP_ENOTFOUND,
		    "secret %s: not in the environment and no file %s", name,
		    path) : corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
		free(path);
		return rc;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = corp_errf(err, CORP_EFORBIDDEN,
		    "%s: readable by group or others (mode %03o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		free(path);
		return rc;
	}
	rc = corp_read_file(path, 65536, &buf, &len, err);
	free(path);
	if (rc != 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	*out = buf;
	return 0;
}
