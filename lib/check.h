/*
 * check.h -- corp-db check: an fsck of the whole system.  Each check
 * counts the problems it finds and describes the first few; a check
 * that cannot run is an error, not a clean result.
 *
 * Severities: "error", a broken invariant of the data; "config", a
 * configuration that holds rows (they cannot go out until it is fixed);
 * "warning", a configuration that does nothing the operator likely
 * meant (a setting that can never fire, a name that matches nothing,
 * base_url unset).
 */
#ifndef CORP_CHECK_H
#define CORP_CHECK_H

#include <stddef.h>

struct corp_db;
struct corp_err;

struct corp_check_result {
	const char	*name;
	const char	*severity;	/* "error", "config", "warning" */
	long long	 problems;
	char		*detail;	/* NULL when clean */
	int		 skipped;	/* did not apply; detail says why */
};

int	corp_check_run(struct corp_db *, struct corp_check_result **,
	    size_t *, struct corp_err *);
void	corp_check_free(struct corp_check_result *, size_t);

#endif
