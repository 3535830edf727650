/* fmt.c -- unit tests of lib/render: the UTF-16 counter, the cutter, the
 * plain-text conversion, placeholders, none.NAME and the check of
 * unfillable placeholders. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "corp.h"
#include "catalog.h"
#include "render.h"

#define ELL "\xe2\x80\xa6"
#define E "e\xcc\x81"	/* e and U+0301 COMBINING ACUTE ACCENT */

static void
cut_is(const char *in, size_t limit, const char *want, const char *name)
{
	char *got = NULL;

	ok(corp_html_cut(in, limit, &got) == 0, "%s: cut succeeds", name);
	is_str(got, want, "%s", name);
	if (got != NULL)
		ok(corp_html_len(got) <= limit, "%s: fits in %zu", name, limit);
	free(got);
}

static void
test_len(void)
{
	is_int(corp_utf16_len("abc", 3), 3, "ASCII: one unit each");
	is_int(corp_utf16_len("привет", strlen("привет")), 6,
	    "Cyrillic: one unit per letter, two bytes each");
	is_int(corp_utf16_len("😀", 4), 2, "an emoji is a surrogate pair");
	is_int(corp_utf16_len("a😀€", strlen("a😀€")), 4, "mixed");
	is_int(corp_html_len("<b>ab</b>"), 2, "tags are not counted");
	is_int(corp_html_len("<a href=\"http://x/?a&amp;b\">x</a>"), 1,
	    "attributes are not counted");
	is_int(corp_html_len("&lt;&gt;&amp;&quot;"), 4,
	    "an entity counts as one");
	is_int(corp_html_len("&#128512;"), 2,
	    "a numeric entity beyond the BMP counts as two");
	is_int(corp_html_len("a & b"), 5, "a bare & is one character");
	is_int(corp_html_len("1 < 2"), 5, "a bare < without > is text");
	is_int(corp_html_len(""), 0, "empty");
}

static void
test_cut(void)
{
	char *big, *got;
	size_t i;

	cut_is("short", 10, "short", "text that fits is unchanged");
	cut_is("one two three", 10, "one two" ELL,
	    "cut at the last space before the limit");
	cut_is("one two three", 8, "one two" ELL,
	    "the ellipsis counts: 7 + 1");
	cut_is("one two three", 7, "one" ELL,
	    "no room for the ellipsis after 'two': back a word");
	cut_is("<b>one two</b> three", 9, "<b>one two</b>" ELL,
	    "a closed tag stays whole");
	cut_is("<b>one two</b> three", 7, "<b>one</b>" ELL,
	    "an open tag is closed");
	cut_is("<b>one <i>two three</i></b>", 9, "<b>one <i>two</i></b>" ELL,
	    "nested tags closed inner first");
	cut_is("<a href=\"http://a b c\">x</a> yy zz", 3, "<a href=\"http://a "
	    "b c\">x</a>" ELL, "never inside a tag's attribute");
	cut_is("a &amp; b c", 4, "a &amp;" ELL,
	    "an entity is one character");
	cut_is("abcdefghij", 5, "abcd" ELL, "one long word: cut at a character");
	cut_is("привет мир", 8, "привет" ELL, "Cyrillic");
	cut_is("абвгдежз", 4, "абв" ELL,
	    "a long Cyrillic word is cut between characters");
	cut_is("😀😀😀😀", 5, "😀😀" ELL,
	    "an emoji is never split: 2 + 2 + 1 = 5");
	cut_is("😀😀😀😀", 6, "😀😀" ELL,
	    "an emoji that does not fit whole is left out");
	cut_is("a\n\nb c", 3, "a" ELL, "trailing white space is dropped");
	cut_is("&lt;&lt;&lt;&lt;", 3, "&lt;&lt;" ELL,
	    "never inside an entity");

	/* Issue 15.2: a white space that keeps under half the room is not
	 * where to cut; the long word after it is cut between characters. */
	cut_is("Note: 漢漢漢漢漢漢漢漢漢漢", 13, "Note: 漢漢漢漢漢漢" ELL,
	    "CJK after a short word: cut between characters");
	cut_is("<b>Note:</b> 漢漢漢漢漢漢漢漢漢漢", 13,
	    "<b>Note:</b> 漢漢漢漢漢漢" ELL,
	    "CJK after a closed tag");
	cut_is("<b>Note: 漢漢漢漢漢漢漢漢漢漢</b>", 13,
	    "<b>Note: 漢漢漢漢漢漢</b>" ELL,
	    "CJK inside a tag: the tag is closed");
	cut_is("abcd efghijklmnop", 9, "abcd" ELL,
	    "a space that keeps half the room (4 of 8) is used");
	cut_is("abc defghijklmnop", 9, "abc defg" ELL,
	    "a space that keeps less than half (3 of 8) is not");
	cut_is("See https://example.com/a/very/long/path?q=1", 20,
	    "See https://example" ELL, "a long URL is cut between characters");
	cut_is("<a href=\"https://example.com/long\">https://example.com/"
	    "long</a>", 12, "<a href=\"https://example.com/long\">https://exa"
	    "</a>" ELL, "a URL label is cut, the href kept whole, the tag closed");
	cut_is("x &amp;&lt;&gt;&amp;&lt;&gt;&amp;", 5, "x &amp;&lt;" ELL,
	    "a word of entities is cut between entities");
	cut_is("a 😀😀😀😀😀😀", 6, "a 😀" ELL,
	    "a surrogate pair is never split (room 5: 1 + 1 + 2, not 3)");
	cut_is("ab 👍🏽👍🏽👍🏽", 8, "ab 👍🏽" ELL,
	    "a skin-tone modifier stays with its emoji");
	cut_is("ab 👍🏽👍🏽👍🏽", 6, "ab" ELL,
	    "an emoji without room for its modifier is left out");
	cut_is("ab 👩‍💻👩‍💻👩‍💻", 9, "ab 👩‍💻" ELL,
	    "a ZWJ sequence is not cut after the joiner");
	cut_is("ab 🇺🇦🇺🇦🇺🇦", 8, "ab 🇺🇦" ELL,
	    "a flag's two regional indicators stay together");
	cut_is("ab 🇺🇦🇺🇦🇺🇦", 12, "ab 🇺🇦🇺🇦" ELL,
	    "two flags");
	cut_is("ab " E E E E E E, 8, "ab " E E ELL,
	    "a combining accent stays with its letter");
	cut_is("ab ☺️☺️☺️☺️", 8, "ab ☺️☺️" ELL,
	    "a variation selector stays with its character");

	/* 5000 Cyrillic words of "слово " with emoji: big. */
	big = malloc(5000 * 16 + 1);
	big[0] = '\0';
	for (i = 0; i < 1000; i++)
		strcat(big, i % 7 == 0 ? "<b>слово</b> 😀 " : "слово ");
	ok(corp_html_len(big) > CORP_TG_MAX, "the big text is over 4096");
	ok(corp_html_cut(big, CORP_TG_MAX, &got) == 0, "cut the big text");
	ok(corp_html_len(got) <= CORP_TG_MAX && corp_html_len(got) >
	    CORP_TG_MAX - 16, "cut close to the limit (%zu)",
	    corp_html_len(got));
	ok(strlen(got) >= strlen(ELL) &&
	    strcmp(got + strlen(got) - strlen(ELL), ELL) == 0,
	    "ends with an ellipsis");
	free(got);
	free(big);

	/* The case at Telegram's size: "Note: " + 5000 x U+6F22. */
	big = malloc(6 + 5000 * 3 + 1);
	strcpy(big, "Note: ");
	for (i = 0; i < 5000; i++)
		strcat(big + 6 + 3 * i, "漢");
	ok(corp_html_cut(big, CORP_TG_MAX, &got) == 0, "cut Note: + 5000 漢");
	is_int(corp_html_len(got), CORP_TG_MAX,
	    "the room is used to the last unit");
	ok(strncmp(got, big, strlen(got) - strlen(ELL)) == 0 &&
	    strcmp(got + strlen(got) - strlen(ELL), ELL) == 0,
	    "a prefix of the text and the ellipsis");
	free(got);
	free(big);
	ok(corp_html_cut("abc", 1, &got) == -1, "limit below 2 refused");
}

static void
test_plain(void)
{
	char *p;

	p = corp_html_to_plain("<b>a &lt;b&gt; &amp; &quot;c&quot;</b>\n"
	    "<a href=\"https://x/?a=1&amp;b=2\">Open</a>");
	is_str(p, "a <b> & \"c\"\nOpen: https://x/?a=1&b=2",
	    "tags removed, entities decoded, the link kept");
	free(p);
	p = corp_html_to_plain("<a href=\"https://x\">https://x</a>");
	is_str(p, "https://x", "a link labelled with itself once");
	free(p);
	p = corp_html_to_plain("&#128512; &#x41;");
	is_str(p, "😀 A", "numeric entities");
	free(p);
}

static void
test_render(void)
{
	struct corp_err e;
	json_t *v = json_pack("{s:s, s:I, s:s, s:n}", "task.title", "<x&\"y>",
	    "task.id", (json_int_t)7, "task.link", "http://h/?a=\"1\"&b",
	    "reason");
	char *out;

	ok(corp_render("<b>{task.title}</b> #{task.id}", v, CORP_RENDER_HTML,
	    &out, &e) == 0, "render");
	is_str(out, "<b>&lt;x&amp;\"y&gt;</b> #7",
	    "values escaped in text, quotes left");
	free(out);
	ok(corp_render("<a href=\"{task.link}\">{{go}}</a>", v,
	    CORP_RENDER_HTML, &out, &e) == 0, "render an attribute");
	is_str(out, "<a href=\"http://h/?a=&quot;1&quot;&amp;b\">{go}</a>",
	    "quotes escaped inside a tag; {{ }} are braces");
	free(out);
	ok(corp_render("{task.title}", v, CORP_RENDER_PLAIN, &out, &e) == 0,
	    "render plain");
	is_str(out, "<x&\"y>", "plain: values as they are");
	free(out);
	ok(corp_render("{reason}", v, CORP_RENDER_HTML, &out, &e) ==
	    CORP_EINVAL, "a null value fails");
	is_str(e.msg, "no value for {reason}", "and says which");
	ok(corp_render("{nope}", v, CORP_RENDER_HTML, &out, &e) ==
	    CORP_EINVAL, "an unknown placeholder fails");
	is_str(e.msg, "unknown placeholder {nope}", "and says which");
	ok(corp_render("a { b", v, CORP_RENDER_HTML, &out, &e) ==
	    CORP_EINVAL, "an unmatched brace fails");
	ok(corp_render("{payload.x}", v, CORP_RENDER_HTML, &out, &e) ==
	    CORP_EINVAL, "a missing payload field fails");
	is_str(e.msg, "no value for {payload.x}", "and says which");
	json_decref(v);
}

static void
test_date(void)
{
	char buf[CORP_DATEBUF];

	/* 2026-03-29: Kyiv moves from +02 to +03 at 01:00 UTC. */
	is_str(corp_render_date(1774746000 - 60, "Europe/Kyiv", buf),
	    "2026-03-29 02:59", "Kyiv before the DST change");
	is_str(corp_render_date(1774746000, "Europe/Kyiv", buf),
	    "2026-03-29 04:00", "Kyiv after the DST change");
	is_str(corp_render_date(1774746000, NULL, buf), "2026-03-29 01:00",
	    "no zone: UTC");
	is_str(corp_render_date(1774746000, "Not/AZone", buf),
	    "2026-03-29 01:00", "an unknown zone: UTC");
}

/* The settings rows of lib/sql/0003-queue.sql's defaults, as
 * corp_notify_list() returns them (the fields the check reads). */
static json_t *
default_uses(void)
{
	static const char *const rows[][2] = {
		{ "TASK_CREATED", "initiator" }, { "TASK_ASSIGNED", "initiator" },
		{ "TASK_DUE_CHANGED", "initiator" },
		{ "REPORT_SUBMITTED", "initiator" },
		{ "APPROVED", "initiator" }, { "REJECTED", "initiator" },
		{ "TASK_CANCELLED", "initiator" },
		{ "TASK_DUE_SOON", "initiator" }, { "TASK_OVERDUE", "initiator" },
		{ "TASK_CREATED", "executor" }, { "TASK_ASSIGNED", "executor" },
		{ "APPROVED", "executor" }, { "REJECTED", "executor" },
		{ "TASK_CANCELLED", "executor" }, { "TASK_DUE_SOON", "executor" },
		{ "TASK_OVERDUE", "executor" }, { "TASK_DUE_CHANGED", "executor" },
		{ "TASK_ASSIGNED", "previous_executor" },
		{ "TASK_OVERDUE", "supervisor" },
		{ "booking_created", "client" }, { "booking_created", "specialist" },
		{ "booking_created", "admin" }, { "booking_cancelled", "client" },
		{ "booking_cancelled", "specialist" },
		{ "booking_cancelled", "admin" },
		{ "booking_rescheduled", "client" },
		{ "booking_rescheduled", "specialist" },
		{ "booking_rescheduled", "admin" }, { "booking_done", "admin" },
	};
	json_t *a = json_array();
	size_t i;
	char *t, *p;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t = strdup(rows[i][0]);
		for (p = t; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b}",
		    "event_type", rows[i][0], "role", rows[i][1],
		    "template", t, "enabled", 1));
		free(t);
	}
	return a;
}

/* "KEY TYPE PLACEHOLDER" per problem, one a line. */
static char *
problems(json_t *out)
{
	json_t *o;
	size_t i;
	char *s = strdup(""), *n;

	json_array_foreach(out, i, o) {
		const char *ph = json_string_value(json_object_get(o,
		    "placeholder"));

		if (asprintf(&n, "%s%s:%s %s %s\n", s,
		    json_string_value(json_object_get(o, "lang")),
		    json_string_value(json_object_get(o, "key")),
		    json_string_value(json_object_get(o, "event_type")),
		    ph ? ph : "-") < 0)
			abort();
		free(s);
		s = n;
	}
	return s;
}

static void
test_unfillable(void)
{
	static const char op[] =
	    "en:task_created | \"{actor.name} made {task.title}\"\n"
	    "en:task_overdue@supervisor | \"{task.title} {period_key}\"\n"
	    "ru:task_overdue@supervisor | \"{task.title} {period_key}\"\n"
	    "ru:none.period_key | \"-\"\n"
	    "en:booking_created@client | \"{task.title} {payload.x}\"\n"
	    "en:custom | \"{nope}\"\n"
	    "en:footer.task_overdue | \"{reason}\"\n"
	    "en:dis | \"{reason}\"\n"
	    "en:unused | \"{reason}\"\n";
	struct corp_catalog *cat = corp_catalog_new();
	struct corp_err e;
	json_t *uses = default_uses(), *out, *o;
	char *got;

	ok(corp_catalog_load_dir(cat, "share/i18n", 1, &e) == 0,
	    "load the shipped catalogs");
	ok(corp_render_unfillable(cat, uses, &out, &e) == 0, "check them");
	got = problems(out);
	is_str(got, "", "every shipped key is fillable by the types the "
	    "default settings give it (none.due_at covers set-due --due none)");
	free(got);
	json_decref(out);

	json_array_append_new(uses, json_pack("{s:s, s:s, s:s, s:b}",
	    "event_type", "TASK_OVERDUE", "role", "admin", "template",
	    "custom", "enabled", 1));
	json_array_append_new(uses, json_pack("{s:s, s:s, s:s, s:b}",
	    "event_type", "TASK_DUE_SOON", "role", "admin", "template",
	    "dis", "enabled", 0));
	ok(corp_catalog_load_mem(cat, op, sizeof(op) - 1, "op.txt", 2,
	    &e) == 0, "an operator layer");
	ok(corp_render_unfillable(cat, uses, &out, &e) == 0, "check again");
	got = problems(out);
	is_str(got,
	    "en:booking_created@client booking_created task.title\n"
	    "en:custom TASK_OVERDUE -\n"
	    "en:footer.task_overdue TASK_OVERDUE reason\n"
	    "en:task_created TASK_CREATED actor.name\n"
	    "en:task_overdue@supervisor TASK_OVERDUE period_key\n",
	    "the operator's unfillable placeholders, nothing else: shipped "
	    "variants hidden by the operator's task_created are not judged, "
	    "ru:none.period_key fills, payload.* is the producer's, a "
	    "disabled or unused key is not judged");
	free(got);
	o = json_array_get(out, 3);
	is_str(json_string_value(json_object_get(o, "where")), "op.txt:1",
	    "where names file:line");
	is_str(json_string_value(json_object_get(o, "problem")),
	    "op.txt:1: en:task_created: {actor.name} has no value in some "
	    "TASK_CREATED events (define en:none.actor.name or drop it)",
	    "the problem in words");
	o = json_array_get(out, 1);
	ok(json_is_null(json_object_get(o, "placeholder")),
	    "an unknown placeholder: placeholder null");
	is_str(json_string_value(json_object_get(o, "problem")),
	    "op.txt:6: en:custom: unknown placeholder {nope}",
	    "and the parser's message");
	json_decref(out);
	json_decref(uses);
	corp_catalog_free(cat);
}

/* none.NAME fills a placeholder without value, escaped like a value. */
static void
test_none(void)
{
	static const char c[] =
	    "en:x | \"<b>{task.title}</b>: {reason}\"\n"
	    "en:none.reason | \"<none> & co\"\n"
	    "ru:x | \"{reason}\"\n";
	struct corp_catalog *cat = corp_catalog_new();
	struct corp_err e;
	json_t *line = json_pack("{s:I, s:s, s:s, s:{s:s, s:s, s:n}}",
	    "delivery_id", (json_int_t)1, "template", "x", "lang", "en",
	    "event", "event_type", "X", "title", "T", "reason");
	char *text, *subject;

	ok(corp_catalog_load_mem(cat, c, sizeof(c) - 1, "c.txt", 1, &e) == 0,
	    "a catalog with none.reason");
	ok(corp_render_delivery(cat, line, "en", 0, &text, &subject, &e) == 0,
	    "renders");
	is_str(text, "<b>T</b>: &lt;none&gt; &amp; co",
	    "none.reason, escaped like a value");
	free(text);
	json_object_set_new(line, "lang", json_string("ru"));
	is_int(corp_render_delivery(cat, line, "en", 0, &text, &subject, &e),
	    CORP_ECONFIG, "no ru:none.reason: a configuration error");
	is_str(e.msg, "fmt: ru:x (c.txt:3): no value for {reason}",
	    "naming language, key, file:line and placeholder");
	json_decref(line);
	corp_catalog_free(cat);
}

int
main(void)
{
	test_len();
	test_cut();
	test_plain();
	test_render();
	test_date();
	test_unfillable();
	test_none();
	return done_testing();
}
