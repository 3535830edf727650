/* linkcode.c -- see linkcode.h. */
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "digest.h"
#include "linkcode.h"
#include "rand.h"

/* Codes past expiry are kept this long (for "expired" answers), then go. */
#define CODE_KEEP	(7 * 86400)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789_-";

int
corp_linkcode_wellformed(const char *s)
{
	return strlen(s) == CORP_LINKCODE_LEN &&
	    strspn(s, b64url) == CORP_LINKCODE_LEN;
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

	if ((rc = corp_linkcode_void_tx(db, c->uid, c->now, err)) != 0)
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
corp_linkcode_new(struct corp_db *db, long long uid, char *code,
    time_t *expires, struct corp_err *err)
{
	struct code c = { uid, NULL, corp_now(), 0 };
	char hash[65];
	int rc;

	/* 16 bytes are 128 bits: 22 base64url characters, no padding. */
	if ((rc = corp_random_b64url(code, 16, err)) != 0)
		return rc;
	if (!corp_linkcode_wellformed(code))
		return corp_errf(err, CORP_EINTERNAL, "code: bad encoding");
	if ((rc = corp_sha256_hex(code, CORP_LINKCODE_LEN, hash, err)) != 0)
		return rc;
	*expires = c.expires = c.now + CORP_LINKCODE_TTL;
	c.hash = hash;
	return corp_db_tx(db, code_tx, &c, err);
}
