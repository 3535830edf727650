/* tgspool.c -- see tgspool.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "corp.h"
#include "digest.h"
#include "fsutil.h"
#include "tgspool.h"
#include "text.h"

static int
mkdir1(const char *p, struct corp_err *err)
{
	return corp_private_dir(p, 1, err);
}

int
corp_tgspool_dir(char **dir, struct corp_err *err)
{
	char *spool;
	int rc;

	*dir = NULL;
	if ((rc = corp_data_mkpath(&spool, "spool", err)) != 0)
		return rc;
	if ((rc = mkdir1(spool, err)) != 0) {
		free(spool);
		return rc;
	}
	if (corp_asprintf(dir, "%s/telegram", spool) < 0) {
		free(spool);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(spool);
	if ((rc = mkdir1(*dir, err)) != 0) {
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

/* Whether BODY is an update the handler takes: 0 and its id, or
 * CORP_EINVAL saying why ("update: ..."). */
static int
check_update(const char *body, size_t len, long long *update_id,
    struct corp_err *err)
{
	json_error_t je;
	json_t *doc;
	int rc;

	*update_id = -1;
	/* U+0000 is spooled as received: the handler refuses such an
	 * update, burning its codes (corp-tg.1, Poison updates). */
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &je)) == NULL) {
		rc = corp_errf(err, CORP_EINVAL, "update: %d:%d: %s",
		    je.line, je.column, je.text);
		/* jansson quotes the input */
		corp_server_text(err->msg);
		return rc;
	}
	/* The handler's own rule, so that no update is taken here that
	 * corp-tg process would set aside as poison (sec-review-10 item
	 * 6). */
	rc = corp_tg_update_id(doc, update_id, err);
	json_decref(doc);
	if (rc != 0) {
		*update_id = -1;
		return corp_errprefix(err, "update");
	}
	return 0;
}

/* A refused body's spool file: "refused-<128 bits of its SHA-256>",
 * so that the same body sent again is one file. */
#define REFUSED_PREFIX	"refused-"

/* BODY written whole as NAME in the spool directory. */
static int
spool_write(const char *name, const char *body, size_t len, int excl,
    struct corp_err *err)
{
	char *dir = NULL, *path = NULL;
	int rc;

	if ((rc = corp_tgspool_dir(&dir, err)) != 0)
		return rc;
	if (corp_asprintf(&path, "%s/%s", dir, name) < 0)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else
		rc = excl ? corp_atomic_create(path, body, len, err) :
		    corp_atomic_write(path, body, len, err);
	free(dir);
	free(path);
	return rc;
}

static int
spool_refused(const char *body, size_t len, struct corp_err *err)
{
	char hex[65], name[sizeof(REFUSED_PREFIX) + 32];
	int rc;

	if ((rc = corp_sha256_hex(body, len, hex, err)) != 0)
		return rc;
	snprintf(name, sizeof(name), REFUSED_PREFIX "%.32s", hex);
	return spool_write(name, body, len, 0, err);
}

int
corp_tgspool_put(const char *body, size_t len, long long *update_id,
    struct corp_err *err)
{
	struct corp_err e;
	char name[32];
	int rc;

	*update_id = -1;
	if (len == 0)
		return corp_errf(err, CORP_EINVAL, "update: the body is empty");
	if ((rc = check_update(body, len, update_id, err)) != 0) {
		/*
		 * Refused, but the link codes in it were shown wherever it
		 * was sent: spooled as bytes for corp-tg process to burn
		 * (corp-tg.1, Poison updates); the refusal stands.
		 */
		if (rc == CORP_EINVAL && (rc = spool_refused(body, len, &e))
		    != 0) {
			*err = e;
			return rc;
		}
		return CORP_EINVAL;
	}
	/*
	 * Made only where no file of that id waits (sec-review-21b LOW 9):
	 * a second body with the update id of one corp-tg process has not
	 * read yet is dropped, the first kept, as corp-tg process would
	 * drop it after the first anyway (tg_updates).
	 */
	snprintf(name, sizeof(name), "%lld.json", *update_id);
	if ((rc = spool_write(name, body, len, 1, err)) == CORP_ECONFLICT)
		corp_errf(err, CORP_ECONFLICT, "update %lld: already in the "
		    "spool, not yet processed: kept the first, dropped this "
		    "one", *update_id);
	return rc;
}

static int
cmp_id(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int
corp_tgspool_list(const char *dir, long long **ids, size_t *n,
    struct corp_err *err)
{
	struct dirent *de;
	const char *es;
	long long v, *a = NULL, *na;
	size_t len, cap = 0;
	char num[24];
	DIR *d;

	*ids = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		/* "<digits>.json": temporary files and the rest are not ours */
		if (len < 6 || len - 5 >= sizeof(num) ||
		    strcmp(de->d_name + len - 5, ".json") != 0 ||
		    strspn(de->d_name, "0123456789") != len - 5)
			continue;
		memcpy(num, de->d_name, len - 5);
		num[len - 5] = '\0';
		v = strtonum(num, 0, LLONG_MAX, &es);
		if (es != NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((na = reallocarray(a, cap, sizeof(*a))) == NULL) {
				free(a);
				closedir(d);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
			a = na;
		}
		a[(*n)++] = v;
	}
	if (errno != 0) {
		int e = errno;

		free(a);
		closedir(d);
		*n = 0;
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(e));
	}
	closedir(d);
	if (*n > 0)
		qsort(a, *n, sizeof(*a), cmp_id);
	*ids = a;
	return 0;
}

/* ---- corp-tg cgi -------------------------------------------------- */

/* The HTTP answer; err stays as the refusal's code and message left it. */
static int
answer(struct corp_tgspool_answer *ans, int status, const char *reason,
    const char *text, int code)
{
	ans->status = status;
	ans->reason = reason;
	ans->text = text;
	return code;
}

/* The client's plain mistake: CORP_EINVAL, no log line (empty message). */
static int
mistake(struct corp_tgspool_answer *ans, int status, const char *reason,
    const char *text, struct corp_err *err)
{
	err->code = CORP_EINVAL;
	err->msg[0] = '\0';
	return answer(ans, status, reason, text, CORP_EINVAL);
}

int
corp_tgspool_auth(const char *secret_header, struct corp_tgspool_answer *ans,
    struct corp_err *err)
{
	char *secret;
	int rc;

	ans->status = 0;
	if ((rc = corp_secret(NULL, "telegram_webhook_secret", &secret, err))
	    != 0)
		return answer(ans, 500, "Internal Server Error",
		    "not configured", rc);
	if (*secret == '\0') {
		free(secret);
		corp_errf(err, CORP_EFORBIDDEN, "secret "
		    "telegram_webhook_secret is empty");
		return answer(ans, 500, "Internal Server Error",
		    "not configured", CORP_EFORBIDDEN);
	}
	rc = corp_secret_equal(secret_header != NULL ? secret_header : "",
	    secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (!rc) {
		corp_errf(err, CORP_EFORBIDDEN, "webhook: wrong or missing "
		    "X-Telegram-Bot-Api-Secret-Token");
		return answer(ans, 403, "Forbidden", "forbidden",
		    CORP_EFORBIDDEN);
	}
	return answer(ans, 200, "OK", "ok", 0);
}

int
corp_tgspool_take(const char *body, size_t len, long long *update_id,
    struct corp_tgspool_answer *ans, struct corp_err *err)
{
	int rc;

	*update_id = -1;
	ans->duplicate = 0;
	if (len > CORP_TG_SPOOL_MAX)
		return mistake(ans, 413, "Content Too Large", "too large", err);
	rc = corp_tgspool_put(body, len, update_id, err);
	if (rc == CORP_EINVAL)
		return answer(ans, 400, "Bad Request", "not an update", rc);
	/* Answered as done: Telegram would retry anything else. */
	if (rc == CORP_ECONFLICT) {
		answer(ans, 200, "OK", "duplicate", 0);
		ans->duplicate = 1;
		return 0;
	}
	/* Telegram retries what did not get a 2xx. */
	if (rc != 0)
		return answer(ans, 500, "Internal Server Error", "try again",
		    rc);
	return answer(ans, 200, "OK", "ok", 0);
}

int
corp_tgspool_cgi(const char *method, const char *secret_header,
    const char *content_length, FILE *in, struct corp_tgspool_answer *ans,
    struct corp_err *err)
{
	long long len, id;
	size_t got, r;
	char *body;
	int rc;

	ans->status = 0;	/* no answer: a failure of ours (memory) */
	ans->duplicate = 0;
	err->code = 0;
	err->msg[0] = '\0';
	if (strcmp(method, "POST") != 0)
		return mistake(ans, 405, "Method Not Allowed", "POST only",
		    err);
	if ((rc = corp_tgspool_auth(secret_header, ans, err)) != 0)
		return rc;
	ans->status = 0;
	if (content_length == NULL || *content_length == '\0')
		return mistake(ans, 411, "Length Required", "length required",
		    err);
	/* A plain decimal, as corp-api takes it (corp_plain_decimal). */
	if (corp_plain_decimal(content_length, strlen(content_length),
	    LLONG_MAX, &len) != 0)
		return mistake(ans, 400, "Bad Request", "bad Content-Length",
		    err);
	if (len > CORP_TG_SPOOL_MAX)
		return mistake(ans, 413, "Content Too Large", "too large", err);
	if ((body = malloc((size_t)len + 1)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (got = 0; got < (size_t)len; got += r)
		if ((r = fread(body + got, 1, (size_t)len - got, in)) == 0)
			break;
	if (got != (size_t)len) {
		free(body);
		return mistake(ans, 400, "Bad Request", "short body", err);
	}
	body[got] = '\0';
	rc = corp_tgspool_take(body, got, &id, ans, err);
	free(body);
	return rc;
}

/* ---- corp-tg process ---------------------------------------------- */

struct spool {
	const char	*dir;
	corp_tg_warn_fn	 warn;
	void		*warn_arg;
	int		*nbad;
};

static char *
spool_file(const char *dir, long long id, const char *suffix)
{
	char *p;

	return corp_asprintf(&p, "%s/%lld.json%s", dir, id, suffix) < 0 ?
	    NULL : p;
}

static int
say(struct spool *s, struct corp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
say(struct spool *s, struct corp_err *err, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (s->warn != NULL)
		s->warn(s->warn_arg, msg);
	free(msg);
	return 0;
}

/* <id>.json → <id>.json.bad, said with why (printf'd before it). */
static int
set_aside(struct spool *s, long long id, struct corp_err *err)
{
	char *path = spool_file(s->dir, id, ""),
	    *bad = spool_file(s->dir, id, ".bad");
	int rc = 0;

	if (path == NULL || bad == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else if (rename(path, bad) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	else
		(*s->nbad)++;
	free(path);
	free(bad);
	return rc;
}

/*
 * Read the update in <id>.json into *u; NULL when another process took
 * the file (*id = -1) or when it was set aside (*id = -1 too).
 */
static int
read_one(struct spool *s, long long *id, json_t **u, struct corp_err *err)
{
	struct corp_err e;
	json_error_t je;
	char *path, *body = NULL;
	int rc;

	*u = NULL;
	if ((path = spool_file(s->dir, *id, "")) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* The ownership rule on each file too: a link, a FIFO or a file
	 * someone else wrote is no update of our CGI's. */
	rc = corp_read_conf(path, CORP_TG_SPOOL_MAX, &body, NULL, &e);
	free(path);
	if (rc == CORP_ENOTFOUND) {
		*id = -1;		/* another process took it */
		return 0;
	}
	if (rc != 0 && rc != CORP_EINVAL && rc != CORP_EFORBIDDEN) {
		*err = e;
		return rc;
	}
	*u = rc == 0 ? json_loads(body, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &je) : NULL;
	free(body);
	if (json_is_object(*u))
		return 0;
	json_decref(*u);
	*u = NULL;
	/* Not from our CGI: set it aside, go on. */
	if (rc == CORP_EFORBIDDEN)
		rc = say(s, err, "%s; renamed to %lld.json.bad", e.msg, *id);
	else
		rc = say(s, err, "%s/%lld.json: not an update object%s; "
		    "renamed to %lld.json.bad", s->dir, *id,
		    rc == CORP_EINVAL ? " (too large)" : "", *id);
	if (rc == 0)
		rc = set_aside(s, *id, err);
	*id = -1;
	return rc;
}

/* After the commit: unlink the handled files, set the refused aside. */
static int
finish(struct spool *s, const long long *ids, const int *outcome,
    size_t m, struct corp_err *err)
{
	char *path;
	size_t k;
	int rc = 0;

	for (k = 0; k < m && rc == 0; k++) {
		if (ids[k] < 0)
			continue;
		if (outcome[k] == CORP_TG_REFUSED) {
			if ((rc = say(s, err, "%s/%lld.json: renamed to "
			    "%lld.json.bad", s->dir, ids[k], ids[k])) == 0)
				rc = set_aside(s, ids[k], err);
			continue;
		}
		if ((path = spool_file(s->dir, ids[k], "")) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		if (unlink(path) != 0 && errno != ENOENT)
			rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
			    strerror(errno));
		free(path);
	}
	return rc;
}

/*
 * The bodies the webhook refused (REFUSED_PREFIX files): each refused
 * from its bytes (tgupdate.h corp_tgupdate_refuse_raw: its codes burnt,
 * an ingestion.failed), said, renamed to <name>.bad and counted in
 * *nbad, as an update the handler refuses is.
 */
static int
process_refused(struct spool *s, struct corp_db *db,
    const struct corp_tg_ctx *ctx, struct corp_tg_counts *counts,
    struct corp_err *err)
{
	struct corp_err e;
	struct dirent *de;
	char *path, *bad, *body;
	size_t len;
	long long id;
	DIR *d;
	int rc = 0;

	if ((d = opendir(s->dir)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", s->dir,
		    strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, REFUSED_PREFIX,
		    strlen(REFUSED_PREFIX)) != 0 ||
		    strlen(de->d_name) != strlen(REFUSED_PREFIX) + 32 ||
		    strspn(de->d_name + strlen(REFUSED_PREFIX),
		    "0123456789abcdef") != 32)
			continue;
		if (corp_asprintf(&path, "%s/%s", s->dir, de->d_name) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			break;
		}
		/* The ownership rule, as for <id>.json. */
		body = NULL;
		rc = corp_read_conf(path, CORP_TG_SPOOL_MAX, &body, &len, &e);
		if (rc == CORP_ENOTFOUND) {	/* another process took it */
			free(path);
			rc = 0;
			continue;
		}
		if (rc == 0) {
			if (check_update(body, len, &id, &e) == 0)
				snprintf(e.msg, sizeof(e.msg), "update: "
				    "refused by the webhook");
			rc = corp_tgupdate_refuse_raw(db, ctx, body, len,
			    e.msg, NULL, -1, err);
			if (rc == 0) {
				counts->refused++;
				rc = say(s, err, "%s: refused by the webhook "
				    "(%s), its link codes burnt; renamed to "
				    "%s.bad", path, e.msg, de->d_name);
			}
		} else if (rc == CORP_EINVAL || rc == CORP_EFORBIDDEN)
			rc = say(s, err, "%s; renamed to %s.bad", e.msg,
			    de->d_name);
		else
			*err = e;
		free(body);
		if (rc == 0 && corp_asprintf(&bad, "%s.bad", path) >= 0) {
			if (rename(path, bad) != 0)
				rc = corp_errf(err, CORP_EINTERNAL, "%s: %s",
				    path, strerror(errno));
			else
				(*s->nbad)++;
			free(bad);
		} else if (rc == 0)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		free(path);
	}
	closedir(d);
	return rc;
}

int
corp_tgspool_process(struct corp_db *db, const struct corp_tg_ctx *ctx,
    const char *bot, volatile sig_atomic_t *stop,
    struct corp_tg_counts *counts, corp_tg_warn_fn warn, void *warn_arg,
    int *nbad, struct corp_err *err)
{
	json_t *u[CORP_TGSPOOL_BATCH], *keep[CORP_TGSPOOL_BATCH];
	int outcome[CORP_TGSPOOL_BATCH];
	long long ids[CORP_TGSPOOL_BATCH], *all = NULL;
	struct spool s = { NULL, warn, warn_arg, nbad };
	char *dir = NULL;
	size_t n = 0, i, k, m;
	int fd, rc;

	*nbad = 0;
	if ((rc = corp_tgupdate_lock("process", bot, 1, &fd, err)) != 0)
		return rc;
	if ((rc = corp_tgspool_dir(&dir, err)) != 0 ||
	    (rc = corp_tgspool_list(dir, &all, &n, err)) != 0)
		goto out;
	s.dir = dir;
	for (i = 0; i < n && !*stop && rc == 0; i += m) {
		m = n - i < CORP_TGSPOOL_BATCH ? n - i : CORP_TGSPOOL_BATCH;
		for (k = 0; k < m; k++)
			u[k] = NULL;
		for (k = 0; k < m && rc == 0; k++) {
			ids[k] = all[i + k];
			rc = read_one(&s, &ids[k], &u[k], err);
		}
		for (k = 0; k < m; k++) {
			if (u[k] != NULL && rc == 0)
				counts->spooled++;
			keep[k] = u[k];
			outcome[k] = CORP_TG_HANDLED;
		}
		if (rc == 0)
			rc = corp_tgupdate_apply(db, ctx, u, m, bot, -1,
			    outcome, counts, warn, warn_arg, err);
		if (rc == 0)
			rc = finish(&s, ids, outcome, m, err);
		for (k = 0; k < m; k++)
			json_decref(keep[k]);
	}
	if (rc == 0 && !*stop)
		rc = process_refused(&s, db, ctx, counts, err);
out:
	free(all);
	free(dir);
	close(fd);
	return rc;
}

int
corp_secret_equal(const char *a, const char *b)
{
	char ha[65], hb[65];

	if (a == NULL || b == NULL ||
	    corp_sha256_hex(a, strlen(a), ha, NULL) != 0 ||
	    corp_sha256_hex(b, strlen(b), hb, NULL) != 0)
		return 0;
	return CRYPTO_memcmp(ha, hb, 64) == 0;
}
