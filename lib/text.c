/* text.c -- see text.h. */
#include <string.h>

#include "corp.h"
#include "text.h"

/* RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF. */
int
corp_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, len;
	unsigned long cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] == 0)
				return 0;
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4; cp = s[i] & 0x07; min = 0x10000;
		} else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int
corp_text_check(const char *s, size_t max, const char *what,
    struct corp_err *err)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > max)
		return corp_errf(err, CORP_EINVAL,
		    "%s: %zu bytes is too long (at most %zu)", what, n, max);
	if (!corp_utf8_valid(s, n))
		return corp_errf(err, CORP_EINVAL, "%s: not valid UTF-8",
		    what);
	return 0;
}

void
corp_server_text(char *s)
{
	unsigned char *p;
	int utf8 = corp_utf8_valid(s, strlen(s));

	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p[0] = '?';	/* a C1 control: two bytes */
			p[1] = '?';
			p++;
		}
}
