/*
 * template.h -- regular task templates (DESIGN 3) and the values of
 * their instances.  Schedules: monthly, weekly, daily, once; due rules
 * and period keys as in period.h.
 */
#ifndef CORP_TEMPLATE_H
#define CORP_TEMPLATE_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

struct corp_template_in {
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
int	corp_template_add(struct corp_db *, const struct corp_template_in *,
	    long long *idp, struct corp_err *);
int	corp_template_set(struct corp_db *, long long id,
	    const struct corp_template_in *, struct corp_err *);
int	corp_template_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
int	corp_template_list(struct corp_db *, int all, json_t **array,
	    struct corp_err *);

/* What an instance of template id for period_key gets. */
struct corp_instance {
	char		*title, *description;
	long long	 initiator, assignee_user, assignee_unit;
	time_t		 due_at, period_start;
	int		 active;
};
int	corp_template_instance(struct corp_db *, long long id,
	    const char *period_key, struct corp_instance *,
	    struct corp_err *);
void	corp_instance_free(struct corp_instance *);
/* The zone of a template's assignee: the user's, else the unit's. */
int	corp_template_zone(struct corp_db *, long long assignee_user,
	    long long assignee_unit, char **zone, struct corp_err *);

#endif
