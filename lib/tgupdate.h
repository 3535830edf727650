/*
 * tgupdate.h -- what corp-tg does with a Telegram Update (DESIGN 6, 8;
 * corp-tg.1), whether it was polled or spooled by the webhook CGI.
 *
 * corp_tgupdate_handle_tx runs inside the caller's write transaction and writes
 * every effect of one update there: binds (through binds.h, so held rows
 * become ready), consumed codes, wrong-code counts, stored messages and
 * callback queries, the replies in tg_outbox, and the update id in
 * tg_updates.  An update id already there is a duplicate and changes
 * nothing, so handling an update twice (a crash between a commit and the
 * unlink of its spool file, a poller and the CGI both fed) is harmless.
 * The caller commits, and sends the replies after the commit
 * (tgreply.h corp_tgreply_flush): a reply is never sent for effects that were
 * rolled back.
 */
#ifndef CORP_TGUPDATE_H
#define CORP_TGUPDATE_H

#include <time.h>

#include <jansson.h>

struct corp_catalog;
struct corp_db;
struct corp_err;

/* Five wrong codes from a chat within an hour ignore it for an hour. */
#define CORP_TG_MAX_BAD_CODES	5
#define CORP_TG_BAD_CODE_WINDOW	3600
#define CORP_TG_BLOCK_TIME	3600
/* At most this many replies to one chat within the window (business
 * time): /start and /stop from anyone cost the bot a send each. */
#define CORP_TG_MAX_REPLIES	10
#define CORP_TG_REPLY_WINDOW	3600
/* At most this many answers to button presses from one chat within
 * the window; a press past them still acts, unanswered. */
#define CORP_TG_MAX_ANSWERS	60

/* The largest update_id corp takes (JSON's safe integers). */
#define CORP_TG_UPDATE_ID_MAX	9007199254740991LL
/*
 * The one rule for an update's id, wherever an update comes in (the
 * handler behind poll and process, the webhooks corp-tg cgi and
 * corp-api POST /webhook/telegram; sec-review-10 item 6): update is a
 * JSON object whose update_id is an integer in 0..CORP_TG_UPDATE_ID_MAX.
 * 0 and *id, or CORP_EINVAL ("expected a JSON object with an integer
 * update_id", or "\"update_id\": N is beyond 2^53 - 1"); *id is the
 * integer read (negative or too large) or -1 when there is none.
 */
int	corp_tg_update_id(json_t *update, long long *id, struct corp_err *);

struct corp_tg_ctx {
	struct corp_catalog *cat;	/* the standard catalogs */
	char		*fallback_lang;	/* the fallback_lang setting */
	char		*bot_username;	/* telegram.bot_username, or "" */
	char		*button_key;	/* tgbutton.h; NULL: none yet */
	int		 history;	/* corp-msg import: presses are only
					   stored, never acted on nor answered */
};

/* Load the standard catalogs and read the settings the handler needs. */
int	corp_tgupdate_ctx_init(struct corp_db *, struct corp_tg_ctx *,
	    struct corp_err *);
void	corp_tgupdate_ctx_free(struct corp_tg_ctx *);

enum corp_tg_outcome {
	CORP_TG_HANDLED = 0,
	CORP_TG_DUPLICATE,	/* handled before: nothing written */
	CORP_TG_MALFORMED,	/* not an Update object: nothing written */
	CORP_TG_REFUSED		/* refused as input and skipped (apply) */
};

/* What handling counted (corp-tg's summary). */
struct corp_tg_counts {
	long long	spooled, polled, handled, duplicates, ignored, refused;
	long long	replies_sent, replies_failed, replies_pending;
};
/* The counts as corp-tg prints them (corp-tg.1). */
json_t	*corp_tgupdate_counts_json(const struct corp_tg_counts *);

/* lib never prints: a warning goes to the caller, one line. */
typedef void (*corp_tg_warn_fn)(void *arg, const char *msg);

/*
 * Handle the n updates u (NULL ones skipped) in one transaction of
 * their own (corp_db_tx); outcome (n entries, may be NULL) gets each
 * one's outcome and counts (may be NULL) adds them up.
 *
 * bot NULL (corp-msg import): any error rolls the batch back and is
 * returned.  bot set (corp-tg poll and process): old handled ids are
 * pruned first, next_offset (when >= 0) is stored with the effects,
 * and an update the handler refuses as input (65: U+0000 in a string,
 * a number out of range, a private chat with a negative id, ...) is a
 * poison update: the transaction is rolled back, the update reported
 * through warn with its update_id, marked CORP_TG_REFUSED, and the
 * batch is done again without its effects, burning only the link codes
 * it carries, so that one bad update never stalls the others (one whose
 * codes cannot be burnt either is set to NULL in u[] and skipped whole).
 */
int	corp_tgupdate_apply(struct corp_db *, const struct corp_tg_ctx *,
	    json_t **u, size_t n, const char *bot, long long next_offset,
	    int *outcome, struct corp_tg_counts *, corp_tg_warn_fn warn,
	    void *warn_arg, struct corp_err *);

/*
 * An update that jansson cannot read at all (a number beyond a double's
 * range such as 1e400, U+0000 in a key, nesting past jansson's depth;
 * or a webhook body that is no Update object), known only as its raw
 * bytes: refused as a poison update in one transaction of its own.  An
 * ingestion.failed (update_id null, reason) keyed by the bytes' SHA-256,
 * so that the same bytes again are reported once; every live link code
 * in the bytes burnt by the rule used for text (a JSON escape \uXXXX of
 * a character a reader does not see counts as that character; no JSON
 * parser); with bot set and next_offset >= 0, the poll offset moved to
 * next_offset in the same transaction.
 */
int	corp_tgupdate_refuse_raw(struct corp_db *, const struct corp_tg_ctx *,
	    const char *raw, size_t len, const char *reason, const char *bot,
	    long long next_offset, struct corp_err *);

/*
 * The flock DATA_DIR/tg-WHAT-<bot>.lock (WHAT: poll, process, outbox):
 * *fd holds it until closed.  Without wait, CORP_ETEMP when another
 * process holds it.
 */
int	corp_tgupdate_lock(const char *what, const char *bot, int wait,
	    int *fd, struct corp_err *);

/*
 * Handle one Update inside the caller's write transaction; *outcome
 * says what happened.  Errors are database or catalog failures: roll
 * back.
 */
int	corp_tgupdate_handle_tx(struct corp_db *, const struct corp_tg_ctx *,
	    json_t *update, int *outcome, struct corp_err *);

/*
 * A callback_query (a button pressed under a bot message), inside the
 * update's transaction: every callback goes through this one function.
 * It stores the query in tg_callbacks when its sender is a known chat,
 * judges and runs the press (tgbutton.h: the producer's event or the
 * task transition, in the same transaction), and queues its answer
 * (answerCallbackQuery) and, when it acted, the card's edit
 * (editMessageText: the outcome, the keyboard gone) in tg_outbox, to go
 * out after the commit (tgreply.h), as replies do.
 */
int	corp_tgupdate_on_callback(struct corp_db *, const struct corp_tg_ctx *,
	    long long update_id, time_t now, json_t *callback_query,
	    const char *raw, struct corp_err *);

/* The stored getUpdates offset of bot (-1 when none). */
int	corp_tgupdate_offset_get(struct corp_db *, const char *bot,
	    long long *offset, struct corp_err *);
/* Store it; inside the caller's transaction, with the updates' effects. */
int	corp_tgupdate_offset_set_tx(struct corp_db *, const char *bot,
	    long long offset, struct corp_err *);

/* Forget handled update ids and wrong-code records that no longer
 * matter; inside the caller's transaction. */
int	corp_tgupdate_prune_tx(struct corp_db *, struct corp_err *);

#endif
