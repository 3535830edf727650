/*
 * cliuser.c -- a login on the command line (--user LOGIN) as a user id
 * (cli.h cli_user; userref.h: 65 for a malformed login, then 67), in a
 * file of its own so that only the tools that name users link the
 * directory.
 */
#include "cli.h"
#include "userref.h"

long long
cli_user(struct corp_db *db, const char *login)
{
	struct corp_err e;
	long long id;

	if (corp_user_ref(db, login, &id, &e) != 0)
		cli_fail(&e);
	return id;
}
