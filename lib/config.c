/*
 * config.c -- the one place that reads the environment (STYLE.md).
 * Every main() calls corp_config_load() once; the common options of
 * cmd/cli.c then override single keys through corp_config_set().
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"

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

/* Apply one setting; used for the environment and for --db & co. */
int
corp_config_set(const char *key, const char *v, struct corp_err *err)
{
	long long secs;

	if (strcmp(key, "db") == 0)
		return setstr(&corp_cfg.db, v, err);
	if (strcmp(key, "data_dir") == 0)
		return setstr(&corp_cfg.data_dir, v, err);
	if (strcmp(key, "now") == 0) {
		time_t t;

		if (v != NULL && corp_now_parse(v, &t, err) != 0)
			return corp_errprefix(err, "CORP_NOW");
		return setstr(&corp_cfg.now, v, err);
	}
	if (strcmp(key, "busy_timeout") == 0) {
		if (corp_duration_parse(v, &secs, err) != 0)
			return corp_errprefix(err, "CORP_BUSY_TIMEOUT");
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
			    "CORP_SYNCHRONOUS: expected full or normal, "
			    "got '%s'", v);
		return 0;
	}
	if (strcmp(key, "admin_policy") == 0) {
		if (strcmp(v, "all") == 0)
			corp_cfg.admin_all = 1;
		else if (strcmp(v, "none") == 0)
			corp_cfg.admin_all = 0;
		else
			return corp_errf(err, CORP_EUSAGE,
			    "CORP_ADMIN_POLICY: expected all or none, got '%s'",
			    v);
		return 0;
	}
	if (strcmp(key, "rate_margin") == 0) {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (errno != 0 || *end != '\0' || !(d > 0 && d <= 1))
			return corp_errf(err, CORP_EUSAGE,
			    "CORP_RATE_MARGIN: expected a number in (0, 1], "
			    "got '%s'", v);
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
			    "CORP_RATE_LIMIT: expected on or off, got '%s'", v);
		return 0;
	}
	if (strcmp(key, "tz") == 0)
		return setstr(&corp_cfg.tz, v, err);
	if (strcmp(key, "telegram_api") == 0)
		return setstr(&corp_cfg.telegram_api, v, err);
	if (strcmp(key, "ca_file") == 0)
		return setstr(&corp_cfg.ca_file, v, err);
	if (strcmp(key, "share_dir") == 0)
		return setstr(&corp_cfg.share_dir, v, err);
	if (strcmp(key, "test_vfs") == 0)
		return setstr(&corp_cfg.test_vfs, v, err);
	return corp_errf(err, CORP_EINTERNAL, "unknown setting %s", key);
}

static const struct {
	const char *env, *key;
} envmap[] = {
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
	{ "CORP_TEST_VFS", "test_vfs" },	/* tests only: lib/faultvfs.h */
};

/*
 * What a child (an exec command, a proposer) inherits from corp's
 * environment: the locale, the zone, PATH and HOME, never a secret
 * (corp-send.1 "exec").  execcmd.c adds the CORP_* a child needs from
 * corp_cfg itself.
 */
static int
inherited(const char *kv)
{
	static const char *const names[] = {
		"PATH=", "HOME=", "LANG=", "TZ=", NULL
	};
	size_t i;

	if (strncmp(kv, "LC_", 3) == 0 && strchr(kv, '=') != NULL)
		return 1;
	for (i = 0; names[i] != NULL; i++)
		if (strncmp(kv, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
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

static int
secret(char **dst, const char *env, struct corp_err *err)
{
	const char *v = getenv(env);

	if (v == NULL || *v == '\0')
		return 0;
	return setstr(dst, v, err);
}

int
corp_config_load(struct corp_err *err)
{
	const char *v;
	size_t i;
	int rc;

	memset(&corp_cfg, 0, sizeof(corp_cfg));
	corp_cfg.busy_timeout_ms = 30000;
	corp_cfg.sync_full = 1;
	corp_cfg.admin_all = 1;
	corp_cfg.rate_margin = 0.95;
	if ((rc = setstr(&corp_cfg.telegram_api, "https://api.telegram.org",
	    err)) != 0 ||
	    (rc = setstr(&corp_cfg.share_dir, CORP_SHARE_DIR, err)) != 0)
		return rc;
	for (i = 0; i < sizeof(envmap) / sizeof(envmap[0]); i++) {
		if ((v = getenv(envmap[i].env)) == NULL || *v == '\0')
			continue;
		if ((rc = corp_config_set(envmap[i].key, v, err)) != 0)
			return rc;
	}
	if ((rc = secret(&corp_cfg.telegram_token, "CORP_TELEGRAM_TOKEN",
	    err)) != 0 ||
	    (rc = secret(&corp_cfg.smtp_password, "CORP_SMTP_PASSWORD",
	    err)) != 0 ||
	    (rc = secret(&corp_cfg.openai_key, "CORP_OPENAI_KEY", err)) != 0 ||
	    (rc = child_env_load(err)) != 0)
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

/*
 * The data dir holds the database, cursors, locks and secrets: it is
 * created 0700 (with missing parents) and refused when others may write
 * to it, since whoever can write there can swap any of those files.
 */
int
corp_data_dir(const char **dirp, struct corp_err *err)
{
	const char *d = corp_cfg.data_dir;
	struct stat st;

	if (stat(d, &st) != 0) {
		char *p, *s;

		if (errno != ENOENT)
			return corp_errf(err, CORP_EINTERNAL, "%s: %s", d,
			    strerror(errno));
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
	if (st.st_mode & S_IWOTH)
		return corp_errf(err, CORP_EFORBIDDEN,
		    "%s: data directory is world-writable; chmod o-w it",
		    d);
	if (dirp != NULL)
		*dirp = d;
	return 0;
}

int
corp_data_path(char **out, const char *name, struct corp_err *err)
{
	const char *d;
	int rc;

	if ((rc = corp_data_dir(&d, err)) != 0)
		return rc;
	if (corp_asprintf(out, "%s/%s", d, name) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}
