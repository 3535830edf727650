/* scheduler.c -- see scheduler.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "event.h"
#include "period.h"
#include "scheduler.h"
#include "task.h"
#include "tasktpl.h"

/* Create the instance for key unless it exists (also when another
 * scheduler created it just now). */
static int
instance(struct corp_db *db, long long tid, const char *key,
    corp_sched_warn_fn warn, void *arg, struct corp_sched_stats *s,
    struct corp_err *err)
{
	struct corp_task_req r;
	struct corp_err e;
	char *out = NULL;
	int rc, yes, replayed;

	if ((rc = corp_task_instance_exists(db, tid, key, &yes, err)) != 0)
		return rc;
	if (yes) {
		s->existing++;
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.verb = "create";
	r.system = 1;
	r.template_id = tid;
	r.period_key = key;
	rc = corp_task_run(db, &r, &out, &replayed, &e);
	free(out);
	if (rc == 0) {
		s->created++;
		return 0;
	}
	if (rc == CORP_ECONFLICT && strstr(e.msg, "exists") != NULL) {
		s->existing++;
		return 0;
	}
	if (rc == CORP_EINVAL || rc == CORP_ECONFLICT ||
	    rc == CORP_ENOTFOUND) {
		/* This template cannot be instantiated now; the rest can. */
		s->failed++;
		if (warn != NULL)
			warn(e.msg, arg);
		return 0;
	}
	*err = e;
	return rc;
}

int
corp_sched_instances(struct corp_db *db, time_t horizon, int catchup,
    corp_sched_warn_fn warn, void *arg, struct corp_sched_stats *s,
    struct corp_err *err)
{
	struct corp_tasktpl_row *t = NULL;
	char (*ring)[CORP_PERIOD_KEYLEN] = NULL;
	char key[CORP_PERIOD_KEYLEN], next[CORP_PERIOD_KEYLEN];
	size_t n, i;
	long long total, k;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (catchup < 1)
		catchup = 1;
	if ((ring = calloc((size_t)catchup, sizeof(*ring))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_tasktpl_active(db, &t, &n, err)) != 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		char *zone = NULL;
		time_t start;

		s->templates++;
		if (t[i].sched == CORP_SCHED_ONCE) {
			if (t[i].starts_at <= horizon)
				rc = instance(db, t[i].id, "once", warn, arg, s,
				    err);
			continue;
		}
		if ((rc = corp_tasktpl_zone(db, t[i].auser, t[i].aunit, &zone,
		    err)) != 0)
			break;
		/* Walk every period from the first; keep the newest ones. */
		rc = corp_period_key_at(t[i].sched, zone, t[i].starts_at, key,
		    err);
		total = 0;
		while (rc == 0) {
			if ((rc = corp_period_start(t[i].sched, key, zone,
			    &start, err)) != 0 || start > horizon)
				break;
			/* The first period may have begun before starts_at. */
			strlcpy(ring[total % catchup], key, sizeof(ring[0]));
			total++;
			if ((rc = corp_period_next(t[i].sched, key, next,
			    err)) != 0)
				break;
			strlcpy(key, next, sizeof(key));
		}
		free(zone);
		if (rc != 0)
			break;
		k = total > catchup ? total - catchup : 0;
		s->skipped_old += k;
		for (; k < total && rc == 0; k++)
			rc = instance(db, t[i].id, ring[k % catchup], warn, arg,
			    s, err);
	}
out:
	free(t);
	free(ring);
	return rc;
}

/* Append one due event for each task the query returns. */
static int
due_events(struct corp_db *db, const char *sql, const char *type,
    time_t now, long long soon, long long *count, struct corp_err *err)
{
	struct corp_event e;
	struct corp_stmt *st;
	long long *ids = NULL, *nv;
	size_t n = 0, i;
	int rc, dup;

	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)now);
	corp_bind_int64(st, 2, (long long)(now + soon));
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(ids, n + 1, sizeof(*ids))) == NULL) {
			corp_reset(st);
			free(ids);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		ids = nv;
		ids[n++] = corp_col_int64(st, 0);
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return corp_db_fail(db, rc, "read tasks", err);
	}
	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = corp_task_event(db, ids[i], type, &e, err)) != 0)
			break;
		free(e.dedupe_key);
		e.autoev = 1;
		e.occurred_at = now;
		if (corp_asprintf(&e.dedupe_key, "%s:%lld:%lld", type,
		    e.task_id, (long long)e.due_at) < 0)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		else if ((rc = corp_event_append(db, &e, &dup, err)) == 0 &&
		    !dup)
			(*count)++;
		corp_event_free(&e);
	}
	free(ids);
	return rc;
}

struct due_args {
	long long		 soon;
	struct corp_sched_stats	*s;
};

static int
due_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct due_args *a = arg;
	struct corp_sched_stats *s = a->s;
	long long soon = a->soon;
	time_t now = corp_now();
	int rc;

	/* A task first seen already overdue gets only TASK_OVERDUE. */
	if ((rc = due_events(db, "SELECT id FROM tasks WHERE state = 'OPEN' "
	    "AND due_at > ?1 AND due_at <= ?2 AND NOT EXISTS (SELECT 1 FROM "
	    "events WHERE dedupe_key = 'TASK_DUE_SOON:' || tasks.id || ':' || "
	    "tasks.due_at) ORDER BY due_at, id",
	    "TASK_DUE_SOON", now, soon, &s->due_soon, err)) != 0 ||
	    (rc = due_events(db, "SELECT id FROM tasks WHERE state IN "
	    "('OPEN', 'WAITING_APPROVAL') AND due_at <= ?1 AND ?2 IS NOT NULL "
	    "AND NOT EXISTS (SELECT 1 FROM events WHERE dedupe_key = "
	    "'TASK_OVERDUE:' || tasks.id || ':' || tasks.due_at) "
	    "ORDER BY due_at, id", "TASK_OVERDUE", now, soon, &s->overdue,
	    err)) != 0)
		return rc;
	return 0;
}

int
corp_sched_due(struct corp_db *db, long long soon, struct corp_sched_stats *s,
    struct corp_err *err)
{
	struct due_args a = { soon, s };

	memset(s, 0, sizeof(*s));
	return corp_db_tx(db, due_tx, &a, err);
}
