/*
 * mailaddr.c -- the one rule for e-mail addresses, shared by corp-bind
 * (what may be stored) and the email transport (what may be sent), and
 * kept apart from email.c so that corp-bind does not link libcurl.
 */
#include <string.h>

#include "corp.h"
#include "email.h"

#define SPECIALS	" <>()[],;:\\\""

/*
 * An addr-spec any SMTP server takes without extensions: printable
 * ASCII (corp does not use SMTPUTF8), a dot-atom local part without the
 * characters that need quoting, a domain of at least two dot-separated
 * labels.  Stricter than RFC 5321 on purpose: a quoted local part or an
 * address literal is refused rather than sent half-understood.  The
 * message names the address only once it is known to be printable.
 */
int
corp_email_addr_check(const char *a, struct corp_err *err)
{
	static const char label[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-";
	const unsigned char *p;
	const char *at, *d;
	size_t n, labels = 0;

	if (a == NULL || *a == '\0')
		return corp_errf(err, CORP_EINVAL, "an empty e-mail address");
	for (p = (const unsigned char *)a; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return corp_errf(err, CORP_EINVAL, "an e-mail address "
			    "with a control character");
	for (p = (const unsigned char *)a; *p; p++)
		if (*p >= 0x80)
			return corp_errf(err, CORP_EINVAL, "e-mail address "
			    "'%s': not ASCII; corp does not use SMTPUTF8 and "
			    "never sends an 8-bit address (give an "
			    "internationalised domain as its xn-- A-label)",
			    a);
	at = strrchr(a, '@');
	if (strlen(a) > 254 || at == NULL || at == a || at - a > 64 ||
	    strchr(a, '@') != at || a[strcspn(a, SPECIALS)] != '\0' ||
	    a[0] == '.' || at[-1] == '.' || strstr(a, "..") != NULL)
		return corp_errf(err, CORP_EINVAL, "e-mail address '%s': "
		    "expected LOCAL@DOMAIN, at most 254 characters, without "
		    "white space, any of <>()[],;:\\\" or stray dots", a);
	for (d = at + 1;; d += n + 1) {
		n = strspn(d, label);
		if (n == 0 || n > 63 || (d[n] != '.' && d[n] != '\0'))
			return corp_errf(err, CORP_EINVAL, "e-mail address "
			    "'%s': the domain must be dot-separated labels "
			    "of letters, digits and -", a);
		labels++;
		if (d[n] == '\0')
			break;
	}
	if (labels < 2)
		return corp_errf(err, CORP_EINVAL, "e-mail address '%s': the "
		    "domain needs a dot", a);
	return 0;
}

int
corp_email_addr_ok(const char *a)
{
	return corp_email_addr_check(a, NULL) == 0;
}
