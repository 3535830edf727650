/* batchdigest.c -- see batchdigest.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "batchdigest.h"
#include "binds.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"
#include "prefs.h"
#include "queue.h"

#define PERIOD_MIN	300		/* 5m */
#define PERIOD_MAX	86400		/* 1d */

/* "daily@HH:MM": 1 with *hh, *mm; 0 for anything else. */
static int
daily(const char *p, int *hh, int *mm)
{
	if (strncmp(p, "daily@", 6) != 0)
		return 0;
	p += 6;
	if (strlen(p) != 5 || p[2] != ':' ||
	    p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[3] < '0' || p[3] > '9' || p[4] < '0' || p[4] > '9')
		return -1;
	*hh = (p[0] - '0') * 10 + (p[1] - '0');
	*mm = (p[3] - '0') * 10 + (p[4] - '0');
	return *hh < 24 && *mm < 60 ? 1 : -1;
}

int
corp_batchdigest_period_check(const char *period, struct corp_err *err)
{
	struct corp_err e;
	long long secs;
	int hh, mm, d;

	if (period == NULL || strlen(period) > 16 ||
	    (d = daily(period, &hh, &mm)) < 0 ||
	    (d == 0 && (corp_duration_parse(period, &secs, &e) != 0 ||
	    secs < PERIOD_MIN || secs > PERIOD_MAX)))
		return corp_errf(err, CORP_EINVAL, "digest '%s': expected a "
		    "duration from 5m to 1d (15m, 1h) or daily@HH:MM",
		    period != NULL ? period : "");
	return 0;
}

int
corp_batchdigest_due(struct corp_db *db, long long uid, const char *period,
    time_t now, time_t *due, struct corp_err *err)
{
	struct corp_local l;
	long long secs;
	char *zone = NULL;
	int rc, hh, mm, i;

	if ((rc = corp_batchdigest_period_check(period, err)) != 0)
		return rc;
	if (daily(period, &hh, &mm) == 0) {
		if ((rc = corp_duration_parse(period, &secs, err)) != 0)
			return rc;
		*due = (time_t)(((long long)now / secs + 1) * secs);
		return 0;
	}
	if ((rc = corp_dir_user_zone(db, uid, &zone, err)) != 0)
		return rc;
	if (corp_tz_local(zone, now, &l) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "zone '%s': cannot convert",
		    zone);
		free(zone);
		return rc;
	}
	/* Today's HH:MM, else the next day's (a day never lacks it twice). */
	for (i = 0; i < 3; i++) {
		*due = corp_tz_utc(zone, l.year, l.mon, l.mday, hh, mm, 0);
		if (*due > now)
			break;
		if (++l.mday > corp_days_in_month(l.year, l.mon)) {
			l.mday = 1;
			if (++l.mon > 12) {
				l.mon = 1;
				l.year++;
			}
		}
	}
	free(zone);
	if (*due <= now)
		return corp_errf(err, CORP_EINTERNAL, "digest '%s': no end "
		    "after now", period);
	return 0;
}

int
corp_batchdigest_join(struct corp_db *db, const struct corp_digest_member *m,
    time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	long long id = 0;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO digests (user_id, "
	    "channel, period, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (user_id, channel, period, due_at) DO NOTHING",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, m->user_id);
	corp_bind_text(st, 2, m->channel);
	corp_bind_text(st, 3, m->period);
	corp_bind_int64(st, 4, (long long)m->due);
	corp_bind_int64(st, 5, (long long)now);
	if ((rc = corp_db_exec(db, st, "open digest", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT id FROM digests WHERE "
	    "user_id = ?1 AND channel = ?2 AND period = ?3 AND due_at = ?4",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, m->user_id);
	corp_bind_text(st, 2, m->channel);
	corp_bind_text(st, 3, m->period);
	corp_bind_int64(st, 4, (long long)m->due);
	rc = corp_step(st);
	if (rc == SQLITE_ROW)
		id = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read digest", err);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO digest_members "
	    "(digest_id, event_id, role, roles, title) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, m->event_id);
	corp_bind_text(st, 3, m->role);
	corp_bind_text(st, 4, m->roles);
	corp_bind_text(st, 5, m->title);
	return corp_db_exec(db, st, "join digest", err);
}

/* An open digest that is due. */
struct due {
	long long	 id, user_id;
	char		*channel;
};

/* The line's {count, titles, events}, the first member's role and roles. */
static int
members(struct corp_db *db, long long id, json_t **line, long long *first,
    char **role, char **roles, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *titles, *events;
	long long n = 0;
	int rc;

	*line = NULL;
	*first = 0;
	*role = *roles = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT event_id, role, roles, title "
	    "FROM digest_members WHERE digest_id = ?1 ORDER BY event_id",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	titles = json_array();
	events = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			*first = corp_col_int64(st, 0);
			*role = strdup(corp_col_text(st, 1));
			*roles = strdup(corp_col_text(st, 2));
		}
		if (n <= CORP_DIGEST_TITLES)
			json_array_append_new(titles,
			    json_string(corp_col_text(st, 3)));
		json_array_append_new(events, json_integer(corp_col_int64(st,
		    0)));
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(titles);
		json_decref(events);
		return corp_db_fail(db, rc, "read digest members", err);
	}
	*line = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)n,
	    "titles", titles, "events", events);
	if (n > 0 && (*role == NULL || *roles == NULL))
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

static int
close_one(struct corp_db *db, const struct due *g, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *line = NULL, *e;
	char *role = NULL, *roles = NULL, *text = NULL;
	long long first, did = 0;
	size_t i;
	time_t nb;
	int rc, bs;

	if ((rc = members(db, g->id, &line, &first, &role, &roles, err)) != 0)
		goto out;
	if (first > 0) {
		if ((rc = corp_binds_state(db, g->user_id, g->channel, &bs,
		    err)) != 0 ||
		    (rc = corp_prefs_quiet_not_before(db, g->user_id, now, &nb,
		    err)) != 0)
			goto out;
		if ((text = json_dumps(line, JSON_COMPACT)) == NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		/* Keyed on the first member; on the next when that event has
		 * a row of its own on the channel (another setting's). */
		json_array_foreach(json_object_get(line, "events"), i, e) {
			if ((rc = corp_queue_insert_digest(db,
			    json_integer_value(e), g->user_id, g->channel,
			    role, roles, bs == 1, nb > now ? nb : 0, text, now,
			    &did, err)) != 0)
				goto out;
			if (did > 0)
				break;
		}
	}
	if ((rc = corp_db_prep(db, &st, "UPDATE digests SET closed_at = ?2, "
	    "delivery_id = ?3 WHERE id = ?1 AND closed_at IS NULL", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, g->id);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_id(st, 3, did);
	rc = corp_db_exec(db, st, "close digest", err);
out:
	json_decref(line);
	free(text);
	free(role);
	free(roles);
	return rc;
}

struct close_arg {
	time_t		 now;
	long long	 closed;
};

static int
close_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct close_arg *a = arg;
	struct corp_stmt *st;
	struct due *v = NULL, *nv;
	size_t n = 0, cap = 0, i;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT id, user_id, channel FROM "
	    "digests WHERE closed_at IS NULL AND due_at <= ?1 ORDER BY id",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)a->now);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				corp_reset(st);
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				goto out;
			}
			v = nv;
		}
		v[n].id = corp_col_int64(st, 0);
		v[n].user_id = corp_col_int64(st, 1);
		if ((v[n].channel = strdup(corp_col_text(st, 2))) == NULL) {
			corp_reset(st);
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		n++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "read due digests", err);
		goto out;
	}
	rc = 0;
	for (i = 0; i < n && rc == 0; i++)
		if ((rc = close_one(db, &v[i], a->now, err)) == 0)
			a->closed++;
out:
	for (i = 0; i < n; i++)
		free(v[i].channel);
	free(v);
	return rc;
}

int
corp_batchdigest_close(struct corp_db *db, time_t now, long long *closed,
    struct corp_err *err)
{
	struct close_arg a = { .now = now };
	int rc;

	*closed = 0;
	if ((rc = corp_db_tx(db, close_tx, &a, err)) == 0)
		*closed = a.closed;
	return rc;
}

int
corp_batchdigest_of(struct corp_db *db, long long eid, long long uid,
    const char *channel, json_t **out, long long *did, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	*did = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT g.id, g.period, g.due_at, "
	    "g.delivery_id, (SELECT count(*) FROM digest_members c "
	    "WHERE c.digest_id = g.id) FROM digests g "
	    "JOIN digest_members m ON m.digest_id = g.id "
	    "WHERE m.event_id = ?1 AND g.user_id = ?2 AND g.channel = ?3",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	corp_bind_text(st, 3, channel);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*did = corp_col_int64(st, 3);
		*out = json_pack("{s:I, s:s, s:o, s:I, s:o}",
		    "digest_id", (json_int_t)corp_col_int64(st, 0),
		    "period", corp_col_text(st, 1),
		    "due_at", corp_json_time((time_t)corp_col_int64(st, 2)),
		    "count", (json_int_t)corp_col_int64(st, 4),
		    "delivery_id", *did > 0 ? json_integer(*did) : json_null());
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read digest", err);
	return 0;
}
