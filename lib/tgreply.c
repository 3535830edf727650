/* tgreply.c -- see tgreply.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "ratelimit.h"
#include "sendres.h"
#include "telegram.h"
#include "tgreply.h"
#include "tgupdate.h"

/* A reply that failed this many attempts is given up. */
#define REPLY_ATTEMPTS	5

struct pending {
	long long	 id, chat, attempts, msgid;
	char		*text;
	char		 kind[8];	/* message, answer, edit */
	char		*cbid;		/* answer: callback_query_id */
};

struct mark {
	const struct pending	*p;
	const struct corp_sendres *res;
	const char		*status;
	long long		 attempts;
};

static int
mark_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	const struct mark *m = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE tg_outbox SET status = ?2, "
	    "attempts = ?3, error = ?4, provider_message_id = ?5, "
	    "sent_at = ?6 WHERE id = ?1 AND status = 'pending'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, m->p->id);
	corp_bind_text(st, 2, m->status);
	corp_bind_int64(st, 3, m->attempts);
	corp_bind_text(st, 4, m->res->error[0] ? m->res->error : NULL);
	corp_bind_text(st, 5, m->res->provider_id[0] ? m->res->provider_id :
	    NULL);
	if (m->res->result == CORP_SEND_SENT)
		corp_bind_int64(st, 6, (long long)corp_now());
	else
		corp_bind_null(st, 6);
	return corp_db_exec(db, st, "mark reply", err);
}

/* Mark a reply sent, failed or still pending, in its own transaction. */
static int
mark(struct corp_db *db, const struct pending *p,
    const struct corp_sendres *res, int *still, struct corp_err *err)
{
	struct mark m = { p, res, NULL, p->attempts + (res->attempted ? 1 :
	    0) };

	if (res->result == CORP_SEND_SENT)
		m.status = "sent";
	else if (res->result == CORP_SEND_RETRY && m.attempts < REPLY_ATTEMPTS)
		m.status = "pending";
	else
		m.status = "failed";
	*still = strcmp(m.status, "pending") == 0;
	return corp_db_tx(db, mark_tx, &m, err);
}

/* Up to size pending replies after id last, in id order. */
static int
batch(struct corp_db *db, long long last, struct pending *p, size_t size,
    size_t *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*n = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT id, chat_id, text, attempts, "
	    "kind, callback_query_id, message_id FROM tg_outbox WHERE "
	    "status = 'pending' AND id > ?1 ORDER BY id LIMIT ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, last);
	corp_bind_int64(st, 2, (long long)size);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		p[*n].id = corp_col_int64(st, 0);
		p[*n].chat = corp_col_int64(st, 1);
		p[*n].attempts = corp_col_int64(st, 3);
		snprintf(p[*n].kind, sizeof(p[*n].kind), "%s",
		    corp_col_text(st, 4) ? corp_col_text(st, 4) : "message");
		p[*n].msgid = corp_col_int64(st, 6);
		p[*n].cbid = NULL;
		if (corp_col_text(st, 5) != NULL && (p[*n].cbid =
		    corp_strdup(corp_col_text(st, 5))) == NULL) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		if ((p[*n].text = corp_strdup(corp_col_text(st, 2))) == NULL) {
			free(p[*n].cbid);
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		(*n)++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read outbox", err);
	return 0;
}

/*
 * One row out: a message (sendMessage), an answer to a button press
 * (answerCallbackQuery, plain text) or a card's edit (editMessageText
 * without reply_markup: the keyboard goes).
 */
static void
send_one(struct corp_http *h, const char *api, const char *token,
    const struct pending *p, struct corp_sendres *res)
{
	json_t *body = NULL;

	if (strcmp(p->kind, "answer") == 0)
		body = json_pack("{s:s, s:s}", "callback_query_id",
		    p->cbid ? p->cbid : "", "text", p->text);
	else if (strcmp(p->kind, "edit") == 0)
		body = json_pack("{s:I, s:I, s:s, s:s, s:{s:b}}", "chat_id",
		    (json_int_t)p->chat, "message_id", (json_int_t)p->msgid,
		    "text", p->text, "parse_mode", "HTML",
		    "link_preview_options", "is_disabled", 1);
	else {
		corp_tg_send(h, api, token, p->chat, p->text, NULL, res);
		return;
	}
	if (body == NULL) {
		corp_sendres_init(res);
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
		res->attempted = 0;
		return;
	}
	corp_tg_call(h, api, token, strcmp(p->kind, "answer") == 0 ?
	    "answerCallbackQuery" : "editMessageText", body, res);
	json_decref(body);
}

static int
held(const long long *chats, size_t n, long long chat)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (chats[i] == chat)
			return 1;
	return 0;
}

struct corp_tg_flush {
	int	sent, failed, pending;
};

static int
flush(struct corp_db *db, struct corp_http *h, const char *api,
    const char *token, struct corp_rl *rl, long long max_wait_ms,
    struct corp_tg_flush *out, struct corp_err *err)
{
	struct pending p[32];
	struct corp_sendres res;
	struct corp_err e;
	long long last = 0, wait, *hold = NULL, *nh;
	size_t n = 0, i, nhold = 0;
	char chatbuf[32];
	int rc = 0, still, down = 0, chat429;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if ((rc = batch(db, last, p, sizeof(p) / sizeof(p[0]), &n,
		    err)) != 0 || n == 0)
			break;
		for (i = 0; i < n && rc == 0; i++) {
			last = p[i].id;
			/*
			 * One chat gets its replies in order.  After a
			 * temporary failure (Telegram or the network down,
			 * a 429) the rest waits for the next flush: trying
			 * each would hold up the caller.
			 */
			if (down || held(hold, nhold, p[i].chat)) {
				out->pending++;
				continue;
			}
			if (rl != NULL) {
				snprintf(chatbuf, sizeof(chatbuf), "%lld",
				    p[i].chat);
				rc = corp_rl_reserve(rl, chatbuf, max_wait_ms,
				    &wait, err);
				if (rc == CORP_ETEMP) {
					rc = 0;
					still = 1;
					goto hold;
				}
				if (rc != 0)
					break;
				corp_sleep_ms(wait);
			}
			send_one(h, api, token, &p[i], &res);
			if (rl != NULL && (res.error_class == NULL ||
			    strcmp(res.error_class, "unreachable") != 0))
				corp_rl_answered(rl, chatbuf);
			if (res.bad_token) {
				rc = corp_errf(err, CORP_EFORBIDDEN, "telegram: "
				    "bad token (the Bot API answered 401 or "
				    "404)");
				break;
			}
			/* A 429 is the chat's (corp-tg.1): that chat waits,
			 * the others' replies go on. */
			chat429 = res.result == CORP_SEND_RETRY &&
			    res.retry_after > 0 && !res.attempted &&
			    res.error_class == NULL;
			if (rl != NULL && chat429 &&
			    corp_rl_pause_chat(rl, chatbuf,
			    res.retry_after * 1000, &e) != 0)
				(void)0;	/* the pause is advisory */
			if ((rc = mark(db, &p[i], &res, &still, err)) != 0)
				break;
			if (res.result == CORP_SEND_RETRY && chat429)
				still = 1;
			else if (res.result == CORP_SEND_RETRY)
				down = 1;
			if (res.result == CORP_SEND_SENT)
				out->sent++;
			else if (!still)
				out->failed++;
hold:
			if (still) {
				out->pending++;
				nh = reallocarray(hold, nhold + 1,
				    sizeof(*hold));
				if (nh == NULL) {
					rc = corp_errf(err, CORP_EINTERNAL,
					    "out of memory");
					break;
				}
				hold = nh;
				hold[nhold++] = p[i].chat;
			}
		}
		for (i = 0; i < n; i++) {
			free(p[i].text);
			free(p[i].cbid);
		}
		n = 0;
		if (rc != 0)
			break;
	}
	for (i = 0; i < n; i++) {
		free(p[i].text);
		free(p[i].cbid);
	}
	free(hold);
	return rc;
}

int
corp_tgreply_flush(struct corp_db *db, struct corp_http *h,
    const char *api, const char *token, const char *bot, struct corp_rl *rl,
    long long max_wait_ms, struct corp_tg_counts *c, struct corp_err *err)
{
	struct corp_tg_flush f;
	int fd, rc;

	if ((rc = corp_tgupdate_lock("outbox", bot, 1, &fd, err)) != 0)
		return rc;
	rc = flush(db, h, api, token, rl, max_wait_ms, &f, err);
	close(fd);
	if (rc != 0)
		return rc;
	c->replies_sent += f.sent;
	c->replies_failed += f.failed;
	c->replies_pending = f.pending;
	return 0;
}

