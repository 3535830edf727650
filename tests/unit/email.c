/* email.c -- unit tests of the e-mail transport's pure parts: the address
 * rule (mailaddr.c) and the message's header lines (issues 15.14, 16.11). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "corp.h"
#include "email.h"

static void
test_addr(void)
{
	static const char *const good[] = {
		"ann@corp.test", "a.b+tag@x-y.example", "o'neil@corp.test",
		"bob@xn--80a1acny.xn--p1ai", NULL
	};
	static const char *const bad[] = {
		"", "ann", "@corp.test", "ann@", "ann@corp", "a b@corp.test",
		"\"a\"@corp.test", "a<b@corp.test", "a,b@corp.test",
		"a@b@corp.test", ".a@corp.test", "a.@corp.test",
		"a..b@corp.test", "a@corp..test", "a@.corp.test",
		"a@corp.test.", "a@co_rp.test", "a@[127.0.0.1]",
		"\xd0\xbf\xd1\x91\xd1\x82\xd1\x80@corp.test",
		"petr@\xd0\xbf.test", "a\r\n@corp.test", "a\x01@corp.test",
		NULL
	};
	struct corp_err e;
	char big[300];
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		ok(corp_email_addr_check(good[i], &e) == 0, "good: %s", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		ok(corp_email_addr_check(bad[i], &e) == CORP_EINVAL,
		    "bad: #%zu", i);
	ok(corp_email_addr_check(bad[18], &e) == CORP_EINVAL &&
	    strstr(e.msg, "SMTPUTF8") != NULL, "non-ASCII: says SMTPUTF8");
	ok(corp_email_addr_check("a\r\n@corp.test", &e) == CORP_EINVAL &&
	    strchr(e.msg, '\n') == NULL, "a line break is not echoed");
	memset(big, 'a', sizeof(big));
	memcpy(big + 200, "@corp.test", 11);
	ok(corp_email_addr_check(big, &e) == CORP_EINVAL, "local part > 64");
	ok(corp_email_addr_check(NULL, &e) == CORP_EINVAL, "NULL");
}

/* The header lines of msg (up to the blank line), each checked. */
static void
check_header(const char *msg, const char *what, size_t *lines,
    size_t *longest, int *subjects, int *encoded)
{
	const char *p = msg, *eol;

	*lines = *longest = 0;
	*subjects = *encoded = 0;
	while ((eol = strstr(p, "\r\n")) != NULL && eol != p) {
		size_t n = (size_t)(eol - p);

		(*lines)++;
		if (n > *longest)
			*longest = n;
		if (strncmp(p, "Subject:", 8) == 0)
			(*subjects)++;
		if (memmem(p, n, "=?UTF-8?B?", 10) != NULL)
			(*encoded)++;
		if (memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL)
			ok(0, "%s: a bare CR or LF in a header line", what);
		p = eol + 2;
	}
	ok(eol == p, "%s: a blank line ends the header", what);
}

static void
test_message(void)
{
	struct {
		const char	*what, *subject;
		int		 encoded;	/* expect encoded words */
	} c[] = {
		{ "short ASCII", "Report due", 0 },
		{ "look-alike", "Pay =?UTF-8?B?0KHRgNC+0YfQvdC+?= today", 1 },
		{ "Cyrillic", "\xd0\x97\xd0\xb0\xd0\xb4\xd0\xb0\xd1\x87\xd0\xb0", 1 },
		{ "CR LF", "a\r\nBcc: x@y.test\r\n\r\nbody", 0 },
		{ "empty", "", 0 },
	};
	char longw[1200], words[1200], cyr[1300], *msg;
	struct corp_err e;
	size_t i, lines, longest;
	int subjects, encoded;

	memset(longw, 'x', 990);
	longw[990] = '\0';
	for (i = 0; i < 990; i++)
		words[i] = i % 8 == 7 ? ' ' : 'w';
	words[990] = '\0';
	for (i = 0; i + 2 < 1200; i += 2)
		memcpy(cyr + i, "\xd0\x96", 2);
	cyr[i] = '\0';
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ok(corp_email_message("corp@corp.test", "ann@corp.test",
		    c[i].subject, "body", 0, &msg, &e) == 0, "%s: made",
		    c[i].what);
		check_header(msg, c[i].what, &lines, &longest, &subjects,
		    &encoded);
		ok(subjects == 1, "%s: one Subject", c[i].what);
		ok((encoded > 0) == c[i].encoded, "%s: %s", c[i].what,
		    c[i].encoded ? "encoded words" : "plain text");
		ok(longest <= 78, "%s: lines of at most 78", c[i].what);
		ok(lines == 8, "%s: 8 header lines (%zu)", c[i].what, lines);
		free(msg);
	}
	ok(corp_email_message("corp@corp.test", "ann@corp.test", words,
	    "body", 0, &msg, &e) == 0, "990 octets of words: made");
	check_header(msg, "words", &lines, &longest, &subjects, &encoded);
	ok(encoded == 0 && longest <= 78 && lines > 20,
	    "990 octets of words: folded as text, lines of at most 78");
	free(msg);
	ok(corp_email_message("corp@corp.test", "ann@corp.test", longw,
	    "body", 0, &msg, &e) == 0, "one 990-octet word: made");
	check_header(msg, "word", &lines, &longest, &subjects, &encoded);
	ok(encoded > 10 && longest <= 76,
	    "one 990-octet word: encoded words, lines of at most 76");
	free(msg);
	ok(corp_email_message("corp@corp.test", "ann@corp.test", cyr,
	    "body", 0, &msg, &e) == 0, "1198 octets of Cyrillic: made");
	check_header(msg, "cyr", &lines, &longest, &subjects, &encoded);
	ok(encoded > 10 && longest <= 76,
	    "Cyrillic: encoded words, lines of at most 76");
	free(msg);
}

int
main(void)
{
	test_addr();
	test_message();
	return done_testing();
}
