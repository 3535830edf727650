/*
 * text.h -- validation of free text that users give corp (titles,
 * descriptions, reports, reasons): valid UTF-8, no NUL (argv cannot
 * carry one; JSON input with \u0000 is refused by the reader), at most
 * max bytes.  Control characters are stored verbatim.
 */
#ifndef CORP_TEXT_H
#define CORP_TEXT_H

#include <stddef.h>

struct corp_err;

#define CORP_TITLE_MAX	1000
#define CORP_TEXT_MAX	(64 * 1024)

int	corp_utf8_valid(const char *, size_t);
/* 0, or CORP_EINVAL naming what. */
int	corp_text_check(const char *s, size_t max, const char *what,
	    struct corp_err *);

/*
 * Text a server or a child wrote (a Telegram description, an HTTP or
 * SMTP reply, a push service's answer) made fit for stderr and the
 * database, in place: every control byte (newlines, ESC and so OSC/CSI
 * sequences, the other C0 controls, DEL, the C1 controls U+0080..U+009F)
 * becomes '?', every invisible character (Default_Ignorable_Code_Point,
 * Cf, U+2028/U+2029; a variation selector but one after a character
 * shown: text.c) becomes one
 * '?', and so does every non-ASCII byte when the text is not valid
 * UTF-8.  Never longer than it was.
 */
void	corp_server_text(char *);
/*
 * What a client sent (a topic, a field's name, a path) as an error or
 * the log shows it: a copy in buf cut to at most size - 1 bytes (at a
 * character's start, then "..."; size at least 4), then cleaned by
 * corp_server_text.  Returns buf.
 */
const char *corp_text_shown(char *buf, size_t size, const char *src);
/*
 * A message a fixed buffer (corp_err's) may have cut inside a character
 * made valid UTF-8 in place, for jansson, which takes no other: the cut
 * character dropped, then, if it is still not valid, cleaned by
 * corp_server_text.
 */
void	corp_text_fit(char *);
/*
 * Users' text placed in a message (a placeholder's value: corp-fmt.1
 * Escaping), so that it cannot shape the message around it: a fresh
 * copy in which line breaks (LF, CR LF, CR, VT, FF, U+0085, U+2028,
 * U+2029) become a space (multiline 0) or LF (multiline 1), a tab a
 * space, and the rest is cleaned as corp_server_text cleans (controls,
 * bidi and invisible characters '?').  NULL when out of memory.
 */
char	*corp_text_field(const char *s, int multiline);
/* 1: code point CP is cleaned by corp_server_text (Default_Ignorable or
 * Cf, corp.7 Untrusted text); 2: a variation selector (passes once,
 * right after a character shown); 0: shown. */
int	corp_text_ignorable(unsigned long cp);

/* A length from outside (Content-Length, CONTENT_LENGTH) read as RFC
 * 9110's 1*DIGIT and nothing else: no sign, no space, no leading zero
 * but "0" itself, all LEN bytes digits (a NUL inside is refused), at
 * most MAX.  0 and *out set, or -1. */
int	corp_plain_decimal(const char *s, size_t len, long long max,
	    long long *out);

#endif
