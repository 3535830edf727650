/* proposal.c -- see proposal.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "analysis.h"
#include "proposal.h"
#include "analysis_int.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "task.h"

/* ---- proposals ------------------------------------------------------ */

struct decide_ctx {
	const struct corp_decision *d;
	long long	 actor;
	const char	*to;
	int		 check_only;	/* the refusals, no writes */
};

/*
 * The decision itself, in the caller's transaction: the proposal moves
 * from pending exactly once, the run's counters move with it, and the
 * topic event is appended.
 */
static int
decide_tx(struct corp_db *db, long long task_id, void *arg,
    struct corp_err *err)
{
	struct decide_ctx *c = arg;
	struct corp_stmt *st;
	json_t *p;
	long long run = 0;
	char *rs = NULL, *ps = NULL;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT p.run_id, p.status, r.status "
	    "FROM proposals p JOIN analysis_runs r ON r.id = p.run_id WHERE "
	    "p.id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, c->d->id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		run = corp_col_int64(st, 0);
		ps = corp_strdup(corp_col_text(st, 1));
		rs = corp_strdup(corp_col_text(st, 2));
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no proposal %lld",
		    c->d->id);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read proposal", err);
	rc = 0;
	if (ps == NULL || rs == NULL)
		rc = OOM(err);
	else if (strcmp(ps, "pending") != 0)
		rc = corp_errf(err, CORP_ECONFLICT, "proposal %lld is already "
		    "%s", c->d->id, ps);
	else if (strcmp(rs, "completed") != 0 && strcmp(rs, "reviewed") != 0 &&
	    strcmp(rs, "failed") != 0)
		rc = corp_errf(err, CORP_ECONFLICT, "run %lld is %s: proposals "
		    "are decided in completed, reviewed or failed runs", run,
		    rs);
	free(ps);
	free(rs);
	if (rc != 0 || c->check_only)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE proposals SET status = ?2, "
	    "task_id = ?3, decided_by = ?4, decided_at = ?5, reason = ?6, "
	    "updated_at = ?5 WHERE id = ?1 AND status = 'pending'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, c->d->id);
	corp_bind_text(st, 2, c->to);
	corp_bind_id(st, 3, task_id);
	corp_bind_int64(st, 4, c->actor);
	corp_bind_int64(st, 5, (long long)corp_now());
	corp_bind_text(st, 6, c->d->reason);
	if ((rc = corp_db_exec(db, st, "decide proposal", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE analysis_runs SET "
	    "proposals_pending = proposals_pending - 1, proposals_approved = "
	    "proposals_approved + CASE WHEN ?2 = 'approved' THEN 1 ELSE 0 END, "
	    "proposals_rejected = proposals_rejected + CASE WHEN ?2 = "
	    "'rejected' THEN 1 ELSE 0 END, proposals_merged = proposals_merged "
	    "+ CASE WHEN ?2 = 'merged' THEN 1 ELSE 0 END WHERE id = ?1", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, run);
	corp_bind_text(st, 2, c->to);
	if ((rc = corp_db_exec(db, st, "count decision", err)) != 0)
		return rc;
	if ((rc = corp_analysis_payload(db, run, &p, err)) != 0)
		return rc;
	json_object_set_new(p, "proposal_id", json_integer(c->d->id));
	json_object_set_new(p, "task_id", corp_json_idval(task_id));
	json_object_set_new(p, "run_status", json_incref(json_object_get(p,
	    "status")));
	json_object_set_new(p, "status", json_string(c->to));
	{
		char key[64];

		snprintf(key, sizeof(key), "proposal:%lld:%s", c->d->id,
		    c->to);
		return corp_analysis_topic_event(db, "proposals", c->to,
		    c->actor, p, key, err);
	}
}

/* The first refusal of each kind, to report them in corp-task's order. */
struct refusals {
	struct corp_err	 bad, nf, conflict;	/* 65, 67, 79 */
	int		 has_bad, has_nf, has_conflict;
};

/* Record rc; a code that is no refusal is returned. */
static int
note(struct refusals *f, int rc, const struct corp_err *e)
{
	if (rc == CORP_EINVAL && !f->has_bad) {
		f->bad = *e;
		f->has_bad = 1;
	} else if (rc == CORP_ENOTFOUND && !f->has_nf) {
		f->nf = *e;
		f->has_nf = 1;
	} else if (rc == CORP_ECONFLICT && !f->has_conflict) {
		f->conflict = *e;
		f->has_conflict = 1;
	} else if (rc != 0 && rc != CORP_EINVAL && rc != CORP_ENOTFOUND &&
	    rc != CORP_ECONFLICT)
		return rc;
	return 0;
}

/*
 * Every refusal that can be judged before a write, in corp-task's order
 * whatever is met first: invalid input (an approval's task fields, via
 * the task domain's own check), unknown names (the actor, the proposal,
 * a merge's task, an approval's assignee or unit), then a non-admin
 * (77), then the proposal's or the run's state (79).  r is the task an
 * approval would create (NULL otherwise).
 */
static int
decide_precheck(struct corp_db *db, struct decide_ctx *c,
    const struct corp_task_req *r, struct corp_err *err)
{
	struct refusals f;
	struct corp_err e;
	int rc, isadm = 0;

	memset(&f, 0, sizeof(f));
	if (r != NULL && r->assignee == NULL && r->unit == NULL)
		note(&f, corp_errf(&e, CORP_EINVAL, "proposal %lld has no "
		    "assignee: approve it with --assignee LOGIN or --unit UNIT",
		    c->d->id), &e);
	if ((rc = note(&f, corp_analysis_actor(db, c->d->as, &c->actor,
	    &isadm, &e), &e)) != 0)
		goto fatal;
	if (r != NULL && (r->assignee != NULL || r->unit != NULL) &&
	    (rc = note(&f, corp_task_check_names(db, r, &e), &e)) != 0)
		goto fatal;
	c->check_only = 1;
	rc = note(&f, decide_tx(db, 0, c, &e), &e);
	c->check_only = 0;
	if (rc != 0)
		goto fatal;
	if (strcmp(c->d->verb, "merge") == 0 && c->d->task_id > 0) {
		rc = corp_task_exists(db, c->d->task_id, &e);
		if (rc == CORP_ENOTFOUND)
			note(&f, corp_errf(&e, CORP_ENOTFOUND, "no task %lld",
			    c->d->task_id), &e);
		else if (rc != 0)
			goto fatal;
	}
	if (f.has_bad)
		return *err = f.bad, CORP_EINVAL;
	if (f.has_nf)
		return *err = f.nf, CORP_ENOTFOUND;
	if (!isadm)
		return corp_analysis_not_admin(c->d->as, err);
	if (f.has_conflict)
		return *err = f.conflict, CORP_ECONFLICT;
	return 0;
fatal:
	*err = e;
	return rc;
}

int
corp_proposal_decide(struct corp_db *db, const struct corp_decision *d,
    struct corp_err *err)
{
	struct corp_task_req r;
	struct decide_ctx c;
	struct corp_stmt *st;
	char *out = NULL, *title = NULL, *desc = NULL, *login = NULL;
	time_t due = 0;
	int rc, replayed;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.to = strcmp(d->verb, "approve") == 0 ? "approved" :
	    strcmp(d->verb, "reject") == 0 ? "rejected" : "merged";
	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if (strcmp(d->verb, "approve") != 0) {
		if ((rc = decide_precheck(db, &c, NULL, err)) != 0)
			return rc;
		if ((rc = corp_db_begin(db, err)) != 0)
			return rc;
		if (d->task_id > 0) {
			if ((rc = corp_task_exists(db, d->task_id, err)) != 0) {
				if (rc == CORP_ENOTFOUND)
					rc = corp_errf(err, CORP_ENOTFOUND,
					    "no task %lld", d->task_id);
				goto fail;
			}
		}
		if ((rc = decide_tx(db, d->task_id, &c, err)) != 0)
			goto fail;
		return corp_db_commit(db, err);
fail:
		corp_db_rollback(db);
		return rc;
	}
	if ((rc = corp_db_prep(db, &st, "SELECT p.title, p.description, "
	    "u.login, p.due_at FROM proposals p LEFT JOIN users u ON u.id = "
	    "p.assignee_user_id WHERE p.id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, d->id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		title = corp_strdup(corp_col_text(st, 0));
		desc = corp_strdup(corp_col_text(st, 1));
		login = corp_strdup(corp_col_text(st, 2));
		due = (time_t)corp_col_int64(st, 3);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read proposal", err);
	memset(&r, 0, sizeof(r));
	r.verb = "create";
	r.as = d->as;
	r.title = title;
	r.description = desc;
	r.assignee = d->assignee != NULL ? d->assignee : d->unit != NULL ?
	    NULL : login;
	r.unit = d->unit;
	if (d->has_due) {
		r.has_due = d->due_at != 0;
		r.due_at = d->due_at;
	} else if (due != 0) {
		r.has_due = 1;
		r.due_at = due;
	}
	r.also = decide_tx;
	r.also_arg = &c;
	/* An unknown proposal has no task fields to check (67 anyway). */
	if ((rc = decide_precheck(db, &c, title != NULL ? &r : NULL,
	    err)) == 0)
		rc = corp_task_run(db, &r, &out, &replayed, err);
	free(out);
	free(title);
	free(desc);
	free(login);
	return rc;
}

int
corp_proposal_edit(struct corp_db *db, const struct corp_proposal_edit *ed,
    struct corp_err *err)
{
	struct corp_stmt *st;
	long long actor, uid = 0;
	char *ps = NULL;
	int rc, isadm;

	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if (ed->title != NULL && *ed->title == '\0')
		return corp_errf(err, CORP_EINVAL, "--title must not be empty");
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_analysis_actor(db, ed->as, &actor, &isadm, err)) != 0)
		goto fail;
	if ((rc = corp_db_prep(db, &st, "SELECT status FROM proposals WHERE "
	    "id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, ed->id);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		ps = corp_strdup(corp_col_text(st, 0));
	corp_reset(st);
	if (rc == SQLITE_DONE) {
		rc = corp_errf(err, CORP_ENOTFOUND, "no proposal %lld", ed->id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read proposal", err);
		goto fail;
	}
	if (ed->assignee != NULL && *ed->assignee != '\0' &&
	    (rc = corp_dir_user_id(db, ed->assignee, &uid, NULL, err)) != 0)
		goto fail;
	if (!isadm) {
		rc = corp_analysis_not_admin(ed->as, err);
		goto fail;
	}
	if (ps == NULL || strcmp(ps, "pending") != 0) {
		rc = ps == NULL ? OOM(err) : corp_errf(err, CORP_ECONFLICT,
		    "proposal %lld is %s: only a pending one is edited", ed->id,
		    ps);
		goto fail;
	}
	if ((rc = corp_db_prep(db, &st, "UPDATE proposals SET title = "
	    "coalesce(?2, title), description = coalesce(?3, description), "
	    "assignee_user_id = CASE WHEN ?4 = 1 THEN ?5 ELSE assignee_user_id "
	    "END, due_at = CASE WHEN ?6 = 1 THEN ?7 ELSE due_at END, updated_at = "
	    "?8 WHERE id = ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, ed->id);
	corp_bind_text(st, 2, ed->title);
	corp_bind_text(st, 3, ed->description);
	corp_bind_int(st, 4, ed->assignee != NULL);
	corp_bind_id(st, 5, uid);
	corp_bind_int(st, 6, ed->has_due);
	if (ed->due_at != 0)
		corp_bind_int64(st, 7, (long long)ed->due_at);
	else
		corp_bind_null(st, 7);
	corp_bind_int64(st, 8, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "edit proposal", err)) != 0)
		goto fail;
	free(ps);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	free(ps);
	return rc;
}

static const char PROP_SQL[] =
    "SELECT p.id, p.run_id, p.batch_seq, p.status, p.title, p.description, "
    "a.login, p.due_at, p.messages, p.task_id, d.login, p.decided_at, "
    "p.reason, p.created_at, p.updated_at FROM proposals p "
    "LEFT JOIN users a ON a.id = p.assignee_user_id "
    "LEFT JOIN users d ON d.id = p.decided_by "
    "WHERE (?1 IS NULL OR p.id = ?1) AND (?2 IS NULL OR p.run_id = ?2) AND "
    "(?3 IS NULL OR p.status = ?3) ORDER BY p.id";

static json_t *
prop_row(struct corp_stmt *st)
{
	json_t *o = json_object(), *m;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "proposal_id",
	    json_integer(corp_col_int64(st, 0)));
	json_object_set_new(o, "run_id", json_integer(corp_col_int64(st,
	    1)));
	json_object_set_new(o, "batch", json_integer(corp_col_int64(st,
	    2)));
	json_object_set_new(o, "status", json_string(corp_col_text(st, 3)));
	json_object_set_new(o, "title", json_string(corp_col_text(st, 4)));
	json_object_set_new(o, "description",
	    corp_json_strval(corp_col_text(st, 5)));
	json_object_set_new(o, "assignee", corp_json_strval(corp_col_text(st,
	    6)));
	json_object_set_new(o, "due_at", corp_analysis_opt_time(st, 7));
	m = json_loads(corp_col_text(st, 8), 0, NULL);
	json_object_set_new(o, "messages", m != NULL ? m : json_array());
	json_object_set_new(o, "task_id", corp_col_type(st, 9) ==
	    SQLITE_NULL ? json_null() : json_integer(corp_col_int64(st,
	    9)));
	json_object_set_new(o, "decided_by",
	    corp_json_strval(corp_col_text(st, 10)));
	json_object_set_new(o, "decided_at", corp_analysis_opt_time(st, 11));
	json_object_set_new(o, "reason", corp_json_strval(corp_col_text(st,
	    12)));
	json_object_set_new(o, "created_at", corp_analysis_opt_time(st, 13));
	json_object_set_new(o, "updated_at", corp_analysis_opt_time(st, 14));
	return o;
}

static int
prop_rows(struct corp_db *db, long long id, long long run, const char *status,
    json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = corp_analysis_reap(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, PROP_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_id(st, 2, run);
	corp_bind_text(st, 3, status);
	return corp_db_rows(db, st, prop_row, out, "list proposals", err);
}

int
corp_proposal_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	*out = NULL;
	if ((rc = prop_rows(db, id, 0, NULL, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND, "no proposal %lld", id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_proposal_list(struct corp_db *db, long long run, const char *status,
    json_t **out, struct corp_err *err)
{
	return prop_rows(db, 0, run, status, out, err);
}

