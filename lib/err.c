/* err.c -- the error record of every library call. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"

int
corp_errf(struct corp_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
corp_errprefix(struct corp_err *e, const char *fmt, ...)
{
	char *pre = NULL, *all = NULL;
	va_list ap;
	int n;

	if (e == NULL)
		return CORP_EINTERNAL;
	va_start(ap, fmt);
	n = vasprintf(&pre, fmt, ap);
	va_end(ap);
	/* Messages are bounded: a cut message still names what failed. */
	if (n >= 0 && asprintf(&all, "%s: %s", pre, e->msg) >= 0)
		strlcpy(e->msg, all, sizeof(e->msg));
	free(pre);
	free(all);
	return e->code;
}

void
corp_errclear(struct corp_err *e)
{
	if (e != NULL) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

const char *
corp_code_name(int code)
{
	switch (code) {
	case CORP_OK:		return "ok";
	case CORP_EINTERNAL:	return "internal error";
	case CORP_EUSAGE:	return "usage";
	case CORP_EINVAL:	return "invalid input";
	case CORP_ENOTFOUND:	return "not found";
	case CORP_ETEMP:	return "temporary failure";
	case CORP_EFORBIDDEN:	return "forbidden";
	case CORP_ECONFIG:	return "configuration error";
	case CORP_ECONFLICT:	return "conflict";
	}
	return "unknown";
}
