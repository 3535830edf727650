/*
 * sched.h -- time-driven work (DESIGN 7): template instances for every
 * started period, and the due-date events.
 *
 * Both are idempotent and safe to run concurrently or repeatedly: an
 * instance is unique per (template, period) and carries the dedupe key
 * "tpl:T:PERIOD"; a due event carries "TASK_DUE_SOON:TASK:DUE_AT" or
 * "TASK_OVERDUE:TASK:DUE_AT", so each fires once per (task, due_at) and
 * a new due date may fire again.  Scheduler events have no actor and
 * auto true.
 */
#ifndef CORP_SCHED_H
#define CORP_SCHED_H

#include <time.h>

struct corp_db;
struct corp_err;

/* The most periods one run creates per template when catching up. */
#define CORP_SCHED_CATCHUP 31

struct corp_sched_stats {
	long long	templates, created, existing, skipped_old, failed;
	long long	due_soon, overdue;
};

/*
 * Create every missing instance of every active template whose period
 * started at or before horizon, at most catchup (the newest) per
 * template; older missed periods are counted in skipped_old.  A
 * template that cannot be instantiated (its assignee has no unit) is
 * counted in failed and reported through warn, the others go on.
 */
typedef void (*corp_sched_warn_fn)(const char *msg, void *);
int	corp_sched_instances(struct corp_db *, time_t horizon, int catchup,
	    corp_sched_warn_fn, void *, struct corp_sched_stats *,
	    struct corp_err *);
/* TASK_DUE_SOON for OPEN tasks due in (now, now + soon]; TASK_OVERDUE
 * for OPEN and WAITING_APPROVAL tasks due at or before now. */
int	corp_sched_due(struct corp_db *, long long soon,
	    struct corp_sched_stats *, struct corp_err *);

#endif
