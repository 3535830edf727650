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
#include <jansson.h>

struct corp_db;
struct corp_err;

enum corp_decision {
	CORP_D_CREATED, CORP_D_MUTED_CHANNEL, CORP_D_MUTED_TYPE,
	CORP_D_DISABLED, CORP_D_SELF, CORP_D_NO_BIND, CORP_D_REFUSED,
	CORP_D_N
};
extern const char *const corp_decision_names[CORP_D_N];

struct corp_route_stats {
	long long	events, recipients, rows, refused, expired;
	long long	decisions[CORP_D_N];
	long long	watermark;
};

/*
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
int	corp_route_loop(struct corp_db *, int batch, int dry_run, int follow,
	    volatile sig_atomic_t *stop, corp_route_fn fn,
	    void (*report)(void *, const struct corp_route_stats *),
	    void *arg, struct corp_err *);
int	corp_route(struct corp_db *, int batch, int dry_run, corp_route_fn,
	    void *, struct corp_route_stats *, struct corp_err *);
int	corp_route_watermark(struct corp_db *, long long *, struct corp_err *);
/* corp-deliver explain: the roles route stored for (event, user), a JSON
 * array, or JSON null when the user is not a recipient; the route
 * decisions of (event, user), [{channel, decision, role, roles,
 * decided_at}] by channel. */
int	corp_route_recipient_roles(struct corp_db *, long long event_id,
	    long long user_id, json_t **roles, struct corp_err *);
int	corp_route_decisions_json(struct corp_db *, long long event_id,
	    long long user_id, json_t **, struct corp_err *);
json_t	*corp_route_stats_json(const struct corp_route_stats *);

#endif
