/* period.c -- unit tests of lib/period.c: keys, starts, due rules,
 * month-end clamping, ISO weeks, DST. */
#include "tap.h"
#include "corp.h"
#include "clock.h"
#include "period.h"

static const char *
due(int sched, const char *rule, const char *key, const char *zone)
{
	static char buf[CORP_TIMEBUF];
	static struct corp_err e;
	time_t t;

	if (corp_due_at(sched, rule, key, zone, &t, &e) != 0)
		return e.msg;
	return corp_time_fmt(t, buf);
}

static const char *
start(int sched, const char *key, const char *zone)
{
	static char buf[CORP_TIMEBUF];
	static struct corp_err e;
	time_t t;

	if (corp_period_start(sched, key, zone, &t, &e) != 0)
		return e.msg;
	return corp_time_fmt(t, buf);
}

static const char *
keyat(int sched, const char *zone, const char *when)
{
	static char k[CORP_PERIOD_KEYLEN];
	struct corp_err e;
	time_t t;

	if (corp_time_parse(when, &t, &e) != 0 ||
	    corp_period_key_at(sched, zone, t, k, &e) != 0)
		return "error";
	return k;
}

static const char *
next(int sched, const char *key)
{
	static char k[CORP_PERIOD_KEYLEN];
	struct corp_err e;

	if (corp_period_next(sched, key, k, &e) != 0)
		return "error";
	return k;
}

int
main(void)
{
	struct corp_err e;

	/* Month-end clamping. */
	is_str(due(CORP_SCHED_MONTHLY, "31 18:00", "2026-02", "UTC"),
	    "2026-02-28T18:00:00Z", "day 31 in February is the 28th");
	is_str(due(CORP_SCHED_MONTHLY, "31 18:00", "2028-02", "UTC"),
	    "2028-02-29T18:00:00Z", "leap February: the 29th");
	is_str(due(CORP_SCHED_MONTHLY, "30 09:00", "2026-04", "UTC"),
	    "2026-04-30T09:00:00Z", "day 30 of April stays");
	is_str(due(CORP_SCHED_MONTHLY, "5 18:00", "2026-01", "Europe/Kyiv"),
	    "2026-01-05T16:00:00Z", "in the assignee's zone (EET)");
	is_str(due(CORP_SCHED_MONTHLY, "5 18:00", "2026-07", "Europe/Kyiv"),
	    "2026-07-05T15:00:00Z", "and in summer time (EEST)");
	/* DST: a missing local time moves forward, an ambiguous one takes
	 * the earlier instant. */
	is_str(due(CORP_SCHED_DAILY, "03:30", "2026-03-29", "Europe/Kyiv"),
	    "2026-03-29T01:30:00Z", "03:30 does not exist: moved forward");
	is_str(due(CORP_SCHED_DAILY, "03:30", "2026-10-25", "Europe/Kyiv"),
	    "2026-10-25T00:30:00Z", "03:30 happens twice: the earlier");
	is_str(due(CORP_SCHED_DAILY, "02:30", "2026-03-08",
	    "America/New_York"), "2026-03-08T07:30:00Z",
	    "New York spring gap");
	is_str(start(CORP_SCHED_DAILY, "2026-03-29", "Europe/Kyiv"),
	    "2026-03-28T22:00:00Z", "a day starts at local midnight");
	/* ISO weeks. */
	is_str(start(CORP_SCHED_WEEKLY, "2026-W01", "UTC"),
	    "2025-12-29T00:00:00Z", "2026-W01 starts Monday 2025-12-29");
	is_str(start(CORP_SCHED_WEEKLY, "2026-W05", "Europe/Kyiv"),
	    "2026-01-25T22:00:00Z", "2026-W05 starts Monday 26 Jan, Kyiv");
	is_str(due(CORP_SCHED_WEEKLY, "fri 17:00", "2026-W05", "UTC"),
	    "2026-01-30T17:00:00Z", "weekly due: Friday of that week");
	is_str(due(CORP_SCHED_WEEKLY, "sun 23:59", "2025-W53", "UTC"),
	    "'2025-W53' is not a weekly period (2026-W05)",
	    "2025 has 52 ISO weeks");
	is_str(due(CORP_SCHED_WEEKLY, "sun 23:59", "2026-W53", "UTC"),
	    "2027-01-03T23:59:00Z", "2026 has 53: its Sunday is in 2027");
	ok(corp_period_check(CORP_SCHED_WEEKLY, "2020-W53", &e) == 0,
	    "W53 of 2020 exists");
	is_str(keyat(CORP_SCHED_WEEKLY, "UTC", "2027-01-01T12:00:00Z"),
	    "2026-W53", "2027-01-01 is in ISO week 2026-W53");
	is_str(keyat(CORP_SCHED_WEEKLY, "UTC", "2024-12-30T12:00:00Z"),
	    "2025-W01", "2024-12-30 is in 2025-W01");
	is_str(keyat(CORP_SCHED_MONTHLY, "Europe/Kyiv",
	    "2026-01-31T22:30:00Z"), "2026-02",
	    "the period is the assignee's local month");
	is_str(keyat(CORP_SCHED_DAILY, "America/New_York",
	    "2026-01-01T03:00:00Z"), "2025-12-31", "local day");
	is_str(next(CORP_SCHED_MONTHLY, "2026-12"), "2027-01", "next month");
	is_str(next(CORP_SCHED_WEEKLY, "2026-W52"), "2026-W53",
	    "2026 has a week 53");
	is_str(next(CORP_SCHED_WEEKLY, "2026-W53"), "2027-W01",
	    "then 2027-W01");
	is_str(next(CORP_SCHED_WEEKLY, "2020-W53"), "2021-W01",
	    "after W53 comes W01");
	is_str(next(CORP_SCHED_DAILY, "2028-02-28"), "2028-02-29",
	    "next day in a leap year");
	/* Once. */
	is_str(due(CORP_SCHED_ONCE, "2026-05-01T12:00:00+03:00", "once",
	    "UTC"), "2026-05-01T09:00:00Z", "once: the instant");
	ok(corp_period_check(CORP_SCHED_ONCE, "2026-01", &e) == CORP_EINVAL,
	    "once takes only \"once\"");
	/* Malformed keys and rules. */
	ok(corp_period_check(CORP_SCHED_MONTHLY, "2026-13", &e) == CORP_EINVAL,
	    "month 13");
	ok(corp_period_check(CORP_SCHED_DAILY, "2026-02-29", &e) ==
	    CORP_EINVAL, "Feb 29 of 2026");
	ok(corp_period_check(CORP_SCHED_MONTHLY, "2026-1", &e) == CORP_EINVAL,
	    "short key");
	ok(corp_due_rule_check(CORP_SCHED_MONTHLY, "32 18:00", &e) ==
	    CORP_EINVAL, "day 32");
	ok(corp_due_rule_check(CORP_SCHED_MONTHLY, "0 18:00", &e) ==
	    CORP_EINVAL, "day 0");
	ok(corp_due_rule_check(CORP_SCHED_DAILY, "24:00", &e) == CORP_EINVAL,
	    "24:00");
	ok(corp_due_rule_check(CORP_SCHED_WEEKLY, "fry 10:00", &e) ==
	    CORP_EINVAL, "bad weekday");
	ok(corp_due_rule_check(CORP_SCHED_WEEKLY, "mon 9:00", &e) ==
	    CORP_EINVAL, "H:MM refused");
	ok(corp_schedule_parse("yearly") == -1, "unknown schedule");
	return done_testing();
}
