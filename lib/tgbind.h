/*
 * tgbind.h -- Telegram deep-link codes (DESIGN 6, corp-bind.1 code).
 *
 * A code is 22 base64url characters (128 bits from OpenSSL's CSPRNG),
 * single use, valid CORP_TG_CODE_TTL seconds of business time.  Only its
 * SHA-256 is stored; a new code for a user supersedes the user's unused
 * ones.  corp-tg consumes codes (tgupdate.h).
 */
#ifndef CORP_TGBIND_H
#define CORP_TGBIND_H

#include <stddef.h>
#include <time.h>

struct corp_db;
struct corp_err;

#define CORP_TG_CODE_LEN	22
#define CORP_TG_CODE_TTL	(15 * 60)

/* Lower-case hex SHA-256 of n bytes into out (65 bytes). */
int	corp_sha256_hex(const void *, size_t n, char *out, struct corp_err *);
/* The first 16 hex digits of SHA-256(token): how files and rows name a
 * bot without its token (out: 17 bytes). */
int	corp_tg_bot_id(const char *token, char *out, struct corp_err *);
/*
 * The bot token: CORP_TELEGRAM_TOKEN (checked when the environment was
 * read), else DATA_DIR/secrets/telegram_token (corp_secret), which must
 * be a token as well (corp_tg_token_ok): CORP_ECONFIG naming the file,
 * never the value.  The other errors are corp_secret's.
 */
int	corp_tg_token(char **token, struct corp_err *);
/* 22 characters of A-Z a-z 0-9 _ - ? */
int	corp_tg_code_wellformed(const char *);
/* A Telegram bot username: 5-32 of A-Z a-z 0-9 _, a letter first,
 * ending in "bot" (any case)? */
int	corp_tg_username_ok(const char *);

/*
 * A new code for user_id (CORP_TG_CODE_LEN characters + NUL into code),
 * valid until *expires; supersedes the user's unused codes.  Runs its
 * own transaction.
 */
int	corp_tg_code_new(struct corp_db *, long long user_id, char *code,
	    time_t *expires, struct corp_err *);

#endif
