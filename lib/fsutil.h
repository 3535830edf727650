/*
 * fsutil.h -- small files done right: atomic replace, bounded reads,
 * advisory locks, secret files.
 */
#ifndef CORP_FSUTIL_H
#define CORP_FSUTIL_H

#include <stddef.h>

struct corp_err;

/*
 * Replace path with data atomically: a temporary file in the same
 * directory, write, fsync, rename, fsync of the directory.  A reader
 * sees the old file or the new one, never a torn one.  Mode 0600.
 */
int	corp_atomic_write(const char *path, const void *data, size_t len,
	    struct corp_err *);
/*
 * fsync the directory holding path, so that a rename into it survives a
 * crash: 0, or -1 with errno set.
 */
int	corp_sync_dir(const char *path);
/* Read a whole file of at most max bytes; NUL-terminated. ENOTFOUND if
 * missing. */
int	corp_read_file(const char *path, size_t max, char **out, size_t *lenp,
	    struct corp_err *);
/*
 * Take an flock on path (created 0600).  wait=0: CORP_ETEMP when another
 * process holds it.  Returns the fd in *fdp; closing it releases.
 */
int	corp_lock(const char *path, int exclusive, int wait, int *fdp,
	    struct corp_err *);
/*
 * A secret: the environment value when set, else the file
 * DATA_DIR/secrets/NAME, which must not be readable by group or others
 * (CORP_EFORBIDDEN).  Trailing newlines are stripped.  ENOTFOUND when
 * neither exists.  The message never contains the secret.
 */
int	corp_secret(const char *envval, const char *name, char **out,
	    struct corp_err *);

#endif
