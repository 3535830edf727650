/* directory.c -- see directory.h. */
#include <ctype.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"

int
corp_login_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@-") == n;
}

int
corp_dir_make_admin(struct corp_db *db, const char *login, long long *idp,
    struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!corp_login_valid(login))
		return corp_errf(err, CORP_EINVAL,
		    "'%s' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -)",
		    login);
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO users (login, name, "
	    "is_admin, active, created_at, updated_at) VALUES (?1, ?1, 1, 1, "
	    "?2, ?2) ON CONFLICT (login) DO UPDATE SET is_admin = 1, "
	    "active = 1, updated_at = ?2 RETURNING id", err)) != 0)
		goto fail;
	corp_bind_text(st, 1, login);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)corp_now());
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "make admin", err);
		sqlite3_reset(st);
		goto fail;
	}
	*idp = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return corp_db_commit(db, err);
fail:
	corp_db_rollback(db);
	return rc;
}
