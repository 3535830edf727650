/* fsutil.c -- see fsutil.h. */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "elfpaths.h"
#include "fsutil.h"
#include "text.h"

int
corp_write_all(int fd, const char *p, size_t n)
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

static int
atomic_put(const char *path, const void *data, size_t len, int excl,
    struct corp_err *err)
{
	struct stat st;
	char *tmp = NULL;
	int fd = -1, e;
	const char *what;

	/*
	 * rename() would quietly replace a link or a FIFO planted in the
	 * file's place: refuse it as every reader does (corp.7 FILES).  A
	 * link swapped in after this check is replaced, not followed.
	 */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic link; "
		    "corp follows none in its data directory: put the file "
		    "itself there", path);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: not a regular "
		    "file", path);
	if (corp_asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	what = "create temporary file";
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	what = "chmod";
	if (fchmod(fd, 0600) != 0)
		goto fail;
	what = "write";
	if (corp_write_all(fd, data, len) != 0)
		goto fail;
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	what = "close";
	e = close(fd);
	fd = -1;
	if (e != 0)
		goto fail;
	if (excl) {
		/* link() makes the name only where none is: whatever is
		 * there (a file, a link, a FIFO) stays, untouched. */
		what = "link";
		if (link(tmp, path) != 0) {
			if (errno != EEXIST)
				goto fail;
			unlink(tmp);
			free(tmp);
			return corp_errf(err, CORP_ECONFLICT, "%s: exists",
			    path);
		}
		what = "unlink temporary file";
		if (unlink(tmp) != 0)
			goto fail_renamed;
	} else {
		what = "rename";
		if (rename(tmp, path) != 0)
			goto fail;
	}
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
corp_atomic_write(const char *path, const void *data, size_t len,
    struct corp_err *err)
{
	return atomic_put(path, data, len, 0, err);
}

int
corp_atomic_create(const char *path, const void *data, size_t len,
    struct corp_err *err)
{
	return atomic_put(path, data, len, 1, err);
}

/* The rest of fd, at most max bytes, into a fresh NUL-terminated buffer;
 * closes fd. */
static int
read_fd(int fd, const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

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
corp_open_nofollow(const char *path, int flags, int mode, int *fdp,
    struct corp_err *err)
{
	if ((*fdp = open(path, flags | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode)) >= 0)
		return 0;
	if (errno == ELOOP)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic link; "
		    "corp follows none in its data directory: put the file "
		    "itself there", path);
	/* With O_CREAT, ENOENT is a missing directory: an open failure. */
	if (errno == ENOENT && !(flags & O_CREAT))
		return corp_errf(err, CORP_ENOTFOUND, "%s: no such file",
		    path);
	return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
	    strerror(errno));
}

int
corp_read_file(const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	int fd, rc;

	*out = NULL;
	/* O_NONBLOCK: a FIFO in the file's place must not hang the tool. */
	if ((rc = corp_open_nofollow(path, O_RDONLY | O_NONBLOCK, 0, &fd,
	    err)) != 0)
		return rc;
	return read_fd(fd, path, max, out, lenp, err);
}

/* The user's name (getpwuid's buffer is reused: copied), else the uid. */
static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL)
		strlcpy(buf, pw->pw_name, len);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

int
corp_trust_stat(const char *path, const struct stat *st,
    struct corp_err *err)
{
	uid_t me = geteuid();
	char b1[64], b2[64];
	const char *owner, *self;

	if (st->st_uid != me && st->st_uid != 0) {
		owner = user_name(st->st_uid, b1, sizeof(b1));
		self = user_name(me, b2, sizeof(b2));
		if (me == 0)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: owned by "
			    "%s (uid %u), not by root, who runs corp; chown "
			    "root %s", path, owner, (unsigned)st->st_uid,
			    path);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: owned by %s "
		    "(uid %u), not by %s, who runs corp, nor root; chown %s "
		    "%s", path, owner, (unsigned)st->st_uid, self, self, path);
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: %s-writable "
		    "(mode %03o); chmod go-w %s", path,
		    st->st_mode & S_IWOTH ? "world" : "group",
		    (unsigned)(st->st_mode & 07777), path);
	return 0;
}

static int
dir_open(const char *path, int make, int own, int *fdp, struct corp_err *err)
{
	struct stat st;
	int fd, rc;

	*fdp = -1;
	if (make && mkdir(path, 0700) != 0 && errno != EEXIST)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	/* O_NOFOLLOW|O_DIRECTORY: a link in the directory's place fails
	 * with ELOOP, a file with ENOTDIR; neither is ever followed. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return corp_errf(err, CORP_ENOTFOUND, "%s: no such "
			    "directory", path);
		if (errno == ELOOP || (errno == ENOTDIR && lstat(path, &st) ==
		    0 && S_ISLNK(st.st_mode)))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic "
			    "link; corp follows none in its data directory: "
			    "%s", path, own ? "remove it (corp makes the "
			    "directory itself)" : "put the directory itself "
			    "there");
		if (errno == ENOTDIR)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: not a "
			    "directory", path);
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	else
		rc = corp_trust_stat(path, &st, err);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

int
corp_dir_open(const char *path, int make, int *fdp, struct corp_err *err)
{
	return dir_open(path, make, make, fdp, err);
}

int
corp_trust_dir(const char *path, struct corp_err *err)
{
	int fd, rc;

	if ((rc = dir_open(path, 0, 0, &fd, err)) == 0)
		close(fd);
	return rc;
}

int
corp_private_dir(const char *path, int make, struct corp_err *err)
{
	int fd, rc;

	if ((rc = dir_open(path, make, 1, &fd, err)) == 0)
		close(fd);
	return rc;
}

/*
 * A directory on the way to a command: the ownership rule, except a
 * sticky directory root owns (as /tmp), where only an entry's owner may
 * rename or remove it; the entry is judged in turn.
 */
static int
exec_dir_ok(const char *shown, const struct stat *st, struct corp_err *err)
{
	if ((st->st_mode & S_ISVTX) && st->st_uid == 0)
		return 0;
	return corp_trust_stat(shown, st, err);
}

/* shown without its last component ("" stands for /). */
static void
shown_up(char *shown)
{
	char *p = strrchr(shown, '/');

	if (p != NULL)
		*p = '\0';
}

#define EXEC_MAXLINKS	40	/* as the kernel's ELOOP */

static int	exec_walk(const char *, int, int, int *, int *,
		    struct corp_cmd *, struct corp_err *);

/* The kernel runs a chain of at most 5 scripts (exec_binprm: depth 0
 * to 5, the last the binary): a 6th is ELOOP.  The same limit here. */
#define EXEC_MAXSCRIPTS	5
#define EXEC_LINEMAX	256	/* the kernel's BINPRM_BUF_SIZE */
/* The depth an ELF program's loader is walked at: the kernel maps it
 * without counting it as a script and never follows its own PT_INTERP,
 * so neither does the walk (exec_interp). */
#define EXEC_LOADER	(EXEC_MAXSCRIPTS + 100)

/*
 * The interpreters corp runs a script with, and the option letters each
 * may carry on a #! line: an allowlist (exec_interp).  An interpreter
 * not listed is refused: the kernel hands any program the script's
 * path, and many do not run it (script(1) starts a shell that reads the
 * delivery line from stdin, so a title's $(...) ran; tclsh -f, make,
 * bc, gdb, tee read or run something else and exit 0, a line acked
 * sent; xargs runs the script in a loop; fresh-eyes round 14).  A
 * letter not listed is refused: one that takes a value names what
 * nobody judged (sh -c, python3 -mNAME, perl -MNAME; round 8), one that
 * changes what runs makes the judged script not the program (sh -s
 * reads its commands from stdin, the delivery line; sh -n, perl -c,
 * python3 -h run nothing; python3 -i reads stdin after the script;
 * round 13).  Matched on the interpreter's name, a version after it
 * allowed (python3.11, perl5.36, tclsh8.6).  f_last: the interpreter
 * takes its program from -f, the kernel's next argument the script, so
 * -f must end the cluster (awk -f, sed -nf, make -f): without it awk
 * runs the script's path as its program.  corp.7 SECURITY lists them.
 */
static const struct {
	const char	*name;
	const char	*allowed;
	int		 f_last;
} interp_opts[] = {
	{ "sh", "aCefhuvx", 0 }, { "dash", "aCefhuvx", 0 },
	{ "ash", "aCefhuvx", 0 }, { "ksh", "aCefhuvx", 0 },
	{ "mksh", "aCefhuvx", 0 }, { "zsh", "aCefhuvx", 0 },
	{ "bash", "aCEefhTuvx", 0 },
	{ "python", "bBdEIORsSuv", 0 },
	{ "perl", "tTwWX", 0 },
	{ "ruby", "dvw", 0 },
	{ "node", "", 0 }, { "nodejs", "", 0 },
	{ "lua", "", 0 }, { "php", "", 0 }, { "tclsh", "", 0 },
	{ "Rscript", "", 0 },
	{ "awk", "", 1 }, { "gawk", "bcOPrSt", 1 }, { "mawk", "", 1 },
	{ "nawk", "", 1 },
	{ "sed", "nErsuz", 1 },
	{ "make", "ekrRsSw", 1 },
};

/* Multi-call binaries: what they run is the name they are called by. */
static int
multi_call(const char *b)
{
	return strcmp(b, "busybox") == 0 || strcmp(b, "toybox") == 0;
}

/*
 * A version after an interpreter's name: none, or digits in groups
 * joined by single dots (3, 3.11, 5.36): "python." and "python3.." are
 * other programs' names (fresh-eyes round 16).  With abi (python), a
 * version may end in CPython's ABI flags (PEP 3149, sys.abiflags: t, d,
 * m, u, each at most once, in that order), as its builds are named:
 * python3.6m (pyenv's 3.6 was refused), python3.6dm, python3.13t.
 */
static int
version_ok(const char *v, int abi)
{
	const char *f = "tdmu";

	if (*v == '\0')
		return 1;
	for (;;) {
		if (*v < '0' || *v > '9')
			return 0;
		v += strspn(v, "0123456789");
		if (*v == '\0')
			return 1;
		if (abi && *v != '.')
			break;
		if (*v++ != '.')
			return 0;
	}
	for (; *v != '\0'; v++)
		if ((f = strchr(f, *v)) == NULL)
			return 0;
		else
			f++;
	return 1;
}

/* Whether CLUSTER (letters after the '-'; "" for none) may follow
 * interpreter B: 1 yes, 0 no, -1 B is not one corp knows. */
static int
interp_known(const char *b, const char *cluster)
{
	size_t i, n, len = strlen(cluster);
	const char *v;

	for (i = 0; i < sizeof(interp_opts) / sizeof(interp_opts[0]); i++) {
		n = strlen(interp_opts[i].name);
		if (strncmp(b, interp_opts[i].name, n) != 0 ||
		    !version_ok(b + n, strcmp(interp_opts[i].name, "python") ==
		    0))
			continue;
		if (interp_opts[i].f_last && (len == 0 ||
		    cluster[len - 1] != 'f'))
			return 0;
		for (v = cluster; *v != '\0'; v++) {
			if (interp_opts[i].f_last && *v == 'f' &&
			    v == cluster + len - 1)
				continue;
			if (strchr(interp_opts[i].allowed, *v) == NULL)
				return 0;
		}
		return 1;
	}
	return -1;
}

/*
 * The name that decides for an interpreter: REAL, the file the kernel
 * runs (a link's target), unless it is missing (NULL) or a multi-call
 * binary (argv[0], the name on the #! line, picks its applet): then
 * WRITTEN.  A link named python3 to another program is that program.
 */
static const char *
interp_name(const char *real, const char *written)
{
	if (real == NULL || multi_call(real))
		return written;
	return real;
}

/* An interpreter corp does not know to run its script. */
static int
interp_unknown(const char *shown, const char *line, const char *name,
    struct corp_err *err)
{
	return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": %s is "
	    "not an interpreter corp runs scripts with: a program handed "
	    "the script's path may run something else or read the "
	    "delivery line as code; corp(7) SECURITY lists them (or make "
	    "the command a binary)", shown, line, name);
}

/* WHO (the name on the line, or how env finds it) runs REAL, the file
 * it resolves to, which corp does not know: REAL shown cleaned and cut. */
static int
interp_runs(const char *shown, const char *line, const char *who,
    const char *real, struct corp_err *err)
{
	char r[40];

	snprintf(r, sizeof(r), "%.*s", (int)sizeof(r) - 1, real);
	corp_server_text(r);
	return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": %s runs "
	    "%s, not an interpreter corp runs scripts with; corp(7) SECURITY "
	    "lists them", shown, line, who, r);
}

/* An option letter not on the interpreter's list, or awk/sed/make
 * without -f last. */
static int
interp_badopt(const char *shown, const char *line, const char *name,
    struct corp_err *err)
{
	return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": an "
	    "option of %s that is not taken: one that takes a value (a "
	    "module, a file, code) or changes what runs (stdin, no-exec, "
	    "interactive) makes the script not what was judged, and awk, "
	    "sed and make need -f last; corp(7) SECURITY lists the options "
	    "taken", shown, line, name);
}

/* A script's #! interpreter, or a component of its path, is missing. */
static int
interp_missing(const char *shown, const char *interp, struct corp_err *err)
{
	return corp_errf(err, CORP_EFORBIDDEN, "%s: #! interpreter %s: no "
	    "such file; install it, or name one that is there", shown,
	    interp);
}

/* The first bytes of the file at FDP: 2 a script ("#!"), 1 an ELF
 * program, 0 neither (execvp, env's, would run it with /bin/sh), -1
 * it cannot be opened (no /proc). */
static int
file_kind(const char *fdp)
{
	unsigned char m[4];
	int fd, k = 0;

	if ((fd = open(fdp, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (pread(fd, m, 4, 0) == 4) {
		if (m[0] == '#' && m[1] == '!')
			k = 2;
		else if (memcmp(m, "\177ELF", 4) == 0)
			k = 1;
	}
	close(fd);
	return k;
}

/*
 * Whether the kernel can run the file at FDP (SHOWN), a command or a #!
 * interpreter: executable by the running user (not on a noexec mount),
 * and an ELF program or a #! script; else refused here, its line held,
 * rather than run and failed (sec-review-21a F9: a forgotten chmod +x
 * spent a delivery; a binfmt_misc handler could run the other kind
 * with an interpreter nobody judged).
 */
static int
runnable(const char *fdp, const char *shown, const char *path,
    struct corp_err *err)
{
	struct stat st;
	char who[64];
	int e;

	if (euidaccess(fdp, X_OK) != 0 && (e = errno) != ENOENT) {
		user_name(geteuid(), who, sizeof(who));	/* ENOENT: no /proc */
		if (stat(fdp, &st) == 0 && !(st.st_mode & (S_IXUSR | S_IXGRP |
		    S_IXOTH)))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: not "
			    "executable by %s (mode %03o); chmod +x %s", shown,
			    who, (unsigned)(st.st_mode & 07777), path);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: not executable by "
		    "%s (%s: its mode, or a noexec mount); chmod +x it or "
		    "move it", shown, who, strerror(e));
	}
	if (file_kind(fdp) == 0)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: neither an ELF "
		    "program nor a #! script: the kernel would refuse it, or a "
		    "binfmt_misc handler run it with an interpreter nobody "
		    "judged; make it one", shown);
	return 0;
}

/* Whether the file at FDP begins with "#!". */
static int
is_script(const char *fdp)
{
	return file_kind(fdp) == 2;
}

/*
 * A directory a program is looked up in (a PATH entry, a library path
 * entry): walked as a command's path is (CORP_ENOTFOUND when it is
 * missing: whoever can make it first chooses what is found there);
 * *sticky when it is one others may make names in even so (a sticky
 * one, as /tmp: the walk lets those through, judging their entries).
 * Its descriptor in *dfdp, or closed when dfdp is NULL.
 */
static int
search_dir(const char *dir, int *dfdp, int *sticky, struct corp_err *err)
{
	struct stat st;
	int dfd, rc;

	*sticky = 0;
	if ((rc = corp_dir_walk(dir, &dfd, err)) != 0)
		return rc;
	if (fstat(dfd, &st) != 0 || ((st.st_mode & S_ISVTX) &&
	    (st.st_mode & (S_IWGRP | S_IWOTH))))
		*sticky = 1;
	if (dfdp != NULL)
		*dfdp = dfd;
	else
		close(dfd);
	return 0;
}

/* The directory of REAL (a real path) in ORIGIN, "" when there is none. */
static void
origin_of(const char *real, char *origin, size_t n)
{
	char *sl;

	if (strlcpy(origin, real, n) >= n || (sl = strrchr(origin, '/')) ==
	    NULL)
		origin[0] = '\0';
	else
		sl[sl == origin] = '\0';
}

/*
 * One entry of a library path, S to E, in DIR: $ORIGIN and ${ORIGIN}
 * expanded to ORIGIN (the object's own directory); -1 when the result
 * is not an absolute directory with no '$' left (empty, relative,
 * another token, too long, or $ORIGIN with no ORIGIN).
 */
static int
libpath_entry(const char *s, const char *e, const char *origin, char *dir,
    size_t n)
{
	const char *t;
	size_t o;

	for (o = 0, t = s; t < e && o < n - 1; ) {
		if ((size_t)(e - t) >= 7 && (strncmp(t, "$ORIGIN", 7) == 0 ||
		    ((size_t)(e - t) >= 9 && strncmp(t, "${ORIGIN}", 9) == 0))) {
			if (origin[0] == '\0')
				return -1;
			o += strlcpy(dir + o, origin, n - o);
			t += t[1] == '{' ? 9 : 7;
			continue;
		}
		dir[o++] = *t++;
	}
	if (o >= n - 1)
		return -1;
	dir[o] = '\0';
	return t < e || dir[0] != '/' || strchr(dir, '$') != NULL ? -1 : 0;
}

/*
 * The subdirectories glibc's loader searches under each directory of a
 * library path before the directory itself (LD_DEBUG=libs): the hwcaps
 * ones, and the legacy tls and platform ones glibc 2.36 still uses (on
 * x86-64; elsewhere the hwcaps and tls ones named here).  "" is the
 * directory itself.
 */
static const char *const lib_subdirs[] = {
	"glibc-hwcaps/x86-64-v4/", "glibc-hwcaps/x86-64-v3/",
	"glibc-hwcaps/x86-64-v2/",
#if defined(__x86_64__)
	"tls/x86_64/x86_64/", "tls/x86_64/", "x86_64/x86_64/", "x86_64/",
#endif
	"tls/", ""
};

/*
 * An ELF object's library path (WHAT: RPATH or RUNPATH, LIST its
 * string), which the loader searches before the system's directories:
 * each entry must be a directory only root and the operator may make
 * names in, as a PATH entry for env must; $ORIGIN is the directory of
 * the object's real path (ORIGIN); an empty or relative entry (the
 * working directory) or another $ token is refused (fresh-eyes round
 * 18a: another user's library ran as the operator).  Each of the
 * subdirectories the loader searches first (lib_subdirs) that exists is
 * judged the same way: a library there, needed or dlopen()ed by name,
 * is loaded before the directory's own (round 19a).
 */
static int
libpath_judge(const char *shown, const char *what, const char *list,
    const char *origin, struct corp_err *err)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	const char *s, *e;
	struct stat st;
	size_t len, k;
	int rc, sticky;

	for (s = list; ; s = e + 1) {
		e = s + strcspn(s, ":");
		len = (size_t)(e - s);
		if (len == 0 || libpath_entry(s, e, origin, dir,
		    sizeof(dir)) != 0)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its %s holds "
			    "'%.*s', not an absolute directory: the loader "
			    "would look for libraries where nobody judged (the "
			    "working directory, a token corp does not expand); "
			    "rebuild it without", shown, what,
			    (int)(len > 64 ? 64 : len), s);
		if ((rc = search_dir(dir, NULL, &sticky, err)) != 0) {
			if (rc == CORP_ENOTFOUND)
				return corp_errf(err, CORP_EFORBIDDEN, "%s: its "
				    "%s holds %s, which does not exist: whoever "
				    "can make it first chooses the libraries "
				    "it loads; make it, or rebuild the program "
				    "without", shown, what, dir);
			corp_errprefix(err, "%s: its %s", shown, what);
			return rc;
		}
		for (k = 0; !sticky && k < sizeof(lib_subdirs) /
		    sizeof(lib_subdirs[0]) - 1; k++) {
			if (snprintf(sub, sizeof(sub), "%s/%s", dir,
			    lib_subdirs[k]) >= (int)sizeof(sub) ||
			    lstat(sub, &st) != 0)
				continue;	/* none: its parent is judged */
			if ((rc = search_dir(sub, NULL, &sticky, err)) != 0) {
				corp_errprefix(err, "%s: its %s's %s", shown,
				    what, dir);
				return rc;
			}
			if (sticky)
				memcpy(dir, sub, sizeof(dir));
		}
		if (sticky)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its %s holds "
			    "%s, a directory others may make names in: one "
			    "could put a library there; rebuild the program "
			    "without it", shown, what, dir);
		if (*e == '\0')
			return 0;
	}
}

#define ELF_MAXLIBS	128	/* libraries judged for one command */

/* The libraries judged for one command, each once from each directory
 * (a library two others need, libraries that need each other): its
 * $ORIGIN is where it was found (lib_judge), so the same file found in
 * another directory is another judgement; keyed by the file and a hash
 * of that directory. */
struct elf_seen {
	int		n;
	dev_t		dev[ELF_MAXLIBS];
	ino_t		ino[ELF_MAXLIBS];
	uint64_t	dir[ELF_MAXLIBS];
};

/* The program's RPATH, which the loader also searches for the
 * libraries of a library without a RUNPATH, and its origin. */
struct elf_exe {
	const char	*rpath;
	char		 origin[PATH_MAX];
};

static int	elf_judge(int, const char *, const char *,
		    const struct elf_exe *, struct elf_seen *, struct corp_err *);

/*
 * A library the loader would load from PATH (a DT_NEEDED with a '/', or
 * a name found in a judged library path): the file walked as a command
 * is (its owner and directories), then judged as an ELF object in turn,
 * its own needed libraries and paths (fresh-eyes round 18b: a library
 * of the operator's whose RUNPATH named another user's directory).
 * Each file once from each directory (seen), to ELF_MAXLIBS.
 */
static int
lib_judge(const char *shown, const char *what, const char *path,
    const struct elf_exe *exe, struct elf_seen *seen, struct corp_err *err)
{
	char fdp[40];
	struct stat st;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	const char *c, *sl = strrchr(path, '/');
	int lfd, rfd, rc, i;

	if ((rc = exec_walk(path, EXEC_LOADER, 0, &lfd, NULL, NULL,
	    err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its %s "
			    "%s: no such file: whoever can make it first "
			    "chooses what it loads", shown, what, path);
		corp_errprefix(err, "%s: its %s %s", shown, what, path);
		return rc;
	}
	if (fstat(lfd, &st) != 0) {
		close(lfd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: its %s %s: "
		    "%s", shown, what, path, strerror(errno));
	}
	for (c = path; c < sl; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	for (i = 0; i < seen->n; i++)
		if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino &&
		    seen->dir[i] == h) {
			close(lfd);
			return 0;
		}
	if (seen->n == ELF_MAXLIBS) {
		close(lfd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: more than %d "
		    "libraries of its own to judge", shown, ELF_MAXLIBS);
	}
	seen->dev[seen->n] = st.st_dev;
	seen->ino[seen->n] = st.st_ino;
	seen->dir[seen->n++] = h;
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", lfd);
	rfd = open(fdp, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	close(lfd);
	if (rfd < 0)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: its %s %s "
		    "cannot be read to judge it (%s)", shown, what, path,
		    strerror(errno));
	/* glibc's $ORIGIN for a library is the directory of the path it
	 * was found at or named by, links not resolved (for the program
	 * itself, its real path): a link in a judged directory to a
	 * library elsewhere still searches beside the link (fresh-eyes
	 * round 19b). */
	rc = elf_judge(rfd, path, path, exe, seen, err);
	close(rfd);
	if (rc != 0)
		corp_errprefix(err, "%s: its library", shown);
	return rc;
}

/* A needed NAME (no '/') found in the entries of LIST (ORIGIN for
 * $ORIGIN, the entries already judged): each file there judged. */
static int
lib_search(const char *shown, const char *what, const char *name,
    const char *list, const char *origin, const struct elf_exe *exe,
    struct elf_seen *seen, struct corp_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *s, *e;
	struct stat st;
	size_t k;
	int rc;

	for (s = list; list != NULL; s = e + 1) {
		e = s + strcspn(s, ":");
		for (k = 0; k < sizeof(lib_subdirs) / sizeof(lib_subdirs[0]);
		    k++)
			if (libpath_entry(s, e, origin, dir, sizeof(dir)) == 0 &&
			    snprintf(path, sizeof(path), "%s/%s%s", dir,
			    lib_subdirs[k], name) < (int)sizeof(path) &&
			    lstat(path, &st) == 0 &&
			    (rc = lib_judge(shown, what, path, exe, seen,
			    err)) != 0)
				return rc;
		if (*e == '\0')
			break;
	}
	return 0;
}

/*
 * Whether a missing PATH is a name only root and the operator may make:
 * the first directory above it that exists is walked as a command's
 * path is and must not be one others may make names in (sticky /tmp).
 * 0, or CORP_EFORBIDDEN (*where: that directory, for the message) with
 * err set by the walk, or CORP_ENOTFOUND when others may make it.
 */
static int
name_ours(const char *path, char *where, size_t n, struct corp_err *err)
{
	int rc, sticky;

	origin_of(path, where, n);
	for (;;) {
		if (where[0] == '\0')
			return corp_errf(err, CORP_EFORBIDDEN, "%s: not an "
			    "absolute path", path);
		rc = search_dir(where, NULL, &sticky, err);
		if (rc == 0)
			return sticky ? CORP_ENOTFOUND : 0;
		if (rc != CORP_ENOTFOUND)
			return rc;
		if (strcmp(where, "/") == 0)
			return rc;
		origin_of(where, where, n);
	}
}

/* An auxiliary filtee named by PATH: judged as a needed library when it
 * is there; missing (the loader goes on without it), its name must be
 * one only root and the operator may make (name_ours), or whoever makes
 * it later has it loaded (sec-review-21a F2). */
static int
aux_judge(const char *shown, const char *path, const struct elf_exe *exe,
    struct elf_seen *seen, struct corp_err *err)
{
	char where[PATH_MAX];
	struct stat st;
	int rc;

	if (lstat(path, &st) == 0 || errno != ENOENT)
		return lib_judge(shown, "auxiliary filtee", path, exe, seen,
		    err);
	if ((rc = name_ours(path, where, sizeof(where), err)) == 0)
		return 0;
	if (rc == CORP_ENOTFOUND)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: its auxiliary "
		    "filtee %s: no such file, and %s is a directory others "
		    "may make names in: whoever makes it first chooses what "
		    "the loader loads; rebuild it without", shown, path, where);
	corp_errprefix(err, "%s: its auxiliary filtee %s", shown, path);
	return rc;
}

/*
 * A needed or filtee NAME holding a '$' in OUT, $ORIGIN and ${ORIGIN}
 * expanded to ORIGIN as the loader does; -1 when another token is left
 * or there is no ORIGIN.
 */
static int
dst_expand(const char *name, const char *origin, char *out, size_t n)
{
	size_t o = 0;

	while (*name != '\0') {
		if ((strncmp(name, "$ORIGIN", 7) == 0 &&
		    !isalnum((unsigned char)name[7]) && name[7] != '_') ||
		    strncmp(name, "${ORIGIN}", 9) == 0) {
			if (origin[0] == '\0' || (o += strlcpy(out + o, origin,
			    n - o)) >= n)
				return -1;
			name += name[1] == '{' ? 9 : 7;
			continue;
		}
		if (*name == '$' || o + 1 >= n)
			return -1;
		out[o++] = *name++;
	}
	out[o] = '\0';
	return 0;
}

/*
 * An ELF object (elfpaths.h): for the program itself (exe NULL) its
 * loader (PT_INTERP), which the kernel runs with it, walked as a #!
 * interpreter is and there (a missing one is whoever makes it first's);
 * for it and every library it loads from outside the system's
 * directories (a needed path with a '/', a needed name found in one of
 * its library paths or the program's RPATH), the library paths
 * (libpath_judge) and the libraries in turn, each once; an audit
 * library (DT_AUDIT, DT_DEPAUDIT), which runs its code in the program,
 * is refused.  A filtee (DT_FILTER, DT_AUXILIARY), loaded with its
 * filter, is a needed library here (sec-review-21a F2); a missing
 * auxiliary one by path, which the loader skips, aux_judge.  A needed
 * name found in none of them comes from the directories ld.so.conf
 * lists (ld.so.cache) and the system's: root's configuration, what root
 * lists there root's to keep (corp.7; sec-review-21a F4), not followed.
 */
static int
elf_judge(int fd, const char *shown, const char *real,
    const struct elf_exe *exe, struct elf_seen *seen, struct corp_err *err)
{
	struct corp_elf_paths ep;
	struct elf_exe top;
	char origin[PATH_MAX], dst[PATH_MAX];
	const char *what, *name;
	size_t i;
	int rc, lfd;

	if ((rc = corp_elf_paths(fd, shown, &ep, err)) != 0)
		return rc;
	origin_of(real, origin, sizeof(origin));
	if (exe == NULL) {
		top.rpath = ep.rpath;
		memcpy(top.origin, origin, sizeof(top.origin));
	}
	if (exe == NULL && ep.interp != NULL) {
		if (ep.interp[0] != '/')
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: its loader "
			    "(PT_INTERP) %.64s: not an absolute path", shown,
			    ep.interp);
		else if ((rc = exec_walk(ep.interp, EXEC_LOADER, 0, &lfd,
		    NULL, NULL, err)) == 0)
			close(lfd);
		else if (rc == CORP_ENOTFOUND)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: its loader "
			    "(PT_INTERP) %s: no such file: whoever can make it "
			    "first chooses what runs", shown, ep.interp);
		else
			corp_errprefix(err, "%s: its loader (PT_INTERP) %s",
			    shown, ep.interp);
	}
	if (rc == 0 && ep.audit != NULL)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: an audit library "
		    "(DT_AUDIT) %.64s: the loader runs its code in the "
		    "program; rebuild it without", shown, ep.audit);
	if (rc == 0 && ep.rpath != NULL)
		rc = libpath_judge(shown, "RPATH", ep.rpath, origin, err);
	if (rc == 0 && ep.runpath != NULL)
		rc = libpath_judge(shown, "RUNPATH", ep.runpath, origin, err);
	if (exe == NULL)
		exe = &top;
	for (i = 0; rc == 0 && i < ep.nneeded; i++) {
		what = ep.kind[i] == CORP_ELF_NEEDED ? "library" :
		    ep.kind[i] == CORP_ELF_FILTER ? "filtee (DT_FILTER)" :
		    "auxiliary filtee";
		/* The loader expands $ORIGIN, $PLATFORM, $LIB and ${...}
		 * in the name: $ORIGIN here, the rest refused
		 * (sec-review-22a N3). */
		name = ep.needed[i];
		if (strchr(name, '$') != NULL) {
			if (dst_expand(name, origin, dst, sizeof(dst)) != 0) {
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: its "
				    "%s %s: a $ token other than $ORIGIN, "
				    "which the loader expands from what the "
				    "machine says; rebuild it without", shown,
				    what, name);
				break;
			}
			name = dst;
		}
		if (strchr(name, '/') != NULL && name[0] != '/')
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: its %s "
			    "%.64s: a relative path (the working directory)",
			    shown, what, name);
		else if (strchr(name, '/') != NULL)
			rc = ep.kind[i] == CORP_ELF_AUX ? aux_judge(shown,
			    name, exe, seen, err) : lib_judge(shown,
			    what, name, exe, seen, err);
		else if ((rc = lib_search(shown, what, name,
		    ep.runpath == NULL ? ep.rpath : NULL, origin, exe, seen,
		    err)) == 0 && (rc = lib_search(shown, what, name,
		    ep.runpath, origin, exe, seen, err)) == 0 &&
		    ep.runpath == NULL && exe != &top)
			rc = lib_search(shown, what, name, exe->rpath,
			    exe->origin, exe, seen, err);
	}
	corp_elf_paths_free(&ep);
	return rc;
}

#define DIR_MAXENTS	4096	/* entries judged for one command */

static int	entries_judge(int, const char *, const char *, int, size_t *,
		    struct corp_err *);
static int	link_judge(const char *, int, size_t *, struct corp_err *);

/*
 * An entry SHOWN that is a symbolic link: the link by its own owner,
 * then its target walked as a command's path is (every directory on
 * the way one only root and the operator may make names in, a sticky
 * one root owns passing as there) and judged as an entry is, a link
 * there in turn; one that leads nowhere refused, since whoever can
 * make its target first chooses what is loaded (sec-review-22a N2: a
 * link to root's file in another user's directory, swapped after the
 * judgement, and a dangling link into /tmp ran their code as root).
 */
static int
link_judge(const char *shown, int depth, size_t *count,
    struct corp_err *err)
{
	char cur[PATH_MAX], target[PATH_MAX], next[PATH_MAX], dir[PATH_MAX];
	const char *base;
	struct stat st;
	ssize_t tl;
	size_t len;
	int hops, pfd, rc;

	strlcpy(cur, shown, sizeof(cur));
	for (hops = 0; ; hops++) {
		if (hops == EXEC_MAXLINKS)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: more than "
			    "%d symbolic links", shown, EXEC_MAXLINKS);
		if (lstat(cur, &st) != 0)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: %s", cur,
			    strerror(errno));
		st.st_mode = S_IFLNK | 0755;	/* a link has no mode */
		if ((rc = corp_trust_stat(cur, &st, err)) != 0)
			return rc;
		if ((tl = readlink(cur, target, sizeof(target) - 1)) <= 0)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: %s", cur,
			    tl == 0 ? "an empty link" : strerror(errno));
		target[tl] = '\0';
		origin_of(cur, dir, sizeof(dir));
		if ((target[0] == '/' ? strlcpy(next, target, sizeof(next)) :
		    (size_t)snprintf(next, sizeof(next), "%s/%s", strcmp(dir,
		    "/") == 0 ? "" : dir, target)) >= sizeof(next))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a target "
			    "too long", cur);
		for (len = strlen(next); len > 1 && next[len - 1] == '/'; )
			next[--len] = '\0';
		origin_of(next, dir, sizeof(dir));
		base = strrchr(next, '/') + 1;
		if (dir[0] == '\0' || *base == '\0' || strcmp(base, ".") ==
		    0 || strcmp(base, "..") == 0)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic "
			    "link to %s: link to the file by its own name",
			    shown, target);
		if ((rc = corp_dir_walk(dir, &pfd, err)) != 0) {
			if (rc != CORP_ENOTFOUND) {
				corp_errprefix(err, "%s: a symbolic link to %s",
				    shown, next);
				return rc;
			}
			pfd = -1;
		}
		if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (pfd >= 0)
				close(pfd);
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic "
			    "link to %s, which does not exist: whoever can "
			    "make it first chooses what is loaded; remove the "
			    "link", shown, next);
		}
		if (S_ISLNK(st.st_mode)) {
			close(pfd);
			strlcpy(cur, next, sizeof(cur));
			continue;
		}
		if ((rc = corp_trust_stat(next, &st, err)) == 0 &&
		    S_ISDIR(st.st_mode) && depth > 0)
			rc = entries_judge(pfd, base, next, depth - 1, count,
			    err);
		close(pfd);
		if (rc != 0)
			corp_errprefix(err, "%s: a symbolic link to %s", shown,
			    next);
		return rc;
	}
}

/*
 * One entry NAME of the directory DFD (shown as DIR), which an
 * interpreter loads from by name (a script's directory, a venv's
 * package; sec-review-21a F1, F6): root's or the running user's and
 * writable by neither group nor others; a link by its own owner and
 * its target walked (link_judge); a directory, while DEPTH > 0, entered
 * and its entries judged at DEPTH - 1.  *count: entries judged so far,
 * at most DIR_MAXENTS.
 */
static int
entry_judge(int dfd, const char *name, const char *dir, int depth,
    size_t *count, struct corp_err *err)
{
	char shown[PATH_MAX];
	struct stat st;
	int rc;

	if (++*count > DIR_MAXENTS)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: more than %d "
		    "entries to judge beside what python or node loads by "
		    "name; keep the command in a directory of its own", dir,
		    DIR_MAXENTS);
	if (snprintf(shown, sizeof(shown), "%s/%s", strcmp(dir, "/") == 0 ?
	    "" : dir, name) >= (int)sizeof(shown))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: a name too long",
		    dir);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : corp_errf(err, CORP_EFORBIDDEN,
		    "%s: %s", shown, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return link_judge(shown, depth, count, err);
	if ((rc = corp_trust_stat(shown, &st, err)) != 0)
		return rc;
	if (S_ISDIR(st.st_mode) && depth > 0)
		return entries_judge(dfd, name, shown, depth - 1, count, err);
	return 0;
}

/* Every entry of the directory NAME in DFD (shown as DIR), entry_judge
 * at DEPTH. */
static int
entries_judge(int dfd, const char *name, const char *dir, int depth,
    size_t *count, struct corp_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || (d = fdopendir(fd)) == NULL) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: cannot be read to "
		    "judge what is in it (%s)", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..")
		    != 0)
			rc = entry_judge(dirfd(d), de->d_name, dir, depth,
			    count, err);
	closedir(d);
	return rc;
}

#define PTH_MAXNAMES	256	/* top-level names a venv's .pth import */

/* The first component of the dotted name at P (letters, digits, '_')
 * added to names, if new and room is left; P past the dotted name. */
static const char *
pth_name(const char *p, char **names, size_t *n)
{
	const char *s = p;
	size_t i, len;

	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	len = (size_t)(p - s);
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
		p++;
	if (len == 0 || len > NAME_MAX)
		return p;
	for (i = 0; i < *n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return p;
	if (*n < PTH_MAXNAMES && (names[*n] = strndup(s, len)) != NULL)
		(*n)++;
	return p;
}

/*
 * The modules an import line of a .pth names (site.py runs a line that
 * starts "import " or "import\t"): the names after import (a list,
 * "as" skipped) and from, and in __import__('NAME'); their first
 * component, the one a venv's site-packages may hold.
 */
static void
pth_imports(const char *line, char **names, size_t *n)
{
	const char *p = line, *s;
	size_t len;

	if (strncmp(line, "import ", 7) != 0 && strncmp(line, "import\t", 7)
	    != 0)
		return;
	while (*p != '\0') {
		if (!isalpha((unsigned char)*p) && *p != '_') {
			p++;
			continue;
		}
		s = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		len = (size_t)(p - s);
		if (len == 10 && strncmp(s, "__import__", 10) == 0) {
			p += strspn(p, " \t");
			if (*p == '(')
				p += 1 + strspn(p + 1, " \t");
			if (*p == '\'' || *p == '"')
				p = pth_name(p + 1, names, n);
		} else if (len == 4 && strncmp(s, "from", 4) == 0) {
			p += strspn(p, " \t");
			p = pth_name(p, names, n);
		} else if (len == 6 && strncmp(s, "import", 6) == 0) {
			for (;;) {
				p += strspn(p, " \t(");
				p = pth_name(p, names, n);
				p += strspn(p, " \t");
				if (strncmp(p, "as", 2) == 0 && (p[2] == ' ' ||
				    p[2] == '\t')) {
					p += 2 + strspn(p + 2, " \t");
					while (isalnum((unsigned char)*p) ||
					    *p == '_')
						p++;
					p += strspn(p, " \t");
				}
				if (*p != ',')
					break;
				p++;
			}
		}
	}
}

/*
 * A line of the .pth PTH in the site-packages SP that is neither an
 * import line, a comment nor blank: a directory python adds to
 * sys.path when it exists (pip install -e writes such lines), taken
 * from SP when relative.  Walked as a command's directory is, it must
 * be one only root and the operator may make names in, and its entries
 * are judged one level deep as a script's directory's are; missing, its
 * name must be one nobody else may make (sec-review-22a N1: another
 * user's checkout installed with pip install -e ran their
 * sitecustomize.py as root).
 */
static int
pth_path(const char *sp, const char *pth, char *line, struct corp_err *err)
{
	char path[PATH_MAX], where[PATH_MAX];
	size_t len = strlen(line), count = 0;
	int rc, dfd, sticky;

	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';	/* python's rstrip() */
	if (line[strspn(line, " \t\f\v")] == '\0' || line[0] == '#' ||
	    strncmp(line, "import ", 7) == 0 || strncmp(line, "import\t",
	    7) == 0)
		return 0;
	if ((line[0] == '/' ? strlcpy(path, line, sizeof(path)) :
	    (size_t)snprintf(path, sizeof(path), "%s/%s", sp, line)) >=
	    sizeof(path))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: a line too long",
		    pth);
	if ((rc = search_dir(path, &dfd, &sticky, err)) == CORP_ENOTFOUND) {
		if ((rc = name_ours(path, where, sizeof(where), err)) ==
		    CORP_ENOTFOUND)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: %s: no "
			    "such directory, and %s is a directory others may "
			    "make names in: whoever makes it first chooses "
			    "what python imports; remove the line", pth, path,
			    where);
		if (rc != 0)
			corp_errprefix(err, "%s: %s", pth, path);
		return rc;
	}
	if (rc != 0) {
		corp_errprefix(err, "%s", pth);
		return rc;
	}
	if (sticky)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s, a directory "
		    "others may make names in: python imports from it", pth,
		    path);
	else if ((rc = entries_judge(dfd, ".", path, 1, &count, err)) != 0)
		corp_errprefix(err, "%s", pth);
	close(dfd);
	return rc;
}

/*
 * The site-packages SP of a venv, its descriptor DFD judged: python
 * runs the import lines of every *.pth file there at start, so each is
 * judged as a command's file is, and so is what those lines import from
 * SP itself, one level (NAME.* and NAME/ with its entries, as a
 * script's directory; sec-review-21a F1: a .pth another user owned, or
 * a module a root .pth imported, ran as root).
 */
static int
site_judge(int dfd, const char *sp, struct corp_err *err)
{
	char shown[PATH_MAX], *names[PTH_MAXNAMES], *line = NULL;
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0, count = 0, i, len;
	FILE *f;
	DIR *d;
	int fd, rc = 0;

	/* site imports these from sys.path at start, -I or not */
	pth_name("sitecustomize", names, &n);
	pth_name("usercustomize", names, &n);
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: cannot be read to "
		    "judge its .pth files (%s)", sp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pth") != 0)
			continue;
		snprintf(shown, sizeof(shown), "%s/%s", sp, de->d_name);
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s", shown,
			    errno == ELOOP ? "a symbolic link, which python "
			    "follows: put the file itself there" :
			    strerror(errno));
			break;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a "
			    "regular file", shown);
			break;
		}
		if ((rc = corp_trust_stat(shown, &st, err)) != 0 ||
		    (f = fdopen(fd, "r")) == NULL) {
			close(fd);
			if (rc == 0)
				rc = corp_errf(err, CORP_EINTERNAL, "%s: %s",
				    shown, strerror(errno));
			break;
		}
		while (rc == 0 && getline(&line, &cap, f) > 0) {
			pth_imports(line, names, &n);
			rc = pth_path(sp, shown, line, err);
		}
		fclose(f);
	}
	if (rc == 0 && n > 0) {
		rewinddir(d);
		while (rc == 0 && (de = readdir(d)) != NULL)
			for (i = 0; i < n; i++) {
				len = strlen(names[i]);
				if (strncmp(de->d_name, names[i], len) == 0 &&
				    (de->d_name[len] == '\0' ||
				    de->d_name[len] == '.')) {
					rc = entry_judge(dirfd(d), de->d_name,
					    sp, 2, &count, err);
					break;
				}
			}
	}
	closedir(d);
	free(line);
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

/*
 * Where python looks for its standard library from START (a venv's
 * home, or the interpreter's real directory): lib/pythonX.Y/os.py, and
 * lib/pythonX.Y/lib-dynload, in START and then each directory above it,
 * the first found taken.  Each directory on the way to the first that
 * holds one must not be one others may make names in, and the lib and
 * lib/python* directories found are walked as an interpreter's
 * directory is (sec-review-22a N4: a python without its library took
 * one another user made in /tmp/lib).  None found: python's compiled-in
 * prefix, 0.  LABEL names python in a message.
 */
static int
prefix_judge(const char *label, const char *start, struct corp_err *err)
{
	static const char *const marks[] = { "os.py", "lib-dynload" };
	char a[PATH_MAX], pat[PATH_MAX + 32], lib[PATH_MAX + 8];
	glob_t g;
	size_t i, k;
	int rc = 0, sticky;

	for (k = 0; rc == 0 && k < sizeof(marks) / sizeof(marks[0]); k++) {
		if (strlcpy(a, start, sizeof(a)) >= sizeof(a) || a[0] != '/')
			return 0;
		for (;;) {
			snprintf(lib, sizeof(lib), "%s/lib", strcmp(a, "/") ==
			    0 ? "" : a);
			snprintf(pat, sizeof(pat), "%s/python*/%s", lib,
			    marks[k]);
			if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
				if ((rc = search_dir(lib, NULL, &sticky,
				    err)) == 0 && sticky)
					rc = corp_errf(err, CORP_EFORBIDDEN,
					    "%s: a directory others may make "
					    "names in", lib);
				for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
					*strrchr(g.gl_pathv[i], '/') = '\0';
					if ((rc = search_dir(g.gl_pathv[i],
					    NULL, &sticky, err)) == 0 && sticky)
						rc = corp_errf(err,
						    CORP_EFORBIDDEN, "%s: a "
						    "directory others may make "
						    "names in", g.gl_pathv[i]);
				}
				globfree(&g);
				if (rc != 0)
					corp_errprefix(err, "%s: its standard "
					    "library", label);
				break;
			}
			if ((rc = search_dir(a, NULL, &sticky, err)) != 0) {
				corp_errprefix(err, "%s: where python looks for "
				    "its standard library", label);
				break;
			}
			if (sticky) {
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: python "
				    "searches %s for its standard library "
				    "(lib/python*/%s), a directory others may "
				    "make names in: install python with its "
				    "library (lib/pythonX.Y beside its bin)",
				    label, a, marks[k]);
				break;
			}
			if (strcmp(a, "/") == 0)
				break;
			origin_of(a, a, sizeof(a));
		}
	}
	return rc;
}

/*
 * The home a venv's pyvenv.cfg (open as FD, judged) names: python takes
 * its standard library from there (HOME/../lib/pythonX.Y), so HOME,
 * HOME/../lib and each HOME/../lib/python* are walked as an
 * interpreter's directory is and must be directories only root and the
 * operator may make names in (sec-review-21a F3: a venv made with
 * --copies from another user's python ran their sitecustomize.py).
 */
static int
venv_home_judge(int fd, const char *shown, const char *cfg,
    struct corp_err *err)
{
	char *line = NULL, *k, *v, *e, dirs[2][PATH_MAX + 16],
	    pat[PATH_MAX + 32];
	size_t cap = 0, i;
	glob_t g;
	FILE *f;
	int rc = 0, sticky, dfd, j, homes = 0;

	if ((fd = dup(fd)) < 0 || (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", cfg,
		    strerror(errno));
	}
	dirs[0][0] = '\0';
	while (getline(&line, &cap, f) > 0) {
		if ((v = strchr(line, '=')) == NULL)
			continue;
		*v++ = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' ||
		    e[-1] == '\t'); )
			*--e = '\0';
		if (strcasecmp(k, "home") != 0)
			continue;
		v += strspn(v, " \t");
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); )
			*--e = '\0';
		strlcpy(dirs[0], v, sizeof(dirs[0]));
		homes++;
	}
	fclose(f);
	free(line);
	/* python takes the first, a reader the last (sec-review-22a N7) */
	if (homes > 1)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: its python's venv "
		    "%s: more than one home line; keep one", shown, cfg);
	if (dirs[0][0] == '\0')
		return 0;
	if (snprintf(dirs[1], sizeof(dirs[1]), "%s/../lib", dirs[0]) >=
	    (int)sizeof(dirs[1]))
		return corp_errf(err, CORP_EFORBIDDEN, "%s: its python's venv "
		    "%s: home = %.64s...: too long", shown, cfg, dirs[0]);
	for (j = 0; rc == 0 && j < 2; j++) {
		if (dirs[j][0] != '/')
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its python's "
			    "venv %s: home = %.64s: not an absolute directory",
			    shown, cfg, dirs[j]);
		if ((rc = search_dir(dirs[j], &dfd, &sticky, err)) == 0) {
			close(dfd);
			if (sticky)
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a "
				    "directory others may make names in",
				    dirs[j]);
		} else if (rc == CORP_ENOTFOUND)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: no such "
			    "directory", dirs[j]);
		if (rc == 0 && j == 1) {
			/* a trailing '/' matches directories only
			 * (GLOB_ONLYDIR is a hint) */
			if (snprintf(pat, sizeof(pat), "%s/python*/",
			    dirs[1]) >= (int)sizeof(pat) || glob(pat,
			    GLOB_NOSORT, NULL, &g) != 0)
				continue;
			for (i = 0; rc == 0 && i < g.gl_pathc; i++)
				if ((rc = search_dir(g.gl_pathv[i], NULL,
				    &sticky, err)) == 0 && sticky)
					rc = corp_errf(err, CORP_EFORBIDDEN,
					    "%s: a directory others may make "
					    "names in", g.gl_pathv[i]);
			globfree(&g);
		}
	}
	if (rc == 0)
		rc = prefix_judge(dirs[0], dirs[0], err);
	if (rc != 0)
		corp_errprefix(err, "%s: its python's venv %s: home = %s, "
		    "where python takes its standard library from, must be "
		    "a directory only root and the operator may change",
		    shown, cfg, dirs[0]);
	return rc;
}

/*
 * A python interpreter at PATH (as the kernel or env runs it: python
 * takes a venv from the pyvenv.cfg above the path it was started by,
 * links not resolved): when it is a venv's, its pyvenv.cfg and every
 * site-packages directory of it are judged as a command's files and
 * directories are, since python runs the .pth files there at start,
 * -I or not (fresh-eyes round 20a: another user's .pth in a venv ran
 * as the operator).  Not a venv: 0.
 */
static int
venv_judge(const char *shown, const char *path, struct corp_err *err)
{
	char bin[PATH_MAX], root[PATH_MAX], cfg[PATH_MAX + 16],
	    pat[PATH_MAX + 40], real[PATH_MAX];
	struct stat st;
	glob_t g;
	size_t i;
	int rc = 0, sticky, dfd, cfd, j, found = 0;

	/* The venv is the directory above the interpreter's bin/; its
	 * pyvenv.cfg there or in bin/ itself (python's getpath reads the
	 * one above first, its site the one beside first): each that
	 * exists is judged (sec-review-22a N8). */
	origin_of(path, bin, sizeof(bin));
	origin_of(bin, root, sizeof(root));
	if (root[0] == '\0')
		return 0;
	for (j = 0; j < 2; j++) {
		snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", j == 0 ? bin :
		    root);
		if (lstat(cfg, &st) != 0)
			continue;
		found++;
		if (!S_ISREG(st.st_mode))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its "
			    "python's venv file %s: not a regular file", shown,
			    cfg);
		if ((rc = corp_trust_stat(cfg, &st, err)) != 0) {
			corp_errprefix(err, "%s: its python's venv", shown);
			return rc;
		}
		if ((cfd = open(cfg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC)) < 0 || fstat(cfd, &st) != 0 ||
		    !S_ISREG(st.st_mode)) {
			if (cfd >= 0)
				close(cfd);
			return corp_errf(err, CORP_EFORBIDDEN, "%s: its "
			    "python's venv file %s cannot be read to judge it",
			    shown, cfg);
		}
		if ((rc = corp_trust_stat(cfg, &st, err)) == 0)
			rc = venv_home_judge(cfd, shown, cfg, err);
		else
			corp_errprefix(err, "%s: its python's venv", shown);
		close(cfd);
		if (rc != 0)
			return rc;
	}
	if (found == 0) {	/* no venv: its own library */
		if (realpath(path, real) == NULL)
			return 0;	/* the walk judged it: none */
		origin_of(real, bin, sizeof(bin));
		if ((rc = prefix_judge(path, bin, err)) != 0)
			corp_errprefix(err, "%s", shown);
		return rc;
	}
	snprintf(pat, sizeof(pat), "%s/lib*/python*/site-packages", root);
	if (glob(pat, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
		if ((rc = search_dir(g.gl_pathv[i], &dfd, &sticky, err)) != 0) {
			corp_errprefix(err, "%s: its python's venv", shown);
			continue;
		}
		if (sticky)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: its python's "
			    "venv holds %s, a directory others may make names "
			    "in: python runs the .pth files there", shown,
			    g.gl_pathv[i]);
		else if ((rc = site_judge(dfd, g.gl_pathv[i], err)) != 0)
			corp_errprefix(err, "%s: its python's venv", shown);
		close(dfd);
	}
	globfree(&g);
	return rc;
}

/*
 * The file env would run, judged (fd, O_PATH, found at cand): kept in
 * cmd for corp to run it (corp_cmd in fsutil.h), or closed.  A wrapper
 * (a script) is kept by its path, cand, whose directories were judged:
 * run by a descriptor it would see /dev/fd/M as its $0, and shims that
 * pick what to run by their own name (pyenv's) would break.
 */
static int
env_keep(struct corp_cmd *cmd, int fd, int wrapper, const char *cand,
    const char *name, const char *shown, struct corp_err *err)
{
	if (cmd == NULL) {
		close(fd);
		return 0;
	}
	if (strlcpy(cmd->iname, name, sizeof(cmd->iname)) >=
	    sizeof(cmd->iname) || (wrapper && strlcpy(cmd->ipath, cand,
	    sizeof(cmd->ipath)) >= sizeof(cmd->ipath))) {
		close(fd);
		cmd->iname[0] = cmd->ipath[0] = '\0';
		return corp_errf(err, CORP_EFORBIDDEN, "%s: env's %s: a name "
		    "too long", shown, name);
	}
	if (wrapper)
		close(fd);
	else
		cmd->ifd = fd;
	return 0;
}

/*
 * What "#!ENV NAME" runs: NAME looked up on the child's PATH as env
 * will look it up again when it runs (corp_cfg.child_env, else
 * execcmd.c's default), and judged so that the lookup cannot find
 * another file then: every entry up to the one holding NAME must exist,
 * walked as a command's path is, and be a directory no one but root
 * and the operator may make names in -- not even a sticky one (a
 * missing /tmp/x, or one whose NAME another user can create between
 * this judgement and env's lookup, ran their program as the operator:
 * fresh-eyes round 16); a NAME that is a link must lead to a file; the
 * file found is judged as an interpreter named by its path is, by what
 * it resolves to (round 15: a link named python3 to script(1)), and
 * must be a script or an ELF program: anything else env's execvp runs
 * with /bin/sh (round 16).  A relative or empty entry (the working
 * directory) is refused, as is a NAME found nowhere.
 * cmd (the command itself, not an interpreter's script): the file
 * found, judged, is kept in cmd (env_keep), so that corp runs it as env
 * would and env never looks NAME up again.
 */
static int
env_judge(const char *shown, const char *line, const char *name, int depth,
    struct corp_cmd *cmd, struct corp_err *err)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin", *s, *e, *ib, *rb;
	char cand[PATH_MAX], dir[PATH_MAX], fdp[40], real[PATH_MAX];
	char found[PATH_MAX] = "";
	struct statvfs vfs;
	struct stat st;
	char **v;
	ssize_t rl;
	size_t len;
	int fd, dfd, rc, isenv = 0, ok, kind, sticky;

	for (v = corp_cfg.child_env; v != NULL && *v != NULL; v++)
		if (strncmp(*v, "PATH=", 5) == 0) {
			path = *v + 5;
			break;
		}
	/* Every entry, not only those up to NAME's: env goes on past a
	 * NAME it cannot run (EACCES, ENOENT: not executable, a noexec
	 * mount, an ELF program whose loader is missing) to the next one
	 * (fresh-eyes round 17b). */
	for (s = path; ; s = e + 1) {
		e = s + strcspn(s, ":");
		len = (size_t)(e - s);
		if (len == 0 || *s != '/')
			return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": the command's PATH holds '%.*s', not an "
			    "absolute directory: env would look %s up in the "
			    "working directory; give corp an absolute PATH, or "
			    "name the interpreter by its absolute path", shown,
			    line, (int)(len > 64 ? 64 : len), s, name);
		if (len >= sizeof(dir) || snprintf(cand, sizeof(cand),
		    "%.*s/%s", (int)len, s, name) >= (int)sizeof(cand))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": a PATH entry too long", shown, line);
		memcpy(dir, s, len);
		dir[len] = '\0';
		if ((rc = search_dir(dir, &dfd, &sticky, err)) != 0) {
			if (rc == CORP_ENOTFOUND)
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
				    "\"%s\": the command's PATH holds %s, which "
				    "does not exist: whoever can make it first "
				    "chooses what env runs as %s; take it off "
				    "corp's PATH, or name the interpreter by its "
				    "absolute path", shown, line, dir, name);
			else
				corp_errprefix(err, "%s: #! line \"%s\": PATH "
				    "entry %s", shown, line, dir);
			return rc;
		}
		if (sticky) {
			close(dfd);
			return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": the command's PATH holds %s, a directory "
			    "others may make names in: one could put a %s there "
			    "before env looks; take it off corp's PATH, or name "
			    "the interpreter by its absolute path", shown, line,
			    dir, name);
		}
		rc = found[0] == '\0' ? fstatat(dfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) : 1;
		close(dfd);
		if (rc == 0)
			memcpy(found, cand, sizeof(found));
		else if (rc < 0 && errno != ENOENT)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": %s: %s", shown, line, cand,
			    strerror(errno));
		if (*e == '\0')
			break;
	}
	if (found[0] == '\0')
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": "
		    "env finds no %s on the command's PATH; install it, or "
		    "name the interpreter by its absolute path", shown, line,
		    name);
	if ((rc = exec_walk(found, depth + 1, 0, &fd, &isenv, NULL,
	    err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": %s leads to no file: whoever can "
			    "make its target chooses what env runs",
			    shown, line, found);
		else
			corp_errprefix(err, "%s: #! line \"%s\": env's "
			    "%s", shown, line, name);
		return rc;
	}
	/* What env cannot run it passes over for the next entry's. */
	if (fstat(fd, &st) != 0 || !(st.st_mode & (S_IXUSR | S_IXGRP |
	    S_IXOTH)) || fstatvfs(fd, &vfs) != 0 || (vfs.f_flag &
	    ST_NOEXEC)) {
		close(fd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": "
		    "env finds %s, which cannot be run (not executable, or on "
		    "a noexec mount): env would pass over it and look "
		    "further; chmod +x it, or take it off corp's PATH",
		    shown, line, found);
	}
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
	rl = readlink(fdp, real, sizeof(real) - 1);
	real[rl > 0 ? rl : 0] = '\0';
	rb = strrchr(real, '/') != NULL ? strrchr(real, '/') + 1 : name;
	ib = interp_name(rb, name);
	kind = file_kind(fdp);
	if (kind <= 0) {
		close(fd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": "
		    "env finds %s, neither a script nor a program: env would "
		    "run it with /bin/sh", shown, line, found);
	}
	/* A wrapper (its own #! judged by the walk) is an interpreter by
	 * its real name as a program is: a script named otherwise
	 * (bzmore, perldoc) does what it does with the script's path
	 * (fresh-eyes round 17b). */
	if (isenv || (ok = interp_known(ib, "")) < 0) {
		close(fd);
		snprintf(cand, sizeof(cand), "env finds %s on the "
		    "command's PATH, which", name);
		return interp_runs(shown, line, cand, ib, err);
	}
	/* named as written, as a path's interpreter is */
	if (!ok) {
		close(fd);
		return interp_badopt(shown, line, name, err);
	}
	if (strncmp(ib, "python", 6) == 0 &&
	    (rc = venv_judge(shown, found, err)) != 0) {
		close(fd);
		return rc;
	}
	return env_keep(cmd, fd, kind == 2, found, name, shown, err);
}

/*
 * Where a script sits (REAL, its real path): not in a directory others
 * may make names in, even a sticky one as /tmp (the walk lets those
 * through: their entries are judged), since interpreters load modules
 * from beside the script (python's sys.path[0] comes before the
 * standard library: another user's /tmp/json.py); for node (UP) not
 * under one either, since it looks for node_modules in every directory
 * above the script (/tmp/node_modules; fresh-eyes round 17b).
 */
static int
script_dir_ok(const char *shown, const char *real, int up,
    struct corp_err *err)
{
	char d[PATH_MAX], *sl;
	struct stat st;

	if (strlcpy(d, real, sizeof(d)) >= sizeof(d) || d[0] != '/')
		return 0;	/* no /proc: the walk's rules alone */
	while ((sl = strrchr(d, '/')) != NULL) {
		sl[sl == d] = '\0';	/* "/a/b" -> "/a"; "/a" -> "/" */
		if (lstat(d, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & (S_IWGRP | S_IWOTH)))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a script "
			    "%s %s, a directory others may make names in: "
			    "%s; move it to a directory only root and the "
			    "operator may write", shown, up ? "under" : "in",
			    d, up ? "node loads node_modules from every "
			    "directory above a script" : "its interpreter may "
			    "load modules from beside it (python's "
			    "sys.path[0])");
		if (!up || strcmp(d, "/") == 0)
			break;
	}
	return 0;
}

/* Whether interpreter NAME loads modules from beside a script by name
 * (python's sys.path[0], node's require of ./x and node_modules). */
static int
loads_by_name(const char *name)
{
	return strncmp(name, "python", 6) == 0 || strncmp(name, "node", 4) == 0;
}

/*
 * What already sits in the directory of a script (REAL, its real path)
 * python or node runs: every entry root's or the running user's and
 * writable by neither group nor others, a subdirectory's entries too
 * (a package, __pycache__, node_modules), one level, at most
 * DIR_MAXENTS (sec-review-21a F6: another user's helper.py, or a .pyc
 * in __pycache__, beside a root script ran as root).  Deeper trees are
 * the operator's to keep (corp.7 SECURITY).
 */
static int
beside_judge(const char *shown, const char *real, struct corp_err *err)
{
	char dir[PATH_MAX];
	size_t count = 0;
	int rc;

	origin_of(real, dir, sizeof(dir));
	if (dir[0] != '/')
		return 0;	/* no /proc: the walk's rules alone */
	if ((rc = entries_judge(AT_FDCWD, dir, dir, 1, &count, err)) != 0)
		corp_errprefix(err, "%s: beside it, where python and node "
		    "load modules from by name", shown);
	return rc;
}

/*
 * A directory PATH node looks for what it requires by name in (a
 * node_modules, HOME's .node_modules and .node_libraries): when it
 * exists, walked as a command's directory is and not one others may
 * make names in, its entries judged and theirs (a package directory and
 * the files in it: package.json, index.js), at most DIR_MAXENTS
 * (sec-review-22a N5).  Missing: 0 (the directory above it was judged
 * one nobody else may make names in).
 */
static int
node_dir_judge(const char *path, struct corp_err *err)
{
	struct stat st;
	size_t count = 0;
	int rc, dfd, sticky;

	if (lstat(path, &st) != 0)
		return 0;
	if ((rc = search_dir(path, &dfd, &sticky, err)) != 0)
		return rc;
	if (sticky)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a directory others "
		    "may make names in", path);
	else
		rc = entries_judge(dfd, ".", path, 1, &count, err);
	close(dfd);
	return rc;
}

/* Every node_modules in the directory of the node script REAL (its real
 * path) and each directory above it, node_dir_judge. */
static int
node_up_judge(const char *shown, const char *real, struct corp_err *err)
{
	char dir[PATH_MAX], nm[PATH_MAX + 16];
	int rc;

	origin_of(real, dir, sizeof(dir));
	while (dir[0] == '/') {
		snprintf(nm, sizeof(nm), "%s/node_modules", strcmp(dir, "/") ==
		    0 ? "" : dir);
		if ((rc = node_dir_judge(nm, err)) != 0) {
			corp_errprefix(err, "%s: node_modules above it, where "
			    "node looks for what it requires by name", shown);
			return rc;
		}
		if (strcmp(dir, "/") == 0)
			break;
		origin_of(dir, dir, sizeof(dir));
	}
	return 0;
}

/*
 * The file judged, name in dfd and shown as shown, fd its O_PATH
 * descriptor: when it is a script, its #! interpreter is what the
 * kernel runs with corp's rights, so it is walked the same way (as the
 * kernel reads it: the first EXEC_LINEMAX bytes, the interpreter the
 * first word after #!), to the kernel's depth of nested interpreters.
 * The line is read from a second descriptor of the same file (an
 * O_PATH one cannot be read), checked to be the same inode.
 * rfdp (the command itself, not an interpreter): when the file is a
 * script, that readable descriptor is kept there (else -1), whatever
 * is returned: the caller runs it or closes it.
 */
static int
exec_interp(int dfd, const char *name, const char *shown,
    const struct stat *st, int depth, int *rfdp, struct corp_cmd *cmd,
    struct corp_err *err)
{
	struct stat rst;
	char buf[EXEC_LINEMAX + 1], line[EXEC_LINEMAX + 1], *p, *e, *arg,
	    *b, real[PATH_MAX], fdp[40], *rb = NULL, sreal[PATH_MAX],
	    ish[2 * PATH_MAX + 40];
	const char *ib;
	ssize_t n, rl;
	size_t al;
	struct elf_seen seen = { 0 };
	int rfd, ifd, rc, isenv = 0, missing, ok, iscript = 0, node;

	if ((rfd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) < 0)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: cannot be read to "
		    "judge its #! line (%s); chmod a+r %s", shown,
		    strerror(errno), shown);
	if (fstat(rfd, &rst) != 0 || rst.st_dev != st->st_dev ||
	    rst.st_ino != st->st_ino) {
		close(rfd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: replaced while "
		    "judged", shown);
	}
	n = pread(rfd, buf, EXEC_LINEMAX, 0);
	if (n < 0) {
		close(rfd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: %s", shown,
		    strerror(errno));
	}
	buf[n] = '\0';
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", rfd);
	if ((rl = readlink(fdp, sreal, sizeof(sreal) - 1)) <= 0)
		rl = 0;
	sreal[rl] = '\0';
	if (depth == 0 && (rc = runnable(fdp, shown, shown, err)) != 0) {
		close(rfd);
		return rc;
	}
	if (n < 2 || buf[0] != '#' || buf[1] != '!') {
		/* not a script: the kernel runs it itself, with the
		 * loader an ELF program names (not a loader's own) */
		rc = depth == EXEC_LOADER ? 0 : elf_judge(rfd, shown, sreal,
		    NULL, &seen, err);
		close(rfd);
		return rc;
	}
	if (rfdp != NULL)
		*rfdp = rfd;
	else
		close(rfd);
	if ((e = memchr(buf, '\n', (size_t)n)) != NULL)
		*e = '\0';
	/*
	 * The kernel reads EXEC_LINEMAX bytes, but an interpreter that
	 * reads its #! line itself reads it whole: perl takes options
	 * from the rest ("#!/usr/bin/perl", 300 blanks, "-I/tmp/x";
	 * sec-review-10 item 4), which nobody judged.  A line not ended
	 * within those bytes is refused, whatever it holds.
	 */
	if (e == NULL && n == EXEC_LINEMAX)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: a #! line longer "
		    "than %d bytes: the kernel reads no more, but an "
		    "interpreter may read the rest (perl takes options "
		    "there), which nobody judged; end the line sooner",
		    shown, EXEC_LINEMAX - 1);
	memcpy(line, buf, sizeof(line));
	corp_server_text(line);	/* shown in messages */
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	e = p + strcspn(p, " \t");
	arg = *e != '\0' ? e + 1 : e;
	*e = '\0';
	if (*p == '\0')
		return corp_errf(err, CORP_EFORBIDDEN, "%s: no interpreter on "
		    "its #! line", shown);
	if (*p != '/')
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! interpreter %s: "
		    "not an absolute path", shown, p);
	if (depth + 1 > EXEC_MAXSCRIPTS)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! interpreter %s: "
		    "a chain of more than %d scripts (the kernel's limit)",
		    shown, p, EXEC_MAXSCRIPTS);
	/*
	 * A missing interpreter is no command "not installed yet" (the
	 * script is there): refused as a bad #! line is (sec-review-9
	 * item 9), after the line's options are judged on the name as
	 * written, so corp-bind names every fault at once.
	 */
	if ((rc = exec_walk(p, depth + 1, 0, &ifd, &isenv, NULL, err)) != 0 &&
	    rc != CORP_ENOTFOUND) {
		corp_errprefix(err, "%s: #! interpreter %s", shown, p);
		return rc;
	}
	missing = rc == CORP_ENOTFOUND;
	/* the file run, as the kernel resolved the links on the way */
	if (!missing) {
		snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", ifd);
		if ((rl = readlink(fdp, real, sizeof(real) - 1)) > 0) {
			real[rl] = '\0';
			rb = strrchr(real, '/') != NULL ?
			    strrchr(real, '/') + 1 : real;
		}
		iscript = is_script(fdp);
		snprintf(ish, sizeof(ish), "%s: #! interpreter %s", shown, p);
		rc = runnable(fdp, ish, p, err);
		close(ifd);
		if (rc != 0)
			return rc;
	}
	b = strrchr(p, '/') + 1;
	arg += strspn(arg, " \t");
	al = strlen(arg);
	while (al > 0 && (arg[al - 1] == ' ' || arg[al - 1] == '\t'))
		arg[--al] = '\0';
	node = strncmp(b, "node", 4) == 0 || (rb != NULL && strncmp(rb,
	    "node", 4) == 0) || strncmp(arg, "node", 4) == 0;
	if ((rc = script_dir_ok(shown, sreal, node, err)) != 0 ||
	    (node && (rc = node_up_judge(shown, sreal, err)) != 0))
		return rc;
	if ((loads_by_name(b) || (rb != NULL && loads_by_name(rb)) ||
	    loads_by_name(arg)) && (rc = beside_judge(shown, sreal, err)) != 0)
		return rc;
	/*
	 * Any other interpreter's argument may only be one cluster of
	 * letter options (-e, -f, -eu): a path or a word after it would
	 * name a program or file nobody judged ("#!/bin/sh /tmp/x",
	 * nice, setsid, nohup; fresh-eyes round 6); and none of them one
	 * that takes a value, which would be the rest of the cluster or
	 * the script's own path (python3 -mNAME imports NAME, perl
	 * -MNAME; fresh-eyes round 8): interp_options().
	 */
	if (!isenv && strcmp(b, "env") != 0) {
		if (al > 0 && (arg[0] != '-' || al < 2 ||
		    strspn(arg + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz") != al - 1))
			return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line "
			    "\"%s\": the interpreter's argument may only be "
			    "letter options (-e); a path or a word names what "
			    "nobody judged", shown, line);
		if (missing)	/* refused for that; its options judged */
			return interp_known(b, al > 0 ? arg + 1 : "") == 0 ?
			    interp_badopt(shown, line, b, err) :
			    interp_missing(shown, p, err);
		/* An interpreter that is itself a script (a wrapper the
		 * operator wrote, its own #! judged by the walk above, to
		 * the kernel's depth) runs what it says, if it is named as
		 * an interpreter corp knows (by its real name, as a program
		 * is: bzmore or perldoc, scripts too, do something else with
		 * the script's path; fresh-eyes round 17b); an argument would
		 * be its $1, not an option: none is taken. */
		ib = interp_name(rb, b);
		if (iscript && interp_known(ib, "") >= 0)
			return al == 0 ? 0 : interp_badopt(shown, line, b, err);
		if ((ok = interp_known(ib, al > 0 ? arg + 1 : "")) < 0) {
			if (strcmp(ib, b) != 0)
				return interp_runs(shown, line, b, ib, err);
			return interp_unknown(shown, line, b, err);
		}
		/* named as written: the line's words, whatever the link */
		if (!ok)
			return interp_badopt(shown, line, b, err);
		return strncmp(ib, "python", 6) == 0 ? venv_judge(shown, p,
		    err) : 0;
	}
	/*
	 * env runs what its argument names, never judged here: only
	 * "#!ENV NAME" is accepted, NAME a bare command name found on the
	 * child's PATH (corp.7 SECURITY); a path, an option (-S, -i, -u,
	 * --), an assignment or a second word would run what nobody
	 * judged.  The kernel gives env the rest of the line as one
	 * argument, without its surrounding blanks.
	 */
	if (al == 0 || arg[0] == '-' || strspn(arg,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._+-") != al)
		return corp_errf(err, CORP_EFORBIDDEN, "%s: #! line \"%s\": "
		    "env runs a command nobody judged; only \"#!%s NAME\" "
		    "is accepted, NAME a bare command name (letters, digits, "
		    "'.', '_', '+', '-') found on the command's PATH: name "
		    "the interpreter by its absolute path instead", shown,
		    line, p);
	/* NAME is what env runs: one corp knows, with no option (awk,
	 * sed and make need -f, which env's one argument cannot add). */
	if ((ok = interp_known(arg, "")) < 0)
		return interp_unknown(shown, line, arg, err);
	if (ok == 0)
		return interp_badopt(shown, line, arg, err);
	if (missing)
		return interp_missing(shown, p, err);
	return env_judge(shown, line, arg, depth, cmd, err);
}

/*
 * The HOME a command gets (execcmd.c child_env: the running user's from
 * the password database), judged as a command's directory is: zsh
 * (~/.zshenv), python (the user site's .pth files) and node
 * (~/.node_modules) run files from it (sec-review-21a F5: a HOME the
 * operator's group could write ran another user's ~/.zshenv).  When it
 * exists, walked (every directory above it root's or the running
 * user's, writable by neither group nor others, a sticky one root owns
 * passing on the way) and judged itself by the ownership rule, sticky
 * or not; missing, its name must be one nobody else may make
 * (name_ours).  None in the database: none is passed, 0.
 */
/*
 * The python user site under HOME (.local/lib/python*\/site-packages),
 * which python reads at start unless run with -s or -I: each that
 * exists judged as a venv's site-packages is (site_judge; sec-review-22a
 * N1: another user's usercustomize.py ran as root).
 */
/*
 * A directory on the way to the user site, if it exists: walked, and
 * root's or the running user's, writable by neither group nor others
 * (sec-review-23a H1: another user's ~/.local/lib passed while the site
 * was missing, and they made it after the judgement).
 */
static int
user_site_dir(const char *path, struct corp_err *err)
{
	struct stat st;
	int rc, dfd;

	if ((rc = corp_dir_walk(path, &dfd, err)) != 0)
		return rc == CORP_ENOTFOUND ? 0 : rc;
	if (fstat(dfd, &st) != 0)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s", path,
		    strerror(errno));
	else
		rc = corp_trust_stat(path, &st, err);
	close(dfd);
	return rc;
}

static int
user_site_judge(const char *home, struct corp_err *err)
{
	char pat[PATH_MAX + 48];
	glob_t g;
	size_t i;
	int rc = 0, dfd, sticky;

	if (snprintf(pat, sizeof(pat), "%s/.local", home) >= (int)sizeof(pat))
		return 0;
	if ((rc = user_site_dir(pat, err)) == 0) {
		strlcat(pat, "/lib", sizeof(pat));
		rc = user_site_dir(pat, err);
	}
	if (rc == 0 && strlcat(pat, "/python*/", sizeof(pat)) < sizeof(pat) &&
	    glob(pat, GLOB_NOSORT | GLOB_ONLYDIR, NULL, &g) == 0) {
		for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
			/* The pattern's trailing '/' matches directories
			 * only, and stays on each match: cut for the walk. */
			size_t n = strlen(g.gl_pathv[i]);

			if (n > 1 && g.gl_pathv[i][n - 1] == '/')
				g.gl_pathv[i][n - 1] = '\0';
			rc = user_site_dir(g.gl_pathv[i], err);
		}
		globfree(&g);
	}
	if (rc != 0) {
		corp_errprefix(err, "its python user site");
		return rc;
	}
	if (snprintf(pat, sizeof(pat), "%s/.local/lib/python*/site-packages",
	    home) >= (int)sizeof(pat) || glob(pat, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
		if ((rc = search_dir(g.gl_pathv[i], &dfd, &sticky, err)) != 0)
			continue;
		if (sticky)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a directory "
			    "others may make names in", g.gl_pathv[i]);
		else
			rc = site_judge(dfd, g.gl_pathv[i], err);
		close(dfd);
	}
	globfree(&g);
	if (rc != 0)
		corp_errprefix(err, "its python user site");
	return rc;
}

static const char *const home_rc[] = { ".zshenv", ".Rprofile",
    ".Renviron" };

static int
home_judge(const char *path, struct corp_err *err)
{
	char home[PATH_MAX], where[PATH_MAX], m[sizeof(err->msg)],
	    nm[PATH_MAX + 24];
	struct passwd *pw;
	struct stat st;
	int rc, dfd, i;

	if ((pw = getpwuid(geteuid())) == NULL || pw->pw_dir == NULL ||
	    pw->pw_dir[0] != '/' || strlcpy(home, pw->pw_dir, sizeof(home)) >=
	    sizeof(home))
		return 0;
	if ((rc = corp_dir_walk(home, &dfd, err)) == 0) {
		if (fstat(dfd, &st) != 0)
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s", home,
			    strerror(errno));
		else
			rc = corp_trust_stat(home, &st, err);
		/* The files zsh and R read at every start (sec-review-23a
		 * H2: another user's ~/.zshenv ran as the operator). */
		for (i = 0; rc == 0 && i < (int)(sizeof(home_rc) /
		    sizeof(home_rc[0])); i++) {
			size_t count = 0;

			rc = entry_judge(dfd, home_rc[i], home, 0, &count,
			    err);
		}
		close(dfd);
		if (rc == 0)
			rc = user_site_judge(home, err);
		for (i = 0; rc == 0 && i < 2; i++) {
			snprintf(nm, sizeof(nm), "%s/%s", home, i == 0 ?
			    ".node_modules" : ".node_libraries");
			rc = node_dir_judge(nm, err);
		}
	} else if (rc == CORP_ENOTFOUND && (rc = name_ours(home, where,
	    sizeof(where), err)) == CORP_ENOTFOUND)
		rc = corp_errf(err, CORP_EFORBIDDEN, "it does not exist, and "
		    "%s is a directory others may make names in: whoever makes "
		    "it first chooses the files run from it", where);
	if (rc == 0)
		return 0;
	strlcpy(m, err->msg, sizeof(m));
	return corp_errf(err, CORP_EFORBIDDEN, "exec command %s: HOME %s, the "
	    "running user's from the password database, which the command "
	    "gets (zsh, python and node run files from it): %s; or give the "
	    "user another home (usermod -d)", path, home, m);
}

int
corp_exec_open(const char *path, struct corp_cmd *cmd, struct corp_err *err)
{
	int rc;

	cmd->fd = cmd->ifd = -1;
	cmd->iname[0] = cmd->ipath[0] = '\0';
	if ((rc = exec_walk(path, 0, 0, &cmd->fd, NULL, cmd, err)) != 0 ||
	    (rc = home_judge(path, err)) != 0)
		corp_cmd_close(cmd);
	return rc;
}

void
corp_cmd_close(struct corp_cmd *cmd)
{
	if (cmd->fd >= 0)
		close(cmd->fd);
	if (cmd->ifd >= 0)
		close(cmd->ifd);
	cmd->fd = cmd->ifd = -1;
	cmd->iname[0] = cmd->ipath[0] = '\0';
}

/*
 * The walk (fsutil.h, corp.7 SECURITY): the path as written, one
 * component at a time, each opened O_PATH|O_NOFOLLOW relative to the
 * descriptor of the directory judged before it, and judged on its own
 * descriptor; a link is judged (its owner: a link has no mode) in the
 * directory that holds it, and its target walked the same way.  What
 * is judged is what is used: no name is looked up twice.
 *
 * depth: how many #! interpreters led here (0: the command itself).
 * dir: the path names a directory (corp_out_open), not a command: its
 * O_PATH descriptor in *fdp; a relative path starts at ".".
 */
static int
exec_walk(const char *path, int depth, int dir, int *fdp, int *envp,
    struct corp_cmd *cmd, struct corp_err *err)
{
	struct stat st;
	char *rest = NULL, *shown = NULL, *c, *next, *nr, target[4096];
	size_t cap;
	ssize_t tl;
	int dfd = -1, fd = -1, rc = 0, links = 0, last, interp = 0, sfd;

	*fdp = -1;
	if (*path != '/' && !dir)
		return corp_errf(err, CORP_EINVAL, "exec command %s: not an "
		    "absolute path", path);
	cap = strlen(path) + 4;
	if ((rest = strdup(path)) == NULL || (shown = calloc(1, cap)) ==
	    NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if (*path != '/') {	/* dir only: from the working directory */
		strcpy(shown, ".");
		if ((dfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    fstat(dfd, &st) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, ".: %s",
			    strerror(errno));
			goto out;
		}
		if ((rc = exec_dir_ok(".", &st, err)) != 0)
			goto out;
		goto walk;
	}
restart:
	if (dfd >= 0)
		close(dfd);
	shown[0] = '\0';
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(dfd, &st) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "/: %s", strerror(errno));
		goto out;
	}
	if ((rc = exec_dir_ok("/", &st, err)) != 0)
		goto out;
walk:
	for (c = rest; ; c = next) {
		while (*c == '/')
			c++;
		if (*c == '\0' && dir) {	/* the directory reached */
			*fdp = dfd;
			dfd = -1;
			break;
		}
		if (*c == '\0') {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a "
			    "regular file", *shown ? shown : "/");
			goto out;
		}
		if ((next = strchr(c, '/')) != NULL)
			*next++ = '\0';
		else
			next = c + strlen(c);
		last = next[strspn(next, "/")] == '\0';
		if (strcmp(c, ".") == 0)
			continue;
		fd = openat(dfd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			rc = corp_errf(err, CORP_ENOTFOUND, "%s%s: no such "
			    "file", depth == 0 && !dir ? "exec command " : "",
			    path);
			goto out;
		}
		if (strcmp(c, "..") == 0)
			shown_up(shown);
		else {
			size_t need = strlen(shown) + strlen(c) + 2;

			if (need > cap) {
				char *ns;

				if ((ns = realloc(shown, need)) == NULL) {
					rc = corp_errf(err, CORP_EINTERNAL,
					    "out of memory");
					goto out;
				}
				shown = ns;
				cap = need;
			}
			strcat(shown, "/");
			strcat(shown, c);
		}
		if (fd < 0 || fstat(fd, &st) != 0) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s", shown,
			    strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			/* Its directory was judged; the link itself may be
			 * swapped by its owner (in a sticky directory). */
			st.st_mode = S_IFLNK | 0755;
			if ((rc = corp_trust_stat(shown, &st, err)) != 0)
				goto out;
			if (++links > EXEC_MAXLINKS) {
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: more "
				    "than %d symbolic links", path,
				    EXEC_MAXLINKS);
				goto out;
			}
			if ((tl = readlinkat(fd, "", target, sizeof(target) -
			    1)) < 0 || tl == 0) {
				rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s",
				    shown, tl == 0 ? "an empty link" :
				    strerror(errno));
				goto out;
			}
			target[tl] = '\0';
			close(fd);
			fd = -1;
			shown_up(shown);
			/* The target, then what was left of the path. */
			if (corp_asprintf(&nr, "%s/%s", target, next) < 0) {
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				goto out;
			}
			free(rest);
			rest = nr;
			if (cap < strlen(shown) + strlen(rest) + 2) {
				char *ns;

				cap = strlen(shown) + strlen(rest) + 2;
				if ((ns = realloc(shown, cap)) == NULL) {
					rc = corp_errf(err, CORP_EINTERNAL,
					    "out of memory");
					goto out;
				}
				shown = ns;
			}
			if (*rest == '/')
				goto restart;
			next = rest;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((rc = exec_dir_ok(shown, &st, err)) != 0)
				goto out;
			close(dfd);
			dfd = fd;
			fd = -1;
			continue;
		}
		if (!last || dir) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a "
			    "directory", shown);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a "
			    "regular file", shown);
			goto out;
		}
		if ((rc = corp_trust_stat(shown, &st, err)) != 0)
			goto out;
		sfd = -1;
		rc = exec_interp(dfd, c, shown, &st, depth, depth == 0 ?
		    &sfd : NULL, cmd, err);
		if (rc != 0) {
			if (sfd >= 0)
				close(sfd);
			interp = 1;
			goto out;
		}
		/*
		 * A script is run as /dev/fd/N, N the descriptor handed
		 * to fexecve: an O_PATH one opens for sh or python, but
		 * perl reads descriptor N itself, reads nothing from an
		 * O_PATH one and exits 0 (sec-review-10 item 3).  So the
		 * descriptor run is the readable one its #! line was
		 * read from, the inode judged (exec_interp).
		 */
		if (sfd >= 0) {
			if (fcntl(sfd, F_SETFL, 0) != 0) {
				rc = corp_errf(err, CORP_EINTERNAL, "%s: %s",
				    shown, strerror(errno));
				close(sfd);
				goto out;
			}
			close(fd);
			fd = sfd;
		}
		if (envp != NULL)	/* the file reached: is it env? */
			*envp = strcmp(c, "env") == 0;
		*fdp = fd;
		fd = -1;
		break;
	}
out:
	if (rc != 0 && depth == 0 && !dir && (interp || (rc != CORP_ENOTFOUND &&
	    rc != CORP_EINVAL)))
		corp_errprefix(err, "exec command %s", path);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(rest);
	free(shown);
	return rc;
}

int
corp_path_split(const char *path, char **dirp, const char **basep,
    struct corp_err *err)
{
	const char *slash = strrchr(path, '/');

	*dirp = NULL;
	*basep = slash != NULL ? slash + 1 : path;
	if (**basep == '\0')
		return corp_errf(err, CORP_EFORBIDDEN, "%s: not a regular "
		    "file", path);
	if (slash == NULL)
		*dirp = strdup(".");
	else if (slash == path)
		*dirp = strdup("/");
	else
		*dirp = strndup(path, (size_t)(slash - path));
	if (*dirp == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_out_open(const char *path, int flags, int mode, int *fdp,
    struct corp_err *err)
{
	struct stat st;
	const char *base;
	char *dir, who[64];
	int dfd, rc, e;

	*fdp = -1;
	if ((rc = corp_path_split(path, &dir, &base, err)) != 0)
		return rc;
	rc = exec_walk(dir, 0, 1, &dfd, NULL, NULL, err);
	free(dir);
	if (rc == CORP_ENOTFOUND)	/* as open(2) would say it */
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(ENOENT));
	if (rc != 0) {
		corp_errprefix(err, "%s", path);
		return rc;
	}
	*fdp = openat(dfd, base, flags | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	e = errno;
	/*
	 * A link in the file's place is refused whatever open(2) said of
	 * it: ELOOP, or EACCES where fs.protected_symlinks or a sticky
	 * directory stops the open first (sec-review-12a item 6).
	 */
	if (*fdp < 0 && e != EEXIST && fstatat(dfd, base, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		close(dfd);
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic link "
		    "(owned by %s); corp writes through none: remove it or "
		    "name the file itself", path, user_name(st.st_uid, who,
		    sizeof(who)));
		errno = ELOOP;
		return rc;
	}
	close(dfd);
	if (*fdp >= 0)
		return 0;
	if (e == ELOOP)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic link; "
		    "corp writes through none: remove it or name the file "
		    "itself", path);
	else
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(e));
	errno = e;	/* the caller may tell EEXIST (O_EXCL) apart */
	return rc;
}

/*
 * realpath(3), judging every symbolic link it meets (fsutil.h): the
 * path is taken one name at a time onto a prefix that holds no link;
 * a link must be root's or the running user's, and its target goes in
 * its place.
 */
int
corp_path_resolve(const char *path, char **realp, struct corp_err *err)
{
	struct stat st;
	char *rest = NULL, *done = NULL, *nr, *c, *next, target[4096],
	    cwd[4096], who[64], self[64];
	size_t len;
	ssize_t tl;
	int links = 0, rc = 0;

	*realp = NULL;
	if (*path != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	if ((*path == '/' ? corp_asprintf(&rest, "%s", path) :
	    corp_asprintf(&rest, "%s/%s", cwd, path)) < 0 ||
	    (done = calloc(1, strlen(rest) + 2)) == NULL) {
		free(rest);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	for (c = rest; ; c = next) {
		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		if ((next = strchr(c, '/')) != NULL)
			*next++ = '\0';
		else
			next = c + strlen(c);
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if ((nr = strrchr(done, '/')) != NULL)
				*nr = '\0';
			continue;
		}
		len = strlen(done);
		strcat(strcat(done, "/"), c);
		if (lstat(done, &st) != 0) {
			rc = corp_errf(err, errno == ENOENT ? CORP_ENOTFOUND :
			    CORP_EINTERNAL, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (st.st_uid != geteuid() && st.st_uid != 0) {
			user_name(st.st_uid, who, sizeof(who));
			user_name(geteuid(), self, sizeof(self));
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic "
			    "link owned by %s (uid %u), not by %s, who runs "
			    "corp%s: its owner chooses what it names; name the "
			    "file itself, or chown -h %s %s", done, who,
			    (unsigned)st.st_uid, self, geteuid() == 0 ? "" :
			    ", nor root", self, done);
			goto out;
		}
		if (++links > 40 || (tl = readlink(done, target,
		    sizeof(target) - 1)) <= 0) {
			rc = corp_errf(err, CORP_EUSAGE, "%s: %s", path,
			    links > 40 ? strerror(ELOOP) : "an unreadable "
			    "symbolic link");
			goto out;
		}
		target[tl] = '\0';
		done[len] = '\0';	/* the link's directory */
		if (corp_asprintf(&nr, "%s/%s", target, next) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		free(rest);
		rest = nr;
		next = rest;
		if (*target == '/')
			done[0] = '\0';
		/* done grows by at most what rest holds */
		if ((nr = realloc(done, len + strlen(rest) + 2)) == NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		done = nr;
	}
	if (*done == '\0')
		strcpy(done, "/");
	*realp = done;
	done = NULL;
out:
	free(rest);
	free(done);
	return rc;
}

int
corp_dir_walk(const char *path, int *dfdp, struct corp_err *err)
{
	return exec_walk(path, 0, 1, dfdp, NULL, NULL, err);
}

int
corp_trust_exec(const char *path, struct corp_err *err)
{
	struct corp_cmd cmd;
	int rc;

	if ((rc = corp_exec_open(path, &cmd, err)) == 0)
		corp_cmd_close(&cmd);
	return rc;
}

/* Open a configuration file (or a secret), name in the directory dfd
 * (AT_FDCWD: name is a path) and called path in messages: O_NOFOLLOW,
 * a regular file that passes the ownership rule; its fd in *fdp. */
static int
open_conf_at(int dfd, const char *name, const char *path, struct stat *st,
    int *fdp, struct corp_err *err)
{
	int fd, rc;

	*fdp = -1;
	if ((fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		if (errno == ELOOP)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic "
			    "link; corp follows none in its data directory: "
			    "put the file itself there", path);
		if (errno == ENOENT)
			return corp_errf(err, CORP_ENOTFOUND, "%s: no such "
			    "file", path);
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, st) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	else if (!S_ISREG(st->st_mode))
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a regular file",
		    path);
	else
		rc = corp_trust_stat(path, st, err);
	if (rc != 0)
		close(fd);
	else
		*fdp = fd;
	return rc;
}

static int
open_conf(const char *path, struct stat *st, int *fdp, struct corp_err *err)
{
	return open_conf_at(AT_FDCWD, path, path, st, fdp, err);
}

int
corp_read_conf(const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	struct stat st;
	int fd, rc;

	*out = NULL;
	if ((rc = open_conf(path, &st, &fd, err)) != 0)
		return rc;
	return read_fd(fd, path, max, out, lenp, err);
}

int
corp_read_conf_walk(const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	struct stat st;
	const char *base;
	char *dir;
	int dfd, fd, rc;

	*out = NULL;
	if ((rc = corp_path_split(path, &dir, &base, err)) != 0)
		return rc;
	rc = exec_walk(dir, 0, 1, &dfd, NULL, NULL, err);
	free(dir);
	if (rc == CORP_ENOTFOUND)
		return corp_errf(err, CORP_ENOTFOUND, "%s: no such file",
		    path);
	if (rc != 0)
		return corp_errprefix(err, "%s", path);
	rc = open_conf_at(dfd, base, path, &st, &fd, err);
	close(dfd);
	if (rc != 0)
		return rc;
	return read_fd(fd, path, max, out, lenp, err);
}

int
corp_read_secret(const char *path, size_t max, char **out, size_t *lenp,
    struct corp_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0, cap;
	ssize_t n = 0;
	int fd, rc;

	*out = NULL;
	corp_secret_guard();
	if ((rc = open_conf(path, &st, &fd, err)) != 0)
		return rc;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return corp_errf(err, CORP_EFORBIDDEN, "%s: readable by group "
		    "or others (mode %03o); chmod 600 %s", path,
		    (unsigned)(st.st_mode & 0777), path);
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		close(fd);
		return corp_errf(err, CORP_EINVAL, "%s: larger than %zu bytes",
		    path, max);
	}
	/* One buffer of the size judged, never grown: no copy of the
	 * secret is left behind in freed memory. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		close(fd);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	rc = n < 0 ? corp_errf(err, CORP_EINTERNAL, "%s: read: %s", path,
	    strerror(errno)) : len == cap ? corp_errf(err, CORP_EINVAL,
	    "%s: changed while read", path) : 0;
	close(fd);
	if (rc != 0) {
		explicit_bzero(buf, cap + 1);
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

int
corp_lock(const char *path, int exclusive, int wait, int *fdp,
    struct corp_err *err)
{
	int fd, op;

	*fdp = -1;
	if ((op = corp_open_nofollow(path, O_RDWR | O_CREAT, 0600, &fd,
	    err)) != 0)
		return op;
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

/* The variable a secret may also come from, NULL when only its file. */
static const char *
secret_env(const char *name)
{
	static const char *const map[][2] = {
		{ "telegram_token", "CORP_TELEGRAM_TOKEN" },
		{ "smtp_password", "CORP_SMTP_PASSWORD" },
		{ "openai_key", "CORP_OPENAI_KEY" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], name) == 0)
			return map[i][1];
	return NULL;
}

void
corp_secret_guard(void)
{
	static const struct rlimit none = { 0, 0 };

	/* Both are best effort: neither can fail for an ordinary process,
	 * and a secret is no reason to stop working. */
	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
corp_secret(const char *envval, const char *name, char **out,
    struct corp_err *err)
{
	struct stat st;
	char *dir, *path, *buf;
	const char *var;
	size_t len;
	int rc, fd, dfd = -1;

	*out = NULL;
	corp_secret_guard();
	if (envval != NULL && *envval != '\0') {
		if ((*out = strdup(envval)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		return 0;
	}
	if ((rc = corp_data_path(&dir, "secrets", err)) != 0)
		return rc;
	if (corp_asprintf(&path, "%s/%s", dir, name) < 0) {
		free(dir);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	/* The file is opened relative to the checked directory, so the
	 * directory judged is the one read (never a link's target). */
	rc = corp_dir_open(dir, 0, &dfd, err);
	free(dir);
	if (rc == 0)
		rc = open_conf_at(dfd, name, path, &st, &fd, err);
	if (dfd >= 0)
		close(dfd);
	if (rc == CORP_ENOTFOUND) {
		if ((var = secret_env(name)) != NULL)
			corp_errf(err, CORP_ENOTFOUND, "secret %s: no %s in "
			    "the environment and no file %s", name, var, path);
		else
			corp_errf(err, CORP_ENOTFOUND, "secret %s: no file %s "
			    "(this secret is read only from its file)", name,
			    path);
	}
	if (rc != 0) {
		free(path);
		return rc;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: readable by group "
		    "or others (mode %03o); chmod 600 %s", path,
		    (unsigned)(st.st_mode & 0777), path);
		free(path);
		return rc;
	}
	rc = read_fd(fd, path, 65536, &buf, &len, err);
	free(path);
	if (rc != 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

int
corp_secret_place(const char *name, const char *data, int replace,
    struct corp_err *err)
{
	char *dir = NULL, tmp[80];
	int rc, dfd = -1, fd = -1, placed = 0;

	if ((rc = corp_data_path(&dir, "secrets", err)) != 0)
		return rc;
	if ((rc = corp_dir_open(dir, 1, &dfd, err)) != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	(void)unlinkat(dfd, tmp, 0);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir, tmp,
		    strerror(errno));
		goto out;
	}
	if (corp_write_all(fd, data, strlen(data)) != 0 || fsync(fd) != 0) {
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
	if (replace) {
		if (renameat(dfd, tmp, dfd, name) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "%s/%s: %s", dir,
			    name, strerror(errno));
			goto unlink;
		}
		placed = 1;
	} else if (linkat(dfd, tmp, dfd, name, 0) != 0) {
		rc = errno == EEXIST ? corp_errf(err, CORP_ECONFLICT,
		    "%s/%s exists", dir, name) : corp_errf(err,
		    CORP_EINTERNAL, "%s/%s: %s", dir, name, strerror(errno));
		goto unlink;
	}
	if (fsync(dfd) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: fsync: %s", dir,
		    strerror(errno));
unlink:
	if (!placed)
		(void)unlinkat(dfd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}
