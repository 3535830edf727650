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
/*
 * The topic events past after that user uid may see (the rule and the
 * call of corp-event tail --topic --as), at most max of them examined,
 * as frames of every topic: *frames gets an array (caller's), *last the
 * highest id examined.  Clients of one user at one position share one
 * read (corp_apiws_pick filters it per subscription).  0 or a corp code.
 */
int	corp_apiws_read(struct corp_db *, long long uid, long long after,
	    long long max, json_t **frames, long long *last,
	    struct corp_err *);
/* c's frames of a read made at c->after: those of its topics, in order
 * (a new array; NULL when out of memory); c->after moves to last. */
json_t	*corp_apiws_pick(struct corp_apiws *c, json_t *frames,
	    long long last);
void	corp_apiws_free(struct corp_apiws *);

#endif
