/*
 * render.h -- message texts from catalog templates (DESIGN 6, corp-fmt.1).
 *
 * Templates are Telegram HTML (<b>, <i>, <a href="...">) with
 * placeholders {name}; "{{" and "}}" are literal braces.  Placeholder
 * values are escaped, the template text is not.  Lengths are counted as
 * Telegram counts them: UTF-16 code units of the visible text, tags not
 * counted, an entity counting as the character it stands for.
 *
 * Shared by corp-fmt (delivery lines), corp-tg (bot replies) and
 * corp-send email (plain text).  Nothing here prints or exits.
 */
#ifndef CORP_RENDER_H
#define CORP_RENDER_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

struct corp_err;
struct corp_catalog;

#define CORP_TG_MAX	4096	/* Telegram's limit of one message text */
#define CORP_DATEBUF	32

enum corp_render_mode {
	CORP_RENDER_HTML,	/* escape < > & in values, and " in tags */
	CORP_RENDER_PLAIN	/* values as they are */
};

/* UTF-16 code units of n bytes of UTF-8 (an emoji is 2). */
size_t	corp_utf16_len(const char *s, size_t n);
/* Visible UTF-16 code units of Telegram HTML. */
size_t	corp_html_len(const char *html);
/*
 * Cut html to at most limit visible units, the last one an ellipsis: of
 * the room R = limit - 1, at the last white space within R when at least
 * R/2 units come before it, else between characters at R (a long word,
 * URL or CJK text keeps the room).  Never inside a tag, an entity, a
 * UTF-8 sequence or a surrogate pair, never before a combining mark,
 * variation selector, joiner or skin-tone modifier, after a ZWJ, or
 * inside a flag.  Trailing blanks and tags are dropped, the tags left
 * open closed, then U+2026 added.  Text that fits is copied as it is.
 * *out is malloc'd; -1 when out of memory or limit < 2.
 */
int	corp_html_cut(const char *html, size_t limit, char **out);
/*
 * Plain text from Telegram HTML: tags removed, entities decoded, and
 * <a href="URL">label</a> written as "label: URL" (just URL when the
 * label is the URL).  NULL when out of memory.
 */
char	*corp_html_to_plain(const char *html);
/* Plain text as Telegram HTML text (<, >, & escaped); NULL: out of memory. */
char	*corp_html_escape(const char *text);

/* "YYYY-MM-DD HH:MM" in zone (NULL or unknown: UTC). */
char	*corp_render_date(time_t, const char *zone, char *buf);

/*
 * Fill the template's placeholders from vars, an object of name -> string,
 * number, boolean (null or absent: no value).  CORP_EINVAL for an unknown
 * placeholder name, a placeholder without value, or an unmatched brace.
 * Known names: task.id task.title task.link report.link actor.name
 * user.name assignee.name previous_assignee.name reason due_at period_key
 * and payload.NAME.
 */
int	corp_render(const char *tmpl, json_t *vars, enum corp_render_mode,
	    char **out, struct corp_err *);

/*
 * Render one delivery line (the line corp-deliver pending prints):
 * *text is Telegram HTML cut to CORP_TG_MAX keeping the footers, or, when
 * plain, the plain text and *subject the e-mail subject.  The key is the
 * first of the chain KEY.by_WHO@ROLE, KEY.by_WHO, KEY@ROLE, KEY found in
 * the user's language, its base, then fallback_lang; within a language
 * the latest catalog layer wins over a more specific key (corp-fmt.1).
 *
 * On failure err holds the line's error, "fmt: ...": CORP_ECONFIG when
 * the catalogs cannot render the line (no key in any language tried, an
 * unknown placeholder or one without value, a malformed template, an
 * empty text, footers over the limit), which a catalog fix cures and so
 * holds the row; CORP_EINVAL when the line itself is unusable (no event
 * object, no key); CORP_EINTERNAL when out of memory.
 */
/*
 * Buttons (corp-fmt.1 "Buttons"): the text of a buttons.KEY entry as
 * written, before its placeholders are filled (a label's value must
 * not add buttons or change actions), into
 * [[{"text": LABEL, "action": ACTION}, ...], ...] in *out;
 * CORP_ECONFIG naming the offence.  An action is 1-20 of a-z 0-9 _,
 * starting with a letter.
 */
#define CORP_BUTTON_ACTION_MAX	20
int	corp_buttons_parse(const char *text, json_t **out, struct corp_err *);
int	corp_button_action_valid(const char *s, size_t n);

int	corp_render_delivery(const struct corp_catalog *, json_t *line,
	    const char *fallback_lang, int plain, char **text, char **subject,
	    struct corp_err *);

/*
 * corp_render_unfillable -- for corp-db check: the catalog entries whose
 * placeholders an event type that uses them cannot fill, so that corp-fmt
 * would hold its rows (a configuration error) for some events of that
 * type.
 *
 * uses is the array corp_notify_list() returns (objects with
 * "event_type", "template" and "enabled"; disabled rows are skipped).  A
 * row uses, in every language and whatever its role, the entries TEMPLATE,
 * TEMPLATE@ROLE, TEMPLATE.by_WHO[@ROLE], email.subject. of those,
 * footer.TYPE (TYPE in lower case) and, for a task event type,
 * footer.link; an entry that a later catalog layer hides from corp-fmt
 * (corp-fmt.1, Lookup) is not judged, nor are bot.*, none.* and month.*.
 * A placeholder is fillable when every event of the type carries its
 * value, or when the entry's language defines none.NAME.  For the
 * built-in task types the table in render.c says which: task.*,
 * report.link, user.name, assignee.name always; actor.name unless the
 * scheduler can act (TASK_CREATED, TASK_DUE_SOON, TASK_OVERDUE); reason
 * for REJECTED; due_at for TASK_DUE_SOON and TASK_OVERDUE;
 * previous_assignee.name for TASK_ASSIGNED; never period_key or
 * payload.*.  For any other (producer) type only user.name, and
 * payload.NAME is not judged (the payload is the producer's).  An unknown
 * placeholder or a malformed template is reported with placeholder null.
 *
 * *out is a new array, in (lang, key) order, of one object per (entry,
 * event type, placeholder): {"lang", "key", "where" ("FILE:LINE"),
 * "event_type", "placeholder" (or null), "problem" (one line for people:
 * "FILE:LINE: LANG:KEY: {NAME} has no value in some TYPE events (define
 * LANG:none.NAME or drop it)")}; empty when all is well.  Returns 0, or
 * CORP_EINTERNAL when out of memory (*out NULL).  Reads only the catalog.
 */
int	corp_render_unfillable(const struct corp_catalog *, json_t *uses,
	    json_t **out, struct corp_err *);

#endif
