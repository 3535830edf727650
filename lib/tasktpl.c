/* tasktpl.c -- see tasktpl.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"
#include "period.h"
#include "tasktpl.h"
#include "text.h"

struct tpl {
	char		*title, *description, *schedule, *due_rule;
	long long	 auser, aunit, initiator;
	time_t		 starts_at;
	int		 active;
};

static void
tpl_free(struct tpl *t)
{
	free(t->title);
	free(t->description);
	free(t->schedule);
	free(t->due_rule);
	memset(t, 0, sizeof(*t));
}

static int
tpl_load(struct corp_db *db, long long id, struct tpl *t,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = corp_db_prep(db, &st, "SELECT title, description, schedule, "
	    "due_rule, assignee_user_id, assignee_org_unit_id, "
	    "initiator_user_id, starts_at, active FROM templates WHERE id = ?1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	if (rc != SQLITE_ROW) {
		corp_reset(st);
		if (rc == SQLITE_DONE)
			return corp_errf(err, CORP_ENOTFOUND,
			    "template %lld: not found", id);
		return corp_db_fail(db, rc, "read template", err);
	}
	t->title = corp_strdup(corp_col_text(st, 0));
	t->description = corp_strdup(corp_col_text(st, 1));
	t->schedule = corp_strdup(corp_col_text(st, 2));
	t->due_rule = corp_strdup(corp_col_text(st, 3));
	t->auser = corp_col_int64(st, 4);
	t->aunit = corp_col_int64(st, 5);
	t->initiator = corp_col_int64(st, 6);
	t->starts_at = (time_t)corp_col_int64(st, 7);
	t->active = corp_col_int(st, 8);
	corp_reset(st);
	if (!t->title || !t->description || !t->schedule || !t->due_rule) {
		tpl_free(t);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	return 0;
}

/* Apply the given fields of in over t, resolving logins and units. */
static int
apply(struct corp_db *db, const struct corp_tasktpl_in *in, struct tpl *t,
    struct corp_err *err)
{
	int rc, sched, active;
	long long id;

#define SETS(f, g) do {							\
	if (in->has_##f) {						\
		free(t->g);						\
		if ((t->g = corp_strdup(in->f ? in->f : "")) == NULL)	\
			return corp_errf(err, CORP_EINTERNAL,		\
			    "out of memory");				\
	}								\
} while (0)
	SETS(title, title);
	SETS(description, description);
	SETS(schedule, schedule);
	SETS(due_rule, due_rule);
#undef SETS
	if (*t->title == '\0')
		return corp_errf(err, CORP_EINVAL, "title must not be empty");
	if ((rc = corp_text_check(t->title, CORP_TITLE_MAX, "title",
	    err)) != 0 ||
	    (rc = corp_text_check(t->description, CORP_TEXT_MAX,
	    "description", err)) != 0)
		return rc;
	if ((sched = corp_schedule_parse(t->schedule)) < 0)
		return corp_errf(err, CORP_EINVAL, "'%s' is not a schedule "
		    "(monthly, weekly, daily, once)", t->schedule);
	if ((rc = corp_due_rule_check(sched, t->due_rule, err)) != 0)
		return rc;
	if (in->has_assignee) {
		t->auser = 0;
		if (in->assignee != NULL) {
			if ((rc = corp_dir_user_id(db, in->assignee, &id,
			    &active, err)) != 0)
				return rc;
			t->auser = id;
		}
	}
	if (in->has_unit) {
		t->aunit = 0;
		if (in->unit != NULL) {
			if ((rc = corp_dir_unit_id(db, in->unit, &id,
			    err)) != 0)
				return rc;
			t->aunit = id;
		}
	}
	if (t->auser <= 0 && t->aunit <= 0)
		return corp_errf(err, CORP_EINVAL, "a template needs "
		    "--assignee or --unit");
	if (in->has_initiator) {
		if (in->initiator == NULL)
			return corp_errf(err, CORP_EINVAL, "a template needs "
			    "an --initiator");
		if ((rc = corp_dir_user_id(db, in->initiator, &t->initiator,
		    NULL, err)) != 0)
			return rc;
	}
	if (t->initiator <= 0)
		return corp_errf(err, CORP_EINVAL, "a template needs an "
		    "--initiator");
	if (in->has_starts_at)
		t->starts_at = in->starts_at;
	if (in->has_active)
		t->active = in->active != 0;
	return 0;
}

/*
 * A new template (id 0) is inserted without an id: PostgreSQL's identity
 * column, unlike SQLite's rowid, does not fill in an explicit NULL.
 */
static int
store(struct corp_db *db, long long id, const struct tpl *t, long long *idp,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (id <= 0)
		rc = corp_db_prep(db, &st, "INSERT INTO templates (title, "
		    "description, schedule, due_rule, assignee_user_id, "
		    "assignee_org_unit_id, initiator_user_id, starts_at, "
		    "active, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
		    "?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id", err);
	else
		rc = corp_db_prep(db, &st, "UPDATE templates SET title = ?1, "
		    "description = ?2, schedule = ?3, due_rule = ?4, "
		    "assignee_user_id = ?5, assignee_org_unit_id = ?6, "
		    "initiator_user_id = ?7, starts_at = ?8, active = ?9, "
		    "updated_at = ?10 WHERE id = ?11 RETURNING id", err);
	if (rc != 0)
		return rc;
	corp_bind_text(st, 1, t->title);
	corp_bind_text(st, 2, t->description);
	corp_bind_text(st, 3, t->schedule);
	corp_bind_text(st, 4, t->due_rule);
	corp_bind_id(st, 5, t->auser);
	corp_bind_id(st, 6, t->aunit);
	corp_bind_id(st, 7, t->initiator);
	corp_bind_int64(st, 8, (long long)t->starts_at);
	corp_bind_int(st, 9, t->active);
	corp_bind_int64(st, 10, (long long)corp_now());
	if (id > 0)
		corp_bind_int64(st, 11, id);
	rc = corp_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			rc = corp_errf(err, CORP_ENOTFOUND,
			    "template %lld: not found", id);
		else
			rc = corp_db_fail(db, rc, "store template", err);
		corp_reset(st);
		return rc;
	}
	if (idp)
		*idp = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

struct put {
	long long			 id;	/* 0: add */
	const struct corp_tasktpl_in	*in;
	long long			*idp;
};

static int
put_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct put *p = arg;
	struct tpl t;
	int rc;

	if (p->id > 0) {
		if ((rc = tpl_load(db, p->id, &t, err)) != 0)
			return rc;
	} else {
		memset(&t, 0, sizeof(t));
		t.title = corp_strdup("");
		t.description = corp_strdup("");
		t.schedule = corp_strdup("");
		t.due_rule = corp_strdup("");
		t.active = 1;
		t.starts_at = corp_now();
	}
	if ((rc = apply(db, p->in, &t, err)) == 0)
		rc = store(db, p->id, &t, p->idp, err);
	tpl_free(&t);
	return rc;
}

int
corp_tasktpl_add(struct corp_db *db, const struct corp_tasktpl_in *in,
    long long *idp, struct corp_err *err)
{
	struct put p = { 0, in, idp };

	return corp_db_tx(db, put_tx, &p, err);
}

int
corp_tasktpl_set(struct corp_db *db, long long id,
    const struct corp_tasktpl_in *in, struct corp_err *err)
{
	struct put p = { id, in, NULL };

	return corp_db_tx(db, put_tx, &p, err);
}

static const char TPL_SQL[] =
    "SELECT t.id, t.title, t.description, t.schedule, t.due_rule, "
    "t.assignee_user_id, a.login, t.assignee_org_unit_id, o.name, "
    "t.initiator_user_id, i.login, t.starts_at, t.active, t.created_at, "
    "t.updated_at FROM templates t "
    "LEFT JOIN users a ON a.id = t.assignee_user_id "
    "LEFT JOIN org_units o ON o.id = t.assignee_org_unit_id "
    "JOIN users i ON i.id = t.initiator_user_id "
    "WHERE (?1 IS NULL OR t.id = ?1) AND (?2 = 1 OR t.active = 1) "
    "ORDER BY t.id";

static json_t *
tpl_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:s, s:s, s:s, "
	    "s:s, s:o, s:o, s:o, s:o, s:I, s:s, s:o, s:b, s:o, s:o}",
	    "template_id", (json_int_t)corp_col_int64(st, 0),
	    "title", corp_col_text(st, 1),
	    "description", corp_col_text(st, 2),
	    "schedule", corp_col_text(st, 3),
	    "due_rule", corp_col_text(st, 4),
	    "assignee_user_id",
	    corp_json_idval(corp_col_int64(st, 5)),
	    "assignee", corp_json_strval(corp_col_text(st, 6)),
	    "assignee_org_unit_id",
	    corp_json_idval(corp_col_int64(st, 7)),
	    "assignee_unit", corp_json_strval(corp_col_text(st, 8)),
	    "initiator_user_id",
	    (json_int_t)corp_col_int64(st, 9),
	    "initiator", corp_col_text(st, 10),
	    "starts_at", corp_json_time(corp_col_int64(st, 11)),
	    "active", corp_col_int(st, 12),
	    "created_at", corp_json_time(corp_col_int64(st, 13)),
	    "updated_at", corp_json_time(corp_col_int64(st, 14)));
}

static int
tpl_rows(struct corp_db *db, long long id, int all, json_t **array,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, TPL_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_int(st, 2, all != 0);
	return corp_db_rows(db, st, tpl_row, array, "list templates", err);
}

int
corp_tasktpl_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	if ((rc = tpl_rows(db, id, 1, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND,
		    "template %lld: not found", id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_tasktpl_list(struct corp_db *db, int all, json_t **array,
    struct corp_err *err)
{
	return tpl_rows(db, 0, all, array, err);
}

int
corp_tasktpl_zone(struct corp_db *db, long long auser, long long aunit,
    char **zone, struct corp_err *err)
{
	if (auser > 0)
		return corp_dir_user_zone(db, auser, zone, err);
	return corp_dir_unit_zone(db, aunit, zone, err);
}

void
corp_instance_free(struct corp_instance *in)
{
	free(in->title);
	free(in->description);
	memset(in, 0, sizeof(*in));
}

/*
 * The instance takes the template's assignee; when only a user is
 * named, the scope is the user's unit now (CORP_EINVAL without one).
 */
int
corp_tasktpl_instance(struct corp_db *db, long long id,
    const char *period_key, struct corp_instance *in, struct corp_err *err)
{
	struct corp_user_brief u;
	struct tpl t;
	char *zone = NULL;
	int rc, sched;

	memset(in, 0, sizeof(*in));
	if ((rc = tpl_load(db, id, &t, err)) != 0)
		return rc;
	sched = corp_schedule_parse(t.schedule);
	if ((rc = corp_period_check(sched, period_key, err)) != 0)
		goto out;
	if ((rc = corp_tasktpl_zone(db, t.auser, t.aunit, &zone, err)) != 0)
		goto out;
	if (sched != CORP_SCHED_ONCE && (rc = corp_period_start(sched,
	    period_key, zone, &in->period_start, err)) != 0)
		goto out;
	if (sched == CORP_SCHED_ONCE)
		in->period_start = t.starts_at;
	if ((rc = corp_due_at(sched, t.due_rule, period_key, zone,
	    &in->due_at, err)) != 0)
		goto out;
	in->assignee_user = t.auser;
	in->assignee_unit = t.aunit;
	if (in->assignee_unit <= 0) {
		if ((rc = corp_dir_user_brief(db, t.auser, &u, err)) != 0)
			goto out;
		in->assignee_unit = u.unit_id;
		if (in->assignee_unit <= 0) {
			rc = corp_errf(err, CORP_EINVAL, "template %lld: its "
			    "assignee has no org unit", id);
			goto out;
		}
	}
	in->initiator = t.initiator;
	in->active = t.active;
	in->title = t.title;
	in->description = t.description;
	t.title = t.description = NULL;
out:
	free(zone);
	tpl_free(&t);
	return rc;
}

/* For the scheduler (issue 17 point 6: templates are read here). */
int
corp_tasktpl_active(struct corp_db *db, struct corp_tasktpl_row **out,
    size_t *np, struct corp_err *err)
{
	struct corp_tasktpl_row *v = NULL, *nv;
	struct corp_stmt *st;
	size_t n = 0;
	int rc;

	*out = NULL;
	*np = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT id, schedule, starts_at, "
	    "assignee_user_id, assignee_org_unit_id FROM templates "
	    "WHERE active = 1 ORDER BY id", err)) != 0)
		return rc;
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			corp_reset(st);
			free(v);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		v = nv;
		v[n].id = corp_col_int64(st, 0);
		v[n].sched = corp_schedule_parse(corp_col_text(st, 1));
		v[n].starts_at = (time_t)corp_col_int64(st, 2);
		v[n].auser = corp_col_int64(st, 3);
		v[n].aunit = corp_col_int64(st, 4);
		n++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return corp_db_fail(db, rc, "read templates", err);
	}
	*out = v;
	*np = n;
	return 0;
}
