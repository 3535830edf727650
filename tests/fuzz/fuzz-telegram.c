/* Telegram's answers: the first two bytes choose the HTTP status, the
 * rest is the body; and a Retry-After header value. */
#include <time.h>

#include "fuzz.h"
#include "corp.h"
#include "http.h"
#include "sendres.h"
#include "telegram.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_sendres res;
	long long secs;
	long status;
	char *body;

	if (size < 2)
		return 0;
	status = 100 + (data[0] << 8 | data[1]) % 500;
	body = fuzz_str(data + 2, size - 2);
	corp_sendres_init(&res);
	corp_tg_classify(status, body, -1, "123:SECRET", &res);
	if (strstr(res.error, "123:SECRET") != NULL)
		abort();	/* the token never reaches an ack line */
	(void)corp_http_retry_after(body, (time_t)1767225600, &secs);
	free(body);
	return 0;
}
