/* tgbutton.c -- see tgbutton.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "corp.h"
#include "binds.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "fsutil.h"
#include "queue.h"
#include "rand.h"
#include "render.h"
#include "task.h"
#include "tgbutton.h"

#define KEY_BYTES	32
#define MAC_BYTES	16
#define MAC_B64		22

/* Make the key file unless there is one: placed, never replaced, so
 * two makers at once end with one key (fsutil.h). */
static int
key_make(struct corp_err *err)
{
	char key[KEY_BYTES * 4 / 3 + 3];
	int rc;

	if ((rc = corp_random_b64url(key, KEY_BYTES, err)) == 0) {
		strlcat(key, "\n", sizeof(key));
		/* another process's key, made meanwhile, stands */
		if ((rc = corp_secret_place(CORP_TGBUTTON_SECRET, key, 0,
		    err)) == CORP_ECONFLICT)
			rc = 0;
	}
	explicit_bzero(key, sizeof(key));
	return rc;
}

int
corp_tgbutton_key(int create, char **key, struct corp_err *err)
{
	int rc;

	rc = corp_secret(NULL, CORP_TGBUTTON_SECRET, key, err);
	if (rc != CORP_ENOTFOUND || !create)
		return rc;
	if ((rc = key_make(err)) != 0)
		return rc;
	return corp_secret(NULL, CORP_TGBUTTON_SECRET, key, err);
}

static int
mac(const char *key, long long id, const char *action,
    char out[MAC_B64 + 1], struct corp_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char msg[96];
	int n;

	n = snprintf(msg, sizeof(msg), "corp-button:1:%lld:%s", id, action);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return corp_errf(err, CORP_EINVAL, "button action too long");
	if (HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)msg,
	    (size_t)n, md, &mdlen) == NULL || mdlen < MAC_BYTES)
		return corp_errf(err, CORP_EINTERNAL, "HMAC-SHA256 failed");
	corp_b64url_encode(out, md, MAC_BYTES);
	out[MAC_B64] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}

int
corp_tgbutton_sign(const char *key, long long id, const char *action,
    char out[CORP_TGBUTTON_TOKEN_MAX + 1], struct corp_err *err)
{
	char m[MAC_B64 + 1];
	int rc, n;

	out[0] = '\0';
	if (id <= 0 || !corp_button_action_valid(action, strlen(action)))
		return corp_errf(err, CORP_EINVAL, "button: bad delivery id or "
		    "action");
	if ((rc = mac(key, id, action, m, err)) != 0)
		return rc;
	n = snprintf(out, CORP_TGBUTTON_TOKEN_MAX + 1, "%lld.%s.%s", id,
	    action, m);
	if (n < 0 || n > CORP_TGBUTTON_TOKEN_MAX)
		return corp_errf(err, CORP_EINTERNAL, "button token too long");
	return 0;
}

int
corp_tgbutton_verify(const char *key, const char *token, long long *id,
    char action[21], struct corp_err *err)
{
	const char *d1, *d2, *es;
	char idbuf[24], m[MAC_B64 + 1];
	size_t n;
	int rc;

	*id = 0;
	action[0] = '\0';
	if (token == NULL || strlen(token) > CORP_TGBUTTON_TOKEN_MAX ||
	    (d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL)
		return corp_errf(err, CORP_EINVAL, "not a button token");
	n = (size_t)(d1 - token);
	if (n == 0 || n >= sizeof(idbuf) || token[0] == '0' ||
	    strspn(token, "0123456789") != n)
		return corp_errf(err, CORP_EINVAL, "not a button token");
	memcpy(idbuf, token, n);
	idbuf[n] = '\0';
	*id = strtonum(idbuf, 1, 9007199254740991LL, &es);
	n = (size_t)(d2 - d1 - 1);
	if (es != NULL || !corp_button_action_valid(d1 + 1, n) ||
	    strlen(d2 + 1) != MAC_B64) {
		*id = 0;
		return corp_errf(err, CORP_EINVAL, "not a button token");
	}
	memcpy(action, d1 + 1, n);
	action[n] = '\0';
	if ((rc = mac(key, *id, action, m, err)) != 0)
		return rc;
	if (CRYPTO_memcmp(m, d2 + 1, MAC_B64) != 0)
		return corp_errf(err, CORP_EFORBIDDEN, "button token: bad "
		    "signature");
	return 0;
}

/* ---- a press ------------------------------------------------------ */

/* The task verbs a button may name (the FSM's; corp-task.1). */
static const char *const task_verbs[] = {
	"open", "submit", "approve", "reject", "cancel", NULL
};

static int
task_verb(const char *action)
{
	size_t i;

	for (i = 0; task_verbs[i] != NULL; i++)
		if (strcmp(task_verbs[i], action) == 0)
			return 1;
	return 0;
}

static void
refuse(struct corp_tgbutton_press *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct corp_tgbutton_press *p, const char *key, const char *fmt, ...)
{
	va_list ap;

	p->answer = key;
	p->edit = 0;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* The first press of this card, if any: *found, its action and actor. */
static int
earlier(struct corp_db *db, struct corp_tgbutton_press *p, long long id,
    int *found, long long *uid, struct corp_err *err)
{
	struct corp_stmt *st;
	const char *a;
	int rc;

	*found = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT action, user_id, event_id "
	    "FROM tg_button_presses WHERE delivery_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		*found = 1;
		a = corp_col_text(st, 0);
		snprintf(p->action, sizeof(p->action), "%s", a ? a : "");
		*uid = corp_col_int64(st, 1);
		p->event_id = corp_col_int64(st, 2);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read button presses", err);
	return 0;
}

/* The user's login and name (caller frees). */
static int
user_names(struct corp_db *db, long long uid, char **login, char **name,
    struct corp_err *err)
{
	json_t *u = NULL;
	int rc;

	*login = *name = NULL;
	if ((rc = corp_dir_user_json(db, uid, &u, err)) != 0)
		return rc;
	*login = corp_strdup(json_string_value(json_object_get(u, "login")));
	*name = corp_strdup(json_string_value(json_object_get(u, "name")));
	json_decref(u);
	if (*login == NULL || *name == NULL) {
		free(*login);
		free(*name);
		*login = *name = NULL;
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	return 0;
}

/* The producer's event: NAME_action, NAME the card's event type up to
 * its first '_' (booking_done: booking_action), lower case. */
static int
emit_action(struct corp_db *db, struct corp_tgbutton_press *p, long long id,
    const struct corp_event *card, struct corp_err *err)
{
	struct corp_event e;
	json_t *pl, *orig = NULL;
	char type[80];
	size_t n, i;
	int rc, dup;

	n = strcspn(card->event_type, "_");
	if (n > 40)
		n = 40;
	for (i = 0; i < n; i++)
		type[i] = (char)tolower((unsigned char)card->event_type[i]);
	snprintf(type + n, sizeof(type) - n, "_action");
	if (card->payload != NULL)
		orig = json_loads(card->payload, 0, NULL);
	pl = json_pack("{s:s, s:I, s:I, s:o}", "action", p->action,
	    "delivery_id", (json_int_t)id, "event", (json_int_t)card->event_id,
	    "event_payload", orig != NULL ? orig : json_null());
	memset(&e, 0, sizeof(e));
	e.event_type = corp_strdup(type);
	e.occurred_at = p->now;
	e.actor_user_id = p->user_id;
	e.source = corp_strdup("telegram");
	if (corp_asprintf(&e.dedupe_key, "tg-button:%lld", id) < 0)
		e.dedupe_key = NULL;
	e.payload = pl != NULL ? json_dumps(pl, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(pl);
	if (e.event_type == NULL || e.source == NULL || e.dedupe_key == NULL ||
	    e.payload == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else if ((rc = corp_event_append(db, &e, &dup, err)) == 0)
		p->event_id = e.event_id;
	corp_event_free(&e);
	return rc;
}

/* A task transition as the presser (corp-task --as): *done = 0 and the
 * press refused when the FSM or the role table says no. */
static int
run_task(struct corp_db *db, struct corp_tgbutton_press *p,
    const struct corp_event *card, const char *login, int *done,
    struct corp_err *err)
{
	struct corp_task_req r;
	struct corp_err e;
	json_t *o;
	char *out = NULL;
	int rc, replayed;

	*done = 0;
	memset(&r, 0, sizeof(r));
	r.verb = p->action;
	r.as = login;
	r.task_id = card->task_id;
	r.text = "(submitted with a Telegram button)";
	r.reason = "(with a Telegram button)";
	rc = corp_task_run_tx(db, &r, &out, &replayed, &e);
	if (rc == CORP_EFORBIDDEN) {
		refuse(p, "bot.button.forbidden", "%s", e.msg);
		return 0;
	}
	if (rc == CORP_ECONFLICT) {
		refuse(p, "bot.button.conflict", "%s", e.msg);
		return 0;
	}
	if (rc == CORP_ENOTFOUND || rc == CORP_EINVAL || rc == CORP_EUSAGE) {
		refuse(p, "bot.button.invalid", "%s", e.msg);
		return 0;
	}
	if (rc != 0) {
		*err = e;
		return rc;
	}
	o = out != NULL ? json_loads(out, 0, NULL) : NULL;
	p->event_id = json_integer_value(json_object_get(o, "event_id"));
	json_decref(o);
	free(out);
	*done = 1;
	return 0;
}

int
corp_tgbutton_press_tx(struct corp_db *db, struct corp_tgbutton_press *p,
    struct corp_err *err)
{
	struct corp_queue_card c;
	struct corp_event card;
	struct corp_stmt *st;
	struct corp_err e;
	char chat[32], *login = NULL, *name = NULL;
	long long id, uid, first;
	int rc, active, found, done;

	p->answer = NULL;
	p->edit = 0;
	p->user_id = p->event_id = 0;
	p->action[0] = p->why[0] = '\0';
	p->actor = NULL;
	memset(&card, 0, sizeof(card));
	/* Who pressed: a user corp knows by an active telegram bind. */
	snprintf(chat, sizeof(chat), "%lld", p->from_id);
	rc = corp_binds_find(db, "telegram", chat, &uid, &active, NULL, err);
	if (rc != 0 && rc != CORP_ENOTFOUND)
		return rc;
	if (rc == 0 && active)
		p->user_id = uid;
	if (p->key == NULL) {
		refuse(p, "bot.button.invalid", "no button key (secrets/%s)",
		    CORP_TGBUTTON_SECRET);
		return 0;
	}
	if ((rc = corp_tgbutton_verify(p->key, p->data, &id, p->action,
	    &e)) != 0) {
		if (rc != CORP_EINVAL && rc != CORP_EFORBIDDEN) {
			*err = e;
			return rc;
		}
		p->action[0] = '\0';
		refuse(p, "bot.button.invalid", "%s", e.msg);
		return 0;
	}
	if ((rc = corp_queue_card(db, id, &c, err)) != 0)
		return rc;
	if (!c.found || strcmp(c.channel, "telegram") != 0 ||
	    c.sent_at == 0) {
		refuse(p, "bot.button.expired", "delivery %lld: no sent "
		    "telegram card", id);
		return 0;
	}
	if (p->now - c.sent_at > CORP_TGBUTTON_TTL) {
		refuse(p, "bot.button.expired", "delivery %lld: sent more than "
		    "%d days ago", id, CORP_TGBUTTON_TTL / 86400);
		return 0;
	}
	/* The card's chat must be the delivery user's bound chat, and the
	 * presser that user. */
	if (p->user_id == 0 || p->user_id != c.user_id ||
	    (p->chat_id != 0 && p->chat_id != p->from_id)) {
		refuse(p, "bot.button.not_yours", "delivery %lld: pressed from "
		    "chat %lld, not its user's bound chat", id, p->from_id);
		return 0;
	}
	/* Buttons are only on messages corp sent to a chat: a press that
	 * names no chat or message (a callback_query with only
	 * inline_message_id) is on no card of ours, refused like a foreign
	 * card (fresh-eyes round 9). */
	if (p->chat_id == 0 || p->message_id <= 0) {
		refuse(p, "bot.button.not_yours", "delivery %lld: pressed on "
		    "no message of a chat (inline?), not on its card", id);
		return 0;
	}
	/* And on that delivery's card: the press's message is the one
	 * edited, so a token carried onto another card (a modified
	 * client) is refused (fresh-eyes round 8). */
	if (p->message_id != 0 && c.message_id != 0 &&
	    p->message_id != c.message_id) {
		refuse(p, "bot.button.not_yours", "delivery %lld: pressed on "
		    "message %lld, not its card (%lld)", id, p->message_id,
		    c.message_id);
		return 0;
	}
	if ((rc = earlier(db, p, id, &found, &first, err)) != 0)
		return rc;
	if (found) {
		if ((rc = user_names(db, first, &login, &p->actor, err)) != 0)
			return rc;
		free(login);
		refuse(p, "bot.button.already", "delivery %lld: answered "
		    "already (%s)", id, p->action);
		return 0;
	}
	if ((rc = corp_event_get(db, c.event_id, &card, err)) != 0)
		return rc;
	if ((rc = user_names(db, p->user_id, &login, &name, err)) != 0)
		goto out;
	if (card.task_id > 0 && task_verb(p->action)) {
		if ((rc = run_task(db, p, &card, login, &done, err)) != 0 ||
		    !done)
			goto out;
	} else if ((rc = emit_action(db, p, id, &card, err)) != 0)
		goto out;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO tg_button_presses "
	    "(delivery_id, action, user_id, chat_id, callback_id, event_id, "
	    "update_id, pressed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    err)) != 0)
		goto out;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, p->action);
	corp_bind_int64(st, 3, p->user_id);
	corp_bind_int64(st, 4, p->from_id);
	corp_bind_text(st, 5, p->callback_id ? p->callback_id : "");
	corp_bind_int64(st, 6, p->event_id);
	corp_bind_int64(st, 7, p->update_id);
	corp_bind_int64(st, 8, (long long)p->now);
	if ((rc = corp_db_exec(db, st, "record button press", err)) != 0)
		goto out;
	p->answer = "bot.button.ok";
	p->edit = 1;
	p->actor = name;
	name = NULL;
out:
	corp_event_free(&card);
	free(login);
	free(name);
	return rc;
}
