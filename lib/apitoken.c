/* apitoken.c -- see apitoken.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "apitoken.h"
#include "clock.h"
#include "db.h"
#include "digest.h"
#include "directory.h"
#include "jsonl.h"
#include "rand.h"

#define OOM(err) corp_errf(err, CORP_EINTERNAL, "out of memory")
#define LABEL_MAX	200

#define TOKEN_COLS "SELECT t.id, u.login, t.label, t.created_at, " \
	"t.expires_at, t.last_used_at, t.revoked_at FROM api_tokens t " \
	"JOIN users u ON u.id = t.user_id "

static json_t *
token_row(struct corp_stmt *st)
{
	time_t now = corp_now(), exp = (time_t)corp_col_int64(st, 4);
	const char *state;

	if (corp_col_type(st, 6) != SQLITE_NULL)
		state = "revoked";
	else if (exp != 0 && exp <= now)
		state = "expired";
	else
		state = "active";
	return json_pack("{sI ss so so so so so ss}",
	    "id", (json_int_t)corp_col_int64(st, 0),
	    "user", corp_col_text(st, 1),
	    "label", corp_json_strval(corp_col_text(st, 2)),
	    "created_at", corp_json_time((time_t)corp_col_int64(st, 3)),
	    "expires_at", corp_json_time(exp),
	    "last_used_at", corp_json_time((time_t)corp_col_int64(st, 5)),
	    "revoked_at", corp_json_time((time_t)corp_col_int64(st, 6)),
	    "state", state);
}

static int
token_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *arr;
	int rc;

	if ((rc = corp_db_prep(db, &st, TOKEN_COLS "WHERE t.id = ?1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_db_rows(db, st, token_row, &arr, "read token",
	    err)) != 0)
		return rc;
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return corp_errf(err, CORP_ENOTFOUND, "token %lld: not found",
		    id);
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

static int
label_ok(const char *s, struct corp_err *err)
{
	json_t *j;
	size_t i;

	if (strlen(s) > LABEL_MAX)
		return corp_errf(err, CORP_EINVAL, "--name: longer than %d "
		    "bytes", LABEL_MAX);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return corp_errf(err, CORP_EINVAL, "--name: control "
			    "character at byte %zu", i + 1);
	if ((j = json_string(s)) == NULL)
		return corp_errf(err, CORP_EINVAL, "--name: not UTF-8");
	json_decref(j);
	return 0;
}

struct add {
	const char	*login, *label;
	time_t		 expires;
	const char	*hash;
	long long	 id;
};

static int
add_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct add *a = arg;
	struct corp_stmt *st;
	long long uid;
	int rc, active;

	if ((rc = corp_dir_user_id(db, a->login, &uid, &active, err)) != 0)
		return rc;
	if (!active)
		return corp_errf(err, CORP_EINVAL, "user '%s' is inactive: "
		    "a token would let nobody in", a->login);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO api_tokens (user_id, "
	    "label, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "RETURNING id", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, a->label);
	corp_bind_text(st, 3, a->hash);
	corp_bind_int64(st, 4, (long long)corp_now());
	if (a->expires != 0)
		corp_bind_int64(st, 5, (long long)a->expires);
	else
		corp_bind_null(st, 5);
	return corp_db_insert(db, st, &a->id, "add token", err);
}

int
corp_apitoken_add(struct corp_db *db, const char *login, const char *label,
    time_t expires, char *token, json_t **row, struct corp_err *err)
{
	char hash[65];
	struct add a = { login, label, expires, hash, 0 };
	int rc;

	*row = NULL;
	if (label != NULL && (rc = label_ok(label, err)) != 0)
		return rc;
	if (expires != 0 && expires <= corp_now())
		return corp_errf(err, CORP_EINVAL, "--expires: not in the "
		    "future");
	memcpy(token, CORP_APITOKEN_PREFIX, sizeof(CORP_APITOKEN_PREFIX) - 1);
	if ((rc = corp_random_b64url(token + sizeof(CORP_APITOKEN_PREFIX) - 1,
	    32, err)) != 0)
		return rc;
	if ((rc = corp_sha256_hex(token, strlen(token), hash, err)) != 0 ||
	    (rc = corp_db_tx(db, add_tx, &a, err)) != 0 ||
	    (rc = token_json(db, a.id, row, err)) != 0) {
		explicit_bzero(token, CORP_APITOKEN_LEN + 1);
		return rc;
	}
	return 0;
}

int
corp_apitoken_list(struct corp_db *db, const char *login, json_t **array,
    struct corp_err *err)
{
	struct corp_stmt *st;
	long long uid = 0;
	int rc;

	if (login != NULL &&
	    (rc = corp_dir_user_id(db, login, &uid, NULL, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, TOKEN_COLS "WHERE ?1 = 0 OR "
	    "t.user_id = ?1 ORDER BY t.id", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	return corp_db_rows(db, st, token_row, array, "list tokens", err);
}

struct revoke {
	long long	 id;
};

static int
revoke_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct revoke *r = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE api_tokens SET revoked_at = "
	    "coalesce(revoked_at, ?2) WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, r->id);
	corp_bind_int64(st, 2, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "revoke token", err)) != 0)
		return rc;
	if (corp_db_changes(db) == 0)
		return corp_errf(err, CORP_ENOTFOUND, "token %lld: not found",
		    r->id);
	return 0;
}

int
corp_apitoken_revoke(struct corp_db *db, long long id, json_t **row,
    struct corp_err *err)
{
	struct revoke r = { id };
	int rc;

	*row = NULL;
	if ((rc = corp_db_tx(db, revoke_tx, &r, err)) != 0)
		return rc;
	return token_json(db, id, row, err);
}

/* The shape alone: the prefix and 43 base64url characters. */
static int
well_formed(const char *t)
{
	size_t i, n = sizeof(CORP_APITOKEN_PREFIX) - 1;

	if (strlen(t) != CORP_APITOKEN_LEN ||
	    strncmp(t, CORP_APITOKEN_PREFIX, n) != 0)
		return 0;
	for (i = n; t[i] != '\0'; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", t[i]) == NULL)
			return 0;
	return 1;
}

struct touch {
	long long	 id;
	time_t		 now;
};

static int
touch_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct touch *t = arg;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE api_tokens SET last_used_at = "
	    "?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= "
	    "?2 - 60 OR last_used_at > ?2)", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, t->id);
	corp_bind_int64(st, 2, (long long)t->now);
	return corp_db_exec(db, st, "token last used", err);
}

int
corp_apitoken_auth(struct corp_db *db, const char *token, long long *uid,
    char **login, struct corp_err *err)
{
	struct corp_stmt *st;
	struct touch t = { 0, corp_now() };
	char hash[65];
	const char *why = NULL;
	long long last = 0;
	int rc;

	*login = NULL;
	if (!well_formed(token))
		return corp_errf(err, CORP_EFORBIDDEN, "malformed token");
	if ((rc = corp_sha256_hex(token, strlen(token), hash, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT t.id, t.user_id, u.login, "
	    "u.active, t.expires_at, t.revoked_at, t.last_used_at FROM "
	    "api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, hash);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		t.id = corp_col_int64(st, 0);
		*uid = corp_col_int64(st, 1);
		if (corp_col_type(st, 5) != SQLITE_NULL)
			why = "token revoked";
		else if (corp_col_type(st, 4) != SQLITE_NULL &&
		    corp_col_int64(st, 4) <= (long long)t.now)
			why = "token expired";
		else if (!corp_col_int64(st, 3))
			why = "the token's user is inactive";
		else if ((*login = corp_strdup(corp_col_text(st, 2))) == NULL)
			rc = SQLITE_NOMEM;
		last = corp_col_int64(st, 6);
	} else if (rc == SQLITE_DONE)
		why = "unknown token";
	corp_reset(st);
	if (rc == SQLITE_NOMEM)
		return OOM(err);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read token", err);
	if (why != NULL)
		return corp_errf(err, CORP_EFORBIDDEN, "%s", why);
	/* last_used_at is advice for the operator: a busy database
	 * does not turn a good token away. */
	if (last == 0 || last <= (long long)t.now - 60 ||
	    last > (long long)t.now) {
		struct corp_err e2;

		(void)corp_db_tx(db, touch_tx, &t, &e2);
	}
	return 0;
}
