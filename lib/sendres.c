/* sendres.c -- see sendres.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sendres.h"
#include "text.h"

void
corp_sendres_init(struct corp_sendres *r)
{
	memset(r, 0, sizeof(*r));
	r->result = CORP_SEND_SENT;
	r->attempted = 1;
	r->retry_after = -1;
}

void
corp_sendres_set(struct corp_sendres *r, int result, const char *fmt, ...)
{
	va_list ap;

	r->result = result;
	if (fmt == NULL) {
		r->error[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	/* Errors carry servers' words: one line, nothing a terminal runs. */
	corp_server_text(r->error);
}

void
corp_sendres_hold(struct corp_sendres *r, const char *fmt, ...)
{
	va_list ap;

	r->result = CORP_SEND_RETRY;
	r->attempted = 0;
	r->retry_after = CORP_SEND_HOLD_SECONDS;
	r->error_class = "config";
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	/* Errors carry servers' words: one line, nothing a terminal runs. */
	corp_server_text(r->error);
}

const char *
corp_sendres_result_name(int r)
{
	switch (r) {
	case CORP_SEND_SENT:	return "sent";
	case CORP_SEND_RETRY:	return "retry";
	case CORP_SEND_FAILED:	return "failed";
	case CORP_SEND_UNBOUND:	return "unbound";
	}
	return "failed";
}
