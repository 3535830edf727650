/* cursor.c -- see cursor.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "cursor.h"
#include "db.h"
#include "fsutil.h"
#include "notify.h"
#include "queue.h"

/* A cursor file is a few dozen bytes; anything large is not one. */
#define CURSOR_MAX 4096

int
corp_cursor_cmp(const struct corp_cursor *a, const struct corp_cursor *b)
{
	if (a->audit != b->audit)
		return a->audit < b->audit ? -1 : 1;
	if (a->user != b->user)
		return a->user < b->user ? -1 : 1;
	return 0;
}

static int
num(const char *s, size_t n, long long *out)
{
	char buf[32], *end;

	if (n == 0 || n >= sizeof(buf) || strspn(s, "0123456789") < n)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
corp_cursor_parse(const char *s, struct corp_cursor *c, struct corp_err *err)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || num(s, (size_t)(colon - s), &c->audit) != 0 ||
	    num(colon + 1, strlen(colon + 1), &c->user) != 0)
		return corp_errf(err, CORP_EINVAL, "cursor '%s': expected "
		    "AUDIT:USER, two non-negative integers", s);
	return 0;
}

static int
paths(const char *channel, char **file, char **lock, struct corp_err *err)
{
	char *name;
	int rc;

	*file = NULL;
	if (lock != NULL)
		*lock = NULL;
	if (!corp_channel_valid(channel))
		return corp_errf(err, CORP_EINVAL,
		    "channel '%s': expected 1-32 of a-z 0-9 _ -", channel);
	if (corp_asprintf(&name, "bot_deliveries_cursor_%s.json", channel) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* A writer (lock wanted) may create the data dir; a reader never. */
	rc = lock != NULL ? corp_data_mkpath(file, name, err) :
	    corp_data_path(file, name, err);
	free(name);
	if (rc != 0)
		return rc;
	if (lock == NULL)
		return 0;
	if (corp_asprintf(&name, "bot_deliveries_cursor_%s.lock", channel) < 0) {
		free(*file);
		*file = NULL;
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	rc = corp_data_path(lock, name, err);
	free(name);
	if (rc != 0) {
		free(*file);
		*file = NULL;
	}
	return rc;
}

static int
field(json_t *o, const char *key, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int
corp_cursor_parse_file(const char *buf, size_t len, const char *path,
    struct corp_cursor *c, struct corp_err *err)
{
	json_error_t je;
	json_t *o;
	int rc = 0;

	c->audit = c->user = 0;
	if (len > CURSOR_MAX)
		return corp_errf(err, CORP_EINVAL, "%s: larger than %d bytes",
		    path, CURSOR_MAX);
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return corp_errf(err, CORP_EINVAL, "%s:%d:%d: %s", path,
		    je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1,
		    je.text);
	if (!json_is_object(o))
		rc = corp_errf(err, CORP_EINVAL, "%s: not a JSON object",
		    path);
	else if (field(o, "cursor_audit_id", &c->audit) != 0)
		rc = corp_errf(err, CORP_EINVAL, "%s: cursor_audit_id: "
		    "missing or not a non-negative integer", path);
	else if (field(o, "cursor_user_id", &c->user) != 0)
		rc = corp_errf(err, CORP_EINVAL, "%s: cursor_user_id: "
		    "missing or not a non-negative integer", path);
	json_decref(o);
	if (rc != 0)
		c->audit = c->user = 0;
	return rc;
}

static int
read_cursor(const char *path, struct corp_cursor *c, struct corp_err *err)
{
	char *buf;
	size_t len;
	int rc;

	c->audit = c->user = 0;
	rc = corp_read_file(path, CURSOR_MAX, &buf, &len, err);
	if (rc == CORP_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = corp_cursor_parse_file(buf, len, path, c, err);
	free(buf);
	return rc;
}

/*
 * Remove temporary files a killed writer left behind (corp_atomic_write
 * names them PATH.tmp.XXXXXX).  Only for a caller holding the file's
 * lock: every writer holds it, so no live writer owns one.
 */
static void
sweep(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct dirent *de;
	char *dir, *prefix;
	size_t n;
	DIR *d;

	if (slash == NULL)
		return;
	if ((dir = strndup(path, (size_t)(slash - path) + 1)) == NULL)
		return;
	if (corp_asprintf(&prefix, "%s.tmp.", slash + 1) < 0) {
		free(dir);
		return;
	}
	n = strlen(prefix);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, prefix, n) == 0 &&
			    strlen(de->d_name + n) == 6)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	free(prefix);
	free(dir);
}

/* Compact JSON and a newline, replaced atomically; caller holds the
 * lock. */
static int
write_json(const char *path, json_t *o, struct corp_err *err)
{
	char *s, *line;
	int rc;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (corp_asprintf(&line, "%s\n", s) < 0) {
		free(s);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(s);
	sweep(path);
	rc = corp_atomic_write(path, line, strlen(line), err);
	free(line);
	return rc;
}

static int
write_cursor(const char *path, const struct corp_cursor *c,
    struct corp_err *err)
{
	json_t *o;
	int rc;

	o = json_pack("{s:I, s:I}", "cursor_audit_id", (json_int_t)c->audit,
	    "cursor_user_id", (json_int_t)c->user);
	rc = write_json(path, o, err);
	json_decref(o);
	return rc;
}

int
corp_cursor_get(const char *channel, struct corp_cursor *c,
    struct corp_err *err)
{
	char *file;
	int rc;

	c->audit = c->user = 0;
	/* No lock: the file is replaced by rename, never torn. */
	if ((rc = paths(channel, &file, NULL, err)) != 0)
		return rc;
	rc = read_cursor(file, c, err);
	free(file);
	return rc;
}

static int
update(const char *channel, const struct corp_cursor *c, int cond,
    int force, int *moved, struct corp_err *err)
{
	struct corp_cursor cur;
	char *file, *lock;
	int rc, fd = -1;

	if (moved)
		*moved = 0;
	if ((rc = paths(channel, &file, &lock, err)) != 0)
		return rc;
	if ((rc = corp_lock(lock, 1, 1, &fd, err)) != 0)
		goto out;
	if (cond) {
		/*
		 * A corrupt file is reported, not silently replaced;
		 * --force (like set) writes over it.
		 */
		if ((rc = read_cursor(file, &cur, err)) != 0) {
			if (!force)
				goto out;
			corp_errclear(err);
			cur.audit = cur.user = -1;
		}
		if (force ? corp_cursor_cmp(c, &cur) == 0 :
		    corp_cursor_cmp(c, &cur) <= 0)
			goto out;
	}
	if ((rc = write_cursor(file, c, err)) == 0 && moved)
		*moved = 1;
out:
	if (fd >= 0)
		close(fd);
	free(file);
	free(lock);
	return rc;
}

int
corp_cursor_set(const char *channel, const struct corp_cursor *c,
    struct corp_err *err)
{
	return update(channel, c, 0, 0, NULL, err);
}

int
corp_cursor_advance(const char *channel, const struct corp_cursor *c,
    int force, int *moved, struct corp_err *err)
{
	return update(channel, c, 1, force, moved, err);
}

int
corp_cursor_from_ack(json_t *o, struct corp_cursor *c, int *use,
    struct corp_err *err)
{
	const char *stored;
	json_t *ev;

	*use = 0;
	stored = json_string_value(json_object_get(o, "stored"));
	if (stored == NULL)
		return corp_errf(err, CORP_EINVAL, "missing \"stored\" (not "
		    "a line of corp-deliver ack)");
	if (strcmp(stored, "unchanged") == 0)
		return 0;
	ev = json_object_get(o, "event");
	if (!json_is_object(ev) || !json_is_integer(json_object_get(ev,
	    "event_id")) || (c->audit = json_integer_value(json_object_get(ev,
	    "event_id"))) <= 0)
		return corp_errf(err, CORP_EINVAL,
		    "missing or bad \"event\":{\"event_id\"}");
	if (!json_is_integer(json_object_get(o, "user_id")) ||
	    (c->user = json_integer_value(json_object_get(o, "user_id"))) <= 0)
		return corp_errf(err, CORP_EINVAL,
		    "missing or bad \"user_id\"");
	*use = 1;
	return 0;
}

int
corp_cursor_legacy(struct corp_db *db, long long *n, struct corp_err *err)
{
	return corp_queue_settled(db, n, err);
}

int
corp_cursor_legacy_write(long long n, struct corp_err *err)
{
	char *file = NULL, *lock = NULL;
	int rc, fd = -1;
	json_t *o;

	if ((rc = corp_data_mkpath(&file, "events_cursor.json", err)) != 0 ||
	    (rc = corp_data_mkpath(&lock, "events_cursor.lock", err)) != 0 ||
	    (rc = corp_lock(lock, 1, 1, &fd, err)) != 0)
		goto out;
	o = json_pack("{s:I}", "last_audit_id", (json_int_t)n);
	rc = write_json(file, o, err);
	json_decref(o);
out:
	if (fd >= 0)
		close(fd);
	free(file);
	free(lock);
	return rc;
}
