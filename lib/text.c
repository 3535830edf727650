/* text.c -- see text.h. */
#include <stdlib.h>
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
 * What a terminal or a log viewer does not show, or shows reordered
 * (corp.7 Untrusted text): every code point of Unicode 15's
 * Default_Ignorable_Code_Point property (DerivedCoreProperties.txt) and
 * of General_Category Cf (format), plus the line and paragraph
 * separators U+2028/U+2029, except the variation selectors (below).
 * Hand-checked against DerivedCoreProperties.txt and UnicodeData.txt of
 * Unicode 15.0; tests/unit/core.c walks every range, and tests/0818
 * compares the Cf set with python3's unicodedata.  Sorted, disjoint.
 */
static const unsigned long corp_ignorable[][2] = {
	{ 0x00AD, 0x00AD },	/* Cf DI soft hyphen */
	{ 0x034F, 0x034F },	/* DI combining grapheme joiner */
	{ 0x0600, 0x0605 },	/* Cf Arabic number signs */
	{ 0x061C, 0x061C },	/* Cf DI Arabic letter mark */
	{ 0x06DD, 0x06DD },	/* Cf Arabic end of ayah */
	{ 0x070F, 0x070F },	/* Cf Syriac abbreviation mark */
	{ 0x0890, 0x0891 },	/* Cf Arabic pound/piastre mark above */
	{ 0x08E2, 0x08E2 },	/* Cf Arabic disputed end of ayah */
	{ 0x115F, 0x1160 },	/* DI Hangul choseong/jungseong fillers */
	{ 0x17B4, 0x17B5 },	/* DI Khmer inherent vowels */
	{ 0x180E, 0x180E },	/* Cf DI Mongolian vowel separator */
	{ 0x200B, 0x200F },	/* Cf DI zero widths, ZWJ, LRM, RLM */
	{ 0x2028, 0x202E },	/* LS, PS; Cf DI bidi embeddings */
	{ 0x2060, 0x206F },	/* Cf DI word joiner..; 2065 unassigned */
	{ 0x3164, 0x3164 },	/* DI Hangul filler */
	{ 0xFEFF, 0xFEFF },	/* Cf DI zero width no-break space */
	{ 0xFFA0, 0xFFA0 },	/* DI halfwidth Hangul filler */
	{ 0xFFF0, 0xFFFB },	/* DI unassigned; Cf interlinear marks */
	{ 0x110BD, 0x110BD },	/* Cf Kaithi number sign */
	{ 0x110CD, 0x110CD },	/* Cf Kaithi number sign above */
	{ 0x13430, 0x1343F },	/* Cf Egyptian hieroglyph controls */
	{ 0x1BCA0, 0x1BCA3 },	/* Cf DI shorthand format controls */
	{ 0x1D173, 0x1D17A },	/* Cf DI musical beam/tie/slur/phrase */
	{ 0xE0000, 0xE00FF },	/* Cf DI tags; DI unassigned */
	{ 0xE01F0, 0xE0FFF },	/* DI unassigned */
};

/* The variation selectors (DI too): one passes right after a character
 * that is shown (an emoji needs U+FE0F); any other is cleaned. */
static int
variation_selector(unsigned long cp)
{
	return (cp >= 0x180B && cp <= 0x180D) || cp == 0x180F ||
	    (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    (cp >= 0xE0100 && cp <= 0xE01EF);
}

int
corp_text_ignorable(unsigned long cp)
{
	size_t lo = 0, hi = sizeof(corp_ignorable) /
	    sizeof(corp_ignorable[0]), mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp < corp_ignorable[mid][0])
			hi = mid;
		else if (cp > corp_ignorable[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return variation_selector(cp) ? 2 : 0;
}

const char *
corp_text_shown(char *buf, size_t size, const char *src)
{
	size_t n;

	if (strlcpy(buf, src != NULL ? src : "", size) >= size) {
		n = size - 4;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf + n, "...", 4);
	}
	corp_server_text(buf);
	return buf;
}

void
corp_text_fit(char *s)
{
	size_t n = strlen(s), k = n, len;
	unsigned char c;

	if (corp_utf8_valid(s, n))
		return;
	while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xc0) ==
	    0x80)
		k--;
	if (k > 0 && (c = (unsigned char)s[k - 1]) >= 0xc0) {
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (n - (k - 1) < len)
			s[k - 1] = '\0';
	}
	corp_server_text(s);
}

void
corp_server_text(char *s)
{
	unsigned char *p, *w;
	unsigned long cp;
	int utf8 = corp_utf8_valid(s, strlen(s)), len, k, ig;
	int shown = 0;		/* the last character passed as it was */

	for (p = w = (unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
			*w++ = '?';
			shown = 0;
			continue;
		}
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*w++ = '?';	/* a C1 control: one '?' for it */
			p++;
			shown = 0;
			continue;
		}
		if (*p < 0xc0) {
			*w++ = *p;
			shown = 1;
			continue;
		}
		/* Valid UTF-8 (checked above): a lead byte and its tail. */
		len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		cp = *p & (0x7f >> len);
		for (k = 1; k < len; k++)
			cp = cp << 6 | (p[k] & 0x3f);
		ig = corp_text_ignorable(cp);
		if (ig == 1 || (ig == 2 && !shown)) {
			*w++ = '?';	/* one '?' for the whole character */
			shown = 0;
		} else {
			for (k = 0; k < len; k++)
				*w++ = p[k];
			shown = ig == 0;	/* one selector per character */
		}
		p += len - 1;
	}
	*w = '\0';
}

/* The length of a line break or tab at P (LF, CR LF, CR, VT, FF, TAB,
 * U+0085, U+2028, U+2029), *tab set for a tab; 0 for anything else. */
static size_t
line_break(const unsigned char *p, int *tab)
{
	*tab = *p == '\t';
	if (*p == '\r' && p[1] == '\n')
		return 2;
	if (*p == '\n' || *p == '\r' || *p == '\v' || *p == '\f' || *tab)
		return 1;
	if (p[0] == 0xc2 && p[1] == 0x85)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
		return 3;
	return 0;
}

char *
corp_text_field(const char *s, int multiline)
{
	const unsigned char *p;
	char *t, *o, *seg, *nl;
	size_t n, w = 0, len;
	int tab;

	/* Line breaks first: never longer than s. */
	if ((t = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		if ((n = line_break(p, &tab)) == 0) {
			t[w++] = (char)*p;
			n = 1;
		} else
			t[w++] = multiline && !tab ? '\n' : ' ';
	}
	t[w] = '\0';
	if (!multiline) {
		corp_server_text(t);
		return t;
	}
	/* Then each line as server text (which would make LF a '?'). */
	if ((o = malloc(w + 1)) == NULL) {
		free(t);
		return NULL;
	}
	for (seg = t, w = 0; seg != NULL; seg = nl) {
		if ((nl = strchr(seg, '\n')) != NULL)
			*nl++ = '\0';
		corp_server_text(seg);
		len = strlen(seg);
		memcpy(o + w, seg, len);
		w += len;
		if (nl != NULL)
			o[w++] = '\n';
	}
	o[w] = '\0';
	free(t);
	return o;
}

int
corp_plain_decimal(const char *s, size_t len, long long max, long long *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}
