/*
 * route.h -- corp-event route (DESIGN 4): every event past the
 * watermark becomes recipients with roles, a decision per recipient and
 * channel, and a delivery row for each 'created' decision.  One
 * transaction per batch; the watermark moves in the same transaction,
 * so a crash re-routes at most the batch in progress, and the unique
 * keys make routing twice create nothing twice.
 *
 * Visibility is evaluated at route time (corp_now()) by the one
 * visibility function, from the event's own values.  No delivery row
 * is ever created for a user outside that set (plus the previous
 * executor of a TASK_ASSIGNED): the no-leak rule.
 */
#ifndef CORP_ROUTE_H
#define CORP_ROUTE_H

#include <signal.h>
#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

enum corp_decision {
	CORP_D_CREATED, CORP_D_MUTED_CHANNEL, CORP_D_MUTED_TYPE,
	CORP_D_DISABLED, CORP_D_SELF, CORP_D_NO_BIND, CORP_D_REFUSED,
	CORP_D_FALLBACK, CORP_D_DIGESTED, CORP_D_N
};
extern const char *const corp_decision_names[CORP_D_N];

struct corp_route_stats {
	long long	events, recipients, rows, refused, expired, moved;
	long long	digests;	/* digests closed into a row */
	long long	decisions[CORP_D_N];
	long long	watermark;
};

/*
 * A setting's fallback channel (corp-settings.1 "Fallback"): decided
 * per recipient at route time ('fallback', the row on the other
 * channel); and corp_route, before it routes, moves the rows that waited
 * for a bind longer than fallback_after to the fallback channel their
 * row was made with, where the user has an active bind (or fails such a
 * row when the event already has a row there): one row per setting and
 * user, never one on each channel.  stats->moved counts both.
 *
 * With dry_run, each decision is handed to fn as a JSON object
 * {event_id, user_id, login, channel, roles, role, decision, row:{..}}
 * and nothing is written (the batch is rolled back).
 */
typedef int (*corp_route_fn)(json_t *, void *);
/*
 * corp-event route: corp_route batches until the log is routed, then
 * report(arg, stats) (always without follow; with follow only when a
 * round routed or expired something); with follow, again after each
 * commit of another connection (waits bounded, outside any transaction;
 * the schema checked each time) until *stop.  fn gets arg too.
 */
struct corp_route_hooks {
	corp_route_fn	 fn;
	/* after each pass */
	void		(*report)(void *, const struct corp_route_stats *);
	/* after each batch committed, the pass's stats so far; NULL: none */
	void		(*progress)(void *, const struct corp_route_stats *);
	void		*arg;
};
int	corp_route_loop(struct corp_db *, int batch, int dry_run, int follow,
	    volatile sig_atomic_t *stop, const struct corp_route_hooks *,
	    struct corp_err *);
/* The fallback moves alone, in their own transaction (route's start). */
int	corp_route_fallback(struct corp_db *, time_t now, long long *moved,
	    struct corp_err *);
int	corp_route(struct corp_db *, int batch, int dry_run,
	    const struct corp_route_hooks *, struct corp_route_stats *,
	    struct corp_err *);
int	corp_route_watermark(struct corp_db *, long long *, struct corp_err *);
/* When route last moved the watermark (corp-deliver.1 stats,
 * last_route_at); 0: never. */
int	corp_route_last(struct corp_db *, time_t *, struct corp_err *);
/* corp-deliver explain: the roles route stored for (event, user), a JSON
 * array, or JSON null when the user is not a recipient; the route
 * decisions of (event, user), [{channel, decision, role, roles,
 * decided_at, fallback, why}] by channel. */
int	corp_route_recipient_roles(struct corp_db *, long long event_id,
	    long long user_id, json_t **roles, struct corp_err *);
int	corp_route_decisions_json(struct corp_db *, long long event_id,
	    long long user_id, json_t **, struct corp_err *);
json_t	*corp_route_stats_json(const struct corp_route_stats *);

#endif
