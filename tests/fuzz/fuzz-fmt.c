/*
 * corp-fmt's input: a delivery line rendered against a small catalog
 * with every kind of placeholder, as Telegram HTML and as plain text;
 * and the input as a template itself.
 */
#include "fuzz.h"
#include "corp.h"
#include "catalog.h"
#include "jsonl.h"
#include "render.h"

static const char cat_text[] =
"en:task_created | \"New: <b>{task.title}</b> {task.link} {actor.name} "
    "{due_at} {reason} {payload.when} {payload.x} {{}}\"\n"
"en:task_created@executor | \"Yours: {task.title}\"\n"
"en:booking_created.by_client | \"{payload.when} by {actor.name}\"\n"
"en:booking_created.subject | \"Booking {payload.id}\"\n"
"ru:task_created | \"Новая: {task.title}\"\n";

static struct corp_catalog *cat;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corp_err e;
	char *text = NULL, *subject = NULL, *s;
	json_t *o, *vars;

	if (cat == NULL) {
		if ((cat = corp_catalog_new()) == NULL ||
		    corp_catalog_load_mem(cat, cat_text, sizeof(cat_text) - 1,
		    "<fuzz-catalog>", 0, &e) != 0)
			abort();
	}
	if (corp_json_parse_line((const char *)data, size, "<fuzz>", 1, &o,
	    &e) == 0) {
		if (corp_render_delivery(cat, o, "en", 0, &text, &subject,
		    &e) == 0) {
			free(text);
			free(subject);
		}
		text = subject = NULL;
		if (corp_render_delivery(cat, o, "en", 1, &text, &subject,
		    &e) == 0) {
			free(text);
			free(subject);
		}
		json_decref(o);
	}
	s = fuzz_str(data, size);
	vars = json_pack("{s:s, s:s, s:i}", "task.title", "<T&>", "reason",
	    "r", "payload.n", 7);
	text = NULL;
	if (corp_render(s, vars, CORP_RENDER_HTML, &text, &e) == 0)
		free(text);
	json_decref(vars);
	/* The cut and the plain form of arbitrary (catalog) HTML. */
	(void)corp_html_len(s);
	if (corp_html_cut(s, 40, &text) == 0)
		free(text);
	free(corp_html_to_plain(s));
	free(s);
	return 0;
}
