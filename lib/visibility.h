/*
 * visibility.h -- THE visibility function (DESIGN 3): who may see a task
 * and in which roles, from (initiator, assignee user, assignee unit,
 * draft) and the directory at an instant.  One set query serves every
 * caller: listings and "may U see T" pass the tasks' current values,
 * corp-event route passes an event's own values.  There is no second
 * implementation anywhere in corp.
 *
 * Roles: executor, initiator, supervisor, admin, deputy:ROLE.
 *  - executor: the assignee user, else every active direct member of the
 *    assignee unit;
 *  - supervisor: heads of the unit and its ancestors, minus executors;
 *  - initiator: the creator;
 *  - deputy:ROLE: the deputy of an active holder of ROLE (not admin)
 *    under a delegation active at the instant; not transitive;
 *  - admin: every active admin when CORP_ADMIN_POLICY=all;
 *  - a DRAFT has no executors and no supervisors;
 *  - inactive users hold no role.
 */
#ifndef CORP_VISIBILITY_H
#define CORP_VISIBILITY_H

#include <time.h>

struct corp_db;
struct corp_err;

struct corp_subject {
	long long	initiator;	/* 0 when none */
	long long	assignee_user;	/* 0 when none */
	long long	assignee_unit;
	int		draft;
};

/* Called once per (subject, user, role), ordered by subject, user, role.
 * A non-zero return stops the walk and is returned. */
typedef int (*corp_viewer_fn)(long long task_id, long long user_id,
    const char *role, void *arg);

/* Viewers of explicit values (an event's); task_id passed as 0. */
int	corp_viewers_of(struct corp_db *, const struct corp_subject *,
	    time_t at, corp_viewer_fn, void *, struct corp_err *);
/* Viewers of stored tasks with their current values: one task, or all
 * (task_id 0); only one user's roles when user_id > 0. */
int	corp_viewers_tasks(struct corp_db *, long long task_id,
	    long long user_id, time_t at, corp_viewer_fn, void *,
	    struct corp_err *);
/*
 * The subject of an event about task task_id (> 0): *s holds the event's
 * own values (initiator, assignee user, assignee unit; unit <= 0 when
 * the event carries none, then the task's current values are loaded);
 * draft (the event's state was DRAFT) is or-ed with the task's state
 * now, so that no event about a draft -- a task event or one emitted by
 * a producer -- reaches anyone the draft is hidden from, whichever path
 * asks (route, corp-event list and show).  A task gone: the event's
 * values as they are.
 */
int	corp_event_subject(struct corp_db *, long long task_id,
	    struct corp_subject *s, struct corp_err *);
/* May user see task now?  *roles (may be NULL) gets "r1,r2" or NULL;
 * the caller frees it.  Returns 0 (check *yes) or an error. */
int	corp_may_see(struct corp_db *, long long task_id, long long user_id,
	    time_t at, int *yes, char **roles, struct corp_err *);

#endif
