/* userref.c -- see userref.h. */
#include "corp.h"
#include "db.h"
#include "directory.h"
#include "userref.h"

int
corp_user_ref(struct corp_db *db, const char *login, long long *id,
    struct corp_err *err)
{
	*id = 0;
	if (!corp_login_valid(login))
		return corp_errf(err, CORP_EINVAL,
		    "'%s' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -)",
		    login);
	return corp_dir_user_id(db, login, id, NULL, err);
}
