/*
 * directory.h -- users, org units, delegations (DESIGN 3).
 * Logins: 1-64 characters of [A-Za-z0-9._@-], starting with a letter or
 * digit.  Unit names follow the same rule.
 */
#ifndef CORP_DIRECTORY_H
#define CORP_DIRECTORY_H

struct corp_db;
struct corp_err;

int	corp_login_valid(const char *);
/* Create login as an active admin, or make an existing one an active
 * admin; idempotent.  Opens its own transaction. */
int	corp_dir_make_admin(struct corp_db *, const char *login,
	    long long *idp, struct corp_err *);

#endif
