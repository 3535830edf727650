/*
 * tasktpl.h -- regular task templates (DESIGN 3) and the values of
 * their instances.  Schedules: monthly, weekly, daily, once; due rules
 * and period keys as in period.h.
 */
#ifndef CORP_TASKTPL_H
#define CORP_TASKTPL_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

struct corp_tasktpl_in {
	const char	*title;		int has_title;
	const char	*description;	int has_description;
	const char	*schedule;	int has_schedule;
	const char	*due_rule;	int has_due_rule;
	const char	*assignee;	int has_assignee;	/* login */
	const char	*unit;		int has_unit;		/* name */
	const char	*initiator;	int has_initiator;	/* login */
	time_t		 starts_at;	int has_starts_at;
	int		 active;	int has_active;
};
/* Each owns its transaction (corp_db_tx): a refusal writes nothing. */
int	corp_tasktpl_add(struct corp_db *, const struct corp_tasktpl_in *,
	    long long *idp, struct corp_err *);
int	corp_tasktpl_set(struct corp_db *, long long id,
	    const struct corp_tasktpl_in *, struct corp_err *);
int	corp_tasktpl_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
int	corp_tasktpl_list(struct corp_db *, int all, json_t **array,
	    struct corp_err *);

/* What an instance of template id for period_key gets. */
struct corp_instance {
	char		*title, *description;
	long long	 initiator, assignee_user, assignee_unit;
	time_t		 due_at, period_start;
	int		 active;
};
int	corp_tasktpl_instance(struct corp_db *, long long id,
	    const char *period_key, struct corp_instance *,
	    struct corp_err *);
void	corp_instance_free(struct corp_instance *);
/* The zone of a template's assignee: the user's, else the unit's. */
int	corp_tasktpl_zone(struct corp_db *, long long assignee_user,
	    long long assignee_unit, char **zone, struct corp_err *);

/* The active templates in id order, for corp-sched instances; *out is
 * the caller's to free. */
struct corp_tasktpl_row {
	long long	 id, auser, aunit;
	int		 sched;
	time_t		 starts_at;
};
int	corp_tasktpl_active(struct corp_db *, struct corp_tasktpl_row **out,
	    size_t *n, struct corp_err *);

#endif
