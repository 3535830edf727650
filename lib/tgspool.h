/*
 * tgspool.h -- the webhook spool: corp-tg cgi writes each Update to
 * DATA_DIR/spool/telegram/<update_id>.json (atomically: a temporary
 * file, fsync, a link to the name only where none is, fsync of the
 * directory: a duplicate id never replaces a waiting file) and touches
 * no database;
 * corp-tg process handles the files in update_id order and unlinks each
 * after the commit of its effects.
 */
#ifndef CORP_TGSPOOL_H
#define CORP_TGSPOOL_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "tgupdate.h"

struct corp_db;
struct corp_err;

/* The largest update body the CGI accepts: the largest answer poll
 * reads (CORP_TG_UPDATES_MAX), so that an update one way can read is
 * never refused the other way. */
#define CORP_TG_SPOOL_MAX	(4 * 1024 * 1024)

/* DATA_DIR/spool/telegram, created 0700 with its parents when missing. */
int	corp_tgspool_dir(char **dir, struct corp_err *);
/*
 * Check that body is a JSON object with an integer update_id >= 0
 * (CORP_EINVAL otherwise) and write it, as received, to the spool.
 * *update_id gets the id.
 */
int	corp_tgspool_put(const char *body, size_t len, long long *update_id,
	    struct corp_err *);
/* The update ids of the spool's files "<id>.json", ascending. */
int	corp_tgspool_list(const char *dir, long long **ids, size_t *n,
	    struct corp_err *);
/*
 * corp-tg cgi: one webhook request (REQUEST_METHOD, the
 * X-Telegram-Bot-Api-Secret-Token header or NULL, CONTENT_LENGTH or
 * NULL, the body on in) checked against the secret
 * telegram_webhook_secret and spooled.  *ans gets the HTTP answer.
 * Returns 0 or the corp code of a refusal; err's message is empty when
 * the refusal is the client's plain mistake (not POST, no or bad
 * Content-Length, too large, short body) and is worth a log line
 * otherwise.  ans->status 0: no answer can be given (out of memory).
 */
struct corp_tgspool_answer {
	int		 status;
	int		 duplicate;	/* 200, nothing spooled; err says */
	const char	*reason, *text;
};
/*
 * The two webhooks' shared steps (corp-tg cgi, corp-api's POST
 * /webhook/telegram).  corp_tgspool_auth: the header (NULL: missing)
 * against DATA_DIR/secrets/telegram_webhook_secret in constant time;
 * 0, or CORP_EFORBIDDEN with ans 403 (wrong or missing) or 500 (the
 * secret empty or unreadable: not configured; err says which).
 * corp_tgspool_take: the body (len bytes, at most CORP_TG_SPOOL_MAX)
 * checked as an update and spooled durably; 0 (ans 200, *update_id
 * its id; ans->duplicate set and err naming it when a file of that id
 * was in the spool already: kept, nothing written), CORP_EINVAL (413 too large, message empty; 400 not an
 * update) or another code with ans 500 (try again).
 */
int	corp_tgspool_auth(const char *secret_header,
	    struct corp_tgspool_answer *, struct corp_err *);
int	corp_tgspool_take(const char *body, size_t len, long long *update_id,
	    struct corp_tgspool_answer *, struct corp_err *);
int	corp_tgspool_cgi(const char *method, const char *secret_header,
	    const char *content_length, FILE *in,
	    struct corp_tgspool_answer *, struct corp_err *);
/*
 * corp-tg process: handle the spool's files in update_id order, in
 * transactions of CORP_TGSPOOL_BATCH (corp_tgupdate_apply, bot set,
 * no offset), under the flock tg-process-<bot>.lock.  Each file is
 * unlinked only after the commit of its effects: a crash before that
 * re-reads it, and tg_updates makes that harmless.  A file that is no
 * update of our CGI's (not a JSON object, too large, a link, a FIFO,
 * someone else's) and an update the handler refused are renamed to
 * <id>.json.bad, said through warn, counted in *nbad, and never read
 * again.  Stops between batches when *stop is set.
 */
#define CORP_TGSPOOL_BATCH	100
int	corp_tgspool_process(struct corp_db *, const struct corp_tg_ctx *,
	    const char *bot, volatile sig_atomic_t *stop,
	    struct corp_tg_counts *, corp_tg_warn_fn warn, void *warn_arg,
	    int *nbad, struct corp_err *);
/*
 * Constant-time equality of two secrets (compares their SHA-256, so
 * neither the content nor the length leaks through timing).
 */
int	corp_secret_equal(const char *a, const char *b);

#endif
