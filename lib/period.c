/* period.c -- see period.h.  Calendar days are counted as days since
 * 1970-01-01 (proleptic Gregorian) so that weeks and month ends need no
 * table. */
#include <stdio.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "period.h"

static const char *scheds[] = { "monthly", "weekly", "daily", "once" };
static const char *dows[] = { "mon", "tue", "wed", "thu", "fri", "sat",
    "sun" };

int
corp_schedule_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < 4; i++)
		if (strcmp(s, scheds[i]) == 0)
			return i;
	return -1;
}

const char *
corp_schedule_name(int s)
{
	return s >= 0 && s < 4 ? scheds[s] : "?";
}

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil). */
static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, yy, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* 0 = Monday. */
static int
weekday(long days)
{
	long w = (days + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

/* Monday of ISO week 1 of year y. */
static long
iso_week1(int y)
{
	long jan4 = days_from_civil(y, 1, 4);

	return jan4 - weekday(jan4);
}

static int
iso_weeks(int y)
{
	return (int)((iso_week1(y + 1) - iso_week1(y)) / 7);
}

/* Parse exactly `n` digits at s. */
static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The period's first day (days since the epoch). */
static int
first_day(int sched, const char *key, long *day, struct corp_err *err)
{
	int y, m = 1, d = 1, w;
	size_t n = key ? strlen(key) : 0;

	if (sched == CORP_SCHED_ONCE) {
		if (key == NULL || strcmp(key, "once") != 0)
			return corp_errf(err, CORP_EINVAL, "period of a once "
			    "template must be \"once\"");
		*day = 0;
		return 0;
	}
	if (n < 4 || digits(key, 4, &y) != 0 || y < 1970 || y > 9998)
		goto bad;
	switch (sched) {
	case CORP_SCHED_MONTHLY:
		if (n != 7 || key[4] != '-' || digits(key + 5, 2, &m) != 0 ||
		    m < 1 || m > 12)
			goto bad;
		break;
	case CORP_SCHED_DAILY:
		if (n != 10 || key[4] != '-' || key[7] != '-' ||
		    digits(key + 5, 2, &m) != 0 || digits(key + 8, 2, &d) != 0 ||
		    m < 1 || m > 12 || d < 1 || d > corp_days_in_month(y, m))
			goto bad;
		break;
	case CORP_SCHED_WEEKLY:
		if (n != 8 || key[4] != '-' || key[5] != 'W' ||
		    digits(key + 6, 2, &w) != 0 || w < 1 || w > iso_weeks(y))
			goto bad;
		*day = iso_week1(y) + 7L * (w - 1);
		return 0;
	default:
		goto bad;
	}
	*day = days_from_civil(y, m, d);
	return 0;
bad:
	return corp_errf(err, CORP_EINVAL, "'%s' is not a %s period (%s)",
	    key ? key : "", corp_schedule_name(sched),
	    sched == CORP_SCHED_MONTHLY ? "2026-01" :
	    sched == CORP_SCHED_WEEKLY ? "2026-W05" :
	    sched == CORP_SCHED_DAILY ? "2026-01-31" : "once");
}

int
corp_period_check(int sched, const char *key, struct corp_err *err)
{
	long day;

	return first_day(sched, key, &day, err);
}

int
corp_period_start(int sched, const char *key, const char *zone, time_t *t,
    struct corp_err *err)
{
	long day;
	int rc, y, m, d;

	if (sched == CORP_SCHED_ONCE)
		return corp_errf(err, CORP_EINVAL, "a once template has no "
		    "calendar period");
	if ((rc = first_day(sched, key, &day, err)) != 0)
		return rc;
	civil_from_days(day, &y, &m, &d);
	*t = corp_tz_utc(zone, y, m, d, 0, 0, 0);
	return 0;
}

int
corp_period_key_at(int sched, const char *zone, time_t t,
    char key[CORP_PERIOD_KEYLEN], struct corp_err *err)
{
	struct corp_local l;
	long day, thu;
	int y, m, d;

	if (corp_tz_local(zone, t, &l) != 0)
		return corp_errf(err, CORP_EINVAL, "zone '%s'", zone);
	switch (sched) {
	case CORP_SCHED_MONTHLY:
		snprintf(key, CORP_PERIOD_KEYLEN, "%04d-%02d", l.year, l.mon);
		return 0;
	case CORP_SCHED_DAILY:
		snprintf(key, CORP_PERIOD_KEYLEN, "%04d-%02d-%02d", l.year,
		    l.mon, l.mday);
		return 0;
	case CORP_SCHED_WEEKLY:
		day = days_from_civil(l.year, l.mon, l.mday);
		thu = day - weekday(day) + 3;	/* ISO: the week's Thursday */
		civil_from_days(thu, &y, &m, &d);
		snprintf(key, CORP_PERIOD_KEYLEN, "%04d-W%02d", y,
		    (int)((thu - iso_week1(y)) / 7 + 1));
		return 0;
	case CORP_SCHED_ONCE:
		snprintf(key, CORP_PERIOD_KEYLEN, "once");
		return 0;
	}
	return corp_errf(err, CORP_EINVAL, "unknown schedule");
}

int
corp_period_next(int sched, const char *key, char next[CORP_PERIOD_KEYLEN],
    struct corp_err *err)
{
	long day;
	int rc, y, m, d;

	if ((rc = first_day(sched, key, &day, err)) != 0)
		return rc;
	switch (sched) {
	case CORP_SCHED_MONTHLY:
		civil_from_days(day, &y, &m, &d);
		day = m == 12 ? days_from_civil(y + 1, 1, 1) :
		    days_from_civil(y, m + 1, 1);
		break;
	case CORP_SCHED_WEEKLY:
		day += 7;
		civil_from_days(day + 3, &y, &m, &d);
		snprintf(next, CORP_PERIOD_KEYLEN, "%04d-W%02d", y,
		    (int)((day - iso_week1(y)) / 7 + 1));
		return 0;
	case CORP_SCHED_DAILY:
		day += 1;
		break;
	default:
		return corp_errf(err, CORP_EINVAL, "a once template has no "
		    "next period");
	}
	civil_from_days(day, &y, &m, &d);
	if (sched == CORP_SCHED_MONTHLY)
		snprintf(next, CORP_PERIOD_KEYLEN, "%04d-%02d", y, m);
	else
		snprintf(next, CORP_PERIOD_KEYLEN, "%04d-%02d-%02d", y, m, d);
	return 0;
}

/* "HH:MM" at s, the whole rest of the string. */
static int
hhmm(const char *s, int *h, int *m)
{
	if (strlen(s) != 5 || s[2] != ':' || digits(s, 2, h) != 0 ||
	    digits(s + 3, 2, m) != 0 || *h > 23 || *m > 59)
		return -1;
	return 0;
}

/* Parse rule: *arg is the day of month (monthly) or weekday (weekly). */
static int
parse_rule(int sched, const char *rule, int *arg, int *h, int *m, time_t *t,
    struct corp_err *err)
{
	const char *sp;
	int i;

	if (rule == NULL)
		goto bad;
	switch (sched) {
	case CORP_SCHED_ONCE:
		if (corp_time_parse(rule, t, NULL) != 0)
			goto bad;
		return 0;
	case CORP_SCHED_DAILY:
		if (hhmm(rule, h, m) != 0)
			goto bad;
		return 0;
	case CORP_SCHED_MONTHLY:
		if ((sp = strchr(rule, ' ')) == NULL || sp == rule ||
		    sp - rule > 2 || hhmm(sp + 1, h, m) != 0 ||
		    digits(rule, (int)(sp - rule), arg) != 0 || *arg < 1 ||
		    *arg > 31)
			goto bad;
		return 0;
	case CORP_SCHED_WEEKLY:
		if (strlen(rule) < 4 || rule[3] != ' ' ||
		    hhmm(rule + 4, h, m) != 0)
			goto bad;
		for (i = 0; i < 7; i++)
			if (strncmp(rule, dows[i], 3) == 0) {
				*arg = i;
				return 0;
			}
		goto bad;
	}
bad:
	return corp_errf(err, CORP_EINVAL, "'%s' is not a %s due rule (%s)",
	    rule ? rule : "", corp_schedule_name(sched),
	    sched == CORP_SCHED_MONTHLY ? "\"D HH:MM\", e.g. \"5 18:00\"" :
	    sched == CORP_SCHED_WEEKLY ? "\"DOW HH:MM\", e.g. \"fri 17:00\"" :
	    sched == CORP_SCHED_DAILY ? "\"HH:MM\"" : "an RFC 3339 instant");
}

int
corp_due_rule_check(int sched, const char *rule, struct corp_err *err)
{
	int arg, h, m;
	time_t t;

	return parse_rule(sched, rule, &arg, &h, &m, &t, err);
}

int
corp_due_at(int sched, const char *rule, const char *key, const char *zone,
    time_t *due, struct corp_err *err)
{
	long day;
	int rc, arg = 0, h = 0, mi = 0, y, m, d;
	time_t t = 0;

	if ((rc = parse_rule(sched, rule, &arg, &h, &mi, &t, err)) != 0 ||
	    (rc = first_day(sched, key, &day, err)) != 0)
		return rc;
	if (sched == CORP_SCHED_ONCE) {
		*due = t;
		return 0;
	}
	if (sched == CORP_SCHED_WEEKLY)
		day += arg;
	civil_from_days(day, &y, &m, &d);
	if (sched == CORP_SCHED_MONTHLY)
		d = arg > corp_days_in_month(y, m) ? corp_days_in_month(y, m) :
		    arg;
	*due = corp_tz_utc(zone, y, m, d, h, mi, 0);
	return 0;
}
