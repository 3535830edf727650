/*
 * event.h -- the append-only event log (DESIGN 3, corp-json.5).
 *
 * corp_event_append() is the only writer: the caller holds the write
 * transaction that also made the change the event records, so both
 * commit or neither does.  A second append with the same dedupe key
 * writes nothing and returns the first event's id (*dup = 1).
 */
#ifndef CORP_EVENT_H
#define CORP_EVENT_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

struct corp_event {
	long long	 event_id;
	char		*event_type;
	char		*topic;
	time_t		 occurred_at;
	long long	 task_id, task_version;
	char		*state;
	long long	 report_id;
	long long	 actor_user_id, on_behalf_of_user_id;
	long long	 initiator_user_id;
	long long	 assignee_user_id, assignee_org_unit_id;
	long long	 previous_assignee_user_id;
	long long	 previous_assignee_org_unit_id;
	char		*period_key;
	int		 autoev;	/* "auto": by the scheduler */
	char		*reason;
	char		*title;
	time_t		 due_at;	/* 0: none */
	long long	 template_id;
	char		*trace_id;
	char		*dedupe_key;
	char		*source;
	char		*recipients;	/* JSON text or NULL */
	char		*payload;	/* JSON text or NULL */
};

void	corp_event_free(struct corp_event *);	/* frees the strings */
/* Fills event_id, occurred_at (when 0: corp_now()) and a fresh trace_id
 * when NULL. */
int	corp_event_append(struct corp_db *, struct corp_event *, int *dup,
	    struct corp_err *);
int	corp_event_get(struct corp_db *, long long id, struct corp_event *,
	    struct corp_err *);
/* The events after id `after`, in id order, at most limit of them, into
 * evs (room for limit); *n how many.  corp_event_free each. */
int	corp_event_page(struct corp_db *, long long after, int limit,
	    struct corp_event *evs, size_t *n, struct corp_err *);
/* Load the current row of a prepared SELECT of CORP_EVENT_COLUMNS. */
void	corp_event_from_row(void *stmt, int first_col, struct corp_event *);
#define CORP_EVENT_COLUMNS \
	"event_id, event_type, topic, occurred_at, task_id, task_version, " \
	"state, report_id, actor_user_id, on_behalf_of_user_id, " \
	"initiator_user_id, assignee_user_id, assignee_org_unit_id, " \
	"previous_assignee_user_id, previous_assignee_org_unit_id, " \
	"period_key, auto, reason, title, due_at, template_id, trace_id, " \
	"dedupe_key, source, recipients, payload"
/* The event as its documented JSON line (v: 1).  base_url may be NULL. */
json_t	*corp_event_json(const struct corp_event *, const char *base_url);
/* The largest event id (0 when none). */
int	corp_event_last_id(struct corp_db *, long long *, struct corp_err *);

/*
 * For names.c (the known names).  corp_event_type_seen: has an event of
 * type been stored (topics: topic events count too)?  corp_event_role_
 * emitted: is role the role of an explicit recipient of an emitted
 * event?  corp_event_recent_types / _roles: fn(arg, name) for the types
 * of the 10000 latest non-topic events, the recipients' roles of the
 * 1000 latest emitted events (repeats possible).
 */
int	corp_event_type_seen(struct corp_db *, const char *type, int topics,
	    int *yes, struct corp_err *);
int	corp_event_role_emitted(struct corp_db *, const char *role, int *yes,
	    struct corp_err *);
int	corp_event_recent_types(struct corp_db *,
	    void (*fn)(void *, const char *), void *arg, struct corp_err *);
int	corp_event_recent_roles(struct corp_db *,
	    void (*fn)(void *, const char *), void *arg, struct corp_err *);

struct corp_event_filter {
	long long	 after;		/* event_id > after */
	long long	 task_id;
	const char	*type;
	const char	*topic;
	int		 topics_only;	/* only topic events (any topic) */
	time_t		 since, until;	/* occurred_at in [since, until) */
	long long	 limit;		/* 0: no limit */
	long long	 viewer;	/* > 0: only what this user may see */
};
/*
 * Read up to page events past after that pass f's filters (not its
 * viewer: eventlog.c asks the visibility function) into *evs,
 * reallocated as needed (*cap); *n gets how many.
 */
int	corp_event_read(struct corp_db *, const struct corp_event_filter *f,
	    long long after, long long page, struct corp_event **evs,
	    size_t *cap, size_t *n, struct corp_err *);

#endif
