/* Times and durations: RFC 3339, "1h30m", "+2h", CORP_NOW values. */
#include <time.h>

#include "fuzz.h"
#include "corp.h"
#include "clock.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_err e;
	char *s = fuzz_str(data, size), buf[CORP_TIMEBUF];
	long long secs;
	time_t t;

	if (corp_time_parse(s, &t, &e) == 0)
		(void)corp_time_fmt(t, buf);
	if (corp_duration_parse(s, &secs, &e) == 0 && secs <= 0)
		abort();	/* the contract: > 0 total */
	(void)corp_when_parse(s, &t, &e);
	(void)corp_now_parse(s, &t, &e);
	free(s);
	return 0;
}
