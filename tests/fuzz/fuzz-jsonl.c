/* The JSON-lines reader: one line, and the same bytes through the fd
 * reader (split into lines, blank lines, over-long lines). */
#include <unistd.h>

#include "fuzz.h"
#include "corp.h"
#include "jsonl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_jsonl *r;
	struct corp_err e;
	json_t *o;
	int p[2], rc, n = 0;

	if (corp_json_parse_line((const char *)data, size, "<fuzz>", 1, &o,
	    &e) == 0)
		json_decref(o);
	if (size > 60000 || pipe(p) != 0)
		return 0;
	if (write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	r = corp_jsonl_open(p[0], "<fuzz>");
	while ((rc = corp_jsonl_next(r, &o, -1, &e)) != CORP_JSONL_EOF &&
	    rc != CORP_JSONL_ERR && n++ < 10000)
		if (rc == CORP_JSONL_OBJ)
			json_decref(o);
	corp_jsonl_close(r);
	close(p[0]);
	return 0;
}
