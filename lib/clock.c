/* clock.c -- see clock.h. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"

time_t
corp_now(void)
{
	time_t t;

	if (corp_cfg.now != NULL && corp_now_parse(corp_cfg.now, &t, NULL) == 0)
		return t;
	return time(NULL);
}

/*
 * The one range check for an instant read from outside (clock.h):
 * RFC 3339 as corp prints it has a four-digit year from the epoch on,
 * and the epoch itself is corp's "no time" (a due_at of 0 is null).
 */
static int
inrange(const char *str, time_t t, struct corp_err *err)
{
	if (t < 1 || t > (time_t)CORP_TIME_MAX)
		return corp_errf(err, CORP_EINVAL, "'%s' is %s %s (corp's "
		    "times run 1970-01-01T00:00:01Z..9999-12-31T23:59:59Z)",
		    str, t < 1 ? "before" : "after", t < 1 ?
		    "1970-01-01T00:00:01Z" : "9999-12-31T23:59:59Z");
	return 0;
}

int
corp_now_parse(const char *s, time_t *out, struct corp_err *err)
{
	long long d;
	int rc;

	if (*s == '+') {
		if ((rc = corp_duration_parse(s + 1, &d, err)) != 0)
			return rc;
		*out = corp_time_add(time(NULL), d);
		return inrange(s, *out, err);
	}
	return corp_time_parse(s, out, err);
}

long long
corp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
corp_add_checked(long long a, long long b, long long *sum)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		return -1;
	*sum = r;
	return 0;
}

time_t
corp_time_add(time_t t, long long secs)
{
	time_t r;

	if (__builtin_add_overflow(t, secs, &r))
		return secs > 0 ? (time_t)LLONG_MAX : (time_t)LLONG_MIN;
	return r;
}

char *
corp_time_fmt(time_t t, char *buf)
{
	struct tm tm;

	if (t > (time_t)CORP_TIME_MAX)
		t = (time_t)CORP_TIME_MAX;	/* never year 10000 */
	if (t < 0)
		t = 0;		/* never a year of fewer than four digits */
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, CORP_TIMEBUF, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, CORP_TIMEBUF, "%lld", (long long)t);
	return buf;
}

char *
corp_log_time(char *buf)
{
	struct timespec ts;
	char sec[CORP_TIMEBUF];
	long long ms = 0, d;
	time_t t;

	if (corp_cfg.now != NULL && corp_cfg.now[0] != '+' &&
	    corp_now_parse(corp_cfg.now, &t, NULL) == 0)
		ms = (long long)t * 1000;
	else if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (corp_cfg.now != NULL &&
		    corp_duration_parse(corp_cfg.now + 1, &d, NULL) == 0 &&
		    corp_add_checked(ms, d * 1000, &ms) != 0)
			ms = (long long)CORP_TIME_MAX * 1000;
	}
	corp_time_fmt((time_t)(ms / 1000), sec);
	/* "...:05Z" becomes "...:05.123Z". */
	sec[strlen(sec) - 1] = '\0';
	snprintf(buf, CORP_LOGTIMEBUF, "%s.%03dZ", sec,
	    (int)(ms < 0 ? 0 : ms % 1000));
	return buf;
}

static int
digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

int
corp_days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int
corp_time_parse(const char *str, time_t *out, struct corp_err *err)
{
	const char *s = str;
	struct tm tm;
	int y, mo, d, h, mi, sec, oh, om, sign;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't' &&
	    *s != ' ') || (s++, digits(&s, 2, &h)) || *s++ != ':' ||
	    digits(&s, 2, &mi) || *s++ != ':' || digits(&s, 2, &sec))
		goto bad;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			goto bad;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
		oh = om = 0;
		sign = 1;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
	} else
		goto bad;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > corp_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;
	t = timegm(&tm);
	t -= sign * (oh * 3600 + om * 60);
	if (inrange(str, t, err) != 0)
		return CORP_EINVAL;
	*out = t;
	return 0;
bad:
	return corp_errf(err, CORP_EINVAL,
	    "'%s' is not an RFC 3339 time (e.g. 2026-01-05T18:00:00Z)", str);
}

int
corp_duration_parse(const char *str, long long *out, struct corp_err *err)
{
	const char *s = str;
	long long total = 0, v, mul;

	if (str == NULL || *s == '\0')
		goto bad;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			goto bad;
		v = 0;
		while (isdigit((unsigned char)*s)) {
			if (v > LLONG_MAX / 10 - 10)
				goto bad;
			v = v * 10 + (*s++ - '0');
		}
		switch (*s++) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: goto bad;
		}
		if (v > (LLONG_MAX - total) / mul || v * mul > 100LL * 365 *
		    86400)
			goto bad;
		total += v * mul;
	}
	/* The contract (clock.h): a zero lease or timeout means "none" to
	 * libcurl and "expired" to a claim; neither is what "0s" says. */
	if (total <= 0)
		return corp_errf(err, CORP_EINVAL,
		    "'%s': a duration must be more than 0", str);
	*out = total;
	return 0;
bad:
	return corp_errf(err, CORP_EINVAL,
	    "'%s' is not a duration (e.g. 90s, 1h30m, 7d)", str ? str : "");
}

int
corp_when_parse(const char *s, time_t *out, struct corp_err *err)
{
	long long d;
	int rc;

	if (*s == '+' || *s == '-') {
		if ((rc = corp_duration_parse(s + 1, &d, err)) != 0)
			return rc;
		*out = corp_now() + (*s == '-' ? -(time_t)d : (time_t)d);
		return inrange(s, *out, err);
	}
	return corp_time_parse(s, out, err);
}

/* TZ switching: remember the zone last set to avoid tzset() per call. */
static char *curzone;

static int
usezone(const char *zone)
{
	if (curzone != NULL && strcmp(curzone, zone) == 0)
		return 0;
	if (setenv("TZ", zone, 1) != 0)
		return -1;
	tzset();
	free(curzone);
	curzone = strdup(zone);
	return 0;
}

int
corp_tz_name_ok(const char *zone)
{
	if (zone == NULL || *zone == '\0' || strlen(zone) > 64)
		return 0;
	return zone[0] != '/' && zone[0] != '.' && strstr(zone, "..") ==
	    NULL && strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789/_+-") == strlen(zone);
}

int
corp_tz_valid(const char *zone)
{
	/* The last zone found good: corp-fmt asks once per line. */
	static char last[65];
	struct stat sb;
	char *path, magic[4];
	int fd, ok;

	if (zone != NULL && strcmp(zone, "UTC") == 0)
		return 1;
	if (!corp_tz_name_ok(zone))
		return 0;
	if (strcmp(zone, last) == 0)
		return 1;
	if (corp_asprintf(&path, "/usr/share/zoneinfo/%s", zone) < 0)
		return 0;
	/* O_NONBLOCK: a FIFO there must not hang the tool. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
	close(fd);
	if (ok)
		strlcpy(last, zone, sizeof(last));
	return ok;
}

int
corp_tz_local(const char *zone, time_t t, struct corp_local *l)
{
	struct tm tm;

	if (usezone(zone ? zone : "UTC") != 0 || localtime_r(&t, &tm) == NULL)
		return -1;
	l->year = tm.tm_year + 1900;
	l->mon = tm.tm_mon + 1;
	l->mday = tm.tm_mday;
	l->hour = tm.tm_hour;
	l->min = tm.tm_min;
	l->sec = tm.tm_sec;
	l->wday = tm.tm_wday;
	l->gmtoff = tm.tm_gmtoff;
	return 0;
}

static int
same(const struct corp_local *l, int y, int mo, int d, int h, int mi, int s)
{
	return l->year == y && l->mon == mo && l->mday == d && l->hour == h &&
	    l->min == mi && l->sec == s;
}

time_t
corp_tz_utc(const char *zone, int y, int mo, int d, int h, int mi, int s)
{
	struct corp_local before, after, l;
	struct tm tm;
	time_t guess, t1, t2;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	guess = timegm(&tm);
	/* Offsets a day either side bracket any transition near guess. */
	if (corp_tz_local(zone, guess - 86400, &before) != 0 ||
	    corp_tz_local(zone, guess + 86400, &after) != 0)
		return guess;
	t1 = guess - before.gmtoff;
	t2 = guess - after.gmtoff;
	if (t2 < t1) {
		time_t x = t1;
		t1 = t2;
		t2 = x;
	}
	/* The earlier instant that shows this wall time wins. */
	if (corp_tz_local(zone, t1, &l) == 0 && same(&l, y, mo, d, h, mi, s))
		return t1;
	if (corp_tz_local(zone, t2, &l) == 0 && same(&l, y, mo, d, h, mi, s))
		return t2;
	/* In a gap: read the wall time with the offset from before it. */
	return guess - before.gmtoff;
}
