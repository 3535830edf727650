/* prefs.c -- unit tests of quiet hours (parsing, the window end across
 * DST) and of the cursor's AUDIT:USER syntax and order. */
#include <stdlib.h>

#include "tap.h"
#include "corp.h"
#include "clock.h"
#include "cursor.h"
#include "prefs.h"
#include "settings.h"

static time_t
at(const char *s)
{
	struct corp_err e;
	time_t t;

	if (corp_time_parse(s, &t, &e) != 0) {
		printf("Bail out! %s\n", e.msg);
		exit(255);
	}
	return t;
}

/* The quiet window's end for now, as RFC 3339. */
static const char *
qend(const char *zone, const char *win, const char *now)
{
	static char buf[CORP_TIMEBUF];
	int h1, m1, h2, m2;

	if (sscanf(win, "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4)
		return "bad window";
	return corp_time_fmt(corp_prefs_quiet_end(zone, h1 * 60 + m1, h2 * 60 + m2,
	    at(now)), buf);
}

static void
test_parse(void)
{
	struct corp_err e;
	int s, t;

	ok(corp_prefs_quiet_parse("22:00-07:00", &s, &t, &e) == 0 && s == 1320 &&
	    t == 420, "22:00-07:00");
	ok(corp_prefs_quiet_parse("7:05-9:30", &s, &t, &e) == 0 && s == 425 &&
	    t == 570, "one-digit hours");
	ok(corp_prefs_quiet_parse("00:00-23:59", &s, &t, &e) == 0 && s == 0 &&
	    t == 1439, "the whole day but a minute");
	ok(corp_prefs_quiet_parse("24:00-07:00", &s, &t, &e) == CORP_EINVAL,
	    "24:00 refused");
	ok(corp_prefs_quiet_parse("22:60-07:00", &s, &t, &e) == CORP_EINVAL,
	    "minute 60 refused");
	ok(corp_prefs_quiet_parse("22:00-22:00", &s, &t, &e) == CORP_EINVAL,
	    "an empty window refused");
	ok(corp_prefs_quiet_parse("22:00", &s, &t, &e) == CORP_EINVAL,
	    "a single time refused");
	ok(corp_prefs_quiet_parse("22:00-07:00x", &s, &t, &e) == CORP_EINVAL,
	    "trailing junk refused");
	ok(corp_prefs_quiet_parse("22:0-07:00", &s, &t, &e) == CORP_EINVAL,
	    "one-digit minutes refused");
}

static void
test_end(void)
{
	const char *k = "Europe/Kyiv";

	is_str(qend(k, "22:00-07:00", "2026-01-05T12:00:00Z"),
	    "2026-01-05T12:00:00Z", "outside: now");
	is_str(qend(k, "22:00-07:00", "2026-01-05T21:30:00Z"),
	    "2026-01-06T05:00:00Z", "23:30 EET: tomorrow 07:00");
	is_str(qend(k, "22:00-07:00", "2026-01-05T02:00:00Z"),
	    "2026-01-05T05:00:00Z", "04:00 EET: today 07:00");
	is_str(qend(k, "22:00-07:00", "2026-01-05T05:00:00Z"),
	    "2026-01-05T05:00:00Z", "the end itself is outside");
	is_str(qend(k, "22:00-07:00", "2026-01-05T20:00:00Z"),
	    "2026-01-06T05:00:00Z", "the start itself is inside");
	is_str(qend(k, "09:00-17:00", "2026-01-05T08:00:00Z"),
	    "2026-01-05T15:00:00Z", "a daytime window");
	/* Spring forward, 2026-03-29 03:00 EET -> 04:00 EEST. */
	is_str(qend(k, "22:00-07:00", "2026-03-28T21:00:00Z"),
	    "2026-03-29T04:00:00Z", "a night across the spring change: 8 h");
	is_str(qend(k, "22:00-07:00", "2026-03-29T00:30:00Z"),
	    "2026-03-29T04:00:00Z", "02:30 EET on the change day");
	is_str(qend(k, "22:00-03:30", "2026-03-29T00:30:00Z"),
	    "2026-03-29T01:30:00Z", "an end in the gap moves forward");
	/* Fall back, 2026-10-25 04:00 EEST -> 03:00 EET. */
	is_str(qend(k, "22:00-07:00", "2026-10-24T20:00:00Z"),
	    "2026-10-25T05:00:00Z", "a night across the autumn change: 10 h");
	is_str(qend(k, "01:00-03:30", "2026-10-25T00:15:00Z"),
	    "2026-10-25T00:30:00Z", "03:15 EEST: the first 03:30");
	is_str(qend(k, "01:00-03:30", "2026-10-25T01:15:00Z"),
	    "2026-10-25T01:30:00Z", "03:15 EET, the repeated hour: the "
	    "second 03:30 (was: not quiet at all)");
	is_str(qend(k, "22:00-03:30", "2026-10-25T01:15:00Z"),
	    "2026-10-25T01:30:00Z", "the same with a window over midnight");
	is_str(qend("UTC", "22:00-07:00", "2026-01-05T23:00:00Z"),
	    "2026-01-06T07:00:00Z", "UTC");
}

static void
test_cursor(void)
{
	struct corp_cursor a, b;
	struct corp_err e;

	ok(corp_cursor_parse("98:1", &a, &e) == 0 && a.audit == 98 &&
	    a.user == 1, "98:1");
	ok(corp_cursor_parse("0:0", &a, &e) == 0 && a.audit == 0 &&
	    a.user == 0, "0:0");
	ok(corp_cursor_parse("9223372036854775807:1", &a, &e) == 0 &&
	    a.audit == 9223372036854775807LL, "the largest id");
	ok(corp_cursor_parse("9223372036854775808:1", &a, &e) == CORP_EINVAL,
	    "overflow refused");
	ok(corp_cursor_parse("-1:1", &a, &e) == CORP_EINVAL, "negative");
	ok(corp_cursor_parse("98", &a, &e) == CORP_EINVAL, "no user");
	ok(corp_cursor_parse("98:", &a, &e) == CORP_EINVAL, "empty user");
	ok(corp_cursor_parse(":1", &a, &e) == CORP_EINVAL, "empty audit");
	ok(corp_cursor_parse("1:2:3", &a, &e) == CORP_EINVAL, "three parts");
	ok(corp_cursor_parse(" 1:2", &a, &e) == CORP_EINVAL, "a space");
	corp_cursor_parse("5:9", &a, &e);
	corp_cursor_parse("6:1", &b, &e);
	ok(corp_cursor_cmp(&a, &b) < 0 && corp_cursor_cmp(&b, &a) > 0,
	    "event_id first");
	corp_cursor_parse("5:10", &b, &e);
	ok(corp_cursor_cmp(&a, &b) < 0, "then user_id");
	ok(corp_cursor_cmp(&a, &a) == 0, "equal");
}

int
main(void)
{
	struct corp_err e;

	corp_config_load(&e);
	test_parse();
	test_end();
	test_cursor();
	return done_testing();
}
