/* The cursor file and the AUDIT:USER argument. */
#include "fuzz.h"
#include "corp.h"
#include "cursor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_cursor c;
	struct corp_err e;
	char *s;

	(void)corp_cursor_parse_file((const char *)data, size, "<fuzz>", &c,
	    &e);
	s = fuzz_str(data, size);
	if (corp_cursor_parse(s, &c, &e) == 0 && (c.audit < 0 || c.user < 0))
		abort();
	free(s);
	return 0;
}
