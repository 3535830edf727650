/*
 * linkcode.h -- Telegram link codes, the tg_codes table (DESIGN 6,
 * corp-bind.1 code): the one-time code whose /start makes a bind.
 *
 * A code is 22 base64url characters (128 bits from OpenSSL's CSPRNG),
 * single use, valid CORP_LINKCODE_TTL seconds of business time.  Only its
 * SHA-256 is stored; a new code for a user supersedes the user's unused
 * ones.  corp-tg consumes codes (tgupdate.h).
 */
#ifndef CORP_LINKCODE_H
#define CORP_LINKCODE_H

#include <time.h>

struct corp_db;
struct corp_err;

#define CORP_LINKCODE_LEN	22
#define CORP_LINKCODE_TTL	(15 * 60)

/* 22 characters of A-Z a-z 0-9 _ - ? */
int	corp_linkcode_wellformed(const char *);

/*
 * A new code for user_id (CORP_LINKCODE_LEN characters + NUL into code),
 * valid until *expires; supersedes the user's unused codes.  Runs its
 * own transaction.
 */
int	corp_linkcode_new(struct corp_db *, long long user_id, char *code,
	    time_t *expires, struct corp_err *);

/* Void the user's unused codes (a new code, a deactivated user, the
 * operator's deactivation of the Telegram bind); joins the caller's tx. */
int	corp_linkcode_void_tx(struct corp_db *, long long user_id, time_t now,
	    struct corp_err *);

#endif
