/* tgupdate.c -- see tgupdate.h. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "corp.h"
#include "text.h"
#include "binds.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "digest.h"
#include "event.h"
#include "fsutil.h"
#include "linkcode.h"
#include "render.h"
#include "settings.h"
#include "tgbutton.h"
#include "tgupdate.h"

/* Handled update ids are kept 8 days: Telegram picks ids at random
 * after a week without updates, so older ones cannot come back. */
#define UPDATES_KEEP	(8 * 86400)

int
corp_tgupdate_ctx_init(struct corp_db *db, struct corp_tg_ctx *ctx,
    struct corp_err *err)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	if ((ctx->cat = corp_catalog_new()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* No key yet (no card with buttons was ever sent): every press is
	 * refused as not a button of ours. */
	rc = corp_tgbutton_key(0, &ctx->button_key, err);
	if (rc == CORP_ENOTFOUND)
		rc = 0;
	if (rc != 0) {
		corp_tgupdate_ctx_free(ctx);
		return rc;
	}
	if ((rc = corp_catalog_load_std(ctx->cat, err)) != 0 ||
	    (rc = corp_setting_get(db, "fallback_lang", &ctx->fallback_lang,
	    err)) != 0 || (rc = corp_setting_get(db, "telegram.bot_username",
	    &ctx->bot_username, err)) != 0) {
		corp_tgupdate_ctx_free(ctx);
		return rc;
	}
	return 0;
}

void
corp_tgupdate_ctx_free(struct corp_tg_ctx *ctx)
{
	corp_catalog_free(ctx->cat);
	free(ctx->fallback_lang);
	free(ctx->bot_username);
	if (ctx->button_key != NULL) {
		explicit_bzero(ctx->button_key, strlen(ctx->button_key));
		free(ctx->button_key);
	}
	memset(ctx, 0, sizeof(*ctx));
}

/* ---- small JSON helpers ---------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* An integer field: 1 and *v, or 0 when absent or not an integer. */
static int
jint(json_t *o, const char *k, long long *v)
{
	json_t *x = json_object_get(o, k);

	if (!json_is_integer(x))
		return 0;
	*v = json_integer_value(x);
	return 1;
}

/*
 * Bytes and numbers from outside (corp-tg.1, POISON UPDATES): no string
 * holds U+0000 (the getUpdates answer is read with JSON_ALLOW_NUL so
 * that one such update cannot spoil the others), every integer lies
 * within JSON's safe range +-(2^53 - 1), every "date" and "edit_date"
 * within 1970-01-01 .. 9999-12-31T23:59:59Z.  Refused with CORP_EINVAL
 * naming the first offence; depth is bounded by jansson's parser.
 */
#define TG_SAFE_INT	CORP_TG_UPDATE_ID_MAX
#define TG_DATE_MAX	253402300799LL

int
corp_tg_update_id(json_t *update, long long *id, struct corp_err *err)
{
	json_t *v = json_object_get(update, "update_id");

	*id = -1;
	if (!json_is_object(update))
		return corp_errf(err, CORP_EINVAL, "expected a JSON object "
		    "with an integer update_id");
	if (!json_is_integer(v))
		return corp_errf(err, CORP_EINVAL, "\"update_id\": expected "
		    "a non-negative integer");
	*id = json_integer_value(v);
	if (*id < 0) {
		*id = -1;
		return corp_errf(err, CORP_EINVAL, "\"update_id\": expected "
		    "a non-negative integer");
	}
	if (*id > CORP_TG_UPDATE_ID_MAX)
		return corp_errf(err, CORP_EINVAL, "\"update_id\": %lld is "
		    "beyond 2^53 - 1", *id);
	return 0;
}

static int
check_value(json_t *v, const char *key, struct corp_err *err)
{
	const char *k;
	json_t *x;
	size_t i;
	int rc;

	if (json_is_string(v) &&
	    strlen(json_string_value(v)) != json_string_length(v))
		return corp_errf(err, CORP_EINVAL, "\"%s\": a string holds "
		    "U+0000", key ? key : "");
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		if (n > TG_SAFE_INT || n < -TG_SAFE_INT)
			return corp_errf(err, CORP_EINVAL, "\"%s\": %lld is "
			    "beyond 2^53 - 1", key ? key : "", (long long)n);
		if (key != NULL && (strcmp(key, "date") == 0 ||
		    strcmp(key, "edit_date") == 0) && (n < 0 ||
		    n > TG_DATE_MAX))
			return corp_errf(err, CORP_EINVAL, "\"%s\": %lld is "
			    "not a time in 1970..9999", key, (long long)n);
	}
	if (json_is_object(v))
		json_object_foreach(v, k, x)
			if ((rc = check_value(x, k, err)) != 0)
				return rc;
	if (json_is_array(v))
		json_array_foreach(v, i, x)
			if ((rc = check_value(x, key, err)) != 0)
				return rc;
	return 0;
}

/*
 * A private chat is a user's, and a user's id is positive: a private
 * chat with a negative id (corp-tg.1, POISON UPDATES) is refused before
 * anything of its update is handled, whatever it says.  The chats
 * looked at: the "chat" of every update kind that has one, and of a
 * callback query's message.
 */
static int
check_chat(json_t *chat, struct corp_err *err)
{
	const char *type = jstr(chat, "type");
	long long id;

	if (type != NULL && strcmp(type, "private") == 0 &&
	    jint(chat, "id", &id) && id <= 0)
		return corp_errf(err, CORP_EINVAL, "\"chat\": a private chat "
		    "with the id %lld (a user's id is positive)", id);
	return 0;
}

static int
check_chats(json_t *update, struct corp_err *err)
{
	const char *k;
	json_t *body;
	int rc;

	json_object_foreach(update, k, body) {
		if (!json_is_object(body))
			continue;
		if ((rc = check_chat(json_object_get(body, "chat"), err)) != 0 ||
		    (rc = check_chat(json_object_get(json_object_get(body,
		    "message"), "chat"), err)) != 0)
			return rc;
	}
	return 0;
}

static void
bind_opt_int(struct corp_stmt *st, int i, json_t *o, const char *k)
{
	long long v;

	if (jint(o, k, &v))
		corp_bind_int64(st, i, v);
	else
		corp_bind_null(st, i);
}

/* ---- replies ----------------------------------------------------- */

/* "pt-BR" -> "pt"; NULL unless 2-8 letters before any - or _. */
static const char *
base_lang(const char *l, char *buf, size_t size)
{
	size_t n, i;

	if (l == NULL)
		return NULL;
	n = strcspn(l, "-_");
	if (n < 2 || n > 8 || n >= size)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!isalpha((unsigned char)l[i]))
			return NULL;
		buf[i] = (char)tolower((unsigned char)l[i]);
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Render key for a user: in the language of user uid when known (and
 * the catalog has the key in it), else Telegram's language_code of the
 * sender, else fallback_lang, else English.  vars (may be NULL) gets
 * user.name.  *text and the language in langbuf on success.
 */
static int
render_for(struct corp_db *db, const struct corp_tg_ctx *ctx, long long uid,
    const char *tglang, const char *key, json_t *vars,
    enum corp_render_mode mode, char **text, char langbuf[16],
    struct corp_err *err)
{
	const char *chain[5], *tmpl = NULL, *lang = NULL;
	char *ulang = NULL, *name = NULL, b1[16], b2[16];
	size_t i, n = 0;
	int rc;

	*text = NULL;
	if (uid > 0 && (rc = corp_dir_user_texts(db, uid, &ulang, &name,
	    err)) != 0)
		return rc;
	chain[n++] = ulang;
	chain[n++] = base_lang(ulang, b1, sizeof(b1));
	chain[n++] = base_lang(tglang, b2, sizeof(b2));
	chain[n++] = ctx->fallback_lang;
	chain[n++] = "en";
	for (i = 0; i < n && tmpl == NULL; i++)
		if (chain[i] != NULL && *chain[i] != '\0' &&
		    (tmpl = corp_catalog_get(ctx->cat, chain[i], key)) != NULL)
			lang = chain[i];
	if (tmpl == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "missing catalog key %s "
		    "(not even for fallback_lang %s)", key, ctx->fallback_lang);
		goto out;
	}
	snprintf(langbuf, 16, "%s", lang);
	if (vars != NULL && name != NULL && json_object_set_new(vars,
	    "user.name", json_string(name)) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = corp_render(tmpl, vars, mode, text, err)) != 0) {
		corp_errprefix(err, "catalog %s:%s", lang, key);
		goto out;
	}
out:
	free(ulang);
	free(name);
	return rc;
}

/* One row of the outbox, in the caller's transaction (tgreply.c sends
 * it after the commit).  cbid for an answer, msgid for an edit. */
static int
outbox(struct corp_db *db, const char *kind, long long chat,
    long long update_id, const char *key, const char *lang,
    const char *text, const char *cbid, long long msgid,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO tg_outbox (chat_id, key, "
	    "lang, text, update_id, created_at, kind, callback_query_id, "
	    "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, chat);
	corp_bind_text(st, 2, key);
	corp_bind_text(st, 3, lang);
	corp_bind_text(st, 4, text);
	corp_bind_int64(st, 5, update_id);
	corp_bind_int64(st, 6, (long long)corp_now());
	corp_bind_text(st, 7, kind);
	corp_bind_text(st, 8, cbid);
	if (msgid > 0)
		corp_bind_int64(st, 9, msgid);
	else
		corp_bind_null(st, 9);
	return corp_db_exec(db, st, "queue reply", err);
}

/* How many rows of kind the chat had within the window. */
static int
recent_out(struct corp_db *db, long long chat, const char *kind,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*n = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM tg_outbox "
	    "WHERE chat_id = ?1 AND created_at > ?2 AND kind = ?3", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, chat);
	corp_bind_int64(st, 2, (long long)corp_now() - CORP_TG_REPLY_WINDOW);
	corp_bind_text(st, 3, kind);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*n = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "count replies", err);
	return 0;
}

/*
 * Queue the reply key to chat in the caller's transaction, rendered as
 * render_for says.  Nothing is queued when the chat had
 * CORP_TG_MAX_REPLIES replies within the last CORP_TG_REPLY_WINDOW
 * seconds of business time: the update's effects stand, the answer is
 * dropped.
 */
static int
reply(struct corp_db *db, const struct corp_tg_ctx *ctx, long long chat,
    long long update_id, const char *key, long long uid, const char *tglang,
    struct corp_err *err)
{
	char *text = NULL, lang[16];
	json_t *vars;
	long long recent;
	int rc;

	/* A chat that had its share of replies this hour gets no more. */
	if ((rc = recent_out(db, chat, "message", &recent, err)) != 0)
		return rc;
	if (recent >= CORP_TG_MAX_REPLIES)
		return 0;
	if ((vars = json_object()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = render_for(db, ctx, uid, tglang, key, vars,
	    CORP_RENDER_HTML, &text, lang, err)) == 0)
		rc = outbox(db, "message", chat, update_id, key, lang, text,
		    NULL, 0, err);
	json_decref(vars);
	free(text);
	return rc;
}

/* ---- /start, /stop, my_chat_member -------------------------------- */

/*
 * The ingestion.* events of corp-tg's batch (corp-tg.1, INGESTION
 * EVENTS): ingestion.started before the transaction's first stored
 * message, one ingestion.message_stored per new message.
 */
struct ingest {
	const char	*source;	/* "poll" or "webhook" */
	size_t		 updates;	/* the batch's */
	int		 started;
};

struct upd {
	struct corp_db		*db;
	const struct corp_tg_ctx *ctx;
	long long		 update_id, chat;
	char			 chatbuf[32];
	const char		*tglang;	/* sender's language_code */
	time_t			 now;
	unsigned char		(*live)[32];	/* live codes' SHA-256, sorted */
	size_t			 nlive;
	int			 live_loaded;
	EVP_MD			*md;		/* SHA-256, fetched once */
	EVP_MD_CTX		*mdctx;
	struct ingest		*ing;	/* corp-tg's batch; NULL: import */
	int			 raw;	/* scanning an update's raw bytes */
};

static int
blocked(struct upd *u, int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(u->db, &st, "SELECT 1 FROM tg_chat_blocks "
	    "WHERE chat_id = ?1 AND blocked_until > ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, (long long)u->now);
	rc = corp_step(st);
	corp_reset(st);
	*yes = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(u->db, rc, "read chat blocks", err);
	return 0;
}

/*
 * A wrong code: counted; the fifth within the window blocks the chat
 * and is answered with bot.rate_limited, the only answer it gets until
 * the block ends.
 */
static int
wrong_code(struct upd *u, struct corp_err *err)
{
	struct corp_stmt *st;
	long long n = 0;
	int rc;

	if ((rc = corp_db_prep(u->db, &st, "INSERT INTO tg_code_failures "
	    "(chat_id, failed_at) VALUES (?1, ?2)", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, (long long)u->now);
	if ((rc = corp_db_exec(u->db, st, "count wrong code", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(u->db, &st, "SELECT count(*) FROM "
	    "tg_code_failures WHERE chat_id = ?1 AND failed_at > ?2", err))
	    != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, (long long)(u->now -
	    CORP_TG_BAD_CODE_WINDOW));
	if ((rc = corp_step(st)) == SQLITE_ROW)
		n = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(u->db, rc, "count wrong codes", err);
	if (n < CORP_TG_MAX_BAD_CODES)
		return reply(u->db, u->ctx, u->chat, u->update_id,
		    "bot.start.bad_code", 0, u->tglang, err);
	if ((rc = corp_db_prep(u->db, &st, "INSERT INTO tg_chat_blocks "
	    "(chat_id, blocked_until) VALUES (?1, ?2) ON CONFLICT (chat_id) "
	    "DO UPDATE SET blocked_until = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, (long long)(u->now +
	    CORP_TG_BLOCK_TIME));
	if ((rc = corp_db_exec(u->db, st, "block chat", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(u->db, &st, "DELETE FROM tg_code_failures "
	    "WHERE chat_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	if ((rc = corp_db_exec(u->db, st, "reset wrong codes", err)) != 0)
		return rc;
	return reply(u->db, u->ctx, u->chat, u->update_id, "bot.rate_limited",
	    0, u->tglang, err);
}

/*
 * An update that is not a private chat's -- a message, an edit, a post, a
 * callback, a poll or any other kind, seen in a group, supergroup or
 * channel or in no chat at all: every binding code in it is burnt, every
 * member saw it, and another chat must not bind with it (corp-tg.1).
 * Every string of the update is looked at, and every object key, at
 * any depth: a text, a caption, an entity's URL, a poll's question and
 * options, a button's URL, a quote, a file name, the message replied to.
 * A code is any 22 consecutive base64url characters, wherever they
 * stand in a longer run ("CODE_thanks", "CODE_shot.png", "CODE-"), once
 * the characters a reader does not see (format characters, U+200B,
 * U+2060, U+FEFF, the soft hyphen, variation selectors...) are taken
 * out and the fullwidth and mathematical letters and digits folded to
 * ASCII (ascii_fold): what a member can read off the screen and type
 * or paste is burnt.
 * Only hashes of the codes are stored, so each window is hashed and
 * looked up in the live codes' hashes, read once per update (and only
 * when some run is long enough), sorted; a match is burnt.
 */
static int
code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Whether code point C is one a reader does not see (Unicode Cf and the
 * blank fillers and selectors that render as nothing). */
static int
invisible(unsigned long c)
{
	static const unsigned long r[][2] = {
		{ 0x0000, 0x0000 }, { 0x00AD, 0x00AD }, { 0x034F, 0x034F },
		{ 0x0600, 0x0605 }, { 0x061C, 0x061C }, { 0x06DD, 0x06DD },
		{ 0x070F, 0x070F }, { 0x0890, 0x0891 }, { 0x08E2, 0x08E2 },
		{ 0x115F, 0x1160 }, { 0x17B4, 0x17B5 }, { 0x180B, 0x180F },
		{ 0x200B, 0x200F }, { 0x202A, 0x202E }, { 0x2060, 0x206F },
		{ 0x3164, 0x3164 }, { 0xFE00, 0xFE0F }, { 0xFEFF, 0xFEFF },
		{ 0xFFA0, 0xFFA0 }, { 0xFFF9, 0xFFFB }, { 0x110BD, 0x110BD },
		{ 0x110CD, 0x110CD }, { 0x13430, 0x1343F },
		{ 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A },
		{ 0xE0000, 0xE0FFF },
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (c >= r[i][0] && c <= r[i][1])
			return 1;
	return 0;
}

/*
 * The ASCII character NFKC folds code point C to, where a rule without a
 * table says so, else 0: the fullwidth forms U+FF01..U+FF5E ("ＡＢＣ",
 * what an IME types) and the letters and digits of the Mathematical
 * Alphanumeric Symbols (U+1D400..U+1D6A3: bold, italic, script, fraktur,
 * double-struck, sans-serif and monospace A-Z a-z in runs of 52;
 * U+1D7CE..U+1D7FF: their digits in runs of 10).  A reader reads such a
 * code at once and types it back (sec-review-17a); it is burnt as the
 * plain one.  (The few holes of that block, reserved code points, fold
 * as their neighbours would: burning more is harmless.)
 */
static int
ascii_fold(unsigned long c)
{
	unsigned long k;

	if (c >= 0xFF01 && c <= 0xFF5E)
		return (int)(c - 0xFF01 + 0x21);
	if (c >= 0x1D400 && c <= 0x1D6A3) {
		k = (c - 0x1D400) % 52;
		return (int)(k < 26 ? 'A' + k : 'a' + k - 26);
	}
	if (c >= 0x1D7CE && c <= 0x1D7FF)
		return (int)('0' + (c - 0x1D7CE) % 10);
	return 0;
}

/* The code point at S (jansson's strings are valid UTF-8) and its
 * length in *N; a byte that starts no sequence is itself, length 1. */
static unsigned long
utf8_at(const unsigned char *s, size_t *n)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0xC0 || s[0] >= 0xF8) {
		*n = 1;
		return s[0];
	}
	len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	c = s[0] & (0x7F >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*n = 1;
			return s[0];
		}
		c = c << 6 | (s[i] & 0x3F);
	}
	*n = len;
	return c;
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

/* Read the hashes of the codes that can still bind, sorted. */
static int
live_load(struct upd *u, struct corp_err *err)
{
	struct corp_stmt *st;
	const char *h;
	unsigned char (*p)[32];
	size_t cap = 0, i;
	int rc;

	if ((rc = corp_db_prep(u->db, &st, "SELECT code_sha256 FROM tg_codes "
	    "WHERE used_at IS NULL AND superseded_at IS NULL AND "
	    "expires_at > ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)u->now);
	u->live_loaded = 1;
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		if ((h = corp_col_text(st, 0)) == NULL || strlen(h) != 64 ||
		    strspn(h, "0123456789abcdef") != 64)
			continue;
		if (u->nlive == cap) {
			cap = cap ? 2 * cap : 16;
			if ((p = reallocarray(u->live, cap, sizeof(*p))) ==
			    NULL) {
				corp_reset(st);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
			u->live = p;
		}
		for (i = 0; i < 32; i++)
			u->live[u->nlive][i] = (unsigned char)(hexval(h[2 * i])
			    << 4 | hexval(h[2 * i + 1]));
		u->nlive++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(u->db, rc, "read codes", err);
	if (u->nlive == 0)
		return 0;
	qsort(u->live, u->nlive, sizeof(*u->live), hash_cmp);
	/* One digest context for every window (a fetch per digest costs
	 * more than the digest). */
	if ((u->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (u->mdctx = EVP_MD_CTX_new()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "SHA-256 unavailable");
	return 0;
}

static void
live_free(struct upd *u)
{
	free(u->live);
	EVP_MD_CTX_free(u->mdctx);
	EVP_MD_free(u->md);
	u->live = NULL;
	u->mdctx = NULL;
	u->md = NULL;
}

/* Burn WIN (CORP_LINKCODE_LEN characters) if it is a live code. */
static int
burn_window(struct upd *u, const char *win, struct corp_err *err)
{
	struct corp_stmt *st;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char hash[65];
	int rc;

	if (!u->live_loaded && (rc = live_load(u, err)) != 0)
		return rc;
	if (u->nlive == 0)
		return 0;
	if (EVP_DigestInit_ex(u->mdctx, u->md, NULL) != 1 ||
	    EVP_DigestUpdate(u->mdctx, win, CORP_LINKCODE_LEN) != 1 ||
	    EVP_DigestFinal_ex(u->mdctx, md, &len) != 1 || len != 32)
		return corp_errf(err, CORP_EINTERNAL, "SHA-256 failed");
	if (bsearch(md, u->live, u->nlive, sizeof(*u->live), hash_cmp) ==
	    NULL)
		return 0;
	for (i = 0; i < len; i++)
		snprintf(hash + 2 * i, 3, "%02x", md[i]);
	if ((rc = corp_db_prep(u->db, &st, "UPDATE tg_codes SET "
	    "superseded_at = ?2 WHERE code_sha256 = ?1 AND used_at IS "
	    "NULL AND superseded_at IS NULL", err)) != 0)
		return rc;
	corp_bind_text(st, 1, hash);
	corp_bind_int64(st, 2, (long long)u->now);
	return corp_db_exec(u->db, st, "burn code", err);
}

/*
 * In an update's raw bytes (u->raw), the JSON escape "\\uXXXX" (or a
 * surrogate pair of two) at S naming a character a reader does not see:
 * its length, else 0.  Only the escape itself is looked at, as the code
 * rule looks at characters; nothing is parsed.
 */
static size_t
raw_invisible(const unsigned char *s, const unsigned char *end)
{
	unsigned long c, lo;
	size_t i;

	if (end - s < 6 || s[0] != '\\' || s[1] != 'u')
		return 0;
	for (c = 0, i = 2; i < 6; i++) {
		if (!isxdigit(s[i]))
			return 0;
		c = c << 4 | (unsigned long)(isdigit(s[i]) ? s[i] - '0' :
		    (tolower(s[i]) - 'a' + 10));
	}
	if (c >= 0xD800 && c <= 0xDBFF) {
		if (end - s < 12 || s[6] != '\\' || s[7] != 'u')
			return 0;
		for (lo = 0, i = 8; i < 12; i++) {
			if (!isxdigit(s[i]))
				return 0;
			lo = lo << 4 | (unsigned long)(isdigit(s[i]) ?
			    s[i] - '0' : (tolower(s[i]) - 'a' + 10));
		}
		if (lo < 0xDC00 || lo > 0xDFFF)
			return 0;
		return invisible(0x10000 + ((c - 0xD800) << 10) +
		    (lo - 0xDC00)) ? 12 : 0;
	}
	return invisible(c) ? 6 : 0;
}

static int
burn_codes(struct upd *u, const char *text, size_t len, struct corp_err *err)
{
	const unsigned char *s = (const unsigned char *)text, *end;
	char win[CORP_LINKCODE_LEN];
	unsigned long c;
	size_t n, run = 0;
	int rc, f;

	if (s == NULL)
		return 0;
	/* By length: a refused update's string may hold U+0000. */
	for (end = s + len; s < end; s += n) {
		if (u->raw && (n = raw_invisible(s, end)) > 0)
			continue;
		if (*s < 0x80) {
			n = 1;
			c = *s;
		} else if ((c = utf8_at(s, &n)) >= 0x80 &&
		    (f = ascii_fold(c)) != 0)
			c = (unsigned long)f;
		if (c < 0x80 && code_char((char)c)) {
			if (run < CORP_LINKCODE_LEN)
				win[run++] = (char)c;
			else {
				memmove(win, win + 1, CORP_LINKCODE_LEN - 1);
				win[CORP_LINKCODE_LEN - 1] = (char)c;
			}
			if (run == CORP_LINKCODE_LEN &&
			    (rc = burn_window(u, win, err)) != 0)
				return rc;
		} else if (!invisible(c))
			run = 0;
	}
	return 0;
}

/*
 * TEXT as shown, and once percent-decoded when it holds a '%': a deep
 * link t.me/BOT?start=%4F%30... opens with the decoded code (fresh-eyes
 * round 7).  Decoded by libcurl (curl_easy_unescape), one level, as the
 * link is opened.
 */
static int
burn_text(struct upd *u, const char *text, size_t len, struct corp_err *err)
{
	char *d;
	int rc, n = 0;

	if ((rc = burn_codes(u, text, len, err)) != 0 ||
	    memchr(text, '%', len) == NULL)
		return rc;
	if (len > INT_MAX ||
	    (d = curl_easy_unescape(NULL, text, (int)len, &n)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = burn_codes(u, d, (size_t)n, err);
	curl_free(d);
	return rc;
}

/*
 * Every string value and object key of V, recursively.  The depth is
 * bounded by jansson's parser (JSON_PARSER_MAX_DEPTH) and checked here
 * again; the work is linear in the update's size, which the HTTP layer
 * and the webhook's body limit bound: one scan of each byte, one hash
 * and one binary search per 22-character window of a base64url run, one
 * query for the live codes per update, one UPDATE per code found.
 */
#define BURN_MAX_DEPTH	2048

static int
burn_all(struct upd *u, json_t *v, int depth, struct corp_err *err)
{
	const char *k;
	json_t *x;
	size_t i;
	int rc;

	if (depth > BURN_MAX_DEPTH)
		return corp_errf(err, CORP_EINVAL, "nested deeper than %d",
		    BURN_MAX_DEPTH);
	if (json_is_string(v))
		return burn_text(u, json_string_value(v),
		    json_string_length(v), err);
	if (json_is_object(v))
		json_object_foreach(v, k, x)
			if ((rc = burn_text(u, k, strlen(k), err)) != 0 ||
			    (rc = burn_all(u, x, depth + 1, err)) != 0)
				return rc;
	if (json_is_array(v))
		json_array_foreach(v, i, x)
			if ((rc = burn_all(u, x, depth + 1, err)) != 0)
				return rc;
	return 0;
}

/*
 * Whether an update belongs to a private chat: it has a body (an object
 * member: "message", "callback_query", "chat_member"...) and the "chat"
 * of every body, or of a callback query's message, is a private one
 * (typed so, or untyped with a user's positive id).  An update with no
 * chat (a poll, an inline query...) is not private: its codes are burnt.
 */
static int
chat_private(json_t *body)
{
	json_t *chat = json_object_get(body, "chat");
	const char *type;
	long long id;

	if (!json_is_object(chat))
		chat = json_object_get(json_object_get(body, "message"),
		    "chat");
	if (!json_is_object(chat))
		return 0;
	if ((type = jstr(chat, "type")) != NULL)
		return strcmp(type, "private") == 0;
	return jint(chat, "id", &id) && id > 0;
}

static int
update_private(json_t *update)
{
	const char *k;
	json_t *body;
	int bodies = 0;

	json_object_foreach(update, k, body) {
		if (!json_is_object(body))
			continue;
		if (!chat_private(body))
			return 0;
		bodies++;
	}
	return bodies > 0;
}

/* /start CODE in a private chat. */
static int
start_code(struct upd *u, const char *code, struct corp_err *err)
{
	struct corp_stmt *st;
	long long uid = 0, holder;
	time_t expires = 0;
	int rc, spent = 0, active;
	char hash[65];

	if (!corp_linkcode_wellformed(code))
		return wrong_code(u, err);
	if ((rc = corp_sha256_hex(code, strlen(code), hash, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(u->db, &st, "SELECT c.user_id, c.expires_at, "
	    "c.used_at IS NOT NULL OR c.superseded_at IS NOT NULL OR "
	    "us.active = 0 FROM tg_codes c JOIN users us ON us.id = c.user_id "
	    "WHERE c.code_sha256 = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, hash);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		uid = corp_col_int64(st, 0);
		expires = (time_t)corp_col_int64(st, 1);
		spent = corp_col_int(st, 2);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(u->db, rc, "read code", err);
	if (rc == SQLITE_DONE || spent)
		return wrong_code(u, err);
	if (expires <= u->now)
		return reply(u->db, u->ctx, u->chat, u->update_id,
		    "bot.start.expired", uid, u->tglang, err);
	/*
	 * A chat actively bound to someone else stays theirs: refused like
	 * a bad code (the code stays usable, and is not counted as wrong).
	 */
	rc = corp_binds_find(u->db, "telegram", u->chatbuf, &holder, &active,
	    NULL, err);
	if (rc != 0 && rc != CORP_ENOTFOUND)
		return rc;
	if (rc == 0 && active && holder != uid)
		return reply(u->db, u->ctx, u->chat, u->update_id,
		    "bot.start.bad_code", 0, u->tglang, err);
	if ((rc = corp_binds_add_tx(u->db, uid, "telegram", u->chatbuf, NULL,
	    err)) != 0)
		return rc;
	if ((rc = corp_db_prep(u->db, &st, "UPDATE tg_codes SET used_at = ?2, "
	    "used_chat_id = ?3 WHERE code_sha256 = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, hash);
	corp_bind_int64(st, 2, (long long)u->now);
	corp_bind_int64(st, 3, u->chat);
	if ((rc = corp_db_exec(u->db, st, "consume code", err)) != 0)
		return rc;
	return reply(u->db, u->ctx, u->chat, u->update_id, "bot.start.ok", uid,
	    u->tglang, err);
}

/*
 * /start without a code: resume this chat's bind, if the chat paused it
 * itself (/stop, a block, a send the chat refused); one the operator
 * deactivated needs a new code (bot.start.deactivated).
 */
static int
start_plain(struct upd *u, struct corp_err *err)
{
	long long uid;
	int rc, active, resumable;

	rc = corp_binds_find(u->db, "telegram", u->chatbuf, &uid, &active,
	    &resumable, err);
	if (rc == CORP_ENOTFOUND)
		return reply(u->db, u->ctx, u->chat, u->update_id,
		    "bot.start.no_code", 0, u->tglang, err);
	if (rc != 0)
		return rc;
	if (!active && !resumable)
		return reply(u->db, u->ctx, u->chat, u->update_id,
		    "bot.start.deactivated", uid, u->tglang, err);
	if (!active && (rc = corp_binds_add_tx(u->db, uid, "telegram",
	    u->chatbuf, NULL, err)) != 0)
		return rc;
	return reply(u->db, u->ctx, u->chat, u->update_id, "bot.start.ok", uid,
	    u->tglang, err);
}

static int
stop(struct upd *u, struct corp_err *err)
{
	long long uid = 0;
	int rc, active = 0;

	rc = corp_binds_find(u->db, "telegram", u->chatbuf, &uid, &active,
	    NULL, err);
	if (rc != 0 && rc != CORP_ENOTFOUND)
		return rc;
	if (rc == 0 && active && (rc = corp_binds_deactivate_tx(u->db, uid,
	    "telegram", "user", NULL, err)) != 0)
		return rc;
	return reply(u->db, u->ctx, u->chat, u->update_id, "bot.stop.ok",
	    uid, u->tglang, err);
}

/* The bot blocked ("kicked") or unblocked ("member") in a private chat. */
static int
chat_member(struct upd *u, json_t *cm, struct corp_err *err)
{
	const char *status = jstr(json_object_get(cm, "new_chat_member"),
	    "status");
	long long uid;
	int rc, active, resumable;

	if (status == NULL)
		return 0;
	rc = corp_binds_find(u->db, "telegram", u->chatbuf, &uid, &active,
	    &resumable, err);
	if (rc == CORP_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (strcmp(status, "kicked") == 0 && active)
		return corp_binds_deactivate_tx(u->db, uid, "telegram",
		    "blocked", NULL, err);
	/* An unblock resumes only what the chat paused (start_plain). */
	if (strcmp(status, "member") == 0 && !active && resumable)
		return corp_binds_add_tx(u->db, uid, "telegram", u->chatbuf,
		    NULL, err);
	return 0;
}

/* ---- stored messages (seed 004) ---------------------------------- */

static char *
dump_or_null(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
}

/*
 * The topic event "message.updated" (topic messages) of a stored or
 * changed message, in the caller's transaction: never routed, seen by
 * admins.  One per (update, message): the dedupe key names both.
 */
static int
message_event(struct upd *u, long long row, long long msgid, int edited,
    struct corp_err *err)
{
	struct corp_event e;
	json_t *p;
	char *key = NULL;
	int rc, dup;

	memset(&e, 0, sizeof(e));
	if (corp_asprintf(&key, "msg:%lld:%lld:u%lld", u->chat, msgid,
	    u->update_id) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	p = json_pack("{sI sI sI sb sI}", "message_row_id", (json_int_t)row,
	    "chat_id", (json_int_t)u->chat, "message_id", (json_int_t)msgid,
	    "edited", edited, "update_id", (json_int_t)u->update_id);
	e.event_type = corp_strdup("message.updated");
	e.topic = corp_strdup("messages");
	e.occurred_at = u->now;
	e.dedupe_key = key;
	e.payload = p != NULL ? json_dumps(p, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (e.event_type == NULL || e.topic == NULL || e.payload == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else
		rc = corp_event_append(u->db, &e, &dup, err);
	corp_event_free(&e);
	return rc;
}

/* One ingestion.* event (topic messages) in the caller's transaction. */
static int
ingest_event(struct corp_db *db, time_t now, const char *type,
    const char *key, json_t *p, struct corp_err *err)
{
	struct corp_event e;
	int rc, dup;

	memset(&e, 0, sizeof(e));
	e.event_type = corp_strdup(type);
	e.topic = corp_strdup("messages");
	e.occurred_at = now;
	e.dedupe_key = corp_strdup(key);
	e.payload = p != NULL ? json_dumps(p, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (e.event_type == NULL || e.topic == NULL || e.payload == NULL ||
	    e.dedupe_key == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else
		rc = corp_event_append(db, &e, &dup, err);
	corp_event_free(&e);
	return rc;
}

/* Before the events of corp-tg's first new message of the batch:
 * ingestion.started. */
static int
ingest_begin(struct upd *u, struct corp_err *err)
{
	struct ingest *g = u->ing;
	char key[64];
	int rc;

	if (g == NULL || g->started)
		return 0;
	snprintf(key, sizeof(key), "ingest:started:u%lld", u->update_id);
	if ((rc = ingest_event(u->db, u->now, "ingestion.started", key,
	    json_pack("{ss sI}", "source", g->source, "updates",
	    (json_int_t)g->updates), err)) == 0)
		g->started = 1;
	return rc;
}

/* A new message stored by corp-tg: ingestion.message_stored. */
static int
ingest_stored(struct upd *u, long long msgid, long long date, json_t *from,
    const char *name, struct corp_err *err)
{
	json_t *f, *id = json_object_get(from, "id");
	char key[96];

	if (u->ing == NULL)
		return 0;
	f = json_is_integer(id) ? json_pack("{sO so so}", "id", id,
	    "username", jstr(from, "username") ? json_string(jstr(from,
	    "username")) : json_null(), "name", name ? json_string(name) :
	    json_null()) : json_null();
	snprintf(key, sizeof(key), "ingest:stored:%lld:%lld", u->chat, msgid);
	return ingest_event(u->db, u->now, "ingestion.message_stored", key,
	    f == NULL ? NULL : json_pack("{sI sI sI so}", "chat_id",
	    (json_int_t)u->chat, "message_id", (json_int_t)msgid, "date",
	    (json_int_t)date, "from", f), err);
}

/* Does the chat hold messages.per_chat_max stored messages already? */
static int
chat_full(struct upd *u, int *full, struct corp_err *err)
{
	struct corp_stmt *st;
	char *v = NULL;
	long long max;
	int rc;

	*full = 0;
	if ((rc = corp_setting_get(u->db, "messages.per_chat_max", &v,
	    err)) != 0)
		return rc;
	max = strtoll(v, NULL, 10);
	free(v);
	if (max <= 0)
		return 0;
	if ((rc = corp_db_prep(u->db, &st, "SELECT count(*) >= ?2 FROM "
	    "(SELECT 1 FROM tg_messages WHERE chat_id = ?1 LIMIT ?2) x",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, max);
	rc = corp_step(st);
	if (rc == SQLITE_ROW)
		*full = corp_col_int(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(u->db, rc, "count chat messages", err);
	return 0;
}

static int
store_message(struct upd *u, json_t *m, const char *raw, int edited,
    struct corp_err *err)
{
	json_t *chat = json_object_get(m, "chat"),
	    *from = json_object_get(m, "from"), *ent;
	const char *text, *first, *last;
	char *name = NULL, *ents = NULL;
	struct corp_stmt *st;
	long long msgid, row = 0, old_edit = 0, new_edit = 0, date = 0, rowid;
	int rc, have_old_edit = 0, have_new_edit, full = 0;

	if (!jint(m, "message_id", &msgid))
		return 0;	/* nothing to key it by: not stored */
	text = jstr(m, "text");
	if (text == NULL)
		text = jstr(m, "caption");
	ent = json_object_get(m, json_object_get(m, "text") != NULL ?
	    "entities" : "caption_entities");
	first = jstr(from, "first_name");
	last = jstr(from, "last_name");
	if (first != NULL && (last != NULL ? corp_asprintf(&name, "%s %s",
	    first, last) : corp_asprintf(&name, "%s", first)) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (ent != NULL && (ents = dump_or_null(ent)) == NULL &&
	    !json_is_null(ent)) {
		free(name);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	jint(m, "date", &date);
	have_new_edit = jint(m, "edit_date", &new_edit);
	/*
	 * The stored row, if any.  A message stored already is left alone
	 * unless this is an edit; found here rather than by the INSERT's
	 * ON CONFLICT, which on PostgreSQL would still draw an id from the
	 * sequence (ids are printed: they must not skip).
	 */
	if ((rc = corp_db_prep(u->db, &st, "SELECT id, edit_date FROM "
	    "tg_messages WHERE chat_id = ?1 AND message_id = ?2", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, msgid);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		row = corp_col_int64(st, 0);
		have_old_edit = corp_col_type(st, 1) != SQLITE_NULL;
		old_edit = corp_col_int64(st, 1);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = corp_db_fail(u->db, rc, "read message", err);
		goto out;
	}
	rc = 0;
	if (row > 0 && !edited)
		goto out;
	/* A new message past the chat's quota is not stored: anyone who
	 * adds the bot to a group can write to it (corp-tg.1, STORAGE). */
	if (row == 0 && (rc = chat_full(u, &full, err)) != 0)
		goto out;
	if (row == 0 && full)
		goto out;
	if (row > 0) {
		/* An older edit arriving after a newer one changes nothing. */
		if (have_old_edit && have_new_edit && new_edit < old_edit)
			goto out;
		if ((rc = corp_db_prep(u->db, &st, "INSERT INTO "
		    "tg_message_edits (message_row_id, text, entities, "
		    "edit_date, replaced_at, update_id) SELECT id, text, "
		    "entities, edit_date, ?2, ?3 FROM tg_messages WHERE "
		    "id = ?1 AND (text IS DISTINCT FROM ?4 OR "
		    "entities IS DISTINCT FROM ?5)", err))
		    != 0)
			goto out;
		corp_bind_int64(st, 1, row);
		corp_bind_int64(st, 2, have_new_edit ? new_edit : date);
		corp_bind_int64(st, 3, u->update_id);
		corp_bind_text(st, 4, text);
		corp_bind_text(st, 5, ents);
		if ((rc = corp_db_exec(u->db, st, "keep message history",
		    err)) != 0)
			goto out;
		if ((rc = corp_db_prep(u->db, &st, "UPDATE tg_messages SET "
		    "text = ?2, entities = ?3, edit_date = ?4, raw = ?5, "
		    "update_id = ?6, updated_at = ?7 WHERE id = ?1", err)) != 0)
			goto out;
		corp_bind_int64(st, 1, row);
		corp_bind_text(st, 2, text);
		corp_bind_text(st, 3, ents);
		bind_opt_int(st, 4, m, "edit_date");
		corp_bind_text(st, 5, raw);
		corp_bind_int64(st, 6, u->update_id);
		corp_bind_int64(st, 7, (long long)u->now);
		if ((rc = corp_db_exec(u->db, st, "update message", err)) == 0)
			rc = message_event(u, row, msgid, 1, err);
		goto out;
	}
	if ((rc = corp_db_prep(u->db, &st, "INSERT INTO tg_messages (chat_id, "
	    "message_id, chat_type, chat_title, from_id, from_username, "
	    "from_name, date, edit_date, text, reply_to_message_id, entities, "
	    "raw, update_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) "
	    "ON CONFLICT (chat_id, message_id) DO NOTHING RETURNING id", err)) != 0)
		goto out;
	corp_bind_int64(st, 1, u->chat);
	corp_bind_int64(st, 2, msgid);
	corp_bind_text(st, 3, jstr(chat, "type") ? jstr(chat, "type") :
	    "unknown");
	corp_bind_text(st, 4, jstr(chat, "title"));
	bind_opt_int(st, 5, from, "id");
	corp_bind_text(st, 6, jstr(from, "username"));
	corp_bind_text(st, 7, name);
	corp_bind_int64(st, 8, date);
	bind_opt_int(st, 9, m, "edit_date");
	corp_bind_text(st, 10, text);
	bind_opt_int(st, 11, json_object_get(m, "reply_to_message"),
	    "message_id");
	corp_bind_text(st, 12, ents);
	corp_bind_text(st, 13, raw);
	corp_bind_int64(st, 14, u->update_id);
	corp_bind_int64(st, 15, (long long)u->now);
	if ((rc = corp_db_insert(u->db, st, &rowid, "store message",
	    err)) == 0 && rowid > 0 && (rc = ingest_begin(u, err)) == 0 &&
	    (rc = message_event(u, rowid, msgid, 0, err)) == 0)
		rc = ingest_stored(u, msgid, date, from, name, err);
out:
	free(name);
	free(ents);
	return rc;
}

/*
 * Is this a chat corp knows: a telegram bind (active or not) holds it?
 * Private chats of strangers are not kept (issue 16): anyone can write
 * to the bot.
 */
static int
known_chat(struct upd *u, long long chat, int *yes, struct corp_err *err)
{
	char buf[32];
	long long uid;
	int rc, active;

	snprintf(buf, sizeof(buf), "%lld", chat);
	rc = corp_binds_find(u->db, "telegram", buf, &uid, &active, NULL,
	    err);
	*yes = rc == 0;
	return rc == CORP_ENOTFOUND ? 0 : rc;
}

/* A callback query is kept only when its sender is a known chat. */
static int
store_callback(struct upd *u, json_t *cq, const char *raw,
    struct corp_err *err)
{
	json_t *m = json_object_get(cq, "message");
	struct corp_stmt *st;
	long long from;
	int rc, yes;

	if (jstr(cq, "id") == NULL ||
	    !jint(json_object_get(cq, "from"), "id", &from))
		return 0;
	if ((rc = known_chat(u, from, &yes, err)) != 0 || !yes)
		return rc;
	if ((rc = corp_db_prep(u->db, &st, "INSERT INTO tg_callbacks (id, "
	    "from_id, chat_id, message_id, data, raw, update_id, received_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO "
	    "NOTHING", err)) != 0)
		return rc;
	corp_bind_text(st, 1, jstr(cq, "id"));
	bind_opt_int(st, 2, json_object_get(cq, "from"), "id");
	bind_opt_int(st, 3, json_object_get(m, "chat"), "id");
	bind_opt_int(st, 4, m, "message_id");
	corp_bind_text(st, 5, jstr(cq, "data"));
	corp_bind_text(st, 6, raw);
	corp_bind_int64(st, 7, u->update_id);
	corp_bind_int64(st, 8, (long long)u->now);
	return corp_db_exec(u->db, st, "store callback query", err);
}

/*
 * The card's text again, with the outcome under it and no keyboard: the
 * message's text as Telegram gives it (plain: its formatting is lost),
 * escaped, cut so that the outcome fits.
 */
static int
edit_text(const char *orig, const char *outcome, char **out,
    struct corp_err *err)
{
	char *esc = NULL, *cut = NULL;
	size_t olen = corp_html_len(outcome);
	int rc = 0;

	*out = NULL;
	if ((esc = corp_html_escape(orig != NULL ? orig : "")) == NULL ||
	    corp_html_cut(esc, olen + 2 < CORP_TG_MAX ? CORP_TG_MAX - olen -
	    2 : 0, &cut) != 0 || corp_asprintf(out, "%s%s%s", cut,
	    *cut != '\0' ? "\n\n" : "", outcome) < 0) {
		*out = NULL;
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(esc);
	free(cut);
	return rc;
}

int
corp_tgupdate_on_callback(struct corp_db *db, const struct corp_tg_ctx *ctx,
    long long update_id, time_t now, json_t *cq, const char *raw,
    struct corp_err *err)
{
	struct corp_tgbutton_press p;
	struct upd u;
	json_t *m = json_object_get(cq, "message"), *vars = NULL;
	const char *tglang;
	char *answer = NULL, *outcome = NULL, *etext = NULL, lang[16];
	long long recent, msgid = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	u.db = db;
	u.ctx = ctx;
	u.update_id = update_id;
	u.now = now;
	if ((rc = store_callback(&u, cq, raw, err)) != 0 || ctx->history)
		return rc;
	/* Every query is answered (Telegram shows a spinner until then),
	 * within a chat's share of answers. */
	memset(&p, 0, sizeof(p));
	p.callback_id = jstr(cq, "id");
	if (p.callback_id == NULL)
		return 0;	/* nothing to answer */
	tglang = jstr(json_object_get(cq, "from"), "language_code");
	/*
	 * A presser that is no user id (555.0, a string, none:
	 * sec-review-10 item 6) is still answered, refused as not valid;
	 * such answers share one allowance, chat 0's.
	 */
	if (!jint(json_object_get(cq, "from"), "id", &p.from_id) ||
	    p.from_id <= 0) {
		p.from_id = 0;
		p.answer = "bot.button.invalid";
		goto answer;
	}
	p.key = ctx->button_key;
	p.data = jstr(cq, "data");
	p.update_id = update_id;
	p.now = now;
	if (json_is_object(m) && !jint(json_object_get(m, "chat"), "id",
	    &p.chat_id))
		p.chat_id = -1;	/* a message without a chat: not ours */
	jint(m, "message_id", &msgid);
	p.message_id = msgid > 0 ? msgid : 0;
	if ((rc = corp_tgbutton_press_tx(db, &p, err)) != 0)
		return rc;
answer:
	if ((vars = json_pack("{s:s, s:s}", "payload.action", p.action,
	    "actor.name", p.actor != NULL ? p.actor : "")) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = recent_out(db, p.from_id, "answer", &recent, err)) != 0)
		goto out;
	if (recent < CORP_TG_MAX_ANSWERS &&
	    ((rc = render_for(db, ctx, p.user_id, tglang, p.answer, vars,
	    CORP_RENDER_PLAIN, &answer, lang, err)) != 0 ||
	    (rc = outbox(db, "answer", p.from_id, update_id, p.answer, lang,
	    answer, p.callback_id, 0, err)) != 0))
		goto out;
	if (!p.edit || msgid <= 0 || p.chat_id <= 0)
		goto out;
	if ((rc = render_for(db, ctx, p.user_id, tglang, "bot.button.outcome",
	    vars, CORP_RENDER_HTML, &outcome, lang, err)) != 0 ||
	    (rc = edit_text(jstr(m, "text"), outcome, &etext, err)) != 0)
		goto out;
	rc = outbox(db, "edit", p.chat_id, update_id, "bot.button.outcome",
	    lang, etext, NULL, msgid, err);
out:
	json_decref(vars);
	free(p.actor);
	free(answer);
	free(outcome);
	free(etext);
	return rc;
}

/* ---- the update --------------------------------------------------- */

enum { CMD_NONE, CMD_START, CMD_STOP };

/*
 * "/start", "/start PAYLOAD", "/start@Bot PAYLOAD", "/stop".  A command
 * addressed to another bot (@Name not ours) is no command of ours.
 * *arg gets the payload with surrounding white space removed (in buf).
 */
static int
command(const char *text, const char *bot, char *buf, size_t size)
{
	const char *p;
	size_t n, m;
	int cmd;

	buf[0] = '\0';
	if (text == NULL || text[0] != '/')
		return CMD_NONE;
	n = strcspn(text + 1, " \t\r\n@");
	if (n == 5 && strncmp(text + 1, "start", 5) == 0)
		cmd = CMD_START;
	else if (n == 4 && strncmp(text + 1, "stop", 4) == 0)
		cmd = CMD_STOP;
	else
		return CMD_NONE;
	p = text + 1 + n;
	if (*p == '@') {
		m = strcspn(p + 1, " \t\r\n");
		if (bot != NULL && *bot != '\0' && (m != strlen(bot) ||
		    strncasecmp(p + 1, bot, m) != 0))
			return CMD_NONE;
		p += 1 + m;
	}
	p += strspn(p, " \t\r\n");
	n = strlen(p);
	while (n > 0 && strchr(" \t\r\n", p[n - 1]) != NULL)
		n--;
	if (n >= size)
		n = size - 1;	/* too long for a code: still a wrong one */
	memcpy(buf, p, n);
	buf[n] = '\0';
	return cmd;
}

static int
on_message(struct upd *u, json_t *m, const char *raw, int edited,
    struct corp_err *err)
{
	json_t *chat = json_object_get(m, "chat");
	const char *type = jstr(chat, "type");
	char arg[128];
	int cmd, yes, rc, priv;

	if (!jint(chat, "id", &u->chat))
		return 0;
	snprintf(u->chatbuf, sizeof(u->chatbuf), "%lld", u->chat);
	u->tglang = jstr(json_object_get(m, "from"), "language_code");
	/* Private: the type says so; a chat without a type is a user's
	 * when its id is positive. */
	priv = type != NULL ? strcmp(type, "private") == 0 : u->chat > 0;
	/* An edit is never a command: editing a message into "/start
	 * CODE" binds nothing, only a new message does. */
	cmd = edited ? CMD_NONE : command(jstr(m, "text"),
	    u->ctx->bot_username, arg, sizeof(arg));
	if (cmd == CMD_START) {
		if (type == NULL || strcmp(type, "private") != 0)
			return reply(u->db, u->ctx, u->chat, u->update_id,
			    "bot.start.group_refused", 0, u->tglang, err);
		if ((rc = blocked(u, &yes, err)) != 0 || yes)
			return rc;
		return arg[0] == '\0' ? start_plain(u, err) :
		    start_code(u, arg, err);
	}
	if (cmd == CMD_STOP && type != NULL && strcmp(type, "private") == 0)
		return stop(u, err);
	if (priv) {
		if ((rc = known_chat(u, u->chat, &yes, err)) != 0 || !yes)
			return rc;
	}
	return store_message(u, m, raw, edited, err);
}

static int	handle_tx(struct corp_db *, const struct corp_tg_ctx *,
		    json_t *, struct ingest *, int *, struct corp_err *);

int
corp_tgupdate_handle_tx(struct corp_db *db, const struct corp_tg_ctx *ctx,
    json_t *update, int *outcome, struct corp_err *err)
{
	return handle_tx(db, ctx, update, NULL, outcome, err);
}

static int
handle_tx(struct corp_db *db, const struct corp_tg_ctx *ctx,
    json_t *update, struct ingest *ing, int *outcome, struct corp_err *err)
{
	static const char *const kinds[] = {
		"message", "edited_message", "channel_post",
		"edited_channel_post", "my_chat_member", "callback_query",
		NULL
	};
	struct upd u;
	struct corp_stmt *st;
	const char *kind = "other";
	char *raw = NULL;
	json_t *body = NULL, *chat;
	size_t i;
	int rc;

	*outcome = CORP_TG_MALFORMED;
	memset(&u, 0, sizeof(u));
	u.db = db;
	u.ctx = ctx;
	u.now = corp_now();
	u.ing = ing;
	if ((rc = corp_tg_update_id(update, &u.update_id, err)) != 0) {
		if (!json_is_object(update))
			return 0;	/* not an Update object: malformed */
		/* An object without a usable id is refused like any poison
		 * update: its codes burnt, ingestion.failed (corp-tg.1);
		 * corp-msg import (no ing) skips it with a warning. */
		if (u.update_id < 0)
			return ing != NULL ? rc : 0;
		return corp_errprefix(err, "update %lld", u.update_id);
	}
	if ((rc = check_value(update, NULL, err)) != 0 ||
	    (rc = check_chats(update, err)) != 0)
		return corp_errprefix(err, "update %lld", u.update_id);
	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM tg_updates WHERE "
	    "update_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u.update_id);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_ROW) {
		*outcome = CORP_TG_DUPLICATE;
		return 0;
	}
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read handled updates", err);
	for (i = 0; kinds[i] != NULL; i++)
		if (json_is_object(body = json_object_get(update, kinds[i]))) {
			kind = kinds[i];
			break;
		}
	/* Codes in anything but a private chat's update are burnt first,
	 * whatever the update's kind (corp-tg.1). */
	if (!update_private(update)) {
		rc = burn_all(&u, update, 0, err);
		live_free(&u);
		if (rc != 0)
			return rc;
	}
	if ((raw = json_dumps(update, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = 0;
	if (strcmp(kind, "message") == 0 || strcmp(kind, "channel_post") == 0)
		rc = on_message(&u, body, raw, 0, err);
	else if (strcmp(kind, "edited_message") == 0 ||
	    strcmp(kind, "edited_channel_post") == 0)
		rc = on_message(&u, body, raw, 1, err);
	else if (strcmp(kind, "my_chat_member") == 0) {
		chat = json_object_get(body, "chat");
		if (jint(chat, "id", &u.chat) && jstr(chat, "type") != NULL &&
		    strcmp(jstr(chat, "type"), "private") == 0) {
			snprintf(u.chatbuf, sizeof(u.chatbuf), "%lld", u.chat);
			rc = chat_member(&u, body, err);
		}
	} else if (strcmp(kind, "callback_query") == 0)
		rc = corp_tgupdate_on_callback(db, ctx, u.update_id, u.now,
		    body, raw, err);
	free(raw);
	if (rc != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO tg_updates (update_id, "
	    "kind, handled_at) VALUES (?1, ?2, ?3)", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, u.update_id);
	corp_bind_text(st, 2, kind);
	corp_bind_int64(st, 3, (long long)u.now);
	if ((rc = corp_db_exec(db, st, "record update", err)) != 0)
		return rc;
	*outcome = CORP_TG_HANDLED;
	return 0;
}

/* ---- offsets and pruning ------------------------------------------ */

int
corp_tgupdate_offset_get(struct corp_db *db, const char *bot, long long *off,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*off = -1;
	if ((rc = corp_db_prep(db, &st, "SELECT next_offset FROM tg_offsets "
	    "WHERE bot = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, bot);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*off = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read offset", err);
	return 0;
}

int
corp_tgupdate_offset_set_tx(struct corp_db *db, const char *bot, long long off,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	/* Never backwards: that would hand out confirmed updates again. */
	if ((rc = corp_db_prep(db, &st, "INSERT INTO tg_offsets (bot, "
	    "next_offset, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (bot) "
	    "DO UPDATE SET next_offset = max(tg_offsets.next_offset, ?2), "
	    "updated_at = ?3", err)) != 0)
		return rc;
	corp_bind_text(st, 1, bot);
	corp_bind_int64(st, 2, off);
	corp_bind_int64(st, 3, (long long)corp_now());
	return corp_db_exec(db, st, "write offset", err);
}

int
corp_tgupdate_prune_tx(struct corp_db *db, struct corp_err *err)
{
	struct corp_stmt *st;
	time_t now = corp_now();
	int rc;

	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_updates WHERE "
	    "handled_at < ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)(now - UPDATES_KEEP));
	if ((rc = corp_db_exec(db, st, "prune updates", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_code_failures WHERE "
	    "failed_at <= ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)(now -
	    CORP_TG_BAD_CODE_WINDOW));
	if ((rc = corp_db_exec(db, st, "prune wrong codes", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_chat_blocks WHERE "
	    "blocked_until <= ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)now);
	if ((rc = corp_db_exec(db, st, "prune chat blocks", err)) != 0)
		return rc;
	/* Finished replies: kept as long as handled update ids. */
	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_outbox WHERE "
	    "created_at < ?1 AND status <> 'pending'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)(now - UPDATES_KEEP));
	return corp_db_exec(db, st, "prune replies", err);
}

/* ---- a batch of updates ------------------------------------------ */

struct apply {
	const struct corp_tg_ctx *ctx;
	json_t		**u;
	size_t		  n, at;	/* at: the update that failed, or n */
	const char	 *bot;
	long long	  next_offset;
	int		 *outcome;	/* CORP_TG_REFUSED: burn its codes only */
	char		**reason;	/* a refused one's, for ingestion.failed */
	long long	 *uid;		/* its update_id, or -1 */
	char		(*hash)[65];	/* without one: its content's hash */
	struct ingest	  ing;
};

/* ingestion.failed for the refused update i, in the transaction that
 * skips it. */
static int
ingest_failed(struct corp_db *db, struct apply *a, size_t i,
    struct corp_err *err)
{
	char key[64];

	if (a->uid[i] >= 0) {
		snprintf(key, sizeof(key), "ingest:failed:u%lld", a->uid[i]);
		return ingest_event(db, corp_now(), "ingestion.failed", key,
		    json_pack("{sI ss}", "update_id", (json_int_t)a->uid[i],
		    "reason", a->reason[i]), err);
	}
	/* No usable id: keyed by the update's content, so that one the
	 * API server sends again is reported once (corp-tg.1). */
	snprintf(key, sizeof(key), "ingest:failed:h%.32s", a->hash[i]);
	return ingest_event(db, corp_now(), "ingestion.failed", key,
	    json_pack("{sn ss}", "update_id", "reason", a->reason[i]), err);
}

/* The first 128 bits of the SHA-256 of an update's canonical form. */
static int
update_hash(json_t *u, char *hex, struct corp_err *err)
{
	char *raw;
	int rc;

	if ((raw = json_dumps(u, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = corp_sha256_hex(raw, strlen(raw), hex, err);
	free(raw);
	return rc;
}

/*
 * A refused update is not honoured, but the link codes it carries were
 * shown wherever it was sent: they are burnt, private chat or not, in
 * the transaction that skips it (corp-tg.1, Poison updates).  Its
 * strings are scanned whole, U+0000 and all.
 */
static int
burn_refused(struct corp_db *db, const struct corp_tg_ctx *ctx,
    json_t *update, struct corp_err *err)
{
	struct upd u;
	int rc;

	memset(&u, 0, sizeof(u));
	u.db = db;
	u.ctx = ctx;
	u.now = corp_now();
	rc = burn_all(&u, update, 0, err);
	live_free(&u);
	return rc;
}

/*
 * An update jansson cannot read (a getUpdates answer of one update, a
 * webhook's body): refused from its bytes alone (tgupdate.h).
 */
struct raw_refusal {
	const struct corp_tg_ctx *ctx;
	const char	*raw, *reason, *bot;
	size_t		 len;
	long long	 next_offset;
};

static int
refuse_raw_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct raw_refusal *r = arg;
	struct upd u;
	char hex[65], key[64];
	int rc;

	if ((rc = corp_sha256_hex(r->raw, r->len, hex, err)) != 0)
		return rc;
	snprintf(key, sizeof(key), "ingest:failed:r%.32s", hex);
	if ((rc = ingest_event(db, corp_now(), "ingestion.failed", key,
	    json_pack("{sn ss}", "update_id", "reason", r->reason), err)) != 0)
		return rc;
	memset(&u, 0, sizeof(u));
	u.db = db;
	u.ctx = r->ctx;
	u.now = corp_now();
	u.raw = 1;
	rc = burn_text(&u, r->raw, r->len, err);
	live_free(&u);
	if (rc == 0 && r->bot != NULL && r->next_offset >= 0)
		rc = corp_tgupdate_offset_set_tx(db, r->bot, r->next_offset,
		    err);
	return rc;
}

int
corp_tgupdate_refuse_raw(struct corp_db *db, const struct corp_tg_ctx *ctx,
    const char *raw, size_t len, const char *reason, const char *bot,
    long long next_offset, struct corp_err *err)
{
	struct raw_refusal r = { ctx, raw, NULL, bot, len, next_offset };
	char *why;
	int rc;

	/* Stored as a warning shows it (corp.7 Untrusted text). */
	if ((why = corp_strdup(reason)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	corp_server_text(why);
	r.reason = why;
	rc = corp_db_tx(db, refuse_raw_tx, &r, err);
	free(why);
	return rc;
}

static int
apply_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct apply *a = arg;
	int rc, outcome;

	if (a->bot != NULL && (rc = corp_tgupdate_prune_tx(db, err)) != 0)
		return rc;
	a->ing.started = 0;
	for (a->at = 0; a->at < a->n; a->at++) {
		if (a->reason[a->at] != NULL && (rc = ingest_failed(db, a,
		    a->at, err)) != 0)
			return rc;
		if (a->u[a->at] == NULL)
			continue;
		if (a->outcome[a->at] == CORP_TG_REFUSED) {
			if ((rc = burn_refused(db, a->ctx, a->u[a->at],
			    err)) != 0)
				return rc;
			continue;
		}
		if ((rc = handle_tx(db, a->ctx, a->u[a->at], a->bot != NULL ?
		    &a->ing : NULL, &outcome, err)) != 0)
			return rc;
		a->outcome[a->at] = outcome;
	}
	if (a->bot != NULL && a->next_offset >= 0)
		return corp_tgupdate_offset_set_tx(db, a->bot, a->next_offset,
		    err);
	return 0;
}

int
corp_tgupdate_apply(struct corp_db *db, const struct corp_tg_ctx *ctx,
    json_t **u, size_t n, const char *bot, long long next_offset,
    int *outcome, struct corp_tg_counts *counts, corp_tg_warn_fn warn,
    void *warn_arg, struct corp_err *err)
{
	struct apply a = { ctx, u, n, n, bot, next_offset, outcome, NULL,
	    NULL, NULL, { next_offset >= 0 ? "poll" : "webhook", 0, 0 } };
	char *msg;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if (u[i] != NULL)
			a.ing.updates++;
	if ((a.reason = calloc(n ? n : 1, sizeof(*a.reason))) == NULL ||
	    (a.uid = calloc(n ? n : 1, sizeof(*a.uid))) == NULL ||
	    (a.hash = calloc(n ? n : 1, sizeof(*a.hash))) == NULL) {
		free(a.reason);
		free(a.uid);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if (a.outcome == NULL && (a.outcome = calloc(n ? n : 1,
	    sizeof(*a.outcome))) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		a.outcome[i] = CORP_TG_HANDLED;
	for (;;) {
		a.at = n;
		if ((rc = corp_db_tx(db, apply_tx, &a, err)) == 0)
			break;
		if (bot == NULL || rc != CORP_EINVAL || a.at >= n)
			goto out;
		if (a.outcome[a.at] == CORP_TG_REFUSED) {
			/* its codes cannot be burnt either: skipped whole */
			u[a.at] = NULL;
			continue;
		}
		/* An id beyond 2^53 - 1 is still named; none below 0 is. */
		a.uid[a.at] = json_is_integer(json_object_get(u[a.at],
		    "update_id")) ? json_integer_value(json_object_get(u[a.at],
		    "update_id")) : -1;
		if ((a.uid[a.at] >= 0 ? corp_asprintf(&msg, "telegram: update "
		    "%lld refused and skipped: %s", a.uid[a.at], err->msg) :
		    corp_asprintf(&msg, "telegram: an update without a usable "
		    "update_id refused and skipped: %s", err->msg)) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		if (warn != NULL)
			warn(warn_arg, msg);
		free(msg);
		if ((a.reason[a.at] = corp_strdup(err->msg)) == NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		/* Stored as the warning shows it: it may quote the
		 * update's own text (corp.7 Untrusted text). */
		corp_server_text(a.reason[a.at]);
		if (a.uid[a.at] < 0 && (rc = update_hash(u[a.at],
		    a.hash[a.at], err)) != 0)
			goto out;
		a.outcome[a.at] = CORP_TG_REFUSED;
		if (counts != NULL)
			counts->refused++;
	}
	for (i = 0; i < n && counts != NULL; i++) {
		if (u[i] == NULL || a.outcome[i] == CORP_TG_REFUSED)
			continue;
		if (a.outcome[i] == CORP_TG_HANDLED)
			counts->handled++;
		else if (a.outcome[i] == CORP_TG_DUPLICATE)
			counts->duplicates++;
		else
			counts->ignored++;
	}
out:
	if (a.outcome != outcome)
		free(a.outcome);
	for (i = 0; i < n; i++)
		free(a.reason[i]);
	free(a.reason);
	free(a.uid);
	free(a.hash);
	return rc;
}

int
corp_tgupdate_lock(const char *what, const char *bot, int wait, int *fd,
    struct corp_err *err)
{
	char *name, *path;
	int rc;

	*fd = -1;
	if (corp_asprintf(&name, "tg-%s-%s.lock", what, bot) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = corp_data_mkpath(&path, name, err);
	free(name);
	if (rc != 0)
		return rc;
	rc = corp_lock(path, 1, wait, fd, err);
	free(path);
	return rc;
}

json_t *
corp_tgupdate_counts_json(const struct corp_tg_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "spooled", (json_int_t)c->spooled,
	    "polled", (json_int_t)c->polled,
	    "handled", (json_int_t)c->handled,
	    "duplicates", (json_int_t)c->duplicates,
	    "ignored", (json_int_t)c->ignored,
	    "refused", (json_int_t)c->refused,
	    "replies_sent", (json_int_t)c->replies_sent,
	    "replies_failed", (json_int_t)c->replies_failed,
	    "replies_pending", (json_int_t)c->replies_pending);
}
