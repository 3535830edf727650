/*
 * config.c -- the one place that reads the environment (STYLE.md).
 * Every main() calls corp_config_load() once; the common options of
 * cmd/cli.c then override single keys through corp_config_set().
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "testvfs.h"
#include "fsutil.h"

#ifndef CORP_SHARE_DIR
#define CORP_SHARE_DIR "/usr/local/share/corp"
#endif

struct corp_config corp_cfg;

char *
corp_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

int
corp_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*out = NULL;
		return -1;
	}
	return n;
}

static int
setstr(char **dst, const char *v, struct corp_err *err)
{
	char *s = NULL;

	if (v != NULL && (s = strdup(v)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

/* A bad value is a usage error (corp.7 ENVIRONMENT), whatever the
 * parser called it. */
static int
usage(struct corp_err *err)
{
	if (err != NULL)
		err->code = CORP_EUSAGE;
	return CORP_EUSAGE;
}

/* No control character: a secret goes into a header or a URL. */
static int
printable(const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Apply one setting; used for the environment and for --db & co.  A bad
 * value is CORP_EUSAGE with a message that does not name its source:
 * the caller prefixes the variable or the option.
 */
/*
 * CORP_CA_FILE decides whom corp trusts, so it is under the ownership
 * rule (corp.7 SECURITY; sec-review-9 item 9): its links resolved, its
 * real path walked as corp-send --out's is (every directory root's or
 * the operator's and writable by neither group nor others, a sticky one
 * root owns excepted) and the file, opened without following a link,
 * the operator's or root's and writable by neither.  libcurl reads it
 * by name at each connection: it gets that real path, which nobody
 * else can change.
 */
/* Its links resolved, each judged (fsutil.h corp_path_resolve): a
 * link's owner would choose what it names (sec-review-12a item 5). */
static int
resolve(const char *v, char **real, struct corp_err *err)
{
	char m[sizeof(err->msg)];
	int rc;

	/* Anything but a link refused is 64, as realpath(3)'s errors. */
	if ((rc = corp_path_resolve(v, real, err)) == 0 ||
	    rc == CORP_EFORBIDDEN)
		return rc;
	strlcpy(m, err->msg, sizeof(m));
	return corp_errf(err, CORP_EUSAGE, "%s", m);
}

static int
ca_file(const char *v, struct corp_err *err)
{
	struct stat st;
	char *real, m[sizeof(err->msg)];
	int fd, rc;

	if ((rc = resolve(v, &real, err)) != 0)
		return rc;
	if ((rc = corp_out_open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0,
	    &fd, err)) != 0) {
		free(real);
		if (rc != CORP_EINTERNAL)
			return rc;
		strlcpy(m, err->msg, sizeof(m));	/* cannot be read */
		return corp_errf(err, CORP_EUSAGE, "%s", m);
	}
	if (fstat(fd, &st) != 0)
		rc = corp_errf(err, CORP_EUSAGE, "%s: %s", v, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = corp_errf(err, CORP_EUSAGE, "%s: not a file", v);
	else
		rc = corp_trust_stat(real, &st, err);
	close(fd);
	if (rc == 0)
		rc = setstr(&corp_cfg.ca_file, real, err);
	free(real);
	return rc;
}

int
corp_config_set(const char *key, const char *v, struct corp_err *err)
{
	struct stat st;
	long long secs;
	int rc;

	if (strcmp(key, "db") == 0) {
		if (corp_db_spec_parse(v, err) != 0)
			return usage(err);
		return setstr(&corp_cfg.db, v, err);
	}
	if (strcmp(key, "data_dir") == 0) {
		/* Missing is fine (init creates it); something else is not. */
		if (stat(v, &st) == 0 && !S_ISDIR(st.st_mode))
			return corp_errf(err, CORP_EUSAGE, "%s: not a directory",
			    v);
		return setstr(&corp_cfg.data_dir, v, err);
	}
	if (strcmp(key, "now") == 0) {
		time_t t;

		if (v != NULL && corp_now_parse(v, &t, err) != 0)
			return usage(err);
		return setstr(&corp_cfg.now, v, err);
	}
	if (strcmp(key, "busy_timeout") == 0) {
		if (corp_duration_parse(v, &secs, err) != 0)
			return usage(err);
		/* sqlite3_busy_timeout takes an int of milliseconds. */
		if (secs > 86400)
			return corp_errf(err, CORP_EUSAGE, "'%s': at most 1d",
			    v);
		corp_cfg.busy_timeout_ms = (long)secs * 1000;
		return 0;
	}
	if (strcmp(key, "synchronous") == 0) {
		if (strcasecmp(v, "full") == 0)
			corp_cfg.sync_full = 1;
		else if (strcasecmp(v, "normal") == 0)
			corp_cfg.sync_full = 0;
		else
			return corp_errf(err, CORP_EUSAGE,
			    "expected full or normal, got '%s'", v);
		return 0;
	}
	if (strcmp(key, "admin_policy") == 0) {
		if (strcmp(v, "all") == 0)
			corp_cfg.admin_all = 1;
		else if (strcmp(v, "none") == 0)
			corp_cfg.admin_all = 0;
		else
			return corp_errf(err, CORP_EUSAGE,
			    "expected all or none, got '%s'", v);
		return 0;
	}
	if (strcmp(key, "rate_margin") == 0) {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		/* Below 0.1 the limiter's own pauses grow without bound
		 * (1e-15: a pause of 10^15 s); the limits are Telegram's. */
		if (errno != 0 || *end != '\0' || !(d >= 0.1 && d <= 1))
			return corp_errf(err, CORP_EUSAGE,
			    "expected a number in [0.1, 1], got '%s'", v);
		corp_cfg.rate_margin = d;
		return 0;
	}
	if (strcmp(key, "rate_limit") == 0) {
		if (strcmp(v, "off") == 0)
			corp_cfg.rate_limit_off = 1;
		else if (strcmp(v, "on") == 0)
			corp_cfg.rate_limit_off = 0;
		else
			return corp_errf(err, CORP_EUSAGE,
			    "expected on or off, got '%s'", v);
		return 0;
	}
	if (strcmp(key, "tz") == 0) {
		if (!corp_tz_valid(v))
			return corp_errf(err, CORP_EUSAGE, "unknown zone '%s' "
			    "(an IANA name such as Europe/Kyiv, or UTC)", v);
		return setstr(&corp_cfg.tz, v, err);
	}
	if (strcmp(key, "telegram_api") == 0) {
		/* The URL itself is parsed by libcurl where it is used; this
		 * only catches what can never be a Bot API base. */
		if (!printable(v))
			return corp_errf(err, CORP_EUSAGE, "holds a control "
			    "character");
		if ((strncasecmp(v, "https://", 8) != 0 &&
		    strncasecmp(v, "http://", 7) != 0) ||
		    strchr(v, ' ') != NULL)
			return corp_errf(err, CORP_EUSAGE, "expected an "
			    "http:// or https:// URL, got '%s'", v);
		return setstr(&corp_cfg.telegram_api, v, err);
	}
	if (strcmp(key, "ca_file") == 0)
		return ca_file(v, err);
	if (strcmp(key, "share_dir") == 0) {
		char *real;

		/* What it names is judged (catalog.c), its links here. */
		if ((rc = resolve(v, &real, err)) != 0)
			return rc;
		if (stat(real, &st) != 0)
			rc = corp_errf(err, CORP_EUSAGE, "%s: %s", v,
			    strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			rc = corp_errf(err, CORP_EUSAGE, "%s: not a directory",
			    v);
		else
			rc = setstr(&corp_cfg.share_dir, real, err);
		free(real);
		return rc;
	}
	if (strcmp(key, "test_vfs") == 0) {
		/* Weak: only the test builds have it (testvfs.h). */
		if (corp_test_vfs_check == NULL)
			return corp_errf(err, CORP_EUSAGE, "this build has "
			    "no fault VFS (only the test builds of make check "
			    "have it)");
		if (corp_test_vfs_check(v, err) != 0)
			return usage(err);
		return setstr(&corp_cfg.test_vfs, v, err);
	}
	if (strcmp(key, "test_libpq") == 0)
		return setstr(&corp_cfg.test_libpq, v, err);
	return corp_errf(err, CORP_EINTERNAL, "unknown setting %s", key);
}

static const struct {
	const char *env, *key;
} envmap[] = {
	/* Before CORP_DB, whose check loads libpq (lib/pg.c). */
	{ "CORP_TEST_LIBPQ", "test_libpq" },	/* tests only */
	{ "CORP_DB", "db" },
	{ "CORP_DATA_DIR", "data_dir" },
	{ "CORP_NOW", "now" },
	{ "CORP_BUSY_TIMEOUT", "busy_timeout" },
	{ "CORP_SYNCHRONOUS", "synchronous" },
	{ "CORP_ADMIN_POLICY", "admin_policy" },
	{ "CORP_RATE_MARGIN", "rate_margin" },
	{ "CORP_RATE_LIMIT", "rate_limit" },
	{ "CORP_TZ", "tz" },
	{ "CORP_TELEGRAM_API", "telegram_api" },
	{ "CORP_CA_FILE", "ca_file" },
	{ "CORP_SHARE_DIR", "share_dir" },
	{ "CORP_TEST_VFS", "test_vfs" },	/* tests only: lib/testvfs.h */
};

/*
 * What a child (an exec command, a proposer) inherits from corp's
 * environment: the locale, the zone and PATH, never a secret
 * (corp-send.1 "exec").  A locale that is a path (LC_ALL=/x/loc: glibc
 * loads locale data from it, trusted) or a zone that is a file outside
 * the zone database (TZ=:/x/tz, ../) is not passed (fresh-eyes round
 * 20a).  HOME is not corp's but the running user's from the password
 * database (execcmd.c child_env).  execcmd.c adds the CORP_* a child needs
 * from corp_cfg itself.
 */
static int
inherited(const char *kv)
{
	const char *v = strchr(kv, '=');

	if (v == NULL)
		return 0;
	v++;
	if ((strncmp(kv, "LC_", 3) == 0 || strncmp(kv, "LANG=", 5) == 0))
		return strchr(v, '/') == NULL;
	if (strncmp(kv, "TZ=", 3) == 0)
		return v[*v == ':'] != '/' && strstr(v, "..") == NULL;
	return strncmp(kv, "PATH=", 5) == 0;
}

static int
child_env_load(struct corp_err *err)
{
	extern char **environ;
	size_t i, n = 0;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n += inherited(environ[i]);
	if ((corp_cfg.child_env = calloc(n + 1, sizeof(char *))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0, n = 0; environ != NULL && environ[i] != NULL; i++)
		if (inherited(environ[i]) &&
		    (corp_cfg.child_env[n++] = strdup(environ[i])) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_tg_token_ok(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n <= 20 && v[n] == ':' && v[n + 1] != '\0' &&
	    strspn(v + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	    "wxyz0123456789_-") == strlen(v + n + 1);
}

/* A secret's value is never part of a message. */
static int
secret(char **dst, const char *env, struct corp_err *err)
{
	const char *v = getenv(env);

	if (v == NULL || *v == '\0')
		return 0;
	corp_secret_guard();	/* the value is in this process now */
	if (!printable(v))
		return corp_errf(err, CORP_EUSAGE, "%s: holds a control "
		    "character (the value is not shown)", env);
	if (strcmp(env, "CORP_TELEGRAM_TOKEN") == 0 && !corp_tg_token_ok(v))
		return corp_errf(err, CORP_EUSAGE, "%s: not a bot token "
		    "(expected DIGITS:KEY as @BotFather gives it; the value is "
		    "not shown)", env);
	return setstr(dst, v, err);
}

/*
 * The shipped data beside the running program, BINDIR/../share/corp, so
 * that a tree installed with any PREFIX, or moved whole, reads its own
 * catalogs; the build's PREFIX/share/corp when there is none.
 */
static int
share_default(struct corp_err *err)
{
	struct stat st;
	char *exe = NULL, *dir = NULL, *slash, *nb;
	size_t cap = 256;
	ssize_t n;
	int rc, i;

	for (;;) {
		if ((nb = realloc(exe, cap)) == NULL) {
			free(exe);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		exe = nb;
		if ((n = readlink("/proc/self/exe", exe, cap)) < 0)
			break;
		if ((size_t)n < cap) {
			exe[n] = '\0';
			break;
		}
		cap *= 2;
	}
	if (n > 0 && exe[0] == '/') {
		/* Drop "/corp-NAME", then "/bin". */
		for (i = 0; i < 2 && (slash = strrchr(exe, '/')) != NULL; i++)
			*slash = '\0';
		if (i == 2 && corp_asprintf(&dir, "%s/share/corp", exe) < 0) {
			free(exe);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	free(exe);
	if (dir != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		rc = setstr(&corp_cfg.share_dir, dir, err);
	else
		rc = setstr(&corp_cfg.share_dir, CORP_SHARE_DIR, err);
	free(dir);
	return rc;
}

/*
 * Is standard error the journal?  systemd sets JOURNAL_STREAM to the
 * "DEVICE:INODE" of the stream it connected a service's output to
 * (systemd.exec(5)); a redirected stderr is another file.  A value that
 * is not two numbers is not the journal.
 */
static int
journal_stream(const char *v)
{
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	dev = strtoull(v, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
corp_config_load(struct corp_err *err)
{
	const char *v;
	size_t i;
	int rc;

	memset(&corp_cfg, 0, sizeof(corp_cfg));
	/* First: an error in what follows is said at its level too. */
	corp_cfg.journal = journal_stream(getenv("JOURNAL_STREAM"));
	corp_cfg.busy_timeout_ms = 30000;
	corp_cfg.sync_full = 1;
	corp_cfg.admin_all = 1;
	corp_cfg.rate_margin = 0.95;
	if ((rc = setstr(&corp_cfg.telegram_api, "https://api.telegram.org",
	    err)) != 0)
		return rc;
	for (i = 0; i < sizeof(envmap) / sizeof(envmap[0]); i++) {
		if ((v = getenv(envmap[i].env)) == NULL || *v == '\0')
			continue;
		if ((rc = corp_config_set(envmap[i].key, v, err)) != 0)
			return corp_errprefix(err, "%s", envmap[i].env);
	}
	if (corp_cfg.share_dir == NULL && (rc = share_default(err)) != 0)
		return rc;
	if ((rc = secret(&corp_cfg.telegram_token, "CORP_TELEGRAM_TOKEN",
	    err)) != 0 ||
	    (rc = secret(&corp_cfg.smtp_password, "CORP_SMTP_PASSWORD",
	    err)) != 0 ||
	    (rc = secret(&corp_cfg.openai_key, "CORP_OPENAI_KEY", err)) != 0 ||
	    (rc = child_env_load(err)) != 0)
		return rc;
	/* The operator's zone, for times in tables (cmd/clifmt.h): TZ as
	 * libc reads it (a leading ':' allowed), if it names a zone;
	 * otherwise UTC.  Read here because lib/clock.c sets TZ itself. */
	if ((v = getenv("TZ")) != NULL && *v == ':')
		v++;
	if (v != NULL && *v != '\0' && corp_tz_valid(v) &&
	    (rc = setstr(&corp_cfg.display_tz, v, err)) != 0)
		return rc;
	/* CGI variables: an empty value is a value (RFC 3875). */
	if ((rc = setstr(&corp_cfg.cgi_method, getenv("REQUEST_METHOD"),
	    err)) != 0 ||
	    (rc = setstr(&corp_cfg.cgi_content_length,
	    getenv("CONTENT_LENGTH"), err)) != 0 ||
	    (rc = setstr(&corp_cfg.cgi_tg_secret,
	    getenv("HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"), err)) != 0)
		return rc;
	if (corp_cfg.data_dir == NULL) {
		char *d;

		if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/')
			rc = corp_asprintf(&d, "%s/corp", v);
		else if ((v = getenv("HOME")) != NULL && *v == '/')
			rc = corp_asprintf(&d, "%s/.local/share/corp", v);
		else
			rc = corp_asprintf(&d, "%s", "./corp-data");
		if (rc < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		corp_cfg.data_dir = d;
	}
	return 0;
}

int
corp_env_append(const char *name, const char *words, struct corp_err *err)
{
	const char *v = getenv(name);
	char *s;
	int rc;

	if (v == NULL || *v == '\0')
		rc = setenv(name, words, 1);
	else {
		if (corp_asprintf(&s, "%s %s", v, words) < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		rc = setenv(name, s, 1);
		free(s);
	}
	if (rc != 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", name,
		    strerror(errno));
	return 0;
}

/*
 * The data dir holds the database, cursors, locks, configuration and
 * secrets: whoever can write there can swap any of them, so it must
 * pass the ownership rule (corp_trust_stat) whenever it is used.  It is
 * created 0700, with missing parents, only when make is set: by
 * corp-db init and the writers of files in it, never by a reader,
 * for whom a missing one is no error (its files are just not there).
 */
static int
data_dir(int make, struct corp_err *err)
{
	const char *d = corp_cfg.data_dir;
	struct stat st;

	if (stat(d, &st) != 0) {
		char *p, *s;

		if (errno != ENOENT)
			return corp_errf(err, CORP_EINTERNAL, "%s: %s", d,
			    strerror(errno));
		if (!make)
			return 0;
		if ((p = strdup(d)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		for (s = p + 1; *s != '\0'; s++) {
			if (*s != '/')
				continue;
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				corp_errf(err, CORP_EINTERNAL, "%s: %s", p,
				    strerror(errno));
				free(p);
				return CORP_EINTERNAL;
			}
			*s = '/';
		}
		free(p);
		if (mkdir(d, 0700) != 0 && errno != EEXIST)
			return corp_errf(err, CORP_EINTERNAL, "%s: %s", d,
			    strerror(errno));
		if (stat(d, &st) != 0)
			return corp_errf(err, CORP_EINTERNAL, "%s: %s", d,
			    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return corp_errf(err, CORP_EINTERNAL, "%s: not a directory", d);
	return corp_trust_stat(d, &st, err);
}

int
corp_data_dir(const char **dirp, struct corp_err *err)
{
	int rc;

	if ((rc = data_dir(1, err)) != 0)
		return rc;
	if (dirp != NULL)
		*dirp = corp_cfg.data_dir;
	return 0;
}

int
corp_data_dir_check(struct corp_err *err)
{
	return data_dir(0, err);
}

static int
path_in(int make, char **out, const char *name, struct corp_err *err)
{
	int rc;

	*out = NULL;
	if ((rc = data_dir(make, err)) != 0)
		return rc;
	if (corp_asprintf(out, "%s/%s", corp_cfg.data_dir, name) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_data_path(char **out, const char *name, struct corp_err *err)
{
	return path_in(0, out, name, err);
}

int
corp_data_mkpath(char **out, const char *name, struct corp_err *err)
{
	return path_in(1, out, name, err);
}
