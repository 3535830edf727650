/* prefs.c -- see prefs.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "names.h"
#include "notify.h"
#include "directory.h"
#include "prefs.h"
#include "queue.h"
#include "settings.h"

/* "H:MM" or "HH:MM" at *s; advances *s. */
static int
hhmm(const char **s, int *out)
{
	const char *p = *s;
	int h = 0, m, n = 0;

	while (isdigit((unsigned char)*p) && n < 2) {
		h = h * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || *p++ != ':' || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[1]))
		return -1;
	m = (p[0] - '0') * 10 + (p[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	*s = p + 2;
	return 0;
}

int
corp_prefs_quiet_parse(const char *s, int *start, int *end,
    struct corp_err *err)
{
	const char *p = s;

	if (hhmm(&p, start) != 0 || *p++ != '-' || hhmm(&p, end) != 0 ||
	    *p != '\0')
		return corp_errf(err, CORP_EINVAL, "quiet hours '%s': "
		    "expected HH:MM-HH:MM (e.g. 22:00-07:00)", s);
	if (*start == *end)
		return corp_errf(err, CORP_EINVAL, "quiet hours '%s': an "
		    "empty window (use --no-quiet)", s);
	return 0;
}

static int
add_mutes(struct corp_db *db, long long uid, json_t *chans, json_t *types,
    struct corp_err *err)
{
	struct corp_stmt *st;
	const char *kind;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT kind, value FROM user_mutes "
	    "WHERE user_id = ?1 ORDER BY kind, value", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		kind = corp_col_text(st, 0);
		if (json_array_append_new(strcmp(kind, "channel") == 0 ?
		    chans : types, json_string(corp_col_text(st, 1))) != 0) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read mutes", err);
	return 0;
}

int
corp_prefs_get(struct corp_db *db, long long uid, json_t **out,
    struct corp_err *err)
{
	json_t *o = NULL, *chans = NULL, *types = NULL, *quiet = NULL;
	struct corp_stmt *st;
	char *zone = NULL, buf[64];
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT u.login, p.quiet_start, "
	    "p.quiet_end FROM users u LEFT JOIN user_prefs p "
	    "ON p.user_id = u.id WHERE u.id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		corp_reset(st);
		if (rc == SQLITE_DONE)
			return corp_errf(err, CORP_ENOTFOUND,
			    "user %lld: not found", uid);
		return corp_db_fail(db, rc, "read preferences", err);
	}
	if (corp_col_type(st, 1) != SQLITE_NULL &&
	    corp_col_type(st, 2) != SQLITE_NULL) {
		int qs = corp_col_int(st, 1), qe = corp_col_int(st,
		    2);

		snprintf(buf, sizeof(buf), "%02d:%02d-%02d:%02d", qs / 60,
		    qs % 60, qe / 60, qe % 60);
		quiet = json_string(buf);
	} else
		quiet = json_null();
	o = json_pack("{s:s, s:I}", "user",
	    corp_col_text(st, 0), "user_id",
	    (json_int_t)uid);
	corp_reset(st);
	chans = json_array();
	types = json_array();
	if (o == NULL || quiet == NULL || chans == NULL || types == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto fail;
	}
	if ((rc = corp_dir_user_zone(db, uid, &zone, err)) != 0 ||
	    (rc = add_mutes(db, uid, chans, types, err)) != 0)
		goto fail;
	json_object_set_new(o, "zone", json_string(zone));
	json_object_set_new(o, "quiet", quiet);
	json_object_set_new(o, "muted_channels", chans);
	json_object_set_new(o, "muted_event_types", types);
	free(zone);
	*out = o;
	return 0;
fail:
	free(zone);
	json_decref(o);
	json_decref(quiet);
	json_decref(chans);
	json_decref(types);
	return rc;
}

/* The arguments of the writers' transactions. */
struct prefs_write {
	long long	 uid;
	int		 qs, qe;
	const char	*kind, *value;
	long long	*failed;
};

static int
quiet_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct prefs_write *a = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO user_prefs (user_id, "
	    "quiet_start, quiet_end) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (user_id) DO UPDATE SET quiet_start = ?2, "
	    "quiet_end = ?3", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, a->uid);
	if (a->qs >= 0) {
		corp_bind_int(st, 2, a->qs);
		corp_bind_int(st, 3, a->qe);
	}
	if ((rc = corp_db_exec(db, st, "write preferences", err)) != 0)
		return rc;
	return corp_queue_refresh_quiet(db, a->uid, corp_now(), err);
}

int
corp_prefs_set_quiet(struct corp_db *db, long long uid, int qs, int qe,
    struct corp_err *err)
{
	struct prefs_write a = { .uid = uid, .qs = qs, .qe = qe };

	if (qs >= 0 && (qs > 1439 || qe < 0 || qe > 1439 || qs == qe))
		return corp_errf(err, CORP_EINVAL, "bad quiet hours");
	return corp_db_tx(db, quiet_tx, &a, err);
}

/*
 * Well formed; for a new mute (known != 0) also a channel corp knows or
 * an event type that is built in or seen, since a mute of a misspelt
 * name would never match a row.
 */
static int
check_mute(struct corp_db *db, const char *kind, const char *value,
    int known, struct corp_err *err)
{
	if (strcmp(kind, "channel") == 0) {
		if (!corp_channel_valid(value))
			return corp_errf(err, CORP_EINVAL, "channel '%s': "
			    "expected 1-32 of a-z 0-9 _ -", value);
		if (known)
			return corp_channel_check(value, err);
	} else if (strcmp(kind, "event_type") == 0) {
		if (!corp_event_type_valid(value))
			return corp_errf(err, CORP_EINVAL, "event type '%s': "
			    "expected 1-64 of A-Z a-z 0-9 _ . : -", value);
		if (known)
			return corp_event_type_check(db, value, 0, err);
	} else
		return corp_errf(err, CORP_EINVAL, "mute kind '%s'", kind);
	return 0;
}

/* "KIND 'VALUE' is not muted", with the closest of the user's mutes. */
static int
not_muted(struct corp_db *db, long long uid, const char *kind,
    const char *value, struct corp_err *err)
{
	const char *what = strcmp(kind, "channel") == 0 ? "channel" :
	    "event type", *s, **v = NULL, **nv;
	struct corp_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT value FROM user_mutes "
	    "WHERE user_id = ?1 AND kind = ?2 ORDER BY value", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, kind);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(v, n + 2, sizeof(*v))) == NULL ||
		    (nv[n] = strdup(corp_col_text(st, 0))) == NULL) {
			v = nv ? nv : v;
			rc = SQLITE_NOMEM;
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	corp_reset(st);
	if (rc == SQLITE_NOMEM)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else if (rc != SQLITE_DONE)
		rc = corp_db_fail(db, rc, "read mutes", err);
	else if (v != NULL && (s = corp_suggest(value, v, 2)) != NULL)
		rc = corp_errf(err, CORP_ENOTFOUND, "%s '%s' is not muted "
		    "(did you mean '%s'?)", what, value, s);
	else
		rc = corp_errf(err, CORP_ENOTFOUND, "%s '%s' is not muted",
		    what, value);
	while (n > 0)
		free((char *)v[--n]);
	free(v);
	return rc;
}

static int
mute_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct prefs_write *a = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO user_mutes (user_id, "
	    "kind, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, a->uid);
	corp_bind_text(st, 2, a->kind);
	corp_bind_text(st, 3, a->value);
	if ((rc = corp_db_exec(db, st, "write mute", err)) != 0)
		return rc;
	return corp_queue_mute(db, a->uid, a->kind, a->value, a->failed, err);
}

int
corp_prefs_mute(struct corp_db *db, long long uid, const char *kind,
    const char *value, long long *failed, struct corp_err *err)
{
	struct prefs_write a = { .uid = uid, .kind = kind, .value = value,
	    .failed = failed };
	int rc;

	*failed = 0;
	if ((rc = check_mute(db, kind, value, 1, err)) != 0)
		return rc;
	if ((rc = corp_db_tx(db, mute_tx, &a, err)) != 0)
		*failed = 0;
	return rc;
}

/* Nothing deleted: the refusal, and the transaction rolls back. */
static int
unmute_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct prefs_write *a = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "DELETE FROM user_mutes "
	    "WHERE user_id = ?1 AND kind = ?2 AND value = ?3", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, a->uid);
	corp_bind_text(st, 2, a->kind);
	corp_bind_text(st, 3, a->value);
	if ((rc = corp_db_exec(db, st, "delete mute", err)) != 0)
		return rc;
	if (corp_db_changes(db) == 0)
		return not_muted(db, a->uid, a->kind, a->value, err);
	return 0;
}

int
corp_prefs_unmute(struct corp_db *db, long long uid, const char *kind,
    const char *value, struct corp_err *err)
{
	struct prefs_write a = { .uid = uid, .kind = kind, .value = value };
	int rc;

	if ((rc = check_mute(db, kind, value, 0, err)) != 0)
		return rc;
	return corp_db_tx(db, unmute_tx, &a, err);
}

int
corp_prefs_muted(struct corp_db *db, long long uid, const char *kind,
    const char *value, int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM user_mutes "
	    "WHERE user_id = ?1 AND kind = ?2 AND value = ?3", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, kind);
	corp_bind_text(st, 3, value);
	return corp_db_exists(db, st, yes, "read", err);
}

time_t
corp_prefs_quiet_end(const char *zone, int qs, int qe, time_t now)
{
	struct corp_local l;
	int m, y, mo, d;
	time_t end;

	if (qs == qe || corp_tz_local(zone, now, &l) != 0)
		return now;
	m = l.hour * 60 + l.min;
	/* Inside [qs, qe) (wrapping midnight when qs > qe)? */
	if (qs < qe ? (m < qs || m >= qe) : (m < qs && m >= qe))
		return now;
	y = l.year;
	mo = l.mon;
	d = l.mday;
	if (qs > qe && m >= qs) {
		/* The window ends tomorrow: step one local day forward. */
		time_t noon = corp_tz_utc(zone, y, mo, d, 12, 0, 0) + 86400;
		struct corp_local t;

		if (corp_tz_local(zone, noon, &t) == 0) {
			y = t.year;
			mo = t.mon;
			d = t.mday;
		}
	}
	end = corp_tz_utc(zone, y, mo, d, qe / 60, qe % 60, 0);
	if (end <= now) {
		/*
		 * Inside the window yet its end has passed: now is in the
		 * repeated hour after a fall-back and the end's wall time
		 * is ambiguous.  corp_tz_utc took the earlier instant; the
		 * window ends at the later one, shifted by the change of
		 * offset.
		 */
		struct corp_local le;

		if (corp_tz_local(zone, end, &le) == 0)
			end += (time_t)(le.gmtoff - l.gmtoff);
	}
	return end > now ? end : now;
}

int
corp_prefs_quiet_not_before(struct corp_db *db, long long uid, time_t now,
    time_t *out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, qs, qe;
	char *zone;

	*out = now;
	if ((rc = corp_db_prep(db, &st, "SELECT quiet_start, quiet_end "
	    "FROM user_prefs WHERE user_id = ?1 AND quiet_start IS NOT NULL "
	    "AND quiet_end IS NOT NULL", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	rc = corp_step(st);
	if (rc == SQLITE_DONE) {
		corp_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		corp_reset(st);
		return corp_db_fail(db, rc, "read preferences", err);
	}
	qs = corp_col_int(st, 0);
	qe = corp_col_int(st, 1);
	corp_reset(st);
	if ((rc = corp_dir_user_zone(db, uid, &zone, err)) != 0)
		return rc;
	*out = corp_prefs_quiet_end(zone, qs, qe, now);
	free(zone);
	return 0;
}
