/*
 * pg.c -- the PostgreSQL side of db.c, through libpq.
 *
 * Statements are prepared on the server once per connection (named
 * c1, c2, ...) from corp's SQL rewritten by corp_pg_translate(); values
 * travel as text and the server infers their types from the statement,
 * as it would for literals.  A step runs the statement on its first call
 * and then walks the rows of the result, so a caller may run other
 * statements while it reads rows, as SQLite allows.
 *
 * Errors keep SQLite's codes for the callers: a unique or check
 * violation is SQLITE_CONSTRAINT (79), a lock timeout, serialisation
 * failure or deadlock SQLITE_BUSY (75), a lost connection SQLSTATE 08
 * (75, see corp_db_fail), a full disk SQLITE_FULL.
 *
 * libpq is not linked into the programs: corp_pg_load() dlopen()s it at
 * the first PostgreSQL use (see "libpq on demand" below and HACKING).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "corp.h"
#include "db.h"
#include "dbint.h"
#include "fsutil.h"
#include "text.h"

/*
 * libpq on demand.  Linked, libpq.so.5 pulls ~22 more shared objects
 * (libssl, libcrypto, Kerberos, LDAP, SASL, GnuTLS, ...) into every
 * process: ~10 M instructions of relocation before main(), three
 * quarters of a SQLite tool's start-up (tests/bench/PROFILE).  So it is
 * loaded when a PostgreSQL database is first named (corp_db_spec_parse,
 * corp_pg_open), and pq holds every libpq function this file calls,
 * typed from libpq-fe.h: a call reads pq.PQexec(...) and is checked by
 * the compiler as a direct call would be.  Add a function here before
 * calling it.
 */
#define LIBPQ	"libpq.so.5"	/* the soname since PostgreSQL 8.2 */
#define PQ_FUNCS \
	X(PQbackendPID) X(PQclear) X(PQcmdTuples) X(PQconnectdbParams) \
	X(PQconninfo) X(PQconninfoFree) X(PQconninfoParse) \
	X(PQconsumeInput) X(PQdescribePrepared) X(PQerrorMessage) \
	X(PQexec) X(PQexecPrepared) X(PQfinish) X(PQfreemem) X(PQftype) \
	X(PQgetisnull) X(PQgetvalue) X(PQnfields) X(PQnotifies) \
	X(PQnparams) X(PQntuples) X(PQparamtype) X(PQprepare) \
	X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) \
	X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus) \
	X(PQtransactionStatus)

static struct {
#define X(f)	__typeof__(f) *f;
	PQ_FUNCS
#undef X
} pq;

/*
 * Load libpq once (CORP_TEST_LIBPQ names another file, for the tests of
 * this very error).  Without it a PostgreSQL database cannot be used:
 * CORP_ECONFIG, naming the library and the package to install.  The
 * outcome is kept: a second call fails the same way without a retry.
 */
/*
 * CORP_TEST_LIBPQ by a path: walked as a command's file is before it is
 * loaded, since loading it runs its code (sec-review-21a F8): its links
 * judged and resolved, every directory root's or the operator's and
 * writable by neither group nor others, the file, opened without
 * following a link, the same; loaded by the descriptor judged (*fdp).
 * CORP_ENOTFOUND when it is not there (dlopen's own words then).
 */
static int
test_libpq_open(const char *lib, int *fdp, struct corp_err *err)
{
	struct stat st;
	char *real;
	int rc;

	*fdp = -1;
	if ((rc = corp_path_resolve(lib, &real, err)) != 0)
		return rc == CORP_ENOTFOUND ? rc : corp_errprefix(err,
		    "CORP_TEST_LIBPQ %s", lib);
	rc = corp_out_open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, fdp,
	    err);
	free(real);
	if (rc == CORP_ENOTFOUND || (rc == CORP_EINTERNAL && errno == ENOENT))
		return CORP_ENOTFOUND;
	if (rc == 0 && fstat(*fdp, &st) != 0)
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s", lib,
		    strerror(errno));
	else if (rc == 0 && !S_ISREG(st.st_mode))
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a file", lib);
	else if (rc == 0)
		rc = corp_trust_stat(lib, &st, err);
	if (rc != 0) {
		if (*fdp >= 0)
			close(*fdp);
		*fdp = -1;
		return corp_errprefix(err, "CORP_TEST_LIBPQ %s", lib);
	}
	return 0;
}

int
corp_pg_load(struct corp_err *err)
{
	static int state;		/* 0 untried, 1 loaded, -1 failed */
	static int refused;		/* CORP_TEST_LIBPQ judged unsafe */
	static char why[512];
	const char *lib = corp_cfg.test_libpq ? corp_cfg.test_libpq : LIBPQ;
	struct corp_err le;
	char fdp[40];
	void *h;
	int fd = -1, rc;

	if (state == 0) {
		state = -1;
		if (corp_cfg.test_libpq != NULL && strchr(lib, '/') != NULL) {
			if ((rc = test_libpq_open(lib, &fd, &le)) != 0 &&
			    rc != CORP_ENOTFOUND) {
				refused = rc;
				strlcpy(why, le.msg, sizeof(why));
				goto out;
			}
			if (fd >= 0)
				snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d",
				    fd);
		}
		/* Lazy as when linked: an object built with -z now (as
		 * libpq is on Debian) is bound at once all the same; RTLD_NOW
		 * would bind every dependency too, +3 M instructions. */
		h = dlopen(fd >= 0 ? fdp : lib, RTLD_LAZY | RTLD_LOCAL);
		if (fd >= 0)
			close(fd);
		if (h == NULL) {
			if (fd >= 0)	/* dlerror names /proc/self/fd/N */
				snprintf(why, sizeof(why), "%s: %s", lib,
				    dlerror());
			else
				snprintf(why, sizeof(why), "%s", dlerror());
			goto out;
		}
#define X(f)								\
		if ((pq.f = (__typeof__(pq.f))dlsym(h, #f)) == NULL) {	\
			snprintf(why, sizeof(why), "%s: no %s", lib, #f); \
			goto out;					\
		}
		PQ_FUNCS
#undef X
		state = 1;
	}
out:
	if (state == 1)
		return 0;
	if (refused)
		return corp_errf(err, refused, "%s", why);
	return corp_errf(err, CORP_ECONFIG, "a PostgreSQL database needs "
	    "libpq, which cannot be loaded: %s; install libpq (the Debian "
	    "package libpq5)", why);
}

#define CONN(db)	((PGconn *)(db)->pg)
#define RES(st)		((PGresult *)(st)->res)

/* Type oids (server/catalog/pg_type_d.h). */
#define BOOLOID		16
#define INT8OID		20
#define INT2OID		21
#define INT4OID		23
#define OIDOID		26
#define FLOAT4OID	700
#define FLOAT8OID	701
#define NUMERICOID	1700

/*
 * The length of s's URI scheme when s starts "SCHEME://" (RFC 3986 3.1:
 * a letter, then letters, digits, '+', '-', '.'), else 0.
 */
static size_t
uri_scheme(const char *s)
{
	size_t n;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	n = 1 + strspn(s + 1, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

/* postgresql:// or postgres://, in any case (RFC 3986: schemes are
 * case-insensitive; libpq takes them in lower case only). */
static int
pg_scheme(const char *s)
{
	size_t n = uri_scheme(s);

	return (n == 10 && strncasecmp(s, "postgresql", 10) == 0) ||
	    (n == 8 && strncasecmp(s, "postgres", 8) == 0);
}

int
corp_db_spec_is_pg(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	if (pg_scheme(s))
		return 1;
	/* A libpq "key=value ..." string starts with a keyword and '='
	 * (libpq skips blanks before and around it). */
	s += strspn(s, " \t\n\r\f\v");
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
	return n > 0 && s[n + strspn(s + n, " \t\n\r\f\v")] == '=';
}

/*
 * What libpq is given: s with a URI's scheme in lower case (libpq reads
 * "POSTGRESQL://" as a key=value string and fails).  NULL: out of
 * memory.
 */
static char *
spec_norm(const char *s)
{
	char *c = strdup(s);
	size_t i;

	if (c != NULL && pg_scheme(c))
		for (i = 0; c[i] != ':'; i++)
			c[i] = (char)tolower((unsigned char)c[i]);
	return c;
}

/*
 * A database name that looks like a URI is refused unless it is a
 * PostgreSQL one (sec-review-17a: "POSTGRESQL://u:pw@h/db", with a blank
 * before it or in another case, was taken as a SQLite file name, and
 * "no database here" printed it, password included): any other
 * "SCHEME://", a blank before one, and "SCHEME:...@" (a user part
 * without the slashes).  Nothing after the scheme is echoed.
 * "file:NAME" stays a file name (corp.7).
 */
static int
spec_shape(const char *s, struct corp_err *err)
{
	const char *t = s + strspn(s, " \t\n\r\f\v");
	size_t n = uri_scheme(t), m;

	if (pg_scheme(s))
		return 0;
	if (n > 0 && t != s)
		return corp_errf(err, CORP_EUSAGE, "a blank before the "
		    "URI %.*s://...: remove it", n <= 32 ? (int)n : 0,
		    n <= 32 ? t : "");
	if (n > 0)
		return corp_errf(err, CORP_EUSAGE, "%.*s://...: not a URI corp "
		    "knows; a PostgreSQL database is postgresql://... or "
		    "postgres://... (in any case), a SQLite database a file "
		    "name", n <= 32 ? (int)n : 6, n <= 32 ? t : "SCHEME");
	m = isalpha((unsigned char)t[0]) ? 1 + strspn(t + 1,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "+-.") : 0;
	if (m > 1 && t[m] == ':' && strchr(t + m, '@') != NULL &&
	    !(m == 4 && strncmp(t, "file", 4) == 0))
		return corp_errf(err, CORP_EUSAGE, "%.*s:...@...: looks like "
		    "a URI with a user part; a PostgreSQL database is "
		    "postgresql://USER@HOST/DB", m <= 32 ? (int)m : 6,
		    m <= 32 ? t : "SCHEME");
	return 0;
}

/*
 * libpq's parse errors quote what they stumbled on, which may be the
 * password or the whole URI ("invalid percent-encoded token: "pa%zz"").
 * Keep the words, not the values: a quoted run longer than one
 * character becomes "...".
 */
static void
unquote_values(char *m)
{
	char *q, *e;

	for (q = m; (q = strchr(q, '"')) != NULL; q = e + 1) {
		if ((e = strchr(q + 1, '"')) == NULL) {
			/* Cut short: hide the rest. */
			if (q[1] != '\0' && strlen(q + 1) >= 3)
				strcpy(q + 1, "...");
			else if (q[1] != '\0')
				memset(q + 1, '.', strlen(q + 1));
			break;
		}
		if (e - q - 1 > 3) {
			memcpy(q + 1, "...", 3);
			memmove(q + 4, e, strlen(e) + 1);
			e = q + 4;
		} else if (e - q - 1 > 1)
			memset(q + 1, '.', (size_t)(e - q - 1));
	}
	for (q = m; *q != '\0'; q++)
		if (*q == '\n')
			*q = ' ';
	while (q > m && q[-1] == ' ')
		*--q = '\0';
}

static int
spec_options(const char *s, PQconninfoOption **opts, struct corp_err *err)
{
	PQconninfoOption *o;
	char *emsg = NULL, *c;
	int same;

	if ((c = spec_norm(s)) == NULL) {
		*opts = NULL;
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	*opts = pq.PQconninfoParse(c, &emsg);
	explicit_bzero(c, strlen(c));
	free(c);
	if (*opts == NULL) {
		corp_errf(err, CORP_EUSAGE, "bad PostgreSQL connection "
		    "string: %s", emsg ? emsg : "out of memory");
		pq.PQfreemem(emsg);
		if (err != NULL)
			unquote_values(err->msg);
		return CORP_EUSAGE;
	}
	/*
	 * libpq prints some values itself, straight to stderr (a passfile's
	 * path in its permission warning): a value other than a secret that
	 * holds a control or invisible character (text.h, after a URI's
	 * %-decoding) is refused, never quoted.
	 */
	for (o = *opts; o->keyword != NULL; o++) {
		if (o->val == NULL || (o->dispchar != NULL &&
		    o->dispchar[0] == '*'))
			continue;
		if ((c = strdup(o->val)) == NULL) {
			pq.PQconninfoFree(*opts);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		corp_server_text(c);
		same = strcmp(c, o->val) == 0;
		free(c);
		if (!same) {
			corp_errf(err, CORP_EUSAGE, "bad PostgreSQL connection "
			    "string: the value of %s holds a control or "
			    "invisible character", o->keyword);
			pq.PQconninfoFree(*opts);
			return CORP_EUSAGE;
		}
	}
	return 0;
}

int
corp_db_spec_parse(const char *s, struct corp_err *err)
{
	PQconninfoOption *opts;
	int rc;

	if ((rc = spec_shape(s, err)) != 0)
		return rc;
	/* Without libpq, say so when the database is opened (78), not
	 * here, where any error becomes a usage error (64). */
	if (!corp_db_spec_is_pg(s) || corp_pg_load(NULL) != 0)
		return 0;
	if ((rc = spec_options(s, &opts, err)) != 0)
		return rc;
	pq.PQconninfoFree(opts);
	return 0;
}

void
corp_env_free(char **env)
{
	char **v;

	for (v = env; v != NULL && *v != NULL; v++) {
		explicit_bzero(*v, strlen(*v));
		free(*v);
	}
	free(env);
}

int
corp_db_client_env(struct corp_db *db, char ***envp, struct corp_err *err)
{
	PQconninfoOption *opts, *o;
	char **env, **v;
	size_t n = 0, i = 0;

	*envp = NULL;
	if (db == NULL || db->pg == NULL)
		return corp_errf(err, CORP_EINTERNAL, "not a PostgreSQL "
		    "connection");
	if ((opts = pq.PQconninfo(CONN(db))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (v = corp_cfg.child_env; v != NULL && *v != NULL; v++)
		n++;
	for (o = opts; o->keyword != NULL; o++)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		goto oom;
	for (v = corp_cfg.child_env; v != NULL && *v != NULL; v++)
		if ((env[i++] = strdup(*v)) == NULL)
			goto oom;
	for (o = opts; o->keyword != NULL; o++)
		if (o->envvar != NULL && o->val != NULL && *o->val != '\0' &&
		    corp_asprintf(&env[i++], "%s=%s", o->envvar, o->val) < 0)
			goto oom;
	pq.PQconninfoFree(opts);
	*envp = env;
	return 0;
oom:
	pq.PQconninfoFree(opts);
	corp_env_free(env);
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

int
corp_db_spec_env_check(const char *s, const char *child,
    struct corp_err *err)
{
	PQconninfoOption *opts, *o;
	char *emsg = NULL, *c;
	int rc = 0;

	if ((rc = corp_pg_load(err)) != 0)
		return rc;
	if (s == NULL || (c = spec_norm(s)) == NULL)
		return corp_errf(err, s == NULL ? CORP_EUSAGE : CORP_EINTERNAL,
		    s == NULL ? "bad PostgreSQL connection string" :
		    "out of memory");
	opts = pq.PQconninfoParse(c, &emsg);
	explicit_bzero(c, strlen(c));
	free(c);
	if (opts == NULL) {
		pq.PQfreemem(emsg);
		return corp_errf(err, CORP_EUSAGE, "bad PostgreSQL "
		    "connection string");
	}
	for (o = opts; o->keyword != NULL && rc == 0; o++)
		if (o->val != NULL && o->envvar == NULL)
			rc = corp_errf(err, CORP_EUSAGE, "connection option "
			    "%s has no environment variable to hand it to "
			    "%s", o->keyword, child);
	pq.PQconninfoFree(opts);
	return rc;
}

int
corp_db_spec_check(const char *s, const char *what, struct corp_err *err)
{
	PQconninfoOption *opts, *o;
	char bad[64] = "";
	int rc;

	/* Without libpq nothing can connect: the open says why (78). */
	if (!corp_db_spec_is_pg(s) || corp_pg_load(NULL) != 0)
		return 0;
	if ((rc = spec_options(s, &opts, err)) != 0)
		return corp_errprefix(err, "%s", what);
	/*
	 * Every option libpq itself treats as a secret (dispchar "*":
	 * password, sslpassword, oauth_client_secret, and any later one),
	 * in either form (a URI's user:password@ and ?query, or
	 * key=value): libpq's own list, never a second one here.
	 */
	for (o = opts; o->keyword != NULL && bad[0] == '\0'; o++)
		if (o->dispchar != NULL && o->dispchar[0] == '*' &&
		    o->val != NULL && *o->val != '\0')
			strlcpy(bad, o->keyword, sizeof(bad));
	pq.PQconninfoFree(opts);
	if (bad[0] != '\0')
		return corp_errf(err, CORP_EUSAGE, "%s: the secret %s in the "
		    "connection string is refused, since the command line "
		    "is visible to every user; set CORP_DB in the "
		    "environment or use a PostgreSQL passfile (PGPASSFILE)",
		    what, bad);
	return 0;
}

/*
 * A field shown as it is only when it looks like one: a password with an
 * unencoded '/' or '@' makes libpq read part of it as the port, the host
 * or the database name.
 */
static const char *
shown(const char *v, const char *allowed, int *masked)
{
	if (v == NULL || v[strspn(v, allowed)] == '\0')
		return v;
	*masked = 1;
	return "...";
}

#define NAMECHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789._-"

/* "postgresql://user@host:port/dbname", without the password. */
static char *
display(const char *s, int *masked)
{
	PQconninfoOption *opts, *o;
	const char *user = NULL, *host = NULL, *port = NULL, *dbname = NULL;
	char *out = NULL;

	*masked = 1;
	if ((opts = pq.PQconninfoParse(s, NULL)) == NULL)
		return strdup("postgresql://");
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	*masked = 0;
	user = shown(user, NAMECHARS, masked);
	host = shown(host, NAMECHARS ":/,[]", masked);
	port = shown(port, "0123456789,", masked);
	dbname = shown(dbname, NAMECHARS, masked);
	if (host != NULL && host[0] == '/')
		corp_asprintf(&out, "postgresql://%s%s/%s?host=%s",
		    user ? user : "", user ? "@" : "", dbname ? dbname : "",
		    host);
	else
		corp_asprintf(&out, "postgresql://%s%s%s%s%s/%s",
		    user ? user : "", user ? "@" : "", host ? host : "",
		    port ? ":" : "", port ? port : "", dbname ? dbname : "");
	pq.PQconninfoFree(opts);
	return out;
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Record a failed result's message and SQLSTATE; the SQLite-style code. */
static int
fail_res(struct corp_db *db, PGresult *r)
{
	const char *m = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL, *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char *nm = NULL;
	size_t n;

	if (m == NULL)
		m = pq.PQerrorMessage(CONN(db));
	if (state == NULL)
		state = pq.PQstatus(CONN(db)) == CONNECTION_OK ? "XX000" :
		    "08006";
	/* Not DETAIL: it quotes row values ("Key (x)=(...)", "Failing row
	 * contains ..."), which SQLite's messages never carry. */
	nm = strdup(m);
	free(db->errmsg);
	db->errmsg = nm;
	if (nm != NULL && (n = strlen(nm)) > 0 && nm[n - 1] == '\n')
		nm[n - 1] = '\0';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state);
	if (strncmp(state, "23", 2) == 0)
		return SQLITE_CONSTRAINT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return SQLITE_BUSY;
	if (strcmp(state, "53100") == 0)
		return SQLITE_FULL;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		memcpy(db->sqlstate, "08006", 6);
		return SQLITE_IOERR;
	}
	return SQLITE_ERROR;
}

/* Run sql (one statement or a script) unprepared; what names it in an
 * error (NULL: the SQL itself). */
int
corp_pg_simple(struct corp_db *db, const char *sql, const char *what,
    struct corp_err *err)
{
	PGresult *r = pq.PQexec(CONN(db), sql);
	ExecStatusType s = pq.PQresultStatus(r);
	int rc = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = corp_db_fail(db, fail_res(db, r), what ? what : sql, err);
	pq.PQclear(r);
	return rc;
}

int
corp_pg_in_tx(struct corp_db *db)
{
	return pq.PQtransactionStatus(CONN(db)) != PQTRANS_IDLE;
}

/*
 * A statement failed in this transaction: PostgreSQL would answer COMMIT
 * with ROLLBACK and no error, so the caller must not send it.
 */
int
corp_pg_tx_failed(struct corp_db *db)
{
	return pq.PQtransactionStatus(CONN(db)) == PQTRANS_INERROR;
}

static int	pg_connect(struct corp_db *, const char *, int,
		    struct corp_err *);

/* spec as libpq takes it (spec_norm), then pg_connect. */
int
corp_pg_open(struct corp_db *db, const char *spec, int flags,
    struct corp_err *err)
{
	char *norm;
	int rc;

	if ((rc = corp_pg_load(err)) != 0)
		return rc;
	if ((norm = spec_norm(spec)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = pg_connect(db, norm, flags, err);
	explicit_bzero(norm, strlen(norm));
	free(norm);
	return rc;
}

static int
pg_connect(struct corp_db *db, const char *spec, int flags,
    struct corp_err *err)
{
	const char *keys[3], *vals[3];
	char set[192];
	int masked;
	PGconn *c;
	PGresult *r;
	int rc, have;

	PQconninfoOption *opts;

	if ((db->path = display(spec, &masked)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/*
	 * A string libpq cannot parse is a configuration error (64), told
	 * without quoting it: what it stumbled on may be the password.  A
	 * password in CORP_DB itself is allowed (the environment is not
	 * the process list).
	 */
	if ((rc = spec_options(spec, &opts, err)) != 0)
		return corp_errprefix(err, "CORP_DB");
	pq.PQconninfoFree(opts);
	/* pg_stat_activity names the tool (unless the spec names itself). */
	keys[0] = "dbname";
	vals[0] = spec;
	keys[1] = "fallback_application_name";
	vals[1] = getprogname();
	keys[2] = vals[2] = NULL;
	c = pq.PQconnectdbParams(keys, vals, 1);
	db->pg = (struct pg_conn *)c;
	if (c == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (pq.PQstatus(c) != CONNECTION_OK) {
		char *m = pq.PQerrorMessage(c), *p;

		/* A field that did not look like one may be a piece of the
		 * password: then libpq's quotes are not repeated either. */
		if (masked)
			unquote_values(m);
		for (p = m; *p; p++)
			if (*p == '\n')
				*p = *(p + 1) ? ' ' : '\0';
		if (strstr(m, "does not exist") != NULL)
			return corp_errf(err, CORP_ENOTFOUND, "%s: %s; create "
			    "it (createdb) and run corp-db init", db->path, m);
		if (strstr(m, "authentication") != NULL ||
		    strstr(m, "password") != NULL ||
		    strstr(m, "permission") != NULL)
			return corp_errf(err, CORP_EFORBIDDEN, "%s: %s",
			    db->path, m);
		return corp_errf(err, CORP_ETEMP, "%s: cannot connect: %s",
		    db->path, m);
	}
	pq.PQsetNoticeProcessor(c, quiet, NULL);
	/* busy_timeout's meaning: how long a writer waits for a lock. */
	snprintf(set, sizeof(set), "SET lock_timeout = %ld; "
	    "SET client_min_messages = warning; SET TIME ZONE 'UTC'; "
	    "SET default_transaction_isolation = 'read committed'",
	    corp_cfg.busy_timeout_ms);
	if ((rc = corp_pg_simple(db, set, NULL, err)) != 0)
		return rc;
	r = pq.PQexec(c, "SELECT to_regclass('corp_schema') IS NOT NULL");
	if (pq.PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = corp_db_fail(db, fail_res(db, r), "open", err);
		pq.PQclear(r);
		return rc;
	}
	have = pq.PQgetvalue(r, 0, 0)[0] == 't';
	pq.PQclear(r);
	if (!have) {
		if (!(flags & CORP_DB_CREATE))
			return corp_errf(err, CORP_ENOTFOUND, "%s: no corp "
			    "schema in this database; run corp-db init",
			    db->path);
		/* Two inits at once: the second waits, then finds it. */
		if ((rc = corp_pg_simple(db, "BEGIN; "
		    "SELECT pg_advisory_xact_lock(1129271888); "
		    "CREATE TABLE IF NOT EXISTS corp_schema "
		    "(version integer NOT NULL); "
		    "INSERT INTO corp_schema SELECT 0 WHERE NOT EXISTS "
		    "(SELECT 1 FROM corp_schema); COMMIT", "init", err)) != 0) {
			corp_pg_simple(db, "ROLLBACK", NULL, NULL);
			return rc;
		}
	}
	return 0;
}

void
corp_pg_close(struct corp_db *db)
{
	pq.PQfinish(CONN(db));
	db->pg = NULL;
}

/*
 * "$N IS NULL" before any other use of $N leaves PostgreSQL without a
 * type for it (42P18), where SQLite needs none.  Learn the types from a
 * probe in which every "$N IS [NOT] NULL" reads TRUE, so the other uses
 * decide, then prepare the statement with them; a parameter used only
 * in such tests is text.
 */
static char *
probe_sql(const char *sql)
{
	char *out = strdup(sql), *p, *q;

	if (out == NULL)
		return NULL;
	for (p = out; (p = strchr(p, '$')) != NULL; ) {
		q = p + 1;
		while (isdigit((unsigned char)*q))
			q++;
		if (q == p + 1) {
			p++;
			continue;
		}
		if (strncasecmp(q, " IS NULL", 8) == 0) {
			memcpy(p, "TRUE", 4);
			memmove(p + 4, q + 8, strlen(q + 8) + 1);
		} else if (strncasecmp(q, " IS NOT NULL", 12) == 0) {
			memcpy(p, "TRUE", 4);
			memmove(p + 4, q + 12, strlen(q + 12) + 1);
		} else
			p = q;
	}
	return out;
}

static int
needs_probe(const char *sql)
{
	const char *p, *q;

	for (p = sql; (p = strchr(p, '$')) != NULL; p = q) {
		q = p + 1;
		while (isdigit((unsigned char)*q))
			q++;
		if (q > p + 1 && (strncasecmp(q, " IS NULL", 8) == 0 ||
		    strncasecmp(q, " IS NOT NULL", 12) == 0))
			return 1;
	}
	return 0;
}

/* Does sql use parameter $k (not $k0, $k1, ...)? */
static int
uses_param(const char *sql, int k)
{
	const char *p, *q;

	for (p = sql; (p = strchr(p, '$')) != NULL; p = q) {
		q = p + 1;
		while (isdigit((unsigned char)*q))
			q++;
		if (q > p + 1 && atoi(p + 1) == k)
			return 1;
	}
	return 0;
}

/*
 * A parameter the probe no longer uses (it was only ever tested with IS
 * [NOT] NULL) is text from the start: left to PostgreSQL it fails the
 * probe with 42P18, an ERROR in the server's log for every statement
 * prepared (two per corp-event route).  The retry on 42P18 below stays
 * for a use whose type PostgreSQL cannot infer either.
 */
static int
probe_types(struct corp_db *db, const char *sql, int n, Oid *types)
{
	char *probe = probe_sql(sql);
	PGresult *r = NULL;
	int i, tries, ok = 0;

	if (probe == NULL)
		return -1;
	for (i = 0; i < n; i++)
		types[i] = uses_param(probe, i + 1) ? 0 : 25;	/* text */
	for (tries = 0; tries <= n && !ok; tries++) {
		const char *bad;
		int k;

		pq.PQclear(r);
		r = pq.PQprepare(CONN(db), "corp_probe", probe, n, types);
		if (pq.PQresultStatus(r) == PGRES_COMMAND_OK) {
			ok = 1;
			break;
		}
		bad = pq.PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (bad == NULL || strcmp(bad, "42P18") != 0)
			break;
		if (corp_pg_in_tx(db))
			pq.PQclear(pq.PQexec(CONN(db),
			    "ROLLBACK TO SAVEPOINT corp_prepare"));
		/* "could not determine data type of parameter $K" */
		bad = strrchr(pq.PQresultErrorMessage(r), '$');
		if (bad == NULL || (k = atoi(bad + 1)) < 1 || k > n ||
		    types[k - 1] != 0)
			break;
		types[k - 1] = 25;	/* text */
	}
	pq.PQclear(r);
	free(probe);
	if (!ok)
		return -1;
	r = pq.PQdescribePrepared(CONN(db), "corp_probe");
	if (pq.PQresultStatus(r) == PGRES_COMMAND_OK)
		for (i = 0; i < n && i < pq.PQnparams(r); i++)
			types[i] = pq.PQparamtype(r, i);
	else
		ok = 0;
	pq.PQclear(r);
	pq.PQclear(pq.PQexec(CONN(db), "DEALLOCATE corp_probe"));
	return ok ? 0 : -1;
}

int
corp_pg_prepare(struct corp_db *db, struct corp_stmt *st,
    struct corp_err *err)
{
	PGresult *r;
	Oid *types = NULL;
	char *sql;
	int n, rc, probe, intx = 0;

	if ((sql = corp_pg_translate(st->sql, &n)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (n > 0 && ((st->vals = calloc((size_t)n, sizeof(char *))) == NULL ||
	    (types = calloc((size_t)n, sizeof(Oid))) == NULL)) {
		free(sql);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	st->nparams = n;
	snprintf(st->name, sizeof(st->name), "c%d", ++db->nnamed);
	/* A failed statement ends a transaction: probe under a savepoint. */
	if ((probe = needs_probe(sql)) && (intx = corp_pg_in_tx(db)))
		pq.PQclear(pq.PQexec(CONN(db), "SAVEPOINT corp_prepare"));
	if (probe && probe_types(db, sql, n, types) != 0) {
		free(types);
		types = NULL;
		if (intx)
			pq.PQclear(pq.PQexec(CONN(db),
			    "ROLLBACK TO SAVEPOINT corp_prepare"));
	}
	r = pq.PQprepare(CONN(db), st->name, sql, n, types);
	if (intx) {
		if (pq.PQresultStatus(r) != PGRES_COMMAND_OK)
			pq.PQclear(pq.PQexec(CONN(db),
			    "ROLLBACK TO SAVEPOINT corp_prepare"));
		pq.PQclear(pq.PQexec(CONN(db), "RELEASE SAVEPOINT corp_prepare"));
	}
	free(sql);
	free(types);
	if (pq.PQresultStatus(r) != PGRES_COMMAND_OK) {
		char what[96];

		/* Name the statement: these are bugs, to be reported. */
		snprintf(what, sizeof(what), "prepare \"%.60s\"", st->sql);
		rc = corp_db_fail(db, fail_res(db, r), what, err);
		pq.PQclear(r);
		st->name[0] = '\0';
		return rc;
	}
	pq.PQclear(r);
	return 0;
}

void
corp_pg_free(struct corp_stmt *st)
{
	char q[64];
	int i;

	corp_pg_reset(st);
	for (i = 0; i < st->nparams; i++)
		free(st->vals[i]);
	free(st->vals);
	/* Cached statements live as long as the connection. */
	if (!st->cached && st->name[0] != '\0' && st->db->pg != NULL &&
	    pq.PQstatus(CONN(st->db)) == CONNECTION_OK) {
		snprintf(q, sizeof(q), "DEALLOCATE %s", st->name);
		pq.PQclear(pq.PQexec(CONN(st->db), q));
	}
}

int
corp_pg_bind(struct corp_stmt *st, int i, const char *v)
{
	char *c = NULL;

	if (i < 1 || i > st->nparams)
		return SQLITE_RANGE;
	if (v != NULL && (c = strdup(v)) == NULL)
		return SQLITE_NOMEM;
	free(st->vals[i - 1]);
	st->vals[i - 1] = c;
	return 0;
}

int
corp_pg_step(struct corp_stmt *st)
{
	struct corp_db *db = st->db;
	PGresult *r;
	const char *n;

	if (!st->ran) {
		st->ran = 1;
		r = pq.PQexecPrepared(CONN(db), st->name, st->nparams,
		    (const char *const *)st->vals, NULL, NULL, 0);
		switch (pq.PQresultStatus(r)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			break;
		default:
			st->err = fail_res(db, r);
			pq.PQclear(r);
			return st->err;
		}
		st->res = (struct pg_result *)r;
		st->row = -1;
		st->nrows = pq.PQntuples(r);
		n = pq.PQcmdTuples(r);
		if (*n != '\0')
			db->changes = strtoll(n, NULL, 10);
	}
	if (st->err != 0)
		return st->err;
	if (st->res == NULL || st->row + 1 >= st->nrows)
		return SQLITE_DONE;
	st->row++;
	return SQLITE_ROW;
}

void
corp_pg_reset(struct corp_stmt *st)
{
	pq.PQclear(RES(st));
	st->res = NULL;
	st->ran = 0;
	st->err = 0;
	st->row = -1;
	st->nrows = 0;
}

int
corp_pg_col_type(struct corp_stmt *st, int i)
{
	PGresult *r = RES(st);
	const char *v;

	if (r == NULL || st->row < 0 || i >= pq.PQnfields(r) ||
	    pq.PQgetisnull(r, st->row, i))
		return SQLITE_NULL;
	switch (pq.PQftype(r, i)) {
	case BOOLOID:
	case INT8OID:
	case INT2OID:
	case INT4OID:
	case OIDOID:
		return SQLITE_INTEGER;
	case FLOAT4OID:
	case FLOAT8OID:
		return SQLITE_FLOAT;
	case NUMERICOID:
		v = pq.PQgetvalue(r, st->row, i);
		return strchr(v, '.') ? SQLITE_FLOAT : SQLITE_INTEGER;
	}
	return SQLITE_TEXT;
}

const char *
corp_pg_col_text(struct corp_stmt *st, int i)
{
	PGresult *r = RES(st);

	if (r == NULL || st->row < 0 || i >= pq.PQnfields(r) ||
	    pq.PQgetisnull(r, st->row, i))
		return NULL;
	if (pq.PQftype(r, i) == BOOLOID)
		return pq.PQgetvalue(r, st->row, i)[0] == 't' ? "1" : "0";
	return pq.PQgetvalue(r, st->row, i);
}

/* LISTEN on first use; count what has arrived. */
static int
drain(struct corp_db *db, struct corp_err *err)
{
	PGnotify *n;

	if (!db->listening) {
		int rc;

		if ((rc = corp_pg_simple(db, "LISTEN corp", NULL, err)) != 0)
			return rc;
		db->listening = 1;
	}
	if (pq.PQconsumeInput(CONN(db)) == 0) {
		memcpy(db->sqlstate, "08006", 6);
		free(db->errmsg);
		db->errmsg = strdup(pq.PQerrorMessage(CONN(db)));
		return corp_db_fail(db, SQLITE_IOERR, "listen", err);
	}
	/* Our own commits notify us too: only other sessions count. */
	while ((n = pq.PQnotifies(CONN(db))) != NULL) {
		if (n->be_pid != pq.PQbackendPID(CONN(db)))
			db->notified++;
		pq.PQfreemem(n);
	}
	return 0;
}

int
corp_pg_notified(struct corp_db *db, long long *v, struct corp_err *err)
{
	int rc;

	if ((rc = drain(db, err)) != 0)
		return rc;
	*v = db->notified;
	return 0;
}

int
corp_pg_wait(struct corp_db *db, int ms, struct corp_err *err)
{
	struct pollfd p;
	int rc;

	if ((rc = drain(db, err)) != 0)
		return rc;
	p.fd = pq.PQsocket(CONN(db));
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd < 0 || poll(&p, 1, ms) < 0) {
		if (errno == EINTR)
			return 0;
		return corp_errf(err, CORP_ETEMP, "%s: wait: %s", db->path,
		    strerror(errno));
	}
	return drain(db, err);
}

/*
 * corp's SQL for PostgreSQL.  Outside quotes: ?N becomes $N and a bare ?
 * the next number, as SQLite numbers them; INDEXED BY name is dropped;
 * the scalar max(a, b) and
 * min(a, b) (two or more arguments) become GREATEST and LEAST, char(n)
 * chr(n), instr(a, b) strpos(a, b).  Everything else is written in the
 * dialect both accept.
 */
static size_t
close_paren(const char *s, size_t i, int *commas)
{
	int depth = 0;
	char q = 0;

	*commas = 0;
	for (; s[i] != '\0'; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
			continue;
		}
		if (s[i] == '\'' || s[i] == '"')
			q = s[i];
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i;
		else if (s[i] == ',' && depth == 1)
			(*commas)++;
	}
	return i;
}

char *
corp_pg_translate(const char *sql, int *nparams)
{
	size_t len = strlen(sql), i, o = 0, cap = len * 2 + 64;
	char *out = malloc(cap), q = 0;
	int max = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; ) {
		/* Room for the rest copied as it is, plus one rewrite. */
		while (o + (len - i) + 32 >= cap) {
			char *n = realloc(out, cap *= 2);

			if (n == NULL) {
				free(out);
				return NULL;
			}
			out = n;
		}
		if (q) {
			if (sql[i] == q)
				q = 0;
			out[o++] = sql[i++];
			continue;
		}
		if (sql[i] == '\'' || sql[i] == '"') {
			q = sql[i];
			out[o++] = sql[i++];
			continue;
		}
		if (sql[i] == '?') {
			int n;

			i++;
			if (isdigit((unsigned char)sql[i])) {
				n = 0;
				while (isdigit((unsigned char)sql[i]))
					n = n * 10 + (sql[i++] - '0');
			} else
				n = max + 1;
			if (n > max)
				max = n;
			o += (size_t)snprintf(out + o, cap - o, "$%d", n);
			continue;
		}
		if ((isalpha((unsigned char)sql[i]) || sql[i] == '_') &&
		    (i == 0 || !(isalnum((unsigned char)sql[i - 1]) ||
		    sql[i - 1] == '_' || sql[i - 1] == '.'))) {
			size_t w = i, e;
			const char *rep = NULL;
			int commas;

			while (isalnum((unsigned char)sql[w]) || sql[w] == '_')
				w++;
			e = w;
			while (sql[e] == ' ')
				e++;
			if (sql[e] == '(') {
				if ((w - i == 3 && strncasecmp(sql + i, "max", 3)
				    == 0) || (w - i == 3 && strncasecmp(sql + i,
				    "min", 3) == 0)) {
					close_paren(sql, e, &commas);
					if (commas > 0)
						rep = tolower((unsigned char)
						    sql[i + 1]) == 'a' ?
						    "GREATEST" : "LEAST";
				} else if (w - i == 4 &&
				    strncasecmp(sql + i, "char", 4) == 0)
					rep = "chr";
				else if (w - i == 5 &&
				    strncasecmp(sql + i, "instr", 5) == 0)
					rep = "strpos";
			}
			/* SQLite's planner hint: PostgreSQL plans alone. */
			if (w - i == 7 && strncasecmp(sql + i, "INDEXED", 7)
			    == 0 && strncasecmp(sql + w, " BY ", 4) == 0) {
				w += 4;
				while (isalnum((unsigned char)sql[w]) ||
				    sql[w] == '_')
					w++;
				i = w;
				continue;
			}
			if (rep != NULL) {
				o += (size_t)snprintf(out + o, cap - o, "%s",
				    rep);
				i = w;
				continue;
			}
			memcpy(out + o, sql + i, w - i);
			o += w - i;
			i = w;
			continue;
		}
		out[o++] = sql[i++];
	}
	out[o] = '\0';
	*nparams = max;
	return out;
}
