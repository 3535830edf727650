/*
 * batchdigest.h -- digests of notifications (issue 19 "Digests";
 * corp-settings.1 "Digests"): a setting's events for one user collected
 * per period (digests, digest_members) and closed, when the period
 * ends, into ONE delivery row keyed on the first member event.  Route
 * calls it: route decides who may see an event (DESIGN 4), this module
 * only keeps what route decided.  (lib/digest.c is SHA-256, unrelated.)
 */
#ifndef CORP_BATCHDIGEST_H
#define CORP_BATCHDIGEST_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

/* The titles a digest's claim line lists (corp-json.5 "digest"). */
#define CORP_DIGEST_TITLES	5

/*
 * A period: a duration from 5m to 1d, or "daily@HH:MM".  0, or
 * CORP_EINVAL "digest 'X': expected ...".
 */
int	corp_batchdigest_period_check(const char *period, struct corp_err *);

/*
 * The end of the period running at now: the next multiple of the
 * duration counted from the epoch (UTC), or the next HH:MM of the
 * user's local day in the user's zone; always > now.
 */
int	corp_batchdigest_due(struct corp_db *, long long user_id,
	    const char *period, time_t now, time_t *due, struct corp_err *);

/* One member event of the user's digest (channel, period, due), made
 * when it is the first; a member already there is kept (idempotent). */
struct corp_digest_member {
	long long	 user_id, event_id;
	const char	*channel, *period, *role, *roles, *title;
	time_t		 due;
};
int	corp_batchdigest_join(struct corp_db *,
	    const struct corp_digest_member *, time_t now, struct corp_err *);

/*
 * Close every open digest whose period ended by now into one delivery
 * row (priority broadcast, template "digest", deliveries.digest the
 * line's {count, titles, events}), in one transaction; *closed counts
 * them.  Run twice, it makes no second row.
 */
int	corp_batchdigest_close(struct corp_db *, time_t now, long long *closed,
	    struct corp_err *);

/*
 * For explain: the digest event_id joined for user_id on channel,
 * {digest_id, period, due_at, count, delivery_id}, or *out NULL; *did
 * its row's id (0 when open).
 */
int	corp_batchdigest_of(struct corp_db *, long long event_id,
	    long long user_id, const char *channel, json_t **out,
	    long long *did, struct corp_err *);

#endif
