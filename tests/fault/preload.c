/*
 * preload.c -- an LD_PRELOAD interposer that fails the Nth file call on
 * paths containing a substring (DESIGN 10): the cursor, the outbox and
 * other files that do not go through SQLite.  Test machinery only; it
 * cannot run under ASan (the ASan runtime must come first).
 *
 *	CORP_FAULT=OP:N[:EIO|ENOSPC]	fail the Nth OP call (1-based)
 *	CORP_FAULT=write:N:short	a disk that fills up: the Nth write
 *					writes half its bytes and returns
 *					that short count; every later
 *					write on a matching path fails with
 *					ENOSPC
 *	CORP_FAULT_PATH=SUBSTRING	only calls on matching paths count
 *	CORP_FAULT_COUNT=FILE		at exit write "OP COUNT" lines
 *
 * OP is write (write, pwrite64), fsync (fsync, fdatasync), open (open,
 * openat and their 64 forms), rename (rename, renameat), chmod (chmod,
 * fchmodat) or chown (chown, lchown, fchownat): the last two counted so
 * that a test can show a path is never changed by name.  For calls on
 * a descriptor the path is read from /proc/self/fd.  One fault per
 * process, like the database VFS.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OP_WRITE, OP_FSYNC, OP_OPEN, OP_RENAME, OP_CHMOD, OP_CHOWN, NOPS };
static const char *const names[NOPS] = { "write", "fsync", "open", "rename",
	"chmod", "chown" };

static int	 inited, op = -1, eno = EIO, fired, short_write;
static long	 nth;
static long	 calls[NOPS];
static const char *sub;
static const char *countfile;

static void
report(void)
{
	FILE *f;
	int i;

	if (countfile == NULL || (f = fopen(countfile, "w")) == NULL)
		return;
	for (i = 0; i < NOPS; i++)
		fprintf(f, "%s %ld\n", names[i], calls[i]);
	fclose(f);
}

static void
init(void)
{
	const char *s = getenv("CORP_FAULT"), *p;
	int i;

	if (inited)
		return;
	inited = 1;
	sub = getenv("CORP_FAULT_PATH");
	countfile = getenv("CORP_FAULT_COUNT");
	if (countfile != NULL)
		atexit(report);
	if (s == NULL || (p = strchr(s, ':')) == NULL)
		return;
	for (i = 0; i < NOPS; i++)
		if ((size_t)(p - s) == strlen(names[i]) &&
		    strncmp(s, names[i], (size_t)(p - s)) == 0)
			op = i;
	nth = strtol(p + 1, NULL, 10);
	if ((p = strchr(p + 1, ':')) != NULL && strcmp(p + 1, "ENOSPC") == 0)
		eno = ENOSPC;
	if (p != NULL && strcmp(p + 1, "short") == 0 && op == OP_WRITE) {
		short_write = 1;
		eno = ENOSPC;
	}
}

static int
matches(const char *path)
{
	init();
	return sub == NULL || (path != NULL && strstr(path, sub) != NULL);
}

static int
fd_matches(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	init();
	if (sub == NULL)
		return 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	/* readlink is a syscall wrapper we do not interpose. */
	if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
		return 0;
	path[n] = '\0';
	return strstr(path, sub) != NULL;
}

/* Count a matching call; 1 when it is the one to fail (errno set). */
static int
hit(int o, int match)
{
	init();
	if (!match)
		return 0;
	calls[o]++;
	if (o != op || fired || calls[o] != nth)
		return 0;
	fired = 1;
	errno = eno;
	return 1;
}

#define REAL(type, name, args) \
	static type (*real) args; \
	if (real == NULL) \
		real = (type (*) args)dlsym(RTLD_NEXT, name)

ssize_t
write(int fd, const void *b, size_t n)
{
	int m;

	REAL(ssize_t, "write", (int, const void *, size_t));
	/* stderr and pipes are not the files under test */
	if (fd <= 2)
		return real(fd, b, n);
	m = fd_matches(fd);
	if (short_write && fired && m) {
		errno = ENOSPC;		/* the disk stays full */
		return -1;
	}
	if (hit(OP_WRITE, m))
		return short_write && n > 1 ? real(fd, b, n / 2) : -1;
	return real(fd, b, n);
}

ssize_t
pwrite64(int fd, const void *b, size_t n, off_t off)
{
	REAL(ssize_t, "pwrite64", (int, const void *, size_t, off_t));
	if (hit(OP_WRITE, fd_matches(fd)))
		return -1;
	return real(fd, b, n, off);
}

ssize_t
pwrite(int fd, const void *b, size_t n, off_t off)
{
	return pwrite64(fd, b, n, off);
}

int
fsync(int fd)
{
	REAL(int, "fsync", (int));
	if (hit(OP_FSYNC, fd_matches(fd)))
		return -1;
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", (int));
	if (hit(OP_FSYNC, fd_matches(fd)))
		return -1;
	return real(fd);
}

static int
open_common(int dirfd, const char *path, int flags, mode_t mode)
{
	REAL(int, "openat", (int, const char *, int, ...));
	if (hit(OP_OPEN, matches(path)))
		return -1;
	return real(dirfd, path, flags, mode);
}

#define MODE(flags, mode) do { \
	va_list ap; \
	mode = 0; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return open_common(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return open_common(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return open_common(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return open_common(dirfd, path, flags, mode);
}

int
rename(const char *from, const char *to)
{
	REAL(int, "rename", (const char *, const char *));
	if (hit(OP_RENAME, matches(from) || matches(to)))
		return -1;
	return real(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(int, "renameat", (int, const char *, int, const char *));
	if (hit(OP_RENAME, matches(from) || matches(to)))
		return -1;
	return real(fd1, from, fd2, to);
}

int
chmod(const char *path, mode_t mode)
{
	REAL(int, "chmod", (const char *, mode_t));
	if (hit(OP_CHMOD, matches(path)))
		return -1;
	return real(path, mode);
}

int
fchmodat(int fd, const char *path, mode_t mode, int flags)
{
	REAL(int, "fchmodat", (int, const char *, mode_t, int));
	if (hit(OP_CHMOD, matches(path)))
		return -1;
	return real(fd, path, mode, flags);
}

int
chown(const char *path, uid_t uid, gid_t gid)
{
	REAL(int, "chown", (const char *, uid_t, gid_t));
	if (hit(OP_CHOWN, matches(path)))
		return -1;
	return real(path, uid, gid);
}

int
lchown(const char *path, uid_t uid, gid_t gid)
{
	REAL(int, "lchown", (const char *, uid_t, gid_t));
	if (hit(OP_CHOWN, matches(path)))
		return -1;
	return real(path, uid, gid);
}

int
fchownat(int fd, const char *path, uid_t uid, gid_t gid, int flags)
{
	REAL(int, "fchownat", (int, const char *, uid_t, gid_t, int));
	if (hit(OP_CHOWN, matches(path)))
		return -1;
	return real(fd, path, uid, gid, flags);
}
