/*
 * tgreply.h -- the bot's replies to updates go out: tg_outbox, filled by
 * the update handler (tgupdate.h) inside the update's transaction, is
 * sent through the Bot API after the commit, so a reply is never sent
 * for effects that were rolled back.
 */
#ifndef CORP_TGREPLY_H
#define CORP_TGREPLY_H

struct corp_db;
struct corp_err;
struct corp_http;
struct corp_rl;
struct corp_tg_counts;

/*
 * Send the pending replies of tg_outbox in order, through the shared
 * limiter rl (NULL: off), waiting at most max_wait_ms for a slot (0:
 * never wait).  Each reply is marked sent or failed in its own short
 * transaction right after its answer; one that would wait too long
 * stays pending, and so do later replies to its chat; after one that
 * meets a temporary failure every later reply stays pending.
 * CORP_EFORBIDDEN when the token is refused (401/404): the caller stops.
 * One flush per bot at a time: the flock tg-outbox-<bot>.lock.  The
 * counts' replies_* get what happened (pending: what is left).
 */
int	corp_tgreply_flush(struct corp_db *, struct corp_http *,
	    const char *api, const char *token, const char *bot,
	    struct corp_rl *, long long max_wait_ms, struct corp_tg_counts *,
	    struct corp_err *);

#endif
