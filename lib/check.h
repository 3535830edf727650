/*
 * check.h -- corp-db check: an fsck of the whole system.  Each check
 * counts the problems it finds and describes the first few; a check
 * that cannot run is an error, not a clean result.
 */
#ifndef CORP_CHECK_H
#define CORP_CHECK_H

#include <stddef.h>

struct corp_db;
struct corp_err;

struct corp_check_result {
	const char	*name;
	long long	 problems;
	char		*detail;	/* NULL when clean */
};

int	corp_check_run(struct corp_db *, struct corp_check_result **,
	    size_t *, struct corp_err *);
void	corp_check_free(struct corp_check_result *, size_t);

#endif
