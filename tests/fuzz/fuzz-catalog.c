/* The i18n catalog parser, then a lookup of what it loaded. */
#include "fuzz.h"
#include "corp.h"
#include "catalog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_catalog *c;
	struct corp_err e;

	if ((c = corp_catalog_new()) == NULL)
		abort();
	(void)corp_catalog_load_mem(c, (const char *)data, size, "<fuzz>", 1,
	    &e);
	/* A second layer over the first: overrides, not duplicates. */
	(void)corp_catalog_load_mem(c, (const char *)data, size, "<fuzz2>", 2,
	    &e);
	(void)corp_catalog_get(c, "en", "task_created");
	(void)corp_catalog_where(c, "en", "task_created");
	corp_catalog_free(c);
	return 0;
}
