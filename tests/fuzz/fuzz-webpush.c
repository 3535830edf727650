/* The push channel's outside input: a browser's PushSubscription JSON
 * (corp-bind add --channel push), its base64url keys and endpoint URL;
 * a subscription that passes must encrypt; and the same bytes as an
 * endpoint (VAPID audience) and as a VAPID subject. */
#include "fuzz.h"
#include "corp.h"
#include "webpush.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_webpush_sub sub;
	struct corp_err e;
	unsigned char *body;
	size_t len;
	char *s, *o;

	if (corp_webpush_sub_parse_text((const char *)data, size, "<fuzz>",
	    CORP_WEBPUSH_ALLOW_HTTP, &sub, &e) == 0) {
		if (corp_webpush_encrypt(sub.p256dh, sub.auth, "x", 1, 0,
		    &body, &len, &e) != 0)
			abort();	/* a checked subscription encrypts */
		free(body);
		corp_webpush_sub_free(&sub);
	}
	s = fuzz_str(data, size);
	if (corp_webpush_origin(s, &o, &e) == 0)
		free(o);
	(void)corp_webpush_subject_check(s, &e);
	free(s);
	return 0;
}
