/* core.c -- unit tests of the core: time, durations, zones, JSON lines,
 * the atomic write. */
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "corp.h"
#include "clock.h"
#include "fsutil.h"
#include "jsonl.h"
#include "rand.h"
#include "text.h"

static void
test_time(void)
{
	struct corp_err e;
	char buf[CORP_TIMEBUF];
	long long d;
	time_t t;

	ok(corp_time_parse("2026-01-05T18:00:00Z", &t, &e) == 0, "parse Z");
	is_str(corp_time_fmt(t, buf), "2026-01-05T18:00:00Z", "round trip");
	ok(corp_time_parse("2026-01-05T20:00:00.123+02:00", &t, &e) == 0,
	    "parse offset and fraction");
	is_str(corp_time_fmt(t, buf), "2026-01-05T18:00:00Z", "offset applied");
	ok(corp_time_parse("2026-02-30T00:00:00Z", &t, &e) == CORP_EINVAL,
	    "Feb 30 refused");
	ok(corp_time_parse("2026-01-05 18:00", &t, &e) == CORP_EINVAL,
	    "no seconds, no zone refused");
	ok(corp_time_parse("2026-01-05T18:00:00Zjunk", &t, &e) == CORP_EINVAL,
	    "trailing junk refused");
	/* The range: four-digit years from the epoch on, both ends. */
	ok(corp_time_parse("1970-01-01T00:00:01Z", &t, &e) == 0 && t == 1,
	    "the first second after the epoch is read");
	is_str(corp_time_fmt(t, buf), "1970-01-01T00:00:01Z", "and printed");
	ok(corp_time_parse("1970-01-01T00:00:00Z", &t, &e) == CORP_EINVAL,
	    "the epoch, corp's \"no time\", refused");
	ok(corp_time_parse("9999-12-31T23:59:59Z", &t, &e) == 0 &&
	    t == (time_t)CORP_TIME_MAX, "the last second is read");
	ok(corp_time_parse("0999-06-01T00:00:00Z", &t, &e) == CORP_EINVAL,
	    "year 999 refused");
	is_str(e.msg, "'0999-06-01T00:00:00Z' is before 1970-01-01T00:00:01Z "
	    "(corp's times run 1970-01-01T00:00:01Z..9999-12-31T23:59:59Z)",
	    "naming the value and the range");
	ok(corp_time_parse("0000-01-01T00:00:00Z", &t, &e) == CORP_EINVAL,
	    "year 0 refused");
	ok(corp_time_parse("1969-12-31T23:59:59Z", &t, &e) == CORP_EINVAL,
	    "the second before the epoch refused");
	ok(corp_time_parse("1970-01-01T00:30:00+01:00", &t, &e) ==
	    CORP_EINVAL, "an offset that lands before the epoch refused");
	ok(corp_time_parse("10000-01-01T00:00:00Z", &t, &e) == CORP_EINVAL,
	    "year 10000 refused");
	is_str(corp_time_fmt(-1, buf), "1970-01-01T00:00:00Z",
	    "a computed time before the epoch prints as it");
	is_str(corp_time_fmt((time_t)LLONG_MIN, buf), "1970-01-01T00:00:00Z",
	    "even the smallest");
	is_str(corp_time_fmt((time_t)LLONG_MAX, buf), "9999-12-31T23:59:59Z",
	    "the largest prints as the last second");
	/* 100 years back from now (the real clock, before 2070). */
	ok(corp_when_parse("-36500d", &t, &e) == CORP_EINVAL,
	    "a relative time before the epoch refused");
	ok(corp_duration_parse("1h30m", &d, &e) == 0 && d == 5400, "1h30m");
	ok(corp_duration_parse("7d", &d, &e) == 0 && d == 604800, "7d");
	ok(corp_duration_parse("90s", &d, &e) == 0 && d == 90, "90s");
	ok(corp_duration_parse("", &d, &e) == CORP_EINVAL, "empty refused");
	ok(corp_duration_parse("10", &d, &e) == CORP_EINVAL, "no unit refused");
	ok(corp_duration_parse("1w", &d, &e) == CORP_EINVAL, "1w refused");
	ok(corp_duration_parse("99999999999999999999s", &d, &e) ==
	    CORP_EINVAL, "overflow refused");
	ok(corp_duration_parse("-5s", &d, &e) == CORP_EINVAL,
	    "negative refused");
}

static void
test_tz(void)
{
	struct corp_local l;
	char buf[CORP_TIMEBUF];
	time_t t;

	/* Europe/Kyiv: 2026-03-29 03:00 local -> 04:00 (spring forward). */
	t = corp_tz_utc("Europe/Kyiv", 2026, 3, 29, 3, 30, 0);
	is_str(corp_time_fmt(t, buf), "2026-03-29T01:30:00Z",
	    "a missing local time moves forward by the gap");
	/* 2026-10-25 03:30 happens twice in Kyiv: the earlier instant. */
	t = corp_tz_utc("Europe/Kyiv", 2026, 10, 25, 3, 30, 0);
	is_str(corp_time_fmt(t, buf), "2026-10-25T00:30:00Z",
	    "an ambiguous local time takes the earlier instant");
	t = corp_tz_utc("America/New_York", 2026, 1, 5, 18, 0, 0);
	is_str(corp_time_fmt(t, buf), "2026-01-05T23:00:00Z", "New York");
	ok(corp_tz_local("Asia/Kolkata", 0, &l) == 0 && l.hour == 5 &&
	    l.min == 30, "local fields with a half-hour offset");
	ok(corp_tz_valid("Europe/Kyiv"), "known zone");
	ok(!corp_tz_valid("Mars/Olympus"), "unknown zone");
	ok(!corp_tz_valid("../../etc/passwd"), "path games refused");
	ok(!corp_tz_valid("Europe"), "a directory of the database is no zone");
	ok(!corp_tz_valid("leapseconds"), "nor a text file in it");
	ok(corp_tz_valid("Europe/Kyiv") && corp_tz_valid("Asia/Tokyo") &&
	    corp_tz_valid("Europe/Kyiv"), "asked again, still known");
	is_int(corp_days_in_month(2028, 2), 29, "leap February");
	is_int(corp_days_in_month(2100, 2), 28, "2100 is not leap");
}

static int
parse(const char *s, json_t **o, struct corp_err *e)
{
	return corp_json_parse_line(s, strlen(s), "<stdin>", 3, o, e);
}

static void
test_json(void)
{
	struct corp_err e;
	json_t *o;
	char *big, deep[200];
	int i;

	ok(parse("{\"a\":1}", &o, &e) == 0 && json_is_object(o), "object");
	json_decref(o);
	ok(parse("{\"a\":1,\"a\":2}", &o, &e) == CORP_EINVAL,
	    "duplicate key refused");
	ok(strstr(e.msg, "<stdin>:3:") == e.msg, "message names the line: %s",
	    e.msg);
	ok(parse("{\"a\":", &o, &e) == CORP_EINVAL, "truncated refused");
	is_str(e.msg, "<stdin>:3:5: unexpected token near end of file",
	    "line and column from jansson");
	ok(parse("[1,2]", &o, &e) == CORP_EINVAL, "array refused");
	is_str(e.msg, "<stdin>:3:1: expected a JSON object", "says why");
	ok(parse("{\"a\":\"\xff\"}", &o, &e) == CORP_EINVAL,
	    "invalid UTF-8 refused");
	ok(parse("{\"a\":\"\\u0000\"}", &o, &e) == CORP_EINVAL,
	    "escaped NUL refused");
	ok(corp_json_parse_line("{\"a\":1}\0", 8, "f", 1, &o, &e) ==
	    CORP_EINVAL, "raw NUL refused");
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	deep[0] = '{';
	strcpy(deep + 100, "");
	memcpy(deep, "{\"a\":", 5);
	ok(parse(deep, &o, &e) == CORP_EINVAL && strstr(e.msg, "nesting"),
	    "deep nesting refused: %s", e.msg);
	big = malloc(CORP_JSONL_MAX + 16);
	memset(big, ' ', CORP_JSONL_MAX + 15);
	big[0] = '{';
	big[CORP_JSONL_MAX + 14] = '}';
	big[CORP_JSONL_MAX + 15] = '\0';
	ok(parse(big, &o, &e) == CORP_EINVAL && strstr(e.msg, "longer"),
	    "huge line refused");
	free(big);
}

static void
test_reader(void)
{
	struct corp_jsonl *r;
	struct corp_err e;
	json_t *o;
	int p[2], n = 0, bad = 0, rc;
	const char *in = "{\"a\":1}\n\n   \n{bad\n{\"b\":2}";

	ok(pipe(p) == 0, "pipe");
	ok(write(p[1], in, strlen(in)) == (ssize_t)strlen(in), "write");
	close(p[1]);
	r = corp_jsonl_open(p[0], "<stdin>");
	while ((rc = corp_jsonl_next(r, &o, -1, &e)) != CORP_JSONL_EOF) {
		if (rc == CORP_JSONL_OBJ) {
			n++;
			json_decref(o);
		} else if (rc == CORP_JSONL_BAD) {
			bad++;
			is_str(e.msg, "<stdin>:4:4: string or '}' expected "
			    "near 'bad'", "bad line named by number");
		} else
			break;
	}
	is_int(n, 2, "two objects, blank lines skipped, no final newline ok");
	is_int(bad, 1, "one bad line, the reader went on");
	corp_jsonl_close(r);
	close(p[0]);

	/* A timeout returns with nothing when no line is complete. */
	ok(pipe(p) == 0, "pipe");
	ok(write(p[1], "{\"x\":", 5) == 5, "partial write");
	r = corp_jsonl_open(p[0], "<stdin>");
	is_int(corp_jsonl_next(r, &o, 10, &e), CORP_JSONL_TIMEOUT,
	    "partial line times out");
	ok(write(p[1], "1}\n", 3) == 3, "rest of the line");
	is_int(corp_jsonl_next(r, &o, 1000, &e), CORP_JSONL_OBJ,
	    "then it is read");
	json_decref(o);
	close(p[1]);
	is_int(corp_jsonl_next(r, &o, 1000, &e), CORP_JSONL_EOF, "eof");
	corp_jsonl_close(r);
	close(p[0]);
}

static void
test_atomic(void)
{
	char dir[] = "/tmp/corp-unit.XXXXXX", path[64], *a, *b, *got;
	struct corp_err e;
	size_t len, n = 200000;
	int i, torn = 0;
	pid_t pid;

	ok(mkdtemp(dir) != NULL, "tmp dir");
	snprintf(path, sizeof(path), "%s/f", dir);
	a = malloc(n);
	b = malloc(n);
	memset(a, 'a', n);
	memset(b, 'b', n);
	ok(corp_atomic_write(path, a, n, &e) == 0, "first write");
	if ((pid = fork()) == 0) {
		for (;;) {
			corp_atomic_write(path, b, n, NULL);
			corp_atomic_write(path, a, n, NULL);
		}
	}
	for (i = 0; i < 300; i++) {
		if (corp_read_file(path, n * 2, &got, &len, &e) != 0) {
			torn++;
			continue;
		}
		if (len != n || (memcmp(got, a, n) != 0 &&
		    memcmp(got, b, n) != 0))
			torn++;
		free(got);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is_int(torn, 0, "a reader never sees a torn file (300 reads)");
	ok(corp_read_file(path, 10, &got, &len, &e) == CORP_EINVAL,
	    "read bound enforced");
	snprintf(path, sizeof(path), "%s/nodir/f", dir);
	ok(corp_atomic_write(path, a, 1, &e) == CORP_EINTERNAL &&
	    strstr(e.msg, "No such file") != NULL, "failure says why: %s",
	    e.msg);
	free(a);
	free(b);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ok(system(path) == 0, "cleanup");
}

static void
test_rand(void)
{
	char a[40], b[40];

	ok(corp_random_b64url(a, 16, NULL) == 0 && strlen(a) == 22,
	    "16 bytes are 22 base64url characters");
	ok(corp_random_b64url(b, 16, NULL) == 0 && strcmp(a, b) != 0,
	    "two tokens differ");
	ok(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == 22, "alphabet");
}

static void
test_suggest(void)
{
	static const char *const chans[] = { "telegram", "email", "webhook",
	    "exec", "file", NULL };
	static const char *const near[] = { "cat", "car", NULL };

	ok(corp_edit_distance("telgram", "telegram", 2) == 1, "one deletion");
	ok(corp_edit_distance("teelgram", "telegram", 2) == 1,
	    "a transposition costs one");
	ok(corp_edit_distance("abc", "xyzuvw", 2) == 3, "capped at cap + 1");
	ok(corp_suggest("telgram", chans, 2) != NULL &&
	    strcmp(corp_suggest("telgram", chans, 2), "telegram") == 0,
	    "telgram -> telegram");
	ok(corp_suggest("EMAIL", chans, 2) != NULL &&
	    strcmp(corp_suggest("EMAIL", chans, 2), "email") == 0,
	    "case does not count");
	ok(corp_suggest("sms", chans, 2) == NULL, "nothing close: NULL");
	ok(corp_suggest("cab", near, 2) == NULL, "a tie suggests nothing");
	ok(corp_code_name(CORP_ECONFIG) != NULL &&
	    strcmp(corp_code_name(78), "configuration error") == 0,
	    "78 is a configuration error");
}

/* A placeholder's value (sec-review-16b item 3): one line, or lines. */
static void
test_text_field(void)
{
	char *c;

	c = corp_text_field("a\nb\r\nc\rd\ve\ff\tg\xc2\x85h"
	    "\xe2\x80\xa8i\xe2\x80\xa9j\xe2\x80\xaek\x1bl", 0);
	is_str(c, "a b c d e f g h i j?k?l",
	    "one line: every break and tab a space, RLO and ESC '?'");
	free(c);
	c = corp_text_field("a\nb\r\nc\rd\xc2\x85" "e\xe2\x80\xa8"
	    "f\tg\xe2\x81\xa6h\xe2\x80\x8bi", 1);
	is_str(c, "a\nb\nc\nd\ne\nf g?h?i",
	    "lines: breaks one LF each, a tab a space, LRI and ZWSP '?'");
	free(c);
	c = corp_text_field("", 1);
	is_str(c, "", "empty stays empty");
	free(c);
	c = corp_text_field("\n\n", 1);
	is_str(c, "\n\n", "empty lines are kept");
	free(c);
}

/* Server text made safe for stderr and the database (review 4 item 6). */
static void
test_server_text(void)
{
	char b[256];

	strcpy(b, "a\x1b[31mb\r\nc\xc2\x9b" "d");
	corp_server_text(b);
	is_str(b, "a?[31mb??c?d",
	    "C0 controls become '?', a C1 control (two bytes) one '?'");
	/* U+202E RLO, U+2066 LRI, U+2069 PDI, U+200F RLM, U+200E LRM,
	 * U+061C ALM, U+2028 LS, U+2029 PS, U+200B ZWSP, U+FEFF, a tag. */
	strcpy(b, "x\xe2\x80\xae" "evil\xe2\x81\xa6i\xe2\x81\xa9"
	    "\xe2\x80\x8f\xe2\x80\x8e\xd8\x9c|\xe2\x80\xa8\xe2\x80\xa9"
	    "\xe2\x80\x8b\xef\xbb\xbf\xf3\xa0\x80\x81" "y");
	corp_server_text(b);
	is_str(b, "x?evil?i????|?????y",
	    "bidi and other invisible format controls become one '?' each");
	strcpy(b, "\xd0\x9f\xd1\x80\xd0\xb8 \xe2\x82\xac \xf0\x9f\x98\x80 "
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
	corp_server_text(b);
	is_str(b, "\xd0\x9f\xd1\x80\xd0\xb8 \xe2\x82\xac \xf0\x9f\x98\x80 "
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
	    "Cyrillic, the euro sign, an emoji and Hebrew pass");
	strcpy(b, "a\xe2\x80\xae\xff");
	corp_server_text(b);
	is_str(b, "a????", "not UTF-8: every non-ASCII byte is '?'");
	/* sec-review-12a item 4: U+17B4, U+1BCA0, U+1D173 (review's). */
	strcpy(b, "A\xe1\x9e\xb4" "B\xf0\x9b\xb2\xa0" "C\xf0\x9d\x85\xb3"
	    "D");
	corp_server_text(b);
	is_str(b, "A?B?C?D", "Khmer inherent vowel, shorthand and musical "
	    "format controls become '?'");
	/* One variation selector after a shown character passes (an emoji
	 * needs U+FE0F); a second, or one after nothing shown, does not. */
	strcpy(b, "\xe2\x9d\xa4\xef\xb8\x8f|\xef\xb8\x8f|a\xef\xb8\x80"
	    "\xef\xb8\x80|\xe2\x80\x8b\xef\xb8\x8f");
	corp_server_text(b);
	is_str(b, "\xe2\x9d\xa4\xef\xb8\x8f|\xef\xb8\x8f|a\xef\xb8\x80?|??",
	    "variation selectors: one after a shown character");
}

/* A client's text in an error (corp-api.1 Errors), and a message a
 * fixed buffer cut inside a character made valid for jansson. */
static void
test_text_shown(void)
{
	char b[8], m[32];

	is_str(corp_text_shown(b, sizeof(b), "a\x1b[2J"), "a?[2J",
	    "shown: short text whole, its control '?'");
	is_str(corp_text_shown(b, sizeof(b), "abcdefgh"), "abcd...",
	    "shown: cut to size - 4 bytes, then ...");
	is_str(corp_text_shown(b, sizeof(b), "abc\xc3\xa9xyz"), "abc...",
	    "shown: cut at a character's start");
	is_str(corp_text_shown(b, sizeof(b), NULL), "", "shown: NULL empty");
	strcpy(m, "x \xc3\xa9\xe2\x82");
	corp_text_fit(m);
	is_str(m, "x \xc3\xa9", "fit: a character cut at the end dropped");
	strcpy(m, "x\xf0\x9f\x98");
	corp_text_fit(m);
	is_str(m, "x", "fit: a 4-byte character cut after 3 dropped");
	strcpy(m, "x\xff\xc3\xa9\x1b");
	corp_text_fit(m);
	is_str(m, "x????", "fit: still not UTF-8: cleaned");
	strcpy(m, "ok \xc3\xa9\x1b");
	corp_text_fit(m);
	is_str(m, "ok \xc3\xa9\x1b", "fit: valid text untouched");
}

/*
 * Every range of the cleaned set (corp.7 Untrusted text): its ends are
 * cleaned, the code points just outside shown, unless a neighbouring
 * range or a variation selector holds them.
 */
static void
test_ignorable(void)
{
	static const unsigned long r[][2] = {
		{ 0x00AD, 0x00AD }, { 0x034F, 0x034F }, { 0x0600, 0x0605 },
		{ 0x061C, 0x061C }, { 0x06DD, 0x06DD }, { 0x070F, 0x070F },
		{ 0x0890, 0x0891 }, { 0x08E2, 0x08E2 }, { 0x115F, 0x1160 },
		{ 0x17B4, 0x17B5 }, { 0x180E, 0x180E }, { 0x200B, 0x200F },
		{ 0x2028, 0x202E }, { 0x2060, 0x206F }, { 0x3164, 0x3164 },
		{ 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 }, { 0xFFF0, 0xFFFB },
		{ 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
		{ 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 },
		{ 0x1D173, 0x1D17A }, { 0xE0000, 0xE00FF },
		{ 0xE01F0, 0xE0FFF },
	};
	static const unsigned long vs[][2] = {
		{ 0x180B, 0x180D }, { 0x180F, 0x180F }, { 0xFE00, 0xFE0F },
		{ 0xE0100, 0xE01EF },
	};
	unsigned long c;
	size_t i, bad = 0, n = sizeof(r) / sizeof(r[0]);

	for (i = 0; i < n; i++)
		for (c = r[i][0]; c <= r[i][1]; c++)
			if (corp_text_ignorable(c) != 1) {
				printf("# U+%04lX not cleaned\n", c);
				bad++;
			}
	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		for (c = vs[i][0]; c <= vs[i][1]; c++)
			if (corp_text_ignorable(c) != 2) {
				printf("# U+%04lX not a variation selector\n", c);
				bad++;
			}
	ok(bad == 0, "every code point of every listed range is cleaned");
	/* Just outside each range: shown (0), or in the next list. */
	for (i = 0, bad = 0; i < n; i++) {
		if (corp_text_ignorable(r[i][0] - 1) == 0 &&
		    corp_text_ignorable(r[i][1] + 1) == 0)
			continue;
		if (r[i][0] == 0x180E || r[i][1] == 0x206F ||
		    r[i][1] == 0xE00FF || r[i][0] == 0xE01F0)
			continue;	/* beside a variation selector */
		printf("# a neighbour of U+%04lX..U+%04lX\n", r[i][0],
		    r[i][1]);
		bad++;
	}
	ok(bad == 0, "the code points beside each range are shown");
	/* Spot checks of what must stay: letters, emoji, the space. */
	ok(corp_text_ignorable(' ') == 0 && corp_text_ignorable(0x1F600) ==
	    0 && corp_text_ignorable(0x0416) == 0 &&
	    corp_text_ignorable(0x17B6) == 0 && corp_text_ignorable(0x10FFFF)
	    == 0, "space, an emoji, Cyrillic, U+17B6 and U+10FFFF are shown");
	/* Count: 3,948 code points cleaned outright. */
	for (c = 0, bad = 0; c <= 0x10FFFF; c++)
		bad += corp_text_ignorable(c) == 1;
	is_int((long long)bad, 3948, "3948 code points cleaned outright");
}

/* A length from outside: RFC 9110's 1*DIGIT, nothing else. */
static void
test_plain_decimal(void)
{
	long long v = -1;

	ok(corp_plain_decimal("17", 2, LLONG_MAX, &v) == 0 && v == 17, "17");
	ok(corp_plain_decimal("0", 1, LLONG_MAX, &v) == 0 && v == 0, "0");
	ok(corp_plain_decimal("+17", 3, LLONG_MAX, &v) == -1, "+17 refused");
	ok(corp_plain_decimal("017", 3, LLONG_MAX, &v) == -1, "017 refused");
	ok(corp_plain_decimal("-0", 2, LLONG_MAX, &v) == -1, "-0 refused");
	ok(corp_plain_decimal(" 17", 3, LLONG_MAX, &v) == -1, "' 17' refused");
	ok(corp_plain_decimal("17 ", 3, LLONG_MAX, &v) == -1, "'17 ' refused");
	ok(corp_plain_decimal("17\0" "9", 4, LLONG_MAX, &v) == -1,
	    "a NUL inside refused");
	ok(corp_plain_decimal("", 0, LLONG_MAX, &v) == -1, "empty refused");
	ok(corp_plain_decimal("9223372036854775807", 19, LLONG_MAX, &v) == 0 &&
	    v == LLONG_MAX, "LLONG_MAX");
	ok(corp_plain_decimal("9223372036854775808", 19, LLONG_MAX, &v) == -1,
	    "past LLONG_MAX refused");
	ok(corp_plain_decimal("100", 3, 99, &v) == -1, "past max refused");
}

int
main(void)
{
	struct corp_err e;

	corp_config_load(&e);
	test_time();
	test_tz();
	test_json();
	test_reader();
	test_atomic();
	test_rand();
	test_suggest();
	test_server_text();
	test_text_shown();
	test_text_field();
	test_ignorable();
	test_plain_decimal();
	return done_testing();
}
