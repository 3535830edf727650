/* idem.c -- see idem.h. */
#include <stdlib.h>
#include <string.h>

#include <sha2.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "idem.h"

int
corp_idem_hash(const char *verb, json_t *args, char hex[65],
    struct corp_err *err)
{
	json_t *req;
	char *s;

	req = json_pack("{s:s, s:O}", "verb", verb, "args", args);
	s = req ? json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY) : NULL;
	json_decref(req);
	if (s == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* libmd's SHA-256 (lowercase hex), not libcrypto's: see
	 * ratelimit.c's key_hex. */
	SHA256Data((const uint8_t *)s, strlen(s), hex);
	free(s);
	return 0;
}

int
corp_idem_lookup(struct corp_db *db, long long actor, const char *verb,
    const char *key, const char *hex, int *found, int *code, char **output,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*found = 0;
	*output = NULL;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM idempotency "
	    "WHERE created_at < ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, (long long)corp_now() -
	    CORP_IDEM_DAYS * 86400LL);
	if ((rc = corp_db_exec(db, st, "prune idempotency keys", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT request_sha256, exit_code, "
	    "output FROM idempotency WHERE actor_user_id = ?1 AND verb = ?2 "
	    "AND key = ?3", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, actor);
	corp_bind_text(st, 2, verb);
	corp_bind_text(st, 3, key);
	rc = corp_step(st);
	if (rc == SQLITE_DONE) {
		corp_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read idempotency key", err);
		corp_reset(st);
		return rc;
	}
	if (strcmp(corp_col_text(st, 0), hex) != 0) {
		corp_reset(st);
		return corp_errf(err, CORP_ECONFLICT, "idempotency key '%s' "
		    "was used for a different %s request", key, verb);
	}
	*code = corp_col_int(st, 1);
	*output = corp_strdup(corp_col_text(st, 2));
	corp_reset(st);
	if (*output == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	*found = 1;
	return 0;
}

int
corp_idem_store(struct corp_db *db, long long actor, const char *verb,
    const char *key, const char *hex, int code, const char *output,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO idempotency "
	    "(actor_user_id, verb, key, request_sha256, exit_code, output, "
	    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, actor);
	corp_bind_text(st, 2, verb);
	corp_bind_text(st, 3, key);
	corp_bind_text(st, 4, hex);
	corp_bind_int(st, 5, code);
	corp_bind_text(st, 6, output);
	corp_bind_int64(st, 7, (long long)corp_now());
	return corp_db_exec(db, st, "store idempotency key", err);
}
