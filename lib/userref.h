/*
 * userref.h -- a login named on a command line, as a user id.
 *
 * The settings and bind tools name users by login: a login is checked
 * for form (65) before the directory's lookup (67).
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
