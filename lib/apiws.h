/*
 * apiws.h -- corp-api's topics over WebSocket (corp-api.1 "Topics over
 * WebSocket"), apart from the library that carries the frames
 * (cmd/corp-api.c, libwebsockets).
 *
 * A connection's frames in are handled by corp_apiws_frame: the first
 * must be {"type":"auth","token":...}; then "subscribe" (topics, since)
 * and "ping".  Its frames out come from corp_apiws_read, which reads the
 * event log past the connection's position with the visibility rule of
 * corp-event tail --topic --as (eventlog.h): only committed events, in
 * id order, only those the user may see.  Neither holds a transaction
 * when it returns; the caller writes the frames afterwards.
 */
#ifndef CORP_APIWS_H
#define CORP_APIWS_H

#include <stddef.h>
#include <jansson.h>

struct corp_api;
struct corp_err;

struct corp_apiws {
	long long	 uid;		/* 0: not authenticated yet */
	char		*login;
	json_t		*topics;	/* subscribed topics; NULL: none */
	int		 spaces;	/* a space:UNIT_ID:TOPIC among them */
	long long	 after;		/* frames sent up to this event id */
};

/* What corp_apiws_frame asks of the connection. */
enum {
	CORP_APIWS_OK,		/* send *reply when not NULL, go on */
	CORP_APIWS_CLOSE	/* close with *close_code and err's message */
};

/*
 * One text frame from the client.  Returns CORP_APIWS_OK with *reply
 * (the answer, or an {"type":"error"} frame; caller's) or
 * CORP_APIWS_CLOSE with *close_code: 4401 a failed or missing
 * authentication, 4429 an address limited by failed ones, 1011 the
 * database failing.
 */
int	corp_apiws_frame(struct corp_api *, struct corp_apiws *,
	    const char *peer, const char *in, size_t len, json_t **reply,
	    int *close_code, struct corp_err *);
/* One read of the log for the clients of one user at one position. */
struct corp_apiws_batch {
	json_t		*frames;	/* every topic's frames, in id order */
	long long	 last;		/* the highest id examined */
	int		 flat;		/* the user sees the flat topics */
	json_t		*ties;		/* spaces: {"CHAT": UNIT_ID}, or NULL */
};

/*
 * The topic events past after, at most max of them examined, as frames
 * of every topic, into *b (corp_apiws_batch_free).  Without spaces:
 * those user uid may see (the rule and the call of corp-event tail
 * --topic --as), b->flat 1.  With spaces: every topic event, b->flat
 * whether uid sees them flat, b->ties the chats' spaces, for
 * corp_apiws_pick to filter.  Clients of one user at one position (and
 * spaces flag) share one read.  0 or a corp code.
 */
int	corp_apiws_read(struct corp_db *, long long uid, long long after,
	    long long max, int spaces, struct corp_apiws_batch *b,
	    struct corp_err *);
void	corp_apiws_batch_free(struct corp_apiws_batch *);
/* c's frames of a read made at c->after: each event once, under the
 * first of c's topics that carries it, in order (a new array; NULL when
 * out of memory); c->after moves to b->last. */
json_t	*corp_apiws_pick(struct corp_apiws *c, const struct corp_apiws_batch *b);
void	corp_apiws_free(struct corp_apiws *);

#endif
