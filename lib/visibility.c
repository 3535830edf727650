/* visibility.c -- see visibility.h.  The one query lives here. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"
#include "visibility.h"

/*
 * ?1..?5: explicit subject (initiator, assignee user, assignee unit,
 * draft, use-it flag); ?6: use stored tasks (1) ; ?7: only this task
 * (NULL: all); ?8: the instant; ?9: admins see all (1/0); ?10: only this
 * user (NULL: all).
 */
static const char VIEWERS_SQL[] =
"WITH RECURSIVE\n"
" subj(sid, initiator, auser, aunit, draft) AS (\n"
"  SELECT 0, ?1, ?2, ?3, ?4 WHERE ?5 = 1\n"
"  UNION ALL\n"
"  SELECT id, initiator_user_id, assignee_user_id, assignee_org_unit_id,\n"
"         state = 'DRAFT'\n"
"  FROM tasks WHERE ?6 = 1 AND (?7 IS NULL OR id = ?7)),\n"
" up(sid, unit, depth) AS (\n"
"  SELECT sid, aunit, 0 FROM subj WHERE aunit IS NOT NULL AND NOT draft\n"
"  UNION\n"
"  SELECT up.sid, o.parent_id, up.depth + 1 FROM up\n"
"  JOIN org_units o ON o.id = up.unit\n"
"  WHERE o.parent_id IS NOT NULL AND up.depth < 1000),\n"
" executor(sid, uid) AS (\n"
"  SELECT sid, auser FROM subj WHERE auser IS NOT NULL AND NOT draft\n"
"  UNION\n"
"  SELECT s.sid, u.id FROM subj s JOIN users u\n"
"   ON u.org_unit_id = s.aunit AND u.active = 1\n"
"  WHERE s.auser IS NULL AND NOT s.draft),\n"
" base(sid, uid, role) AS (\n"
"  SELECT sid, uid, 'executor' FROM executor\n"
"  UNION\n"
"  SELECT sid, initiator, 'initiator' FROM subj\n"
"  WHERE initiator IS NOT NULL\n"
"  UNION\n"
"  SELECT up.sid, o.head_user_id, 'supervisor' FROM up\n"
"  JOIN org_units o ON o.id = up.unit\n"
"  WHERE o.head_user_id IS NOT NULL AND NOT EXISTS (\n"
"   SELECT 1 FROM executor e WHERE e.sid = up.sid\n"
"   AND e.uid = o.head_user_id)),\n"
" viewer(sid, uid, role) AS (\n"
"  SELECT sid, uid, role FROM base\n"
"  UNION\n"
"  SELECT b.sid, d.deputy_id, 'deputy:' || b.role FROM base b\n"
"  JOIN users p ON p.id = b.uid AND p.active = 1\n"
"  JOIN delegations d ON d.principal_id = b.uid\n"
"   AND d.valid_from <= ?8 AND ?8 < d.valid_until\n"
"   AND d.revoked_at IS NULL\n"
"  UNION\n"
"  SELECT s.sid, u.id, 'admin' FROM subj s JOIN users u\n"
"   ON u.is_admin = 1 WHERE ?9 = 1)\n"
"SELECT v.sid, v.uid, v.role FROM viewer v\n"
"JOIN users u ON u.id = v.uid AND u.active = 1\n"
"WHERE ?10 IS NULL OR v.uid = ?10\n"
"ORDER BY v.sid, v.uid, v.role";

static int
walk(struct corp_db *db, struct corp_stmt *st, corp_viewer_fn fn, void *arg,
    struct corp_err *err)
{
	int rc;

	while ((rc = corp_step(st)) == SQLITE_ROW) {
		int r = fn(corp_col_int64(st, 0),
		    corp_col_int64(st, 1),
		    corp_col_text(st, 2), arg);
		if (r != 0) {
			corp_reset(st);
			return r;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "visibility", err);
		corp_reset(st);
		return rc;
	}
	corp_reset(st);
	return 0;
}

int
corp_viewers_of(struct corp_db *db, const struct corp_subject *s, time_t at,
    corp_viewer_fn fn, void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, VIEWERS_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, s->initiator);
	corp_bind_id(st, 2, s->assignee_user);
	corp_bind_id(st, 3, s->assignee_unit);
	corp_bind_int(st, 4, s->draft != 0);
	corp_bind_int(st, 5, 1);
	corp_bind_int(st, 6, 0);
	corp_bind_int64(st, 8, (long long)at);
	corp_bind_int(st, 9, corp_cfg.admin_all);
	return walk(db, st, fn, arg, err);
}

int
corp_viewers_tasks(struct corp_db *db, long long task_id, long long user_id,
    time_t at, corp_viewer_fn fn, void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, VIEWERS_SQL, err)) != 0)
		return rc;
	corp_bind_int(st, 5, 0);
	corp_bind_int(st, 6, 1);
	corp_bind_id(st, 7, task_id);
	corp_bind_int64(st, 8, (long long)at);
	corp_bind_int(st, 9, corp_cfg.admin_all);
	corp_bind_id(st, 10, user_id);
	return walk(db, st, fn, arg, err);
}

int
corp_event_subject(struct corp_db *db, long long tid, struct corp_subject *s,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT initiator_user_id, "
	    "assignee_user_id, assignee_org_unit_id, state = 'DRAFT' "
	    "FROM tasks WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, tid);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		if (s->assignee_unit <= 0) {
			s->initiator = corp_col_int64(st, 0);
			s->assignee_user = corp_col_int64(st, 1);
			s->assignee_unit = corp_col_int64(st, 2);
		}
		s->draft = s->draft || corp_col_int(st, 3);
		rc = SQLITE_DONE;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read task", err);
	return 0;
}

struct collect {
	char	*roles;
	int	 oom;
};

static int
collect(long long tid, long long uid, const char *role, void *arg)
{
	struct collect *c = arg;
	char *n;

	(void)tid;
	(void)uid;
	if (corp_asprintf(&n, "%s%s%s", c->roles ? c->roles : "",
	    c->roles ? "," : "", role) < 0) {
		c->oom = 1;
		return 1;
	}
	free(c->roles);
	c->roles = n;
	return 0;
}

int
corp_may_see(struct corp_db *db, long long task_id, long long user_id,
    time_t at, int *yes, char **roles, struct corp_err *err)
{
	struct collect c = { NULL, 0 };
	int rc;

	*yes = 0;
	if (roles)
		*roles = NULL;
	rc = corp_viewers_tasks(db, task_id, user_id, at, collect, &c, err);
	if (c.oom) {
		free(c.roles);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if (rc != 0) {
		free(c.roles);
		return rc;
	}
	*yes = c.roles != NULL;
	if (roles)
		*roles = c.roles;
	else
		free(c.roles);
	return 0;
}
