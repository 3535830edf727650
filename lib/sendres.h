/*
 * sendres.h -- the outcome of one delivery attempt, shared by every
 * transport (corp-send.1, DESIGN 5): what the ack line reports.
 */
#ifndef CORP_SENDRES_H
#define CORP_SENDRES_H

enum corp_sendres_result {
	CORP_SEND_SENT = 0,
	CORP_SEND_RETRY,
	CORP_SEND_FAILED,
	CORP_SEND_UNBOUND
};

struct corp_sendres {
	int		result;		/* enum corp_sendres_result */
	int		attempted;	/* 0: the message surely did not leave */
	long long	retry_after;	/* seconds; < 0 when none */
	int		bad_token;	/* telegram 401/404: fail the stage */
	/*
	 * Why a retry was not attempted, for the ack's "error_class": NULL,
	 * "config" (held until the operator fixes it) or "unreachable"
	 * (the request never reached the server; the endpoint pauses).
	 */
	const char	*error_class;
	char		provider_id[128]; /* "" when none */
	char		error[512];	/* "" when none; never a secret */
};

/* Seconds a line held by the configuration waits (corp-send.1). */
#define CORP_SEND_HOLD_SECONDS	60

/* Reset to "sent, attempted, nothing else". */
void	corp_sendres_init(struct corp_sendres *);
/* Set result and a printf-style error. */
void	corp_sendres_set(struct corp_sendres *, int result, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The line cannot go out until the operator fixes the configuration (an
 * undefined endpoint or command, a missing secret): retry, not
 * attempted, retry_after CORP_SEND_HOLD_SECONDS, error_class "config".
 */
void	corp_sendres_hold(struct corp_sendres *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *corp_sendres_result_name(int);

#endif
