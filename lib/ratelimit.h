/*
 * ratelimit.h -- a send-rate limiter shared by every process that uses
 * one credential (a Telegram bot token): corp-send telegram, corp-tg's
 * replies, any number of them at once (DESIGN 6).
 *
 * State lives in DATA_DIR/ratelimit/KIND-<first 16 hex of SHA-256(key)>.json
 * (the key itself is never written), read-modify-written under an flock
 * on that file:
 *
 *   {"v":1,"boot_id":"...","pause_until":MS,"sends":[[MS,"chat"],...]}
 *
 * MS are CLOCK_MONOTONIC milliseconds, meaningful only within one boot:
 * the file records the kernel's boot id and starts afresh when it
 * differs (or when it cannot be parsed).  "sends" is a sliding window of
 * send times, past and reserved: a new send gets the earliest time at or
 * after now and pause_until such that no window of W ms holds more than
 * N sends and no two sends to one chat are closer than W, where
 * W = 1000 ms / margin.  There is no stored credit, so nothing bursts
 * after a stall beyond what the window itself allows.
 *
 * When the database is PostgreSQL (CORP_DB), the same state lives in
 * the database instead, shared by every host that uses it: the tables
 * rate_limits (key_hash "KIND-<16 hex>", pause_until_ms) and
 * rate_limit_sends (key_hash, at_ms, chat), whose MS are the server's
 * clock_timestamp() in Unix milliseconds, read inside the transaction
 * that holds the key's row FOR UPDATE; the slot is computed the same
 * way (corp_rl_slot).
 *
 * The limiter gets its state through a store (struct corp_rl_store): the
 * file above when corp_rl_open is given none, or the PostgreSQL tables
 * of lib/rlstore_db.c (corp_rl_store_db), which the program chooses
 * (cmd/clisend.c cli_rl_store), so this file holds no SQL and a unit
 * test can give the limiter a store in memory (tests/unit/ratelimit.c).
 */
#ifndef CORP_RATELIMIT_H
#define CORP_RATELIMIT_H

#include <stddef.h>
#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_rl;

/* One send of the window: its time in ms and its chat ("": none). */
struct corp_rl_send {
	long long	 t;
	const char	*chat;
};

/* What a store shows the limiter of one key while it holds its lock. */
struct corp_rl_view {
	long long	 now;		/* the store's clock, ms */
	long long	 pause_until;	/* the key's 429 pause (ms) */
	long long	 chat_until;	/* the chat's own pause (0: none) */
	const struct corp_rl_send *s;	/* the sends later than now - w */
	size_t		 n;
};

/*
 * A store.  key is "KIND-<16 hex>".  open: once per corp_rl_open, *name
 * (allocated) names the state in messages.  lock: lock the key (against
 * every other process using it) and fill the view, valid until save or
 * unlock; on an error nothing stays locked.  save: under the lock, record
 * a send at t to chat (t < 0: none), set the key's pause to pause_until
 * (< 0: unchanged), raise chat's own pause to chat_until (0: unchanged),
 * then unlock, also on an error.  unlock: no change.  free: the store.
 */
struct corp_rl_store;
struct corp_rl_store_ops {
	int	(*open)(struct corp_rl_store *, const char *key, char **name,
		    struct corp_err *);
	int	(*lock)(struct corp_rl_store *, const char *key,
		    const char *chat, long long w, struct corp_rl_view *,
		    struct corp_err *);
	int	(*save)(struct corp_rl_store *, const char *key,
		    const char *chat, long long t, long long pause_until,
		    long long chat_until, struct corp_err *);
	void	(*unlock)(struct corp_rl_store *);
	void	(*free)(struct corp_rl_store *);
};
struct corp_rl_store {
	const struct corp_rl_store_ops *ops;
};

/*
 * PostgreSQL's tables (lib/rlstore_db.c): db NULL opens the store's own
 * connection (CORP_DB) at the first corp_rl_open, so that its short
 * transactions commit whatever the caller's connection is doing.
 */
int	corp_rl_store_db(struct corp_rl_store **, struct corp_db *db,
	    struct corp_err *);
void	corp_rl_store_free(struct corp_rl_store *);
/*
 * Before fork(): the store's own connection is closed, so that no two
 * processes share it; the next corp_rl_open (each child's) opens one
 * again.  A store given a connection, or the file, is left as it is.
 */
void	corp_rl_store_detach(struct corp_rl_store *);

/*
 * store: NULL for the file (DATA_DIR/ratelimit), else one that outlives
 * the handle.  kind names the file or the row ("telegram"); key is the
 * credential it is hashed from; per_sec sends per second overall; margin
 * in (0, 1] (the fraction of the documented limits to use).
 */
int	corp_rl_open(struct corp_rl **, struct corp_rl_store *store,
	    const char *kind, const char *key, int per_sec, double margin,
	    struct corp_err *);
void	corp_rl_close(struct corp_rl *);
const char *corp_rl_path(const struct corp_rl *);

/*
 * Reserve the next slot for a send to chat (NULL: no per-chat limit).
 * Returns 0 with *wait_ms = how long to wait before sending (the slot is
 * recorded), or CORP_ETEMP with *wait_ms = the wait that would be needed
 * when it exceeds max_wait_ms (nothing recorded); other codes on I/O
 * errors.
 */
int	corp_rl_reserve(struct corp_rl *, const char *chat, long long max_wait_ms,
	    long long *wait_ms, struct corp_err *);
/*
 * The server answered a send to chat just now.  A later corp_rl_reserve
 * of this handle for that chat gives a slot at least W after the answer
 * as well as W after the reserved slot: a request that reached the
 * server late (a slow network, a busy server) is not followed by the
 * chat's next one straight away, since the server counts a chat's
 * messages by when they arrive.  Per handle (one process): the shared
 * store keeps the reserved slots only.
 */
void	corp_rl_answered(struct corp_rl *, const char *chat);
/*
 * Nobody sends with this key for the next ms milliseconds (a 429).  ms
 * is capped at the handle's longest pause (corp_rl_max_pause; default
 * one hour), so no number from a server can stop the key for longer.
 */
int	corp_rl_pause(struct corp_rl *, long long ms, struct corp_err *);
/*
 * The same for one chat only (a 429 for a send to chat: the Bot API's
 * per-chat limits, corp-send.1): sends to other chats go on.  chat
 * NULL or "": the whole key, as corp_rl_pause.
 */
int	corp_rl_pause_chat(struct corp_rl *, const char *chat, long long ms,
	    struct corp_err *);
/*
 * After corp_rl_reserve: how many ms of a 429 pause held its slot back
 * (0: none), and whether the pause was the chat's own (1) or the
 * key's (0).
 */
void	corp_rl_last_pause(const struct corp_rl *, long long *ms, int *chat);
/* The longest pause corp_rl_pause records, in ms (> 0). */
void	corp_rl_max_pause(struct corp_rl *, long long ms);
/* Sleep ms milliseconds (restarted after signals). */
void	corp_sleep_ms(long long ms);

/*
 * The slot, pure (both stores use it): the earliest time at or after
 * max(now, pause_until) at which a send to chat (NULL or "": no per-chat
 * limit) keeps every window of w ms at most per_sec sends among the n
 * sends s, and no two sends to chat closer than w.
 */
long long corp_rl_slot(const struct corp_rl_send *s, size_t n, int per_sec,
	    long long w, long long now, long long pause_until,
	    const char *chat);

/*
 * Outages (DESIGN 12; corp-send.1, "unreachable"): a request that never
 * reached its server (DNS, connect, TLS) pauses that endpoint for every
 * sender of this machine, with exponential backoff: 30 s, doubled on
 * each failure after a pause ran out, at most 10 minutes; a request that
 * reaches the server ends it.  Reachability is a property of a host's
 * network, so the state is a file of the data directory even when the
 * limiter lives in PostgreSQL:
 *
 *   DATA_DIR/ratelimit/down-KIND-<first 16 hex of SHA-256(key)>.json
 *   {"v":1,"until":T,"pause":S,"error":"..."}
 *
 * T is business time in Unix seconds (corp_now(), so CORP_NOW moves it),
 * S the pause in seconds; no file: not paused.  The file is replaced
 * atomically, so readers take no lock; two senders that fail at once
 * compute the same next pause.  kind is "telegram" (key: the token),
 * "webhook" (the endpoint name) or "email" (the SMTP URL).
 */
#define CORP_DOWN_FIRST	30
#define CORP_DOWN_MAX	600

struct corp_down {
	int		 known;		/* a file exists: clear it on success */
	long long	 remaining;	/* seconds of pause left; 0: go ahead */
	long long	 pause;		/* the current pause, seconds */
	long long	 since;		/* the outage's first failure (0: unknown) */
	char		 error[256];	/* the failure that started it */
};

/* The state of KIND/key at now (business time). */
int	corp_down_get(const char *kind, const char *key, long long now,
	    struct corp_down *, struct corp_err *);
/*
 * The same for a sender's fixed endpoint, the file's path kept in *path
 * (NULL at first; the caller frees it): after the first call a line
 * costs one open of the file, not the path's hash and the checks of the
 * data dir; the directory is judged again whenever a file is there to
 * be read (a missing file means no pause, trusted or not).
 */
int	corp_down_get_at(const char *kind, const char *key, char **path,
	    long long now, struct corp_down *, struct corp_err *);
/*
 * A request never reached the server at now: start or lengthen the
 * pause (only once the current one has run out); *pause gets the pause
 * in force.  error (never a secret) is kept for the paused lines.
 */
int	corp_down_mark(const char *kind, const char *key, long long now,
	    const char *error, long long *pause, struct corp_err *);
/* The server answered: no more pause. */
int	corp_down_clear(const char *kind, const char *key, struct corp_err *);
/* The pause after prev seconds (0: none yet): pure. */
long long corp_down_next(long long prev);
/*
 * The file also keeps "since" (the first failure of this outage, kept
 * while the file stays) and, except for telegram (whose key is the
 * token), "endpoint": the key (webhook endpoint name, SMTP URL).
 *
 * Every outage file of kind (NULL: all) as a JSON array, in file name
 * order: {"channel", "endpoint" (string or null), "since", "until"
 * (times), "pause_s", "paused" (until is still ahead of now), "cause"}.
 * No ratelimit directory: an empty array.
 */
int	corp_down_list(const char *kind, long long now, json_t **,
	    struct corp_err *);
/*
 * Remove the outage files of kind (and of endpoint only, if not NULL:
 * matched against the stored "endpoint"); *n gets how many went.
 */
int	corp_down_unpause(const char *kind, const char *endpoint, int *n,
	    struct corp_err *);

#endif
