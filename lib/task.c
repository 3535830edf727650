/* task.c -- see task.h.  The role table of DESIGN 3 lives in `steps`. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "idem.h"
#include "jsonl.h"
#include "task.h"
#include "tasktpl.h"
#include "text.h"
#include "visibility.h"

/*
 * Who may do each step (roles of the visibility function; a deputy
 * holds "deputy:ROLE" and may do what ROLE may), from which states, and
 * the event it writes.  Admin is named only where the table names it.
 */
struct step {
	const char	*verb;
	const char	*event;
	const char	*roles[4];	/* direct roles; deputies follow */
	int		 admin;
	const char	*from[2];
	const char	*to;		/* NULL: the state does not change */
};

static const struct step steps[] = {
	{ "open", "TASK_CREATED", { "initiator" }, 0, { "DRAFT" }, "OPEN" },
	{ "assign", "TASK_ASSIGNED", { "initiator", "supervisor" }, 1,
	    { "OPEN" }, NULL },
	{ "set-due", "TASK_DUE_CHANGED", { "initiator", "supervisor" }, 1,
	    { "OPEN", "WAITING_APPROVAL" }, NULL },
	{ "submit", "REPORT_SUBMITTED", { "executor" }, 0, { "OPEN" },
	    "WAITING_APPROVAL" },
	{ "approve", "APPROVED", { "initiator", "supervisor" }, 0,
	    { "WAITING_APPROVAL" }, "DONE" },
	{ "reject", "REJECTED", { "initiator", "supervisor" }, 0,
	    { "WAITING_APPROVAL" }, "OPEN" },
	{ "cancel", "TASK_CANCELLED", { "initiator" }, 1,
	    { "OPEN", "WAITING_APPROVAL" }, "CANCELLED" },
};

struct task {
	long long	 id, template_id, version, initiator, auser, aunit;
	char		*period_key, *title, *state;
	time_t		 due_at;
};

static void
task_free(struct task *t)
{
	free(t->period_key);
	free(t->title);
	free(t->state);
	memset(t, 0, sizeof(*t));
}

static int
task_load(struct corp_db *db, long long id, struct task *t,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = corp_db_prep(db, &st, "SELECT id, template_id, version, "
	    "initiator_user_id, assignee_user_id, assignee_org_unit_id, "
	    "period_key, title, state, due_at FROM tasks WHERE id = ?1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	if (rc == SQLITE_DONE) {
		corp_reset(st);
		return corp_errf(err, CORP_ENOTFOUND, "task %lld: not found",
		    id);
	}
	if (rc != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read task", err);
		corp_reset(st);
		return rc;
	}
	t->id = id;
	t->template_id = corp_col_int64(st, 1);
	t->version = corp_col_int64(st, 2);
	t->initiator = corp_col_int64(st, 3);
	t->auser = corp_col_int64(st, 4);
	t->aunit = corp_col_int64(st, 5);
	t->period_key = corp_strdup(corp_col_text(st, 6));
	t->title = corp_strdup(corp_col_text(st, 7));
	t->state = corp_strdup(corp_col_text(st, 8));
	t->due_at = (time_t)corp_col_int64(st, 9);
	corp_reset(st);
	if (t->title == NULL || t->state == NULL) {
		task_free(t);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	return 0;
}

static int
has_role(const char *roles, const char *role)
{
	size_t n = strlen(role);
	const char *p = roles;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, role, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/* Collect holders of one role on a task: the candidate principals. */
struct holders {
	const char	*role;
	long long	 ids[64];
	size_t		 n;
};

static int
holder(long long tid, long long uid, const char *role, void *arg)
{
	struct holders *h = arg;

	(void)tid;
	if (strcmp(role, h->role) == 0 &&
	    h->n < sizeof(h->ids) / sizeof(h->ids[0]))
		h->ids[h->n++] = uid;
	return 0;
}

/*
 * May actor do step s on task t?  0 with *behalf set (0: in a role of
 * their own; else the principal whose role a deputy used), or
 * CORP_EFORBIDDEN.  excl1/excl2: users who may not decide (the
 * submitter of the report under review and its principal).
 */
static int
acl(struct corp_db *db, const struct step *s, const struct task *t,
    long long actor, time_t now, long long excl1, long long excl2,
    long long *behalf, struct corp_err *err)
{
	char *roles = NULL, dep[64];
	struct holders h;
	size_t i, k;
	int rc, yes;

	*behalf = 0;
	if ((rc = corp_may_see(db, t->id, actor, now, &yes, &roles, err)) != 0)
		return rc;
	if (actor == excl1 || actor == excl2) {
		free(roles);
		return corp_errf(err, CORP_EFORBIDDEN, "task %lld: the "
		    "submitter of a report may not decide on it", t->id);
	}
	for (i = 0; i < 4 && s->roles[i] != NULL; i++)
		if (has_role(roles, s->roles[i])) {
			free(roles);
			return 0;
		}
	if (s->admin && has_role(roles, "admin")) {
		free(roles);
		return 0;
	}
	for (i = 0; i < 4 && s->roles[i] != NULL; i++) {
		snprintf(dep, sizeof(dep), "deputy:%s", s->roles[i]);
		if (!has_role(roles, dep))
			continue;
		memset(&h, 0, sizeof(h));
		h.role = s->roles[i];
		if ((rc = corp_viewers_tasks(db, t->id, 0, now, holder, &h,
		    err)) != 0) {
			free(roles);
			return rc;
		}
		for (k = 0; k < h.n; k++) {
			if (h.ids[k] == excl1 || h.ids[k] == excl2)
				continue;
			if ((rc = corp_dir_delegated(db, h.ids[k], actor, now, &yes,
			    err)) != 0) {
				free(roles);
				return rc;
			}
			if (yes) {
				*behalf = h.ids[k];
				free(roles);
				return 0;
			}
		}
	}
	free(roles);
	return corp_errf(err, CORP_EFORBIDDEN, "task %lld: %s is not allowed "
	    "to this user", t->id, s->verb);
}

static int
validate(const struct corp_task_req *r, struct corp_err *err)
{
	int rc;

	if ((rc = corp_text_check(r->title, CORP_TITLE_MAX, "title",
	    err)) != 0 ||
	    (rc = corp_text_check(r->description, CORP_TEXT_MAX,
	    "description", err)) != 0 ||
	    (rc = corp_text_check(r->text, CORP_TEXT_MAX, "text", err)) != 0 ||
	    (rc = corp_text_check(r->link, CORP_TITLE_MAX, "link",
	    err)) != 0 ||
	    (rc = corp_text_check(r->file_ref, CORP_TITLE_MAX, "file",
	    err)) != 0 ||
	    (rc = corp_text_check(r->reason, CORP_TEXT_MAX, "reason",
	    err)) != 0 ||
	    (rc = corp_text_check(r->period_key, 32, "period", err)) != 0 ||
	    (rc = corp_text_check(r->idem_key, CORP_IDEM_KEY_MAX,
	    "idempotency key", err)) != 0)
		return rc;
	if (r->title != NULL && *r->title == '\0')
		return corp_errf(err, CORP_EINVAL, "title must not be empty");
	if (r->text != NULL && *r->text == '\0')
		return corp_errf(err, CORP_EINVAL, "report text must not be "
		    "empty");
	if (r->reason != NULL && *r->reason == '\0')
		return corp_errf(err, CORP_EINVAL, "reason must not be empty");
	if (r->idem_key != NULL && *r->idem_key == '\0')
		return corp_errf(err, CORP_EINVAL, "idempotency key must not "
		    "be empty");
	return 0;
}

/* The canonical arguments of a request, for its idempotency hash. */
static json_t *
canonical(const struct corp_task_req *r)
{
	json_t *a = json_object();

	json_object_set_new(a, "task", corp_json_idval(r->task_id));
	json_object_set_new(a, "if_version", corp_json_idval(r->if_version));
	json_object_set_new(a, "title", corp_json_strval(r->title));
	json_object_set_new(a, "description",
	    corp_json_strval(r->description));
	json_object_set_new(a, "draft", json_boolean(r->draft));
	json_object_set_new(a, "template", corp_json_idval(r->template_id));
	json_object_set_new(a, "period", corp_json_strval(r->period_key));
	json_object_set_new(a, "assignee", corp_json_strval(r->assignee));
	json_object_set_new(a, "unit", corp_json_strval(r->unit));
	json_object_set_new(a, "due", r->has_due ? (r->due_at ?
	    corp_json_time(r->due_at) : json_string("none")) : json_null());
	json_object_set_new(a, "text", corp_json_strval(r->text));
	json_object_set_new(a, "link", corp_json_strval(r->link));
	json_object_set_new(a, "file", corp_json_strval(r->file_ref));
	json_object_set_new(a, "reason", corp_json_strval(r->reason));
	return a;
}

/* Fill the event's task fields from the task after the change. */
static int
event_for(struct corp_db *db, long long task_id, const char *type,
    long long actor, long long behalf, struct corp_event *e,
    struct corp_err *err)
{
	struct task t;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = task_load(db, task_id, &t, err)) != 0)
		return rc;
	e->event_type = corp_strdup(type);
	e->task_id = t.id;
	e->task_version = t.version;
	e->state = corp_strdup(t.state);
	e->actor_user_id = actor;
	e->on_behalf_of_user_id = behalf;
	e->initiator_user_id = t.initiator;
	e->assignee_user_id = t.auser;
	e->assignee_org_unit_id = t.aunit;
	e->period_key = corp_strdup(t.period_key);
	e->title = corp_strdup(t.title);
	e->due_at = t.due_at;
	e->template_id = t.template_id;
	task_free(&t);
	if (corp_asprintf(&e->dedupe_key, "task:%lld:v%lld", e->task_id,
	    e->task_version) < 0 || e->event_type == NULL ||
	    e->state == NULL || e->title == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_task_event(struct corp_db *db, long long task_id, const char *type,
    struct corp_event *e, struct corp_err *err)
{
	return event_for(db, task_id, type, 0, 0, e, err);
}

/*
 * What a request names, looked up before any permission is judged, so
 * that refusals keep task.h's order whatever the lookups meet first.
 */
struct refs {
	struct task		 t;	/* a transition's task */
	struct corp_instance	 in;	/* create --template */
	long long		 auser, aunit;	/* create, assign */
};

static void
refs_free(struct refs *x)
{
	task_free(&x->t);
	corp_instance_free(&x->in);
	memset(x, 0, sizeof(*x));
}

/*
 * The refusal to report among those found so far: invalid input before
 * not found, the first of each kind.  Any other code is returned at
 * once by the caller (a failed read is no refusal).
 */
struct verdict {
	int		 code;
	struct corp_err	 e;
};

static int
keep(struct verdict *v, int rc, const struct corp_err *e)
{
	if (rc != CORP_EINVAL && rc != CORP_ENOTFOUND)
		return rc;
	if (v->code == 0 || (rc == CORP_EINVAL && v->code != CORP_EINVAL)) {
		v->code = rc;
		v->e = *e;
	}
	return 0;
}

/* The user's unit (CORP_EINVAL when none) and that the user is active. */
static int
assignee_of(struct corp_db *db, const char *login, long long *uid,
    long long *unit, struct corp_err *err)
{
	struct corp_user_brief u;
	int rc, active;

	if ((rc = corp_dir_user_id(db, login, uid, &active, err)) != 0)
		return rc;
	if (!active)
		return corp_errf(err, CORP_EINVAL, "user '%s' is inactive",
		    login);
	if (unit == NULL)
		return 0;
	if ((rc = corp_dir_user_brief(db, *uid, &u, err)) != 0)
		return rc;
	if ((*unit = u.unit_id) <= 0)
		return corp_errf(err, CORP_EINVAL, "user '%s' has no org unit; "
		    "give --unit", login);
	return 0;
}

/*
 * Look up the task, the template's instance, the assignee and the unit
 * into x, recording refusals in v; returns only a failure to read (its
 * message in err).
 */
static int
resolve(struct corp_db *db, const struct corp_task_req *r, struct refs *x,
    struct verdict *v, struct corp_err *err)
{
	int rc, create = strcmp(r->verb, "create") == 0;

	memset(x, 0, sizeof(*x));
	if (!create && (rc = keep(v, task_load(db, r->task_id, &x->t, err),
	    err)) != 0)
		return rc;
	if (create && r->template_id > 0 &&
	    (rc = keep(v, corp_tasktpl_instance(db, r->template_id,
	    r->period_key, &x->in, err), err)) != 0)
		return rc;
	if (!create && strcmp(r->verb, "assign") != 0)
		return 0;
	if (r->assignee != NULL && (rc = keep(v, assignee_of(db,
	    r->assignee, &x->auser, r->unit ? NULL : &x->aunit, err),
	    err)) != 0)
		return rc;
	if (r->unit != NULL && (rc = keep(v, corp_dir_unit_id(db, r->unit,
	    &x->aunit, err), err)) != 0)
		return rc;
	return 0;
}

static int
create(struct corp_db *db, const struct corp_task_req *r, long long actor,
    time_t now, struct refs *x, long long *tidp, struct corp_event *e,
    struct corp_err *err)
{
	struct corp_instance *in = &x->in;
	struct corp_stmt *st;
	long long auser = x->auser, aunit = x->aunit, initiator = actor;
	long long existing;
	const char *title = r->title, *desc = r->description;
	struct corp_user_brief u;
	time_t due = r->has_due ? r->due_at : 0;
	int rc, admin = 0;

	if (r->template_id > 0) {
		if ((rc = corp_dir_user_brief(db, actor, &u, err)) != 0)
			goto out;
		admin = u.is_admin && corp_cfg.admin_all;
		if (!r->system && actor != in->initiator && !admin) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "template %lld: "
			    "only its initiator or an admin may create an "
			    "instance", r->template_id);
			goto out;
		}
		if (!in->active) {
			rc = corp_errf(err, CORP_ECONFLICT, "template %lld is "
			    "inactive", r->template_id);
			goto out;
		}
		if ((rc = corp_db_prep(db, &st, "SELECT id FROM tasks WHERE "
		    "template_id = ?1 AND period_key = ?2", err)) != 0)
			goto out;
		corp_bind_int64(st, 1, r->template_id);
		corp_bind_text(st, 2, r->period_key);
		rc = corp_step(st);
		existing = rc == SQLITE_ROW ? corp_col_int64(st, 0) : 0;
		corp_reset(st);
		if (existing > 0) {
			rc = corp_errf(err, CORP_ECONFLICT, "template %lld, "
			    "period %s: task %lld exists", r->template_id,
			    r->period_key, existing);
			goto out;
		}
		title = in->title;
		desc = in->description;
		initiator = in->initiator;
		auser = in->assignee_user;
		aunit = in->assignee_unit;
		due = in->due_at;
	}
	if ((rc = corp_db_prep(db, &st, "INSERT INTO tasks (template_id, "
	    "period_key, title, description, state, version, "
	    "initiator_user_id, assignee_user_id, assignee_org_unit_id, due_at, "
	    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, "
	    "?9, ?10, ?10) RETURNING id", err)) != 0)
		goto out;
	corp_bind_id(st, 1, r->template_id);
	corp_bind_text(st, 2, r->template_id > 0 ? r->period_key : NULL);
	corp_bind_text(st, 3, title);
	corp_bind_text(st, 4, desc ? desc : "");
	corp_bind_text(st, 5, r->draft ? "DRAFT" : "OPEN");
	corp_bind_id(st, 6, initiator);
	corp_bind_id(st, 7, auser);
	corp_bind_id(st, 8, aunit);
	if (due)
		corp_bind_int64(st, 9, (long long)due);
	corp_bind_int64(st, 10, (long long)now);
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "create task", err);
		corp_reset(st);
		goto out;
	}
	*tidp = corp_col_int64(st, 0);
	corp_reset(st);
	rc = 0;
	if (!r->draft) {
		rc = event_for(db, *tidp, "TASK_CREATED", actor, 0, e, err);
		e->autoev = r->system;
		if (rc == 0 && r->template_id > 0) {
			free(e->dedupe_key);
			if (corp_asprintf(&e->dedupe_key, "tpl:%lld:%s",
			    r->template_id, r->period_key) < 0)
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
		}
	}
out:
	return rc;
}

/* The report under review: the newest one still "submitted". */
static int
pending_report(struct corp_db *db, long long task, long long *id,
    long long *author, long long *behalf, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*id = *author = *behalf = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT id, author_user_id, "
	    "on_behalf_of_user_id FROM task_reports WHERE task_id = ?1 AND "
	    "status = 'submitted' ORDER BY version DESC LIMIT 1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, task);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*id = corp_col_int64(st, 0);
		*author = corp_col_int64(st, 1);
		*behalf = corp_col_int64(st, 2);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read reports", err);
	return 0;
}

static int
transition(struct corp_db *db, const struct corp_task_req *r,
    long long actor, time_t now, struct refs *x, struct corp_event *e,
    struct corp_err *err)
{
	const struct step *s = NULL;
	struct task t = x->t;
	struct corp_stmt *st;
	long long behalf, rep = 0, author = 0, rbehalf = 0;
	long long nuser, nunit, pu, pun;
	time_t due;
	size_t i;
	int rc, okstate;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(steps[i].verb, r->verb) == 0)
			s = &steps[i];
	if (s == NULL)
		return corp_errf(err, CORP_EUSAGE, "unknown step '%s'",
		    r->verb);
	if (strcmp(s->verb, "approve") == 0 || strcmp(s->verb, "reject") == 0)
		if ((rc = pending_report(db, t.id, &rep, &author, &rbehalf,
		    err)) != 0)
			goto out;
	if ((rc = acl(db, s, &t, actor, now, author, rbehalf, &behalf,
	    err)) != 0)
		goto out;
	okstate = strcmp(t.state, s->from[0]) == 0 ||
	    (s->from[1] != NULL && strcmp(t.state, s->from[1]) == 0);
	if (!okstate) {
		rc = corp_errf(err, CORP_ECONFLICT, "task %lld is %s: %s is "
		    "not allowed from that state", t.id, t.state, s->verb);
		goto out;
	}
	if (r->if_version > 0 && r->if_version != t.version) {
		rc = corp_errf(err, CORP_ECONFLICT, "task %lld is at version "
		    "%lld, not %lld", t.id, t.version, r->if_version);
		goto out;
	}
	nuser = t.auser;
	nunit = t.aunit;
	pu = t.auser;
	pun = t.aunit;
	due = t.due_at;
	if (strcmp(s->verb, "assign") == 0) {
		nuser = x->auser;
		nunit = x->aunit;
	}
	if (strcmp(s->verb, "set-due") == 0)
		due = r->due_at;
	if ((rc = corp_db_prep(db, &st, "UPDATE tasks SET state = ?2, "
	    "version = version + 1, assignee_user_id = ?3, "
	    "assignee_org_unit_id = ?4, due_at = ?5, updated_at = ?6 "
	    "WHERE id = ?1", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, t.id);
	corp_bind_text(st, 2, s->to ? s->to : t.state);
	corp_bind_id(st, 3, nuser);
	corp_bind_id(st, 4, nunit);
	if (due)
		corp_bind_int64(st, 5, (long long)due);
	corp_bind_int64(st, 6, (long long)now);
	if ((rc = corp_db_exec(db, st, "update task", err)) != 0)
		goto out;
	if (strcmp(s->verb, "submit") == 0) {
		if ((rc = corp_db_prep(db, &st, "INSERT INTO task_reports "
		    "(task_id, version, author_user_id, on_behalf_of_user_id, "
		    "text, link, file_ref, submitted_at) VALUES (?1, (SELECT "
		    "coalesce(max(version), 0) + 1 FROM task_reports WHERE "
		    "task_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
		    err)) != 0)
			goto out;
		corp_bind_int64(st, 1, t.id);
		corp_bind_int64(st, 2, actor);
		corp_bind_id(st, 3, behalf);
		corp_bind_text(st, 4, r->text);
		corp_bind_text(st, 5, r->link);
		corp_bind_text(st, 6, r->file_ref);
		corp_bind_int64(st, 7, (long long)now);
		if ((rc = corp_step(st)) != SQLITE_ROW) {
			rc = corp_db_fail(db, rc, "store report", err);
			corp_reset(st);
			goto out;
		}
		rep = corp_col_int64(st, 0);
		corp_reset(st);
	} else if (rep > 0) {
		if ((rc = corp_db_prep(db, &st, "UPDATE task_reports SET "
		    "status = ?2, decided_by_user_id = ?3, decided_at = ?4, "
		    "reason = ?5 WHERE id = ?1", err)) != 0)
			goto out;
		corp_bind_int64(st, 1, rep);
		corp_bind_text(st, 2, strcmp(s->verb, "approve") == 0 ?
		    "approved" : "rejected");
		corp_bind_int64(st, 3, actor);
		corp_bind_int64(st, 4, (long long)now);
		corp_bind_text(st, 5, r->reason);
		if ((rc = corp_db_exec(db, st, "decide report", err)) != 0)
			goto out;
	}
	if ((rc = event_for(db, t.id, s->event, actor, behalf, e, err)) != 0)
		goto out;
	e->report_id = rep;
	if (strcmp(s->verb, "assign") == 0) {
		e->previous_assignee_user_id = pu;
		e->previous_assignee_org_unit_id = pun;
	}
	if (strcmp(s->verb, "reject") == 0 || strcmp(s->verb, "cancel") == 0)
		e->reason = corp_strdup(r->reason);
out:
	return rc;
}

int
corp_task_check_names(struct corp_db *db, const struct corp_task_req *r,
    struct corp_err *err)
{
	struct verdict v;
	struct refs x;
	long long actor;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = validate(r, err)) != 0)
		return rc;
	if (!r->system && (rc = keep(&v, corp_dir_user_id(db, r->as, &actor,
	    NULL, err), err)) != 0)
		return rc;
	rc = resolve(db, r, &x, &v, err);
	refs_free(&x);
	if (rc != 0)
		return rc;
	if (v.code != 0)
		*err = v.e;
	return v.code;
}

/* The checks before any read and the key's hash (hex: 65 bytes). */
static int
run_prepare(const struct corp_task_req *r, char *hex, struct corp_err *err)
{
	json_t *args;
	int rc;

	if ((rc = validate(r, err)) != 0)
		return rc;
	if (r->idem_key != NULL) {
		args = canonical(r);
		rc = corp_idem_hash(r->verb, args, hex, err);
		json_decref(args);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The transition itself, inside the write transaction (run_prepare'd). */
static int
run_tx(struct corp_db *db, const struct corp_task_req *r, const char *hex,
    char **output, int *replayed, struct corp_err *err)
{
	struct corp_event e;
	struct verdict v;
	struct refs x;
	long long actor = 0, tid = 0;
	json_t *o;
	time_t now = corp_now();
	int rc, active = 0, found, code, dup;

	*output = NULL;
	*replayed = 0;
	memset(&e, 0, sizeof(e));
	memset(&v, 0, sizeof(v));
	memset(&x, 0, sizeof(x));
	if (r->system) {
		if (strcmp(r->verb, "create") != 0 || r->template_id <= 0 ||
		    r->idem_key != NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "the system actor "
			    "only creates template instances");
			goto fail;
		}
		actor = 0;
		active = 1;
	} else if ((rc = keep(&v, corp_dir_user_id(db, r->as, &actor,
	    &active, err), err)) != 0)
		goto fail;
	/* A known actor's stored answer comes first: a retry replays it
	 * (nothing was written: the transaction may end either way). */
	if (r->idem_key != NULL && v.code == 0) {
		if ((rc = corp_idem_lookup(db, actor, r->verb, r->idem_key,
		    hex, &found, &code, output, err)) != 0)
			goto fail;
		if (found) {
			*replayed = 1;
			return code;
		}
	}
	/*
	 * Refusals in the documented order (task.h): every name looked up
	 * first, then invalid input, then not found; only then the actor's
	 * rights (77) and the task's state (79).
	 */
	if ((rc = resolve(db, r, &x, &v, err)) != 0)
		goto fail;
	if (v.code != 0) {
		*err = v.e;
		rc = v.code;
		goto fail;
	}
	if (!active) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "user '%s' is inactive",
		    r->as);
		goto fail;
	}
	if (strcmp(r->verb, "create") == 0)
		rc = create(db, r, actor, now, &x, &tid, &e, err);
	else {
		tid = r->task_id;
		rc = transition(db, r, actor, now, &x, &e, err);
	}
	if (rc != 0)
		goto fail;
	if (e.event_type != NULL) {
		e.occurred_at = now;
		if ((rc = corp_event_append(db, &e, &dup, err)) != 0)
			goto fail;
		if (dup) {
			rc = corp_errf(err, CORP_ECONFLICT, "event %s exists",
			    e.dedupe_key);
			goto fail;
		}
	}
	if (r->also != NULL && (rc = r->also(db, tid, r->also_arg, err)) != 0)
		goto fail;
	if ((rc = corp_task_json(db, tid, &o, err)) != 0)
		goto fail;
	json_object_set_new(o, "event_id", corp_json_idval(e.event_id));
	*output = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (*output == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto fail;
	}
	if (r->idem_key != NULL && (rc = corp_idem_store(db, actor, r->verb,
	    r->idem_key, hex, 0, *output, err)) != 0)
		goto fail;
	corp_event_free(&e);
	refs_free(&x);
	return 0;
fail:
	corp_event_free(&e);
	refs_free(&x);
	free(*output);
	*output = NULL;
	return rc;
}

int
corp_task_run_tx(struct corp_db *db, const struct corp_task_req *r,
    char **output, int *replayed, struct corp_err *err)
{
	char hex[65];
	int rc;

	*output = NULL;
	*replayed = 0;
	if ((rc = run_prepare(r, hex, err)) != 0)
		return rc;
	return run_tx(db, r, hex, output, replayed, err);
}

struct run_args {
	const struct corp_task_req *r;
	const char	*hex;
	char		**output;
	int		*replayed;
};

static int
run_cb(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct run_args *a = arg;

	return run_tx(db, a->r, a->hex, a->output, a->replayed, err);
}

int
corp_task_run(struct corp_db *db, const struct corp_task_req *r,
    char **output, int *replayed, struct corp_err *err)
{
	char hex[65];
	struct run_args a = { r, hex, output, replayed };
	int rc;

	*output = NULL;
	*replayed = 0;
	/* Refused before the write lock is taken, as before. */
	if ((rc = run_prepare(r, hex, err)) != 0)
		return rc;
	if ((rc = corp_db_tx(db, run_cb, &a, err)) != 0 && !*replayed) {
		free(*output);
		*output = NULL;
	}
	return rc;
}

static const char TASK_SQL[] =
    "SELECT t.id, t.title, t.description, t.state, t.version, "
    "t.initiator_user_id, i.login, t.assignee_user_id, a.login, "
    "t.assignee_org_unit_id, o.name, t.due_at, t.template_id, t.period_key, "
    "t.created_at, t.updated_at, "
    "t.due_at IS NOT NULL AND t.due_at < ?2 AND t.state IN ('OPEN', "
    "'WAITING_APPROVAL') "
    "FROM tasks t LEFT JOIN users i ON i.id = t.initiator_user_id "
    "LEFT JOIN users a ON a.id = t.assignee_user_id "
    "JOIN org_units o ON o.id = t.assignee_org_unit_id "
    "WHERE (?1 IS NULL OR t.id = ?1) AND (?3 IS NULL OR t.state = ?3) "
    "AND (?4 IS NULL OR a.login = ?4) AND (?5 IS NULL OR i.login = ?5) "
    "AND (?6 IS NULL OR o.name = ?6) AND (?7 IS NULL OR t.period_key = ?7) "
    "AND (?8 IS NULL OR t.template_id = ?8) "
    "AND (NOT ?9 OR (t.due_at IS NOT NULL AND t.due_at < ?2 AND t.state IN "
    "('OPEN', 'WAITING_APPROVAL'))) ORDER BY t.id";

static json_t *
task_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:I, "
	    "s:s, s:o, s:b, s:o, s:o, s:o, s:o}",
	    "task_id", (json_int_t)corp_col_int64(st, 0),
	    "title", corp_col_text(st, 1),
	    "description", corp_col_text(st, 2),
	    "state", corp_col_text(st, 3),
	    "version", (json_int_t)corp_col_int64(st, 4),
	    "initiator_user_id", corp_json_idval(corp_col_int64(st, 5)),
	    "initiator", corp_json_strval(corp_col_text(st, 6)),
	    "assignee_user_id", corp_json_idval(corp_col_int64(st, 7)),
	    "assignee", corp_json_strval(corp_col_text(st, 8)),
	    "assignee_org_unit_id", (json_int_t)corp_col_int64(st, 9),
	    "assignee_unit", corp_col_text(st, 10),
	    "due_at", corp_json_time(corp_col_int64(st, 11)),
	    "overdue", corp_col_int(st, 16),
	    "template_id", corp_json_idval(corp_col_int64(st, 12)),
	    "period_key", corp_json_strval(corp_col_text(st, 13)),
	    "created_at", corp_json_time(corp_col_int64(st, 14)),
	    "updated_at", corp_json_time(corp_col_int64(st, 15)));
}

struct idset {
	long long	*v;
	size_t		 n, cap;
	int		 oom;
};

static int
addid(long long tid, long long uid, const char *role, void *arg)
{
	struct idset *s = arg;
	long long *nv;

	(void)uid;
	(void)role;
	if (s->n > 0 && s->v[s->n - 1] == tid)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((nv = reallocarray(s->v, s->cap, sizeof(*nv))) == NULL) {
			s->oom = 1;
			return 1;
		}
		s->v = nv;
	}
	s->v[s->n++] = tid;
	return 0;
}

static int
cmpid(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int
task_rows(struct corp_db *db, long long id, const struct corp_task_filter *f,
    long long viewer, json_t **array, struct corp_err *err)
{
	struct corp_task_filter none;
	struct idset vis = { NULL, 0, 0, 0 };
	struct corp_stmt *st;
	time_t now = corp_now();
	long long tid;
	int rc;

	if (f == NULL) {
		memset(&none, 0, sizeof(none));
		f = &none;
	}
	if (viewer > 0) {
		/* The visibility function gives the user's tasks in order. */
		rc = corp_viewers_tasks(db, id, viewer, now, addid, &vis, err);
		if (vis.oom)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		if (rc != 0) {
			free(vis.v);
			return rc;
		}
	}
	if ((rc = corp_db_prep(db, &st, TASK_SQL, err)) != 0) {
		free(vis.v);
		return rc;
	}
	corp_bind_id(st, 1, id);
	corp_bind_int64(st, 2, (long long)now);
	corp_bind_text(st, 3, f->state);
	corp_bind_text(st, 4, f->assignee);
	corp_bind_text(st, 5, f->initiator);
	corp_bind_text(st, 6, f->unit);
	corp_bind_text(st, 7, f->period_key);
	corp_bind_id(st, 8, f->template_id);
	corp_bind_int(st, 9, f->overdue != 0);
	*array = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		tid = corp_col_int64(st, 0);
		if (viewer > 0 && (vis.n == 0 || bsearch(&tid, vis.v, vis.n,
		    sizeof(tid), cmpid) == NULL))
			continue;
		json_array_append_new(*array, task_row(st));
	}
	free(vis.v);
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "list tasks", err);
		corp_reset(st);
		json_decref(*array);
		*array = NULL;
		return rc;
	}
	corp_reset(st);
	return 0;
}

int
corp_task_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	if ((rc = task_rows(db, id, NULL, 0, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND, "task %lld: not found",
		    id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_task_list(struct corp_db *db, const struct corp_task_filter *f,
    long long viewer, json_t **array, struct corp_err *err)
{
	return task_rows(db, 0, f, viewer, array, err);
}

int
corp_task_may_see(struct corp_db *db, long long task_id, const char *login,
    struct corp_err *err)
{
	struct task t;
	long long uid;
	int rc, yes;

	if ((rc = task_load(db, task_id, &t, err)) != 0)
		return rc;
	task_free(&t);
	if ((rc = corp_dir_user_id(db, login, &uid, NULL, err)) != 0)
		return rc;
	if ((rc = corp_may_see(db, task_id, uid, corp_now(), &yes, NULL,
	    err)) != 0)
		return rc;
	if (!yes)
		return corp_errf(err, CORP_EFORBIDDEN, "task %lld: not "
		    "visible to '%s'", task_id, login);
	return 0;
}

static json_t *
report_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, "
	    "s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o}",
	    "report_id", (json_int_t)corp_col_int64(st, 0),
	    "task_id", (json_int_t)corp_col_int64(st, 1),
	    "version", (json_int_t)corp_col_int64(st, 2),
	    "author_user_id", (json_int_t)corp_col_int64(st, 3),
	    "author", corp_col_text(st, 4),
	    "on_behalf_of_user_id",
	    corp_json_idval(corp_col_int64(st, 5)),
	    "text", corp_col_text(st, 6),
	    "link", corp_json_strval(corp_col_text(st, 7)),
	    "file", corp_json_strval(corp_col_text(st, 8)),
	    "submitted_at", corp_json_time(corp_col_int64(st, 9)),
	    "status", corp_col_text(st, 10),
	    "decided_by_user_id",
	    corp_json_idval(corp_col_int64(st, 11)),
	    "decided_at", corp_json_time(corp_col_int64(st, 12)),
	    "reason", corp_json_strval(corp_col_text(st, 13)));
}

int
corp_task_reports(struct corp_db *db, long long task_id, json_t **array,
    struct corp_err *err)
{
	struct corp_stmt *st;
	struct task t;
	int rc;

	if ((rc = task_load(db, task_id, &t, err)) != 0)
		return rc;
	task_free(&t);
	if ((rc = corp_db_prep(db, &st, "SELECT r.id, r.task_id, r.version, "
	    "r.author_user_id, a.login, r.on_behalf_of_user_id, r.text, r.link, "
	    "r.file_ref, r.submitted_at, r.status, r.decided_by_user_id, "
	    "r.decided_at, r.reason FROM task_reports r "
	    "JOIN users a ON a.id = r.author_user_id "
	    "WHERE r.task_id = ?1 ORDER BY r.version", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, task_id);
	return corp_db_rows(db, st, report_row, array, "list reports", err);
}

/* For the scheduler: has template tid an instance for period key? */
int
corp_task_instance_exists(struct corp_db *db, long long tid, const char *key,
    int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM tasks WHERE "
	    "template_id = ?1 AND period_key = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, tid);
	corp_bind_text(st, 2, key);
	return corp_db_exists(db, st, yes, "read tasks", err);
}

int
corp_task_exists(struct corp_db *db, long long id, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM tasks WHERE id = ?1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
	    "task %lld: not found", id) : corp_db_fail(db, rc, "read task", err);
}

int
corp_task_values(struct corp_db *db, long long id, struct corp_event *e,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT initiator_user_id, "
	    "assignee_user_id, assignee_org_unit_id, title, due_at, "
	    "template_id, period_key, version FROM tasks WHERE id = ?1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		corp_reset(st);
		return rc == SQLITE_DONE ? corp_errf(err, CORP_ENOTFOUND,
		    "task %lld: not found", id) :
		    corp_db_fail(db, rc, "read task", err);
	}
	e->task_id = id;
	e->initiator_user_id = corp_col_int64(st, 0);
	e->assignee_user_id = corp_col_int64(st, 1);
	e->assignee_org_unit_id = corp_col_int64(st, 2);
	e->title = corp_strdup(corp_col_text(st, 3));
	e->due_at = (time_t)corp_col_int64(st, 4);
	e->template_id = corp_col_int64(st, 5);
	e->period_key = corp_strdup(corp_col_text(st, 6));
	e->task_version = corp_col_int64(st, 7);
	corp_reset(st);
	return 0;
}
