/* notify.c -- see notify.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"
#include "jsonl.h"
#include "names.h"
#include "batchdigest.h"
#include "notify.h"

static int
charset(const char *s, size_t max, const char *set)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, set) == n;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

int
corp_event_type_valid(const char *s)
{
	return charset(s, 64, ALNUM "_.:-");
}

int
corp_role_valid(const char *s)
{
	return charset(s, 64, ALNUM "_.:-");
}

int
corp_msgkey_valid(const char *s)
{
	return charset(s, 128, ALNUM "_.-");
}

int
corp_channel_valid(const char *s)
{
	return charset(s, 32, "abcdefghijklmnopqrstuvwxyz0123456789_-");
}

int
corp_priority_valid(const char *s)
{
	return s != NULL && (strcmp(s, "urgent") == 0 ||
	    strcmp(s, "p2p") == 0 || strcmp(s, "broadcast") == 0);
}

/* The row st is on, columns in the order of the JSON line. */
static json_t *
row_json(struct corp_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:o, s:o}",
	    "event_type", corp_col_text(st, 0),
	    "role", corp_col_text(st, 1),
	    "channel", corp_col_text(st, 2),
	    "enabled", corp_col_int(st, 3),
	    "priority", corp_col_text(st, 4),
	    "template", corp_col_text(st, 5),
	    "notify_self", corp_col_int(st, 6),
	    "fallback", corp_json_strval(corp_col_text(st, 7)),
	    "digest", corp_json_strval(corp_col_text(st, 8)));
}

/*
 * The names of a row (or of list filters, NULL = none given): well
 * formed, the channel known, the type and role known unless declared
 * new.  A name no setting would ever match is refused here rather than
 * stored and silently never used.
 */
static int
check_key(struct corp_db *db, const char *type, const char *role,
    const char *channel, const char *msgkey, int new_type, int new_role,
    struct corp_err *err)
{
	int rc;

	/* Malformed names (65) before names merely unknown (64). */
	if (type != NULL && !corp_event_type_valid(type))
		return corp_errf(err, CORP_EINVAL, "event type '%s': expected "
		    "1-64 of A-Z a-z 0-9 _ . : -", type);
	if (role != NULL && !corp_role_valid(role))
		return corp_errf(err, CORP_EINVAL, "role '%s': expected "
		    "1-64 of A-Z a-z 0-9 _ . : -", role);
	if (channel != NULL && !corp_channel_valid(channel))
		return corp_errf(err, CORP_EINVAL, "channel '%s': expected "
		    "1-32 of a-z 0-9 _ -", channel);
	if (msgkey != NULL && !corp_msgkey_valid(msgkey))
		return corp_errf(err, CORP_EINVAL, "template '%s': expected "
		    "1-128 of A-Z a-z 0-9 _ . -", msgkey);
	if (channel != NULL && (rc = corp_channel_check(channel, err)) != 0)
		return rc;
	if (type != NULL && (rc = corp_event_type_check(db, type,
	    (new_type ? CORP_NAME_NEW : 0) | CORP_NAME_HINT, err)) != 0)
		return rc;
	if (role != NULL && (rc = corp_role_check(db, role,
	    (new_role ? CORP_NAME_NEW : 0) | CORP_NAME_HINT, err)) != 0)
		return rc;
	return 0;
}

int
corp_notify_list(struct corp_db *db, const char *type, const char *role,
    const char *channel, json_t **rows, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*rows = NULL;
	if ((rc = check_key(db, type, role, channel, NULL, 0, 0, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT event_type, role, channel, "
	    "enabled, priority, template, notify_self, fallback, digest "
	    "FROM notification_settings WHERE (?1 IS NULL OR event_type = ?1) "
	    "AND (?2 IS NULL OR role = ?2) AND (?3 IS NULL OR channel = ?3) "
	    "ORDER BY event_type, role, channel", err)) != 0)
		return rc;
	corp_bind_text(st, 1, type);
	corp_bind_text(st, 2, role);
	corp_bind_text(st, 3, channel);
	return corp_db_rows(db, st, row_json, rows, "read notification settings", err);
}

/* Step a RETURNING statement to its one row and turn it into JSON. */
static int
returning(struct corp_db *db, struct corp_stmt *st, json_t **row,
    const char *what, struct corp_err *err)
{
	int rc;

	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*row = row_json(st);
		/* Run to completion so the statement's write is done. */
		while ((rc = corp_step(st)) == SQLITE_ROW)
			;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(*row);
		*row = NULL;
		return corp_db_fail(db, rc, what, err);
	}
	if (*row == NULL)
		return corp_errf(err, CORP_ENOTFOUND, "no such row");
	return 0;
}

/* The arguments of set_tx and unset_tx. */
struct notify_write {
	const struct corp_notify *n;
	const char	*type, *role, *channel;
	json_t		**row;
};

static int set_tx(struct corp_db *, void *, struct corp_err *);
static int unset_tx(struct corp_db *, void *, struct corp_err *);

int
corp_notify_set(struct corp_db *db, const struct corp_notify *n,
    json_t **row, struct corp_err *err)
{
	struct notify_write a = { .n = n, .row = row };
	int rc;

	*row = NULL;
	if (n->event_type == NULL || n->role == NULL || n->channel == NULL)
		return corp_errf(err, CORP_EUSAGE, "a setting needs an event "
		    "type, a role and a channel");
	if (n->priority != NULL && !corp_priority_valid(n->priority))
		return corp_errf(err, CORP_EINVAL, "priority '%s': expected "
		    "urgent, p2p or broadcast", n->priority);
	if ((rc = check_key(db, n->event_type, n->role, n->channel,
	    n->msgkey, n->new_type, n->new_role, err)) != 0)
		return rc;
	if (n->fallback != NULL) {
		if (!corp_channel_valid(n->fallback))
			return corp_errf(err, CORP_EINVAL, "fallback '%s': "
			    "expected 1-32 of a-z 0-9 _ -", n->fallback);
		if ((rc = corp_channel_check(n->fallback, err)) != 0)
			return corp_errprefix(err, "fallback"), rc;
		if (strcmp(n->fallback, n->channel) == 0)
			return corp_errf(err, CORP_EINVAL, "fallback '%s': "
			    "the setting's own channel (a fallback is another "
			    "channel)", n->fallback);
	}
	if (n->digest != NULL &&
	    (rc = corp_batchdigest_period_check(n->digest, err)) != 0)
		return rc;
	if ((rc = corp_db_tx(db, set_tx, &a, err)) != 0) {
		json_decref(*row);
		*row = NULL;
	}
	return rc;
}

static int
set_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct notify_write *a = arg;
	const struct corp_notify *n = a->n;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO notification_settings "
	    "(event_type, role, channel, enabled, priority, template, "
	    "notify_self, fallback, digest) VALUES (?1, ?2, ?3, "
	    "coalesce(?4, 1), coalesce(?5, 'p2p'), coalesce(?6, lower(?1)), "
	    "coalesce(?7, 0), ?8, ?10) "
	    "ON CONFLICT (event_type, role, channel) DO UPDATE SET "
	    "enabled = coalesce(?4, notification_settings.enabled), "
	    "priority = coalesce(?5, notification_settings.priority), "
	    "template = coalesce(?6, notification_settings.template), "
	    "notify_self = coalesce(?7, notification_settings.notify_self), "
	    "fallback = CASE WHEN ?9 = 1 THEN NULL "
	    "ELSE coalesce(?8, notification_settings.fallback) END, "
	    "digest = CASE WHEN ?11 = 1 THEN NULL "
	    "ELSE coalesce(?10, notification_settings.digest) END "
	    "RETURNING event_type, role, channel, enabled, priority, "
	    "template, notify_self, fallback, digest", err)) != 0)
		return rc;
	corp_bind_text(st, 1, n->event_type);
	corp_bind_text(st, 2, n->role);
	corp_bind_text(st, 3, n->channel);
	if (n->enabled >= 0)
		corp_bind_int(st, 4, n->enabled != 0);
	corp_bind_text(st, 5, n->priority);
	corp_bind_text(st, 6, n->msgkey);
	if (n->notify_self >= 0)
		corp_bind_int(st, 7, n->notify_self != 0);
	corp_bind_text(st, 8, n->no_fallback ? NULL : n->fallback);
	corp_bind_int(st, 9, n->no_fallback != 0);
	corp_bind_text(st, 10, n->no_digest ? NULL : n->digest);
	corp_bind_int(st, 11, n->no_digest != 0);
	return returning(db, st, a->row, "write notification setting", err);
}

int
corp_notify_unset(struct corp_db *db, const char *type, const char *role,
    const char *channel, json_t **row, struct corp_err *err)
{
	struct notify_write a = { NULL, type, role, channel, row };
	int rc;

	*row = NULL;
	if (type == NULL || role == NULL || channel == NULL)
		return corp_errf(err, CORP_EUSAGE, "a setting needs an event "
		    "type, a role and a channel");
	if ((rc = check_key(db, type, role, channel, NULL, 0, 0, err)) != 0)
		return rc;
	if ((rc = corp_db_tx(db, unset_tx, &a, err)) != 0) {
		json_decref(*row);
		*row = NULL;
	}
	return rc;
}

static int
unset_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct notify_write *a = arg;
	const char *type = a->type, *role = a->role, *channel = a->channel;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "DELETE FROM notification_settings "
	    "WHERE event_type = ?1 AND role = ?2 AND channel = ?3 "
	    "RETURNING event_type, role, channel, enabled, priority, "
	    "template, notify_self, fallback, digest", err)) != 0)
		return rc;
	corp_bind_text(st, 1, type);
	corp_bind_text(st, 2, role);
	corp_bind_text(st, 3, channel);
	if ((rc = returning(db, st, a->row, "delete notification setting",
	    err)) == CORP_ENOTFOUND)
		corp_errf(err, rc, "no notification setting for %s role %s "
		    "on %s", type, role, channel);
	return rc;
}

/* Accessors for route.c (issue 17 point 6). */
int
corp_notify_rule(struct corp_db *db, const char *type, const char *role,
    const char *channel, struct corp_notify_rule *s, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = corp_db_prep(db, &st, "SELECT enabled, priority, template, "
	    "notify_self, fallback, digest FROM notification_settings "
	    "WHERE event_type = ?1 "
	    "AND role = ?2 AND channel = ?3", err)) != 0)
		return rc;
	corp_bind_text(st, 1, type);
	corp_bind_text(st, 2, role);
	corp_bind_text(st, 3, channel);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		s->found = 1;
		s->enabled = corp_col_int(st, 0);
		strlcpy(s->priority, corp_col_text(st, 1),
		    sizeof(s->priority));
		s->msgkey = strdup(corp_col_text(st, 2));
		s->notify_self = corp_col_int(st, 3);
		if (corp_col_text(st, 4) != NULL)
			strlcpy(s->fallback, corp_col_text(st, 4),
			    sizeof(s->fallback));
		if (corp_col_text(st, 5) != NULL)
			strlcpy(s->digest, corp_col_text(st, 5),
			    sizeof(s->digest));
	} else if (rc != SQLITE_DONE) {
		corp_reset(st);
		return corp_db_fail(db, rc, "read settings", err);
	}
	corp_reset(st);
	return 0;
}

int
corp_notify_channels(struct corp_db *db, const char *type,
    const char *default_channel, char ***list, size_t *n, struct corp_err *err)
{
	struct corp_stmt *st;
	char **nv;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT channel FROM "
	    "notification_settings WHERE event_type = ?1 UNION SELECT ?2 "
	    "ORDER BY 1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, type);
	corp_bind_text(st, 2, default_channel);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(*list, *n + 1, sizeof(*nv))) == NULL) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		*list = nv;
		(*list)[(*n)++] = strdup(corp_col_text(st, 0));
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read settings", err);
	return 0;
}

/* For names.c: is type, or role, named by a row?  Every type or role of
 * the rows to fn. */
int
corp_notify_has(struct corp_db *db, const char *type, const char *role,
    int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	/* The settings' key makes both lookups indexed. */
	if ((rc = type != NULL ? corp_db_prep(db, &st, "SELECT 1 FROM "
	    "notification_settings WHERE event_type = ?1 LIMIT 1", err) :
	    corp_db_prep(db, &st, "SELECT 1 FROM notification_settings "
	    "WHERE role = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, type != NULL ? type : role);
	return corp_db_exists(db, st, yes, "read names", err);
}

int
corp_notify_each(struct corp_db *db, int roles,
    void (*fn)(void *, const char *), void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = roles ? corp_db_prep(db, &st, "SELECT DISTINCT role FROM "
	    "notification_settings ORDER BY role", err) : corp_db_prep(db,
	    &st, "SELECT DISTINCT event_type FROM notification_settings "
	    "ORDER BY 1", err)) != 0)
		return rc;
	while ((rc = corp_step(st)) == SQLITE_ROW)
		fn(arg, corp_col_text(st, 0));
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read names", err);
	return 0;
}
