/*
 * task.h -- tasks and their state machine (DESIGN 3, ADR-012).
 *
 * corp_task_run() is the one path for every transition: in a single
 * BEGIN IMMEDIATE transaction it resolves the actor, answers a repeated
 * --idempotency-key from the stored answer, checks the role table
 * through the visibility function (corp_may_see), checks the state and
 * --if-version, changes the task and appends the event; the change,
 * the event and the stored answer commit together or not at all.
 *
 * Order of refusals, whatever the lookups meet first (every name is
 * looked up before any right is judged): malformed input, an inactive
 * or unit-less assignee, a bad period CORP_EINVAL; unknown task, actor,
 * assignee, unit or template CORP_ENOTFOUND; inactive actor or the role
 * table says no CORP_EFORBIDDEN; wrong state, stale version, key reused
 * for another request, duplicate (template, period) CORP_ECONFLICT.
 */
#ifndef CORP_TASK_H
#define CORP_TASK_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_event;

struct corp_task_req {
	const char	*verb;	/* create open assign set-due submit approve
				   reject cancel */
	const char	*as;		/* the actor's login */
	/*
	 * The scheduler: no actor (as is ignored), only "create" of a
	 * template instance; its event has actor null and auto true.
	 */
	int		 system;
	long long	 task_id;	/* all but create */
	long long	 if_version;	/* 0: none */
	const char	*idem_key;	/* NULL: none */
	/* create */
	const char	*title, *description;
	int		 draft;
	long long	 template_id;	/* > 0: an instance of a template */
	const char	*period_key;
	/* create, assign */
	const char	*assignee;	/* login */
	const char	*unit;		/* unit name */
	/* create, set-due: has_due with due_at 0 clears it */
	int		 has_due;
	time_t		 due_at;
	/* submit */
	const char	*text, *link, *file_ref;
	/* reject, cancel */
	const char	*reason;
	/*
	 * The caller's own writes, made inside the same transaction after
	 * the task changed and its event was appended (NULL: none), so that
	 * e.g. a proposal's approval and the task it creates commit
	 * together; a non-zero return rolls everything back.
	 */
	int		(*also)(struct corp_db *, long long task_id, void *arg,
			    struct corp_err *);
	void		*also_arg;
};

/*
 * Run one transition.  *output (caller frees) is the compact JSON line
 * to print: the task after it plus "event_id"; *replayed is 1 when it
 * is the stored answer of an earlier run with the same key.
 */
int	corp_task_run(struct corp_db *, const struct corp_task_req *,
	    char **output, int *replayed, struct corp_err *);
/*
 * The same inside the caller's write transaction (library-internal: a
 * Telegram button press runs a transition together with the rest of its
 * update); a refusal returns its code and leaves the caller to roll
 * back.
 */
int	corp_task_run_tx(struct corp_db *, const struct corp_task_req *,
	    char **output, int *replayed, struct corp_err *);

/*
 * The refusals corp_task_run would give before it judges any right
 * (CORP_EINVAL, then CORP_ENOTFOUND, in its order), writing nothing:
 * for a caller with checks of its own between those and the rest (a
 * proposal's approval: its admin check and its state).
 */
int	corp_task_check_names(struct corp_db *, const struct corp_task_req *,
	    struct corp_err *);

/*
 * An event of type for task as it is now, with no actor (the
 * scheduler's); dedupe key "task:ID:vVERSION" -- the caller replaces it.
 */
int	corp_task_event(struct corp_db *, long long task_id, const char *type,
	    struct corp_event *, struct corp_err *);

/* The task JSON of corp-json.5. */
int	corp_task_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);

struct corp_task_filter {
	const char	*state;
	const char	*assignee;	/* login */
	const char	*initiator;	/* login */
	const char	*unit;		/* name */
	const char	*period_key;
	long long	 template_id;
	int		 overdue;	/* due_at < now, OPEN/WAITING */
};
/* Tasks matching f, in id order; only those viewer may see (with the
 * visibility function) when viewer > 0. */
int	corp_task_list(struct corp_db *, const struct corp_task_filter *,
	    long long viewer, json_t **array, struct corp_err *);
/* The reports of a task, in version order. */
int	corp_task_reports(struct corp_db *, long long task_id,
	    json_t **array, struct corp_err *);
/* Refuse (CORP_EFORBIDDEN) unless the user may see the task now;
 * CORP_ENOTFOUND for an unknown task or login. */
int	corp_task_may_see(struct corp_db *, long long task_id,
	    const char *login, struct corp_err *);

/*
 * For the other modules (issue 17 point 6: tasks are read here).
 * corp_task_exists: 0, or CORP_ENOTFOUND "task N: not found".
 * corp_task_values: the task's values now into e (task_id, initiator,
 * assignee user and unit, title, due_at, template, period key,
 * version), CORP_ENOTFOUND when none.  corp_task_instance_exists: has
 * template tid an instance for period key?
 */
int	corp_task_exists(struct corp_db *, long long id, struct corp_err *);
int	corp_task_values(struct corp_db *, long long id, struct corp_event *,
	    struct corp_err *);
int	corp_task_instance_exists(struct corp_db *, long long tid,
	    const char *key, int *yes, struct corp_err *);

#endif
