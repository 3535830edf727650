/*
 * period.h -- periods and due rules of regular tasks (DESIGN 3), for
 * corp-template, corp-task and the scheduler.
 *
 * Period keys: monthly "2026-01", weekly ISO "2026-W05", daily
 * "2026-01-31", once "once".  A period starts at 00:00 local on its
 * first day (Monday for ISO weeks) in the given zone.
 *
 * Due rules: monthly "D HH:MM" (D 1..31, clamped to the month's last
 * day), weekly "DOW HH:MM" (mon..sun, inside the period's week), daily
 * "HH:MM" (on the period's day), once an RFC 3339 instant.  Local times
 * in the zone; a time that does not exist moves forward by the gap, an
 * ambiguous one takes the earlier instant (corp_tz_utc).
 */
#ifndef CORP_PERIOD_H
#define CORP_PERIOD_H

#include <time.h>

struct corp_err;

enum { CORP_SCHED_MONTHLY, CORP_SCHED_WEEKLY, CORP_SCHED_DAILY,
	CORP_SCHED_ONCE };

#define CORP_PERIOD_KEYLEN 16

/* "monthly" ... -> CORP_SCHED_*, or -1. */
int	corp_schedule_parse(const char *);
const char *corp_schedule_name(int);
int	corp_due_rule_check(int sched, const char *rule, struct corp_err *);
/* A well-formed key of this schedule (real dates, real ISO weeks). */
int	corp_period_check(int sched, const char *key, struct corp_err *);
/* The period's first instant in zone (not for once). */
int	corp_period_start(int sched, const char *key, const char *zone,
	    time_t *, struct corp_err *);
/* The key of the period that contains t in zone ("once" for once). */
int	corp_period_key_at(int sched, const char *zone, time_t t,
	    char key[CORP_PERIOD_KEYLEN], struct corp_err *);
/* The key of the period after key (not for once). */
int	corp_period_next(int sched, const char *key,
	    char next[CORP_PERIOD_KEYLEN], struct corp_err *);
/* The due instant of a period by rule, in zone. */
int	corp_due_at(int sched, const char *rule, const char *key,
	    const char *zone, time_t *, struct corp_err *);

#endif
