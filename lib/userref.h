/*
 * userref.h -- a login named on a command line, as a user id.
 *
 * The settings and bind tools name users by login; this is their one
 * lookup.  (corp-user's directory module has a richer one; this stays
 * small so that the tools that only need the id do not depend on it.)
 */
#ifndef CORP_USERREF_H
#define CORP_USERREF_H

struct corp_db;
struct corp_err;

/* The id of login: CORP_EINVAL when it is not a valid login,
 * CORP_ENOTFOUND when no user has it.  Inactive users are found. */
int	corp_user_ref(struct corp_db *, const char *login, long long *id,
	    struct corp_err *);

#endif
