/*
 * sender.h -- send one formatted delivery line and make its ack
 * (DESIGN 5, 6; corp-send.1): what corp-send does to each line of its
 * input and corp-deliver run to each row it claims.  One implementation,
 * so the pipe and the loop follow the same rules: a line with a result
 * passes on untouched; a line without delivery_id or lease is failed;
 * an expired lease is retry, not attempted; a line for another channel
 * is failed; a stage failure (a bad token, an unusable secret) makes
 * that line and every later one retry, not attempted, and sets the
 * stage's exit code.
 *
 * Channels: telegram (one reused HTTP handle, the shared limiter unless
 * CORP_RATE_LIMIT=off), webhook, email, exec, file, push (pushsend.h).
 *
 * URLs (CORP_TELEGRAM_API, webhooks.conf, --smtp-url, smtp.conf) pass
 * corp_url_check.  A request that never reached its server pauses the
 * endpoint (ratelimit.h, corp_down_*) and, while it is paused, lines
 * for it are retry, not attempted, "unreachable", without a request.
 * A server's retry_after is cut to max_pause.
 */
#ifndef CORP_SENDER_H
#define CORP_SENDER_H

#include <stddef.h>
#include <jansson.h>

struct corp_cidr;
struct corp_err;
struct corp_sendres;
struct corp_rl_store;
struct corp_sender;

struct corp_sender_opts {
	int			 allow_http;
	long long		 max_wait_ms;	/* limiter wait, default 5 s */
	long long		 max_pause;	/* s: a server's retry_after cap
						   (telegram.max_pause), 1 h */
	long			 total_ms, connect_ms, exec_ms;
	const char		*out;		/* file: the outbox */
	const char		*smtp_url, *from, *smtp_user;
	const struct corp_cidr	*allow;		/* webhook ranges allowed */
	size_t			 nallow;
	const char		*allow_hint;	/* what allows a range, for
						   a refusal (NULL: corp-send's
						   --allow) */
	const char		*push_subject;	/* VAPID sub: config
						   push.subject, --subject */
	struct corp_rl_store	*rl_store;	/* the limiter's state: NULL
						   the file (ratelimit.h) */
};

/* The defaults corp-send documents. */
void	corp_sender_opts_init(struct corp_sender_opts *);
/* A channel corp can send on? */
int	corp_sender_known(const char *channel);

/*
 * Open the channel's transport.  CORP_EUSAGE for a setting the operator
 * must fix before anything can run (an http:// API without allow_http,
 * no SMTP server); other codes for failures.  A missing or unsafe secret
 * is not an error here: it is a stage failure (see corp_sender_stage).
 */
int	corp_sender_open(struct corp_sender **, const char *channel,
	    const struct corp_sender_opts *, struct corp_err *);
void	corp_sender_close(struct corp_sender *);

enum {
	CORP_SENDER_DONE = 0,		/* ack fields added (or passed on) */
	CORP_SENDER_INVALID = 1,	/* no delivery_id or lease: failed */
	CORP_SENDER_STARTED = 2		/* in flight: corp_sender_wait */
};

/*
 * Send line (unless it already has a result) and add the ack fields
 * result, provider_message_id, error, [retry_after,] attempted.  res
 * (may be NULL) gets the outcome; res->result is -1 when the line was
 * passed on untouched.  Returns CORP_SENDER_DONE or _INVALID, or -1
 * with err (out of memory, the outbox unwritable): a failure of the
 * stage, never confused with a line's outcome.
 */
int	corp_sender_line(struct corp_sender *, json_t *line,
	    struct corp_sendres *res, struct corp_err *);
/*
 * Several lines in flight (corp-deliver run --inflight N; telegram and
 * webhook, other channels send one at a time and this does nothing): up
 * to n requests over reused connections (http.h corp_http_inflight).  The
 * caller keeps the rules of order: never two lines of one address in
 * flight, and one address's lines started in their order.
 *
 * corp_sender_start is corp_sender_line, except that a line whose
 * request is made returns CORP_SENDER_STARTED at once, without ack
 * fields; arg (not NULL) names it.  corp_sender_wait waits up to ms for
 * one such line to end: *arg its name (NULL: none ended), res and the
 * line's ack fields exactly as corp_sender_line would have set them.
 * The line must live until then.  corp_sender_pending: lines in flight.
 */
int	corp_sender_inflight(struct corp_sender *, int n, struct corp_err *);
/*
 * fn(arg, ms) is called before the sender sleeps ms for a rate-limit
 * slot (Telegram's limiter), so that the caller can store what it
 * collected first (corp-deliver run's acks: a crash during the wait
 * must not send them again).  NULL fn: none.
 */
void	corp_sender_on_wait(struct corp_sender *,
	    void (*fn)(void *, long long), void *arg);
int	corp_sender_start(struct corp_sender *, json_t *line, void *arg,
	    struct corp_sendres *res, struct corp_err *);
int	corp_sender_wait(struct corp_sender *, int ms, void **arg,
	    struct corp_sendres *res, struct corp_err *);
int	corp_sender_pending(const struct corp_sender *);

/* Before acks are printed or stored (file: fsync the outbox). */
int	corp_sender_flush(struct corp_sender *, struct corp_err *);
/* Does flushing do anything (may acks be printed at once)? */
int	corp_sender_buffers(const struct corp_sender *);

/*
 * The stage's state: 0, or the exit code of a stage failure.  *news (may
 * be NULL) gets the reason once, on the first call after the failure
 * happened, for the caller to report; NULL otherwise.
 */
int	corp_sender_stage(struct corp_sender *, const char **news);

/*
 * The stderr line about a line that was not sent ("delivery ID: RESULT:
 * ERROR trace=T"), into buf; 0 when there is nothing to report (sent,
 * passed on, or the stage failed: reported once instead).
 */
int	corp_sender_report(struct corp_sender *, json_t *line,
	    const struct corp_sendres *, char *buf, size_t len);

#endif
