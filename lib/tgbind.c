/* tgbind.c -- see tgbind.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "fsutil.h"
#include "rand.h"
#include "tgbind.h"

/* Codes past expiry are kept this long (for "expired" answers), then go. */
#define CODE_KEEP	(7 * 86400)

int
corp_sha256_hex(const void *p, size_t n, char *out, struct corp_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return corp_errf(err, CORP_EINTERNAL, "SHA-256 failed");
	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
corp_tg_bot_id(const char *token, char *out, struct corp_err *err)
{
	char hex[65];
	int rc;

	if ((rc = corp_sha256_hex(token, strlen(token), hex, err)) != 0)
		return rc;
	memcpy(out, hex, 16);
	out[16] = '\0';
	return 0;
}

int
corp_tg_token(char **token, struct corp_err *err)
{
	int rc;

	if ((rc = corp_secret(corp_cfg.telegram_token, "telegram_token",
	    token, err)) != 0)
		return rc;
	if (corp_tg_token_ok(*token))
		return 0;
	explicit_bzero(*token, strlen(*token));
	free(*token);
	*token = NULL;
	return corp_errf(err, CORP_ECONFIG, "%s/secrets/telegram_token: not a "
	    "bot token (expected DIGITS:KEY as @BotFather gives it, as for "
	    "CORP_TELEGRAM_TOKEN; the value is not shown)", corp_cfg.data_dir);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789_-";

int
corp_tg_code_wellformed(const char *s)
{
	return strlen(s) == CORP_TG_CODE_LEN &&
	    strspn(s, b64url) == CORP_TG_CODE_LEN;
}

int
corp_tg_username_ok(const char *s)
{
	size_t n = strlen(s);

	/* Telegram: 5-32 of A-Z a-z 0-9 _, a letter first; a bot's ends
	 * in "bot" (core.telegram.org/bots/features#botfather). */
	return n >= 5 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == n &&
	    isalpha((unsigned char)s[0]) && strcasecmp(s + n - 3, "bot") == 0;
}

struct code {
	long long	 uid;
	const char	*hash;
	time_t		 now, expires;
};

/* Supersede the user's open codes, prune old ones, store the new one. */
static int
code_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	const struct code *c = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE tg_codes SET superseded_at "
	    "= ?2 WHERE user_id = ?1 AND used_at IS NULL AND superseded_at "
	    "IS NULL", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, c->uid);
	corp_bind_int64(st, 2, (long long)c->now);
	if ((rc = corp_db_exec(db, st, "supersede codes", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_codes WHERE "
	    "expires_at < ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)(c->now - CODE_KEEP));
	if ((rc = corp_db_exec(db, st, "prune codes", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO tg_codes (code_sha256, "
	    "user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)", err))
	    != 0)
		return rc;
	corp_bind_text(st, 1, c->hash);
	corp_bind_int64(st, 2, c->uid);
	corp_bind_int64(st, 3, (long long)c->now);
	corp_bind_int64(st, 4, (long long)c->expires);
	return corp_db_exec(db, st, "write code", err);
}

int
corp_tg_code_new(struct corp_db *db, long long uid, char *code,
    time_t *expires, struct corp_err *err)
{
	struct code c = { uid, NULL, corp_now(), 0 };
	char hash[65];
	int rc;

	/* 16 bytes are 128 bits: 22 base64url characters, no padding. */
	if ((rc = corp_random_b64url(code, 16, err)) != 0)
		return rc;
	if (!corp_tg_code_wellformed(code))
		return corp_errf(err, CORP_EINTERNAL, "code: bad encoding");
	if ((rc = corp_sha256_hex(code, CORP_TG_CODE_LEN, hash, err)) != 0)
		return rc;
	*expires = c.expires = c.now + CORP_TG_CODE_TTL;
	c.hash = hash;
	return corp_db_tx(db, code_tx, &c, err);
}
