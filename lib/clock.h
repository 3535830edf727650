/*
 * clock.h -- business time, the monotonic clock, RFC 3339 and durations.
 *
 * corp_now() is the only source of business time (DESIGN 2): CORP_NOW
 * as an instant, or the real clock plus a "+DURATION" offset.  SQL never
 * reads a clock; callers bind corp_now() as a parameter.
 */
#ifndef CORP_CLOCK_H
#define CORP_CLOCK_H

#include <time.h>

struct corp_err;

time_t	corp_now(void);
/* Parse a CORP_NOW value: RFC 3339 instant or +DURATION. */
int	corp_now_parse(const char *, time_t *, struct corp_err *);
/* Monotonic milliseconds, for timeouts and rate limits. */
long long corp_mono_ms(void);
/*
 * The time of a log line (corp.7 Errors), RFC 3339 UTC in milliseconds,
 * "2026-12-07T14:03:05.123Z", of the business clock: CORP_NOW's instant
 * (".000"), else the real clock plus its offset.  buf: CORP_LOGTIMEBUF.
 */
#define CORP_LOGTIMEBUF	48
char	*corp_log_time(char *buf);

/*
 * Overflow-safe time arithmetic for numbers from outside (a server's
 * retry_after, an ack line's): corp_add_checked sets *sum and returns 0,
 * or returns -1 (sum untouched) when a + b does not fit a long long;
 * corp_time_add is t + secs saturated to the range of time_t, so a huge
 * delay is "never" rather than a time in the past.
 */
int	corp_add_checked(long long a, long long b, long long *sum);
time_t	corp_time_add(time_t t, long long secs);

/*
 * The largest delay in seconds corp takes from outside (a Retry-After
 * header, Telegram's retry_after, an ack line): a larger number is read
 * as this one; the senders cap pauses far lower (--max-pause,
 * telegram.max_pause).
 */
#define CORP_RETRY_AFTER_MAX	(366LL * 86400)

#define CORP_TIMEBUF 32
/* The last instant corp reads or prints: 9999-12-31T23:59:59Z.  A time
 * read beyond it is refused; a time computed beyond it prints as it.
 * Likewise below: a time read before 1970-01-01T00:00:01Z is refused (0
 * is "no time"), one computed before the epoch prints as
 * 1970-01-01T00:00:00Z (always a four-digit year). */
#define CORP_TIME_MAX	253402300799LL
/* "2026-01-05T18:00:00Z" into buf (CORP_TIMEBUF bytes). */
char	*corp_time_fmt(time_t, char *buf);
/* RFC 3339 with Z or a numeric offset; fractions are dropped; EINVAL
 * outside 1970-01-01T00:00:01Z..9999-12-31T23:59:59Z. */
int	corp_time_parse(const char *, time_t *, struct corp_err *);
/* "90s", "1h30m", "7d": one or more <integer><s|m|h|d>, > 0 total. */
int	corp_duration_parse(const char *, long long *secs, struct corp_err *);
/* Instant or a duration relative to now ("+2h", "-1d"), for options. */
int	corp_when_parse(const char *, time_t *, struct corp_err *);

/*
 * Zones.  Names are IANA zone names ("Europe/Kyiv"); a name the system's
 * zone database does not know is CORP_EINVAL.  Conversion uses the C
 * library with TZ switched per call (corp is single-threaded).
 */
struct corp_local {
	int	year, mon, mday, hour, min, sec;  /* mon 1..12 */
	int	wday;		/* 0 = Sunday */
	long	gmtoff;		/* seconds east of UTC */
};
/*
 * The one rule for a zone, for every caller (CORP_TZ, users' and units'
 * zones, corp-fmt's line tz): "UTC", or a name of 1-64 of A-Z a-z 0-9
 * / _ + - that is no path trick (no leading / or ., no ..) and names a
 * regular file under /usr/share/zoneinfo that starts with the TZif
 * magic (RFC 8536), so that leapseconds, tzdata.zi or a directory is
 * no zone.  corp_tz_name_ok is the first half alone.
 */
int	corp_tz_valid(const char *zone);
int	corp_tz_name_ok(const char *zone);
/* UTC instant -> local fields in zone. */
int	corp_tz_local(const char *zone, time_t, struct corp_local *);
/*
 * Local wall time in zone -> UTC.  A time that does not exist (spring
 * forward) moves forward by the gap; an ambiguous one (fall back) takes
 * the earlier instant.
 */
time_t	corp_tz_utc(const char *zone, int year, int mon, int mday, int hour,
	    int min, int sec);
/* Days in month (mon 1..12). */
int	corp_days_in_month(int year, int mon);

#endif
