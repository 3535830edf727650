/* The ack reader: an ack line's fields (corp-deliver ack) and the ack
 * output line corp-cursor advance reads. */
#include "fuzz.h"
#include "corp.h"
#include "cursor.h"
#include "jsonl.h"
#include "queue.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_cursor c;
	struct corp_err e;
	json_t *o;
	int use;

	if (corp_json_parse_line((const char *)data, size, "<fuzz>", 1, &o,
	    &e) != 0)
		return 0;
	(void)corp_queue_ack_check(o);
	(void)corp_cursor_from_ack(o, &c, &use, &e);
	json_decref(o);
	return 0;
}
