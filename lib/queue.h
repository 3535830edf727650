/*
 * queue.h -- the delivery queue (DESIGN 5): the single source of truth.
 *
 * Status PENDING | SENT | FAILED (FAILED is the dead-letter queue).  A
 * leased row stays PENDING with lease_token and lease_until set.
 * Readiness ready | waiting_bind is kept up to date by binds,
 * preferences and ack; a ready row is due when not_before <= now.
 *
 * Every transition is a compare-and-set on (status, lease): a claim
 * takes only unleased rows, an ack changes only the row its lease
 * still holds (a late "sent" is kept when the row is not SENT and no
 * other live lease holds it).  Claims and acks run in one short
 * BEGIN IMMEDIATE transaction per batch; lines are printed only after
 * the commit, so a crash loses no printed ack and resends at most the
 * rows in flight.
 */
#ifndef CORP_QUEUE_H
#define CORP_QUEUE_H

#include <stdio.h>
#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

int	corp_queue_insert(struct corp_db *, long long event_id,
	    long long user_id, const char *channel, const char *role,
	    const char *roles, const char *priority, const char *msgkey,
	    int ready, time_t not_before, const char *fallback, time_t now,
	    struct corp_err *);
/*
 * route's rows of one event, as corp_queue_insert would insert them one
 * by one, in order (a row whose (event, user, channel) is taken is left
 * out), with one INSERT of CORP_QROWS rows at a time: on SQLite each
 * statement builds the IN lists of deliveries' CHECKs as ephemeral
 * tables, ~100 k instructions per statement, so a statement per row
 * cost as much as the row itself (tests/bench/PROFILE 10).
 */
struct corp_qrow {
	long long	 event_id, user_id;
	const char	*channel, *role, *roles, *priority, *msgkey;
	const char	*fallback;
	int		 ready;
	time_t		 not_before;
};
#define CORP_QROWS	32
int	corp_queue_insert_rows(struct corp_db *, const struct corp_qrow *,
	    size_t n, time_t now, struct corp_err *);
/* A digest's row (batchdigest.h): priority broadcast, template
 * "digest", digest the claim line's JSON object; *id the row's id, 0
 * when the event already has a row for the user on channel. */
int	corp_queue_insert_digest(struct corp_db *, long long event_id,
	    long long user_id, const char *channel, const char *role,
	    const char *roles, int ready, time_t not_before,
	    const char *digest, time_t now, long long *id, struct corp_err *);

/* Fail held rows older than hold_max_age (error expired_unbound). */
int	corp_queue_expire_held(struct corp_db *, time_t now,
	    const char *channel, long long *n, struct corp_err *);

/*
 * The fallback move (route.c's corp_route_fallback, inside its
 * transaction; corp-settings.1 "Fallback").  corp_queue_fallback_waiting:
 * the PENDING, unleased rows waiting for a bind since `since` or before
 * that were made with a fallback channel, in *v (*n; the caller frees
 * it).  corp_queue_fallback_move: that row, when it is still so, moved
 * to its fallback channel, ready, its attempts counted afresh (the log
 * kept): *done 1; or, when the event has a row for the user there
 * already, failed "fallback: a row on CHANNEL exists": *done 2; *done
 * 0 when the row changed meanwhile.  The caller checks the bind.
 */
struct corp_waiting {
	long long	id, event_id, user_id;
	char		channel[33], fallback[33];
};
int	corp_queue_fallback_waiting(struct corp_db *, time_t since,
	    struct corp_waiting **v, size_t *n, struct corp_err *);
int	corp_queue_fallback_move(struct corp_db *,
	    const struct corp_waiting *, time_t now, int *done,
	    struct corp_err *);

struct corp_claim {
	const char	*channel;
	long long	 after_event, after_user;	/* the cursor */
	int		 limit;
	long long	 lease_secs;
	const char	*worker;
	int		 peek;		/* read-only: no lease, no writes */
	int		 by_priority;	/* run: urgent, p2p, broadcast first */
	const char	*only_priority;	/* NULL or one priority */
	/* A warning for standard error (the host clock's, corp-deliver.1
	 * Locking): warn(warn_arg, message); NULL: none. */
	void		(*warn)(void *, const char *);
	void		*warn_arg;
};

/*
 * Lease up to limit rows and return their delivery lines (DESIGN 5 "The
 * line") in *lines (a JSON array).  *token gets the lease token.
 */
int	corp_queue_claim(struct corp_db *, const struct corp_claim *,
	    json_t **lines, char token[48], struct corp_err *);
/*
 * After a claim that leased nothing: *more 1 when rows of channel (of
 * only_priority, when not NULL) were left that the claim passed over
 * only because another claim was taking them at that moment
 * (PostgreSQL's SKIP LOCKED and the users' locks); 0 on SQLite, whose
 * claims run one at a time.
 */
int	corp_queue_contended(struct corp_db *, const char *channel,
	    const char *only_priority, int *more, struct corp_err *);
/*
 * Print a claim's lines to f, one per line (corp_out_json's bytes),
 * each event object serialised once for all the lines that carry it.
 * 0, or -1 with errno (EPIPE: the reader went away); *printed gets how
 * many lines went out whole.
 */
int	corp_queue_print_lines(FILE *, json_t *lines, size_t *printed);
/* Give back leases of token (on the listed ids, or all when ids NULL). */
int	corp_queue_release(struct corp_db *, const char *token,
	    const long long *ids, size_t nids, struct corp_err *);
/* Give back every lease held by worker (explicit --worker at start). */
/* Give back the leases of lines [from, n) of a claim (never sent, or
 * never seen by the reader): the one give-back of pending and run. */
int	corp_queue_release_lines(struct corp_db *, const char *token,
	    json_t *lines, size_t from, struct corp_err *);
int	corp_queue_release_worker(struct corp_db *, const char *worker,
	    long long *n, struct corp_err *);

/*
 * Apply a batch of ack lines in one transaction.  Each line gets
 * "stored": sent|retry|failed|unbound|unchanged added.  Lines without
 * delivery_id, lease or a known result, or with a lease never issued
 * for the row, get "stored":"unchanged" and an "ack_error"; *bad counts
 * them.  warn(warnarg, msg) (warn may be NULL) gets, after the commit,
 * each warning for standard error (a late sent refused while another
 * claim holds the row).
 */
int	corp_queue_ack(struct corp_db *, json_t **lines, size_t n, int *bad,
	    void (*warn)(void *, const char *), void *warnarg,
	    struct corp_err *);
/* Why an ack line cannot be applied, or NULL when it can (pure: for
 * the fuzzer and for callers that vet lines before a transaction). */
const char *corp_queue_ack_check(json_t *line);

struct corp_requeue {
	long long	 id, event_id;
	const char	*event_type;
	const char	*channel;
	int		 all_failed;
};
int	corp_queue_requeue(struct corp_db *, const struct corp_requeue *,
	    long long *n, struct corp_err *);
/*
 * Drop PENDING rows the operator gives up on (a row held for a text it
 * can never render, an event sent by mistake): they become FAILED with
 * error "cancelled by the operator", so dlq lists them and requeue can
 * bring them back.  A row leased now (a sender has it) is left alone;
 * SENT and FAILED rows are never touched.  With held, only rows held
 * without an attempt (held_since set).  At least one of id, event_id,
 * event_type, held (CORP_EUSAGE otherwise).  *n: rows cancelled.
 */
struct corp_cancel {
	long long	 id, event_id;
	const char	*event_type;
	const char	*channel;
	int		 held;
};
int	corp_queue_cancel(struct corp_db *, const struct corp_cancel *,
	    long long *n, struct corp_err *);
/* Recompute readiness of a user's PENDING rows on channel (binds). */
int	corp_queue_refresh_user(struct corp_db *, long long user_id,
	    const char *channel, time_t now, struct corp_err *);
/* Recompute quiet-hours not_before of a user's PENDING rows. */
int	corp_queue_refresh_quiet(struct corp_db *, long long user_id,
	    time_t now, struct corp_err *);
/* Fail PENDING rows muted by a new mute (error "muted"). */
int	corp_queue_mute(struct corp_db *, long long user_id, const char *kind,
	    const char *value, long long *n, struct corp_err *);

/*
 * A sent card as a button press sees it (tgbutton.c): found = 0 when no
 * delivery has the id (never, or pruned).  sent_at 0 while not SENT.
 */
struct corp_queue_card {
	int		found;
	long long	user_id, event_id;
	char		channel[16];
	time_t		sent_at;
	long long	message_id;	/* provider_message_id; 0: none */
};
int	corp_queue_card(struct corp_db *, long long delivery_id,
	    struct corp_queue_card *, struct corp_err *);

typedef int (*corp_row_fn)(json_t *, void *);
/*
 * The FAILED rows (of channel; NULL: all) with delivery_id > after, in
 * id order, at most limit (0: all) to fn; *total: how many such rows
 * there are in all (NULL: not counted), read just before the rows.
 */
int	corp_queue_dlq(struct corp_db *, const char *channel, long long after,
	    long long limit, long long *total, corp_row_fn, void *,
	    struct corp_err *);
/*
 * Delete SENT rows sent before sent_before and their attempts, or with
 * dry_run only count them; never PENDING or FAILED rows.  The caller
 * refuses a sent_before in the future (corp-deliver.1).
 */
struct corp_prune {
	long long	 rows, attempts;
	time_t		 oldest, newest;	/* sent_at; 0 when no row */
};
int	corp_queue_prune(struct corp_db *, time_t sent_before, int dry_run,
	    struct corp_prune *, struct corp_err *);
int	corp_queue_stats(struct corp_db *, json_t **, struct corp_err *);
/*
 * The ready PENDING rows of channel (with address: only those of users
 * whose active bind on it has that address, a webhook endpoint): how
 * many, and the creation time of the oldest (0: none).  What waits on a
 * paused endpoint (corp-deliver stats).
 */
int	corp_queue_waiting(struct corp_db *, const char *channel,
	    const char *address, long long *count, time_t *oldest,
	    struct corp_err *);
/*
 * The endpoint is back (corp-deliver unpause): the held rows of channel
 * (address as above) that wait for a later not_before, not leased, are
 * due now.  *n gets how many.
 */
int	corp_queue_unhold(struct corp_db *, const char *channel,
	    const char *address, long long *n, struct corp_err *);
/* A stored roles list ("executor,watcher") as a JSON array of strings. */
json_t	*corp_queue_roles_json(const char *);
/* Roles, decisions, binds, rows and every attempt of (event, login),
 * read from what route and ack stored. */
/* The highest event id all of whose rows are out of PENDING, at most
 * route's watermark: min(watermark, oldest PENDING event - 1), read in
 * one statement (one snapshot); corp-cursor's legacy cursor. */
int	corp_queue_settled(struct corp_db *, long long *n, struct corp_err *);
int	corp_queue_explain(struct corp_db *, long long event_id,
	    const char *login, json_t **, struct corp_err *);

#endif
