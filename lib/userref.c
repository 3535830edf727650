/* userref.c -- see userref.h. */
#include "corp.h"
#include "db.h"
#include "directory.h"
#include "userref.h"

int
corp_user_ref(struct corp_db *db, const char *login, long long *id,
    struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (!corp_login_valid(login))
		return corp_errf(err, CORP_EINVAL,
		    "'%s' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -)",
		    login);
	if ((rc = corp_db_prep(db, &st,
	    "SELECT id FROM users WHERE login = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, login);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "user '%s': not found",
		    login);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read user", err);
	return 0;
}
