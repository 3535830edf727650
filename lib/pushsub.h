/*
 * pushsub.h -- the browsers' push subscriptions (issue 19, corp-bind.1
 * "PUSH SUBSCRIPTIONS", migration 0013).
 *
 * A user may receive Web Push in several browsers: one subscription per
 * endpoint, with its keys (p256dh, auth) in push_subscriptions.  The
 * user's binds row on channel push stands for them all: its address is
 * the endpoint bound last, and it is active while any subscription is
 * (so the rows on push wait, as on any channel, when none is).  A
 * delivery goes to every active subscription: the claim adds them to
 * the line ("subscriptions", corp-json.5), and the ack's "push_gone"
 * (the endpoints that answered 404 or 410) deactivates those.
 *
 * The SSRF rule of webhooks (netaddr.h, config webhook.allow) applies
 * to an endpoint when it is bound (corp_push_reachable, pushsend.h) and
 * again on
 * every connection (http.h, corp_http_ssrf).
 */
#ifndef CORP_PUSHSUB_H
#define CORP_PUSHSUB_H

#include <stddef.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

/* How many of the user's subscriptions are active. */
int	corp_pushsub_count(struct corp_db *, long long user_id, long long *n,
	    struct corp_err *);
/*
 * Inside the caller's write transaction: deactivate the user's
 * subscriptions (endpoint NULL: all of them) with by ("operator",
 * "delivery").  *left (may be NULL): how many stay active.
 */
int	corp_pushsub_off_tx(struct corp_db *, long long user_id,
	    const char *endpoint, const char *by, long long *left,
	    struct corp_err *);
/*
 * The ack of a push line of delivery_id, stored by the lease's holder,
 * in the caller's write transaction: each endpoint of its "push_gone"
 * array is deactivated ("delivery"); when none of the user's
 * subscriptions is left, so is the bind.  A line without push_gone, or
 * a row not on push, changes nothing.
 */
int	corp_pushsub_ack_tx(struct corp_db *, long long delivery_id,
	    json_t *line, struct corp_err *);
/* The user's active subscriptions, for the claim: a JSON array of
 * {"endpoint", "keys": {"p256dh", "auth"}}. */
int	corp_pushsub_json(struct corp_db *, long long user_id, json_t **arr,
	    struct corp_err *);

#endif
