/*
 * apitoken.h -- corp-api's bearer tokens (corp-user token, corp-api.1;
 * table api_tokens of lib/sql/0012-api-tokens.sql).
 *
 * A token is "corp_" followed by 43 base64url characters (32 random
 * bytes from OpenSSL's CSPRNG).  It is handed out once, by
 * corp_apitoken_add; the database keeps only its SHA-256, so a copy of
 * the database lets nobody in.  A token acts as its user: whatever the
 * user may do with --as, and nothing else.
 *
 * Every writer owns its transaction.
 */
#ifndef CORP_APITOKEN_H
#define CORP_APITOKEN_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

#define CORP_APITOKEN_PREFIX	"corp_"
#define CORP_APITOKEN_LEN	48	/* prefix + 43 characters */

/*
 * A new token for login (67 unknown, 65 inactive), labelled (NULL: no
 * label; at most 200 bytes, no control characters) and expiring at
 * expires (0: never; 65 when not after now).  token: CORP_APITOKEN_LEN
 * + 1 bytes, the secret, to be shown once and wiped; *row: the token's
 * line (corp-json.5 API TOKENS), without the secret.
 */
int	corp_apitoken_add(struct corp_db *, const char *login,
	    const char *label, time_t expires, char *token, json_t **row,
	    struct corp_err *);
/* Tokens (of login when not NULL) in id order, without the secret. */
int	corp_apitoken_list(struct corp_db *, const char *login,
	    json_t **array, struct corp_err *);
/* Revoke token id (67 unknown); a revoked one stays revoked as it was. */
int	corp_apitoken_revoke(struct corp_db *, long long id, json_t **row,
	    struct corp_err *);

/*
 * Who token is: its user's id and login (*login a fresh copy).
 * CORP_EFORBIDDEN, with the reason in err, for a token that is
 * malformed, unknown, revoked, expired (at corp_now()) or whose user is
 * inactive; the message never holds the token.  A good token's
 * last_used_at moves to now when it is a minute old or more (its own
 * short transaction, whose failure -- a busy database -- is ignored).
 */
int	corp_apitoken_auth(struct corp_db *, const char *token, long long *uid,
	    char **login, struct corp_err *);

#endif
