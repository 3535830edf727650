/*
 * fsutil.h -- small files done right: atomic replace, bounded reads,
 * advisory locks, secret files.
 */
#ifndef CORP_FSUTIL_H
#define CORP_FSUTIL_H

#include <stddef.h>

struct stat;

struct corp_err;

/*
 * Replace path with data atomically: a temporary file in the same
 * directory, write, fsync, rename, fsync of the directory.  A reader
 * sees the old file or the new one, never a torn one.  Mode 0600.
 */
int	corp_atomic_write(const char *path, const void *data, size_t len,
	    struct corp_err *);
/*
 * corp_atomic_write, but path is made only when nothing has that name
 * (link(2) of the synced temporary file, never a rename over it):
 * CORP_ECONFLICT ("PATH: exists") when something has, left as it was.
 */
int	corp_atomic_create(const char *path, const void *data, size_t len,
	    struct corp_err *);
/*
 * fsync the directory holding path, so that a rename into it survives a
 * crash: 0, or -1 with errno set.
 */
int	corp_sync_dir(const char *path);
/*
 * Read a whole file of at most max bytes; NUL-terminated.  ENOTFOUND if
 * missing.  Opened O_NOFOLLOW: every file corp reads this way lives in
 * the data directory, where a symbolic link is refused (CORP_EFORBIDDEN)
 * rather than followed.
 */
int	corp_read_file(const char *path, size_t max, char **out, size_t *lenp,
	    struct corp_err *);

/*
 * The ownership rule (ssh's StrictModes; corp.7 SECURITY).  corp takes
 * its configuration only from a file or directory that belongs to the
 * running user (euid) or root and that neither group nor others may
 * write to.  corp_trust_stat judges st (as stat(2) filled it for path);
 * CORP_EFORBIDDEN names path and the command that fixes it.  Every
 * reader of configuration goes through it, by one of the calls below.
 */
int	corp_trust_stat(const char *path, const struct stat *st,
	    struct corp_err *);
/*
 * A directory of the data directory, opened O_DIRECTORY|O_NOFOLLOW (a
 * symbolic link or a file in its place is CORP_EFORBIDDEN, never
 * followed), created 0700 first when make is set, and judged by
 * corp_trust_stat on the descriptor.  Its fd in *fdp, for *at() calls,
 * so that the directory judged is the one used.  ENOTFOUND if missing.
 */
int	corp_dir_open(const char *path, int make, int *fdp,
	    struct corp_err *);
/*
 * A new secret file DATA_DIR/secrets/NAME holding data (the directory
 * made 0700 if missing), durably: a temporary file 0600, written and
 * fsync'd, then linked into place, and the directory fsync'd.  One that
 * is there is never replaced (CORP_ECONFLICT "DIR/NAME exists": two
 * makers at once end with one file) unless replace, which renames over
 * it.
 */
int	corp_secret_place(const char *name, const char *data, int replace,
	    struct corp_err *);
/* corp_dir_open, closed again: for the operator's secrets/ and i18n/. */
int	corp_trust_dir(const char *path, struct corp_err *);
/*
 * StrictModes for a command corp runs (exec.conf, corp-analysis
 * --proposer exec:NAME), judged on the path as written: "/" and every
 * directory met on the way pass corp_trust_stat (a sticky directory
 * root owns, as /tmp, passes: its entries are judged); a symbolic link
 * met on the way must belong to the running user or root, and its
 * target is walked the same way from the directory that holds it; the
 * file at the end is a regular file that passes corp_trust_stat.  Each
 * component is opened O_PATH|O_NOFOLLOW relative to the directory
 * judged before it, so nothing is looked up twice: corp_exec_open gives
 * the descriptor (O_PATH, close-on-exec) of the very file judged, for
 * fexecve; for a script, a readable one (O_RDONLY, the one its #! line
 * was read from, the same inode), since its interpreter is handed
 * /dev/fd/N and perl reads descriptor N itself.  A script's #! interpreter (read from the file judged, as
 * the kernel reads it) is walked the same way, and its own, to the
 * kernel's chain of 5 scripts; a relative or missing one, an empty or
 * over-long #! line (no newline within the kernel's 256 bytes: perl
 * reads the rest), or a script corp cannot read is refused; so is a
 * command or interpreter the kernel cannot run (not executable, neither
 * ELF nor #!).  Also judged: an ELF program's loader, library paths,
 * libraries and filtees; a venv python's pyvenv.cfg, its home, its
 * site-packages, .pth files and what they import there; what sits
 * beside a script python or node runs; and the HOME the command gets
 * (corp.7 SECURITY).
 * CORP_EFORBIDDEN ("exec command PATH: WHAT: why; fix")
 * naming the first that fails (a missing interpreter too: the script
 * is there), CORP_ENOTFOUND when a component of the command's own path
 * is missing.  corp_trust_exec judges and closes.
 *
 * A command whose #! line is "#!ENV NAME" (env, as corp.7 SECURITY
 * allows it) is not run through env: NAME's file, found on the child's
 * PATH and judged, is run as env would run it, argv { NAME,
 * "/dev/fd/N" } (N the script's), with no second lookup: a program by
 * the descriptor judged (ifd); a wrapper script by the path it was
 * found at (ipath; its directories judged), so that its $0 is that
 * path, as under env.  The caller closes with corp_cmd_close (also
 * done on failure).
 */
struct corp_cmd {
	int	 fd;		/* the file judged (a script: readable) */
	int	 ifd;		/* "#!ENV NAME", NAME a program: it; else -1 */
	char	 iname[256];	/* NAME: argv[0] of what runs the script */
	char	 ipath[4096];	/* "#!ENV NAME", NAME a script: its path */
};
int	corp_exec_open(const char *path, struct corp_cmd *, struct corp_err *);
void	corp_cmd_close(struct corp_cmd *);
/*
 * open(2) for a file outside the data directory (corp-send file --out,
 * corp-db backup's FILE, CORP_CA_FILE's real path):
 * its directory walked as corp_exec_open walks a command's path ("/", or
 * "." for a relative path, and every directory met judged; a link only
 * in a judged directory, owned by root or the running user, its target
 * walked the same way), then the file opened relative to the directory
 * judged, O_NOFOLLOW | O_CLOEXEC added.  CORP_EFORBIDDEN ("PATH: WHAT:
 * why; fix") for a directory or link that fails the rule or a link in
 * the file's place, CORP_EINTERNAL with the errno text otherwise (and
 * errno the open's, so that a caller may tell EEXIST apart).
 */
int	corp_out_open(const char *path, int flags, int mode, int *fdp,
	    struct corp_err *);
/* A file's path as its directory (fresh: "." or "/" when it has none)
 * and its last name (in path); CORP_EFORBIDDEN when the name is empty
 * (a path ending in '/'). */
int	corp_path_split(const char *path, char **dirp, const char **basep,
	    struct corp_err *);
int	corp_trust_exec(const char *path, struct corp_err *);
/*
 * A directory outside the data directory that corp makes a name in (a
 * Unix socket: corp-api --socket), walked as corp_out_open walks a
 * file's directory: every directory met passes corp_trust_stat, except
 * a sticky one root owns (as /tmp), where another user may add names
 * but not rename or remove ours.  Its O_PATH descriptor in *dfdp, for
 * *at() calls or /proc/self/fd/N/NAME; CORP_EFORBIDDEN ("DIR: why;
 * fix") naming the first that fails, CORP_ENOTFOUND when one is
 * missing.
 */
int	corp_dir_walk(const char *path, int *dfdp, struct corp_err *);
/*
 * realpath(3) for a path whose links decide what corp trusts
 * (CORP_CA_FILE, CORP_SHARE_DIR; corp.7 SECURITY): every symbolic link
 * met on the way, the last name's too, must belong to root or the
 * running user, as in corp_exec_open's walk (its owner chooses what the
 * path names), else CORP_EFORBIDDEN naming the link and the fix.  The
 * real path (fresh) in *realp; CORP_ENOTFOUND when a name is missing.
 * The caller then judges what that real path names.
 */
int	corp_path_resolve(const char *path, char **realp, struct corp_err *);
/*
 * A directory corp keeps for itself in the data directory (spool/,
 * ratelimit/), created 0700 when make is set and it is missing:
 * corp_dir_open, closed again.
 */
int	corp_private_dir(const char *path, int make, struct corp_err *);
/*
 * corp_read_file for a configuration file: opened O_NOFOLLOW, a regular
 * file that passes corp_trust_stat, else CORP_EFORBIDDEN.
 */
int	corp_read_conf(const char *path, size_t max, char **out, size_t *lenp,
	    struct corp_err *);
/*
 * corp_read_conf for a file the operator names outside the data
 * directory (corp-fmt --catalog): its directory walked first as
 * corp_out_open walks one (every directory met passes the rule, a
 * symbolic link on the way must be root's or the running user's: its
 * owner chooses what the path names), then the file opened relative to
 * the directory judged.  CORP_ENOTFOUND when a name is missing.
 */
int	corp_read_conf_walk(const char *path, size_t max, char **out,
	    size_t *lenp, struct corp_err *);
/*
 * A secret file corp reads itself and hands on from memory (corp-api's
 * TLS key): corp_secret_guard first, then the file judged as a secret
 * is -- O_NOFOLLOW, a regular file, the ownership rule, and neither
 * readable nor writable by group or others, else CORP_EFORBIDDEN
 * naming it -- and read from the descriptor judged into one buffer
 * (at most max bytes, else CORP_EINVAL), NUL-terminated, its length in
 * *lenp.  The caller wipes it (explicit_bzero) before freeing.
 */
int	corp_read_secret(const char *path, size_t max, char **out,
	    size_t *lenp, struct corp_err *);
/*
 * open(2) for a file in the data directory: O_NOFOLLOW and O_CLOEXEC
 * added, so a planted symbolic link is never followed.  The fd in *fdp
 * (-1 on failure): CORP_EFORBIDDEN for a link, CORP_ENOTFOUND when
 * missing (without O_CREAT), CORP_EINTERNAL with the errno text
 * otherwise.
 */
int	corp_open_nofollow(const char *path, int flags, int mode, int *fdp,
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
/*
 * The one guard of a process that holds a secret (corp.7, SECURITY):
 * no core dump (RLIMIT_CORE 0, inherited by children) and not dumpable
 * (PR_SET_DUMPABLE 0: no core, no ptrace or /proc/PID/mem and environ by
 * other processes of the same user).  corp_secret and the reading of
 * the secret environment variables (config.c) call it; idempotent.
 */
void	corp_secret_guard(void);

/* All n bytes to fd, again after EINTR and short writes; -1 with errno. */
int	corp_write_all(int fd, const char *p, size_t n);

#endif
