/*
 * sendpipe.h -- corp-send's stage (corp-send.1): each delivery line of
 * standard input sent on one channel (sender.h) and its ack passed on,
 * in input order.  While the channel buffers (file) the acks are held
 * and passed on after corp_sender_flush made them durable: at a pause
 * of the input, every 1000 lines, at the end, and before a failure is
 * returned (what was sent is passed on first).  The library never
 * prints: acks go to the out hook, stderr lines to warn.
 */
#ifndef CORP_SENDPIPE_H
#define CORP_SENDPIPE_H

#include <jansson.h>

struct corp_err;
struct corp_sender;

struct corp_sendpipe_hooks {
	/* One ack line; -1 when the reader went away (the stage stops). */
	int	(*out)(void *arg, json_t *ack);
	void	(*warn)(void *arg, const char *msg);	/* one stderr line */
	void	*arg;
};

/*
 * Standard input to its end.  *code: the stage's exit code, else
 * CORP_EINVAL (65) when a line was invalid or not JSON (the rest was
 * sent), else 0.  Returns a failure of the stage (out of memory, the
 * input or the outbox unreadable or unwritable) with err.
 */
int	corp_sendpipe_run(struct corp_sender *,
	    const struct corp_sendpipe_hooks *, int *code, struct corp_err *);

/*
 * A usage error in a pipe: each line of standard input passed on as
 * retry, not attempted, retry_after 0, with error, so that ack stores
 * it PENDING without an attempt and the lines leased come back at once
 * instead of after their lease (corp-send.1).  Lines that are not JSON
 * are dropped quietly; stops when out returns -1.
 */
void	corp_sendpipe_release(const char *error,
	    const struct corp_sendpipe_hooks *);

#endif
