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

/*
 * The invisible format controls that can reorder or hide what a terminal
 * or a log viewer shows: the bidi marks, embeddings, overrides and
 * isolates (U+061C, U+200E/U+200F, U+202A..U+202E, U+2066..U+2069), the
 * zero-width characters (U+200B..U+200D, U+2060..U+2064, U+FEFF,
 * U+180E), the deprecated format controls U+206A..U+206F, the line and
 * paragraph separators U+2028/U+2029, the interlinear annotation marks
 * U+FFF9..U+FFFB, the tag characters U+E0000..U+E007F, and the blanks
 * that show nothing (U+00AD, U+034F, the Hangul fillers U+115F, U+1160,
 * U+3164, U+FFA0).
 */
static int
format_control(unsigned long cp)
{
	return cp == 0x00ad || cp == 0x034f || cp == 0x061c ||
	    cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0 ||
	    cp == 0x180e || (cp >= 0x200b &&
	    cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 &&
	    cp <= 0xe007f);
}

void
corp_server_text(char *s)
{
	unsigned char *p, *w;
	unsigned long cp;
	int utf8 = corp_utf8_valid(s, strlen(s)), len, k;

	for (p = w = (unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
			*w++ = '?';
			continue;
		}
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*w++ = '?';	/* a C1 control: one '?' for it */
			p++;
			continue;
		}
		if (*p < 0xc0) {
			*w++ = *p;
			continue;
		}
		/* Valid UTF-8 (checked above): a lead byte and its tail. */
		len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		cp = *p & (0x7f >> len);
		for (k = 1; k < len; k++)
			cp = cp << 6 | (p[k] & 0x3f);
		if (format_control(cp))
			*w++ = '?';	/* one '?' for the whole character */
		else
			for (k = 0; k < len; k++)
				*w++ = p[k];
		p += len - 1;
	}
	*w = '\0';
}
