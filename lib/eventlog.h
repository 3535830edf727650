/*
 * eventlog.h -- reading the event log (list, show, tail) with the
 * visibility rule for one user, and `emit` of events from other
 * producers (DESIGN 3 "Other producers").
 *
 * What a user may see (corp-event --as): a task event when the user is
 * among the viewers of the event's own values (the visibility function,
 * now); a task-less event when the user is one of its explicit
 * recipients; a topic event (seed 004) only as an admin.  Admins (with
 * CORP_ADMIN_POLICY=all) see every event; inactive users see none.
 */
#ifndef CORP_EVENTLOG_H
#define CORP_EVENTLOG_H

#include <time.h>
#include <jansson.h>

#include "event.h"

#include "jsonl.h"

struct corp_db;
struct corp_err;


/* Events in id order; *last gets the highest id examined (also of
 * events the viewer may not see), for a tail to go on from. */
/* Whether user uid sees topic events at all (the rule corp_eventlog_list
 * applies to them with viewer uid: an active admin). */
int	corp_eventlog_topic_viewer(struct corp_db *, long long uid, int *yes,
	    struct corp_err *);
int	corp_eventlog_list(struct corp_db *, const struct corp_event_filter *,
	    json_t **array, long long *last, struct corp_err *);
/* CORP_ENOTFOUND "task N: not found" unless task id exists. */
int	corp_eventlog_task_exists(struct corp_db *, long long id,
	    struct corp_err *);
/* One event as JSON; CORP_EFORBIDDEN when viewer > 0 may not see it. */
int	corp_eventlog_show(struct corp_db *, long long id, long long viewer,
	    json_t **, struct corp_err *);

/* Refused by emit: the state machine's and the scheduler's types. */
int	corp_event_type_reserved(const char *);
/*
 * Emit lines (objects from corp_jsonl_loop), all in one transaction:
 * each is validated, its logins resolved, and appended with dedupe key
 * "emit:SOURCE:KEY".  For each line fn gets rc 0 and the result
 * {event_id, dedupe_key, duplicate} (duplicate: the key was emitted
 * before, nothing written), or the line's refusal: bad input
 * CORP_EINVAL, an unknown event type or role CORP_EUSAGE (the type must
 * be known (names.h) or listed in new_types, NULL-terminated, may be
 * NULL; each recipient's role likewise in new_roles), unknown user or
 * task CORP_ENOTFOUND; a refused line writes nothing and the rest go
 * on.  CORP_EINTERNAL or CORP_ETEMP rolls back the whole batch and is
 * returned.  A producer's trace_id is kept.
 */
int	corp_eventlog_emit_batch(struct corp_db *, struct corp_jsonl_item *,
	    size_t n, const char *const *new_types,
	    const char *const *new_roles, corp_result_fn fn, void *arg,
	    struct corp_err *);

/*
 * corp-event tail: fn(arg, event) for each event past f->after that f
 * lets through, pages of 1000; then flush(arg) (non-zero: stop, 0
 * returned); then, with follow, wait outside any transaction for another
 * connection's commit (SQLite: PRAGMA data_version polled; PostgreSQL:
 * LISTEN/NOTIFY), check the schema, and read again.  Returns after
 * count events (0: no limit), fn's non-zero code, or an error.
 */
int	corp_eventlog_tail(struct corp_db *, struct corp_event_filter *f,
	    int follow, long long count, int (*fn)(void *, json_t *),
	    int (*flush)(void *), void *arg, struct corp_err *);

#endif
