/*
 * message.h -- reading the Telegram messages corp stored (DESIGN 8;
 * tg_messages and tg_message_edits of 0004).  Storing is the update
 * handler's alone (tgupdate.h corp_tgupdate_handle_tx): corp-tg poll,
 * corp-tg process and corp-msg import all go through it, so a message
 * is stored once per (chat, message id).
 */
#ifndef CORP_MESSAGE_H
#define CORP_MESSAGE_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

struct corp_msg_filter {
	long long	 chat_id;	/* has_chat: only this chat */
	int		 has_chat;
	const char	*author;	/* from_username, or from_id digits */
	time_t		 since, until;	/* date in [since, until); 0: open */
	const char	*text;		/* substring of the text, exact */
	long long	 limit;		/* 0: no limit */
};

/* Messages matching f in (date, chat, message id) order, as the message
 * lines of corp-json.5. */
int	corp_msg_list(struct corp_db *, const struct corp_msg_filter *,
	    json_t **array, struct corp_err *);
/* One message with "history": its earlier versions, oldest first.
 * CORP_ENOTFOUND when not stored. */
int	corp_msg_show(struct corp_db *, long long chat_id, long long msg_id,
	    json_t **, struct corp_err *);

/*
 * Retention (corp-msg prune): delete the messages whose date is before
 * `before`, with their edit history and their topic events
 * ("message.updated", topic messages), and the callback queries received
 * before it.  Messages go in batches of CORP_MSG_PRUNE_BATCH, each in its
 * own transaction (edits first, then the messages, by id), so that a
 * large prune never holds the write lock for long and a kill leaves
 * whole messages.  dry_run counts what would go and writes nothing.
 */
#define CORP_MSG_PRUNE_BATCH	1000
struct corp_msg_pruned {
	long long	messages, edits, events, callbacks;
};
int	corp_msg_prune(struct corp_db *, time_t before, int dry_run,
	    struct corp_msg_pruned *, struct corp_err *);

#endif
