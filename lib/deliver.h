/*
 * deliver.h -- the delivery round and loop of "corp-deliver run"
 * (DESIGN 5, 6): claim by priority, format each line, send it, store
 * the acks in groups.  The pipe
 *
 *	corp-deliver pending | corp-fmt | corp-send CH | corp-deliver ack
 *
 * does the same with the same modules (queue, fmtline, sender); this
 * is the one place that orders format -> send -> ack in one process.
 * No transaction is ever open while a line is sent.  The library never
 * prints: messages go to the hooks.
 */
#ifndef CORP_DELIVER_H
#define CORP_DELIVER_H

#include <signal.h>
#include <jansson.h>

struct corp_catalog;
struct corp_db;
struct corp_err;
struct corp_sender;

#define CORP_DELIVER_CAUSES	8	/* configuration holds by cause */

struct corp_deliver_opts {
	const char	*channel, *worker;
	int		 batch, once, until_empty;
	int		 inflight;	/* lines in flight, 1..64 */
	long long	 lease_secs, max;	/* max 0: no limit */
	double		 share;		/* broadcast_share */
	const char	*fallback;	/* fallback_lang */
};

/* What a run did: the results of the sends, then what the acks stored
 * (sent, back in the queue, the DLQ, held for a configuration error by
 * cause). */
struct corp_deliver_stats {
	long long	 claimed, sent, retry, failed, unbound, released, done;
	long long	 st_sent, st_retry, dlq, held, held_other;
	struct {
		char		*error;
		long long	 n;
	}		 cause[CORP_DELIVER_CAUSES];
	int		 ncause;
};

struct corp_deliver_hooks {
	void	(*warn)(void *arg, const char *msg);	/* one stderr line */
	void	(*progress)(void *arg);			/* after each group */
	void	*arg;
};

struct corp_deliver;

int	corp_deliver_open(struct corp_deliver **, struct corp_db *,
	    struct corp_sender *, const struct corp_catalog *,
	    const struct corp_deliver_opts *, const struct corp_deliver_hooks *,
	    struct corp_deliver_stats *, struct corp_err *);
void	corp_deliver_close(struct corp_deliver *);
/*
 * One claim (by priority; the broadcast tail over share x batch given
 * back at once), each line formatted and sent, the acks stored in
 * groups after corp_sender_flush.  *got: rows claimed, -1 when the loop
 * must stop (stop set, the stage failed).  On an error: what was sent
 * is stored and the rest given back (their errors to the warn hook),
 * then the error is returned.
 */
int	corp_deliver_round(struct corp_deliver *, volatile sig_atomic_t *stop,
	    long long *got, struct corp_err *);
/*
 * Rounds until once, max, until_empty or stop; when nothing is due,
 * wait up to 500 ms for another connection's commit.  *code: the loop's
 * exit code (corp_deliver_code).  Returns an error as the round does.
 */
int	corp_deliver_loop(struct corp_deliver *, volatile sig_atomic_t *stop,
	    int *code, struct corp_err *);

/* The exit code of a loop whose stage ended with stage: a failure of
 * the loop itself, else 78 for rows held for a configuration error,
 * else 3 for rows put in the dead-letter queue (corp.7). */
int	corp_deliver_code(const struct corp_deliver_stats *, int stage);
/* 77 > 75 > any other failure (as 1) > 78 > 3 > 0. */
/*
 * The settings run reads once, before any child exists: broadcast_share
 * (0 < x <= 1, else 0.5) and fallback_lang into o (*fallback owns the
 * string); for webhook and push, config webhook.allow's ranges into
 * *allow and so (CORP_ECONFIG "config webhook.allow: ..." for a bad
 * one), with the hint a refusal names; telegram.max_pause (how long a
 * server's retry_after may stop sending); for push, push.subject (the
 * VAPID subject; *push_subject owns it).
 */
struct corp_cidr;
struct corp_sender_opts;
int	corp_deliver_settings(struct corp_db *, struct corp_deliver_opts *o,
	    char **fallback, struct corp_sender_opts *so,
	    struct corp_cidr **allow, char **push_subject, struct corp_err *);
/* The end of a run (corp-deliver.1), a line at a time: to fn one per
 * cause of a configuration hold ("CHANNEL: held N: CAUSE"), then to
 * summary the counts as stored ("CHANNEL: sent N retry N failed N held
 * N"). */
void	corp_deliver_report(const struct corp_deliver_stats *,
	    const char *channel, void (*fn)(void *, const char *),
	    void (*summary)(void *, const char *), void *arg);
int	corp_exit_worse(int a, int b);
/* n more rows held for cause error (NULL: none given). */
void	corp_deliver_stats_cause(struct corp_deliver_stats *,
	    const char *error, long long n);
void	corp_deliver_stats_free(struct corp_deliver_stats *);
/*
 * The summary object (corp-deliver.1 run); a child's (for_parent) adds
 * what the acks stored and the causes, cut so that its dump stays under
 * PIPE_BUF.  NULL when out of memory.
 */
json_t	*corp_deliver_stats_json(const struct corp_deliver_stats *,
	    const char *channel, long long elapsed_ms, int for_parent);
/* Add a child's summary line; -1 when it is not a summary. */
int	corp_deliver_stats_add(struct corp_deliver_stats *, const char *line);

/*
 * The key of a delivery line's order (corp-deliver.1 "Order"): its
 * user_id and its address, "UID:ADDRESS"; the rows of one user to one
 * destination stay in order, another user's are not held.
 */
#define CORP_ORDER_KEY_LEN	112
void	corp_line_order_key(json_t *line, char *buf, size_t len);

#endif
