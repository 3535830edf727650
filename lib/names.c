/* names.c -- see names.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "corp.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "names.h"
#include "notify.h"
#include "webhookconf.h"

/* Add a channel here and everything that checks one knows it. */
const char *const corp_channels[] = { "telegram", "email", "webhook",
	"exec", "file", "push", NULL };

/* The task state machine's and the scheduler's (DESIGN 3, 7). */
static const char *const builtin_types[] = { "TASK_CREATED",
	"TASK_ASSIGNED", "TASK_DUE_CHANGED", "REPORT_SUBMITTED", "APPROVED",
	"REJECTED", "TASK_CANCELLED", "TASK_DUE_SOON", "TASK_OVERDUE", NULL };

/* Seed 004's topic events (DESIGN 8), never routed. */
static const char *const topic_types[] = { "message.updated",
	"run_started", "progress_updated", "proposals_created",
	"run_completed", "run_failed", "run_reviewed", "run_closed",
	"run_cancelled", "approved", "rejected", "merged",
	"ingestion.started", "ingestion.message_stored", "ingestion.failed",
	NULL };
static const char *const topics[] = { "messages", "analysis_runs",
	"proposals", NULL };

/* The task state machine's states (DESIGN 3). */
static const char *const task_states[] = { "DRAFT", "OPEN",
	"WAITING_APPROVAL", "DONE", "CANCELLED", NULL };

/* The roles a notification setting can name (DESIGN 4). */
static const char *const task_roles[] = { "executor", "initiator",
	"supervisor", "previous_executor", "admin", NULL };

/* Seed 003's types and roles: corp ships settings for them. */
static const char *const seed_types[] = { "booking_created",
	"booking_cancelled", "booking_rescheduled", "booking_done", NULL };
static const char *const seed_roles[] = { "client", "specialist", NULL };

/* At most this many names are listed when none is close enough. */
#define LISTED 12

/* A growing NULL-terminated list of distinct names (owned copies). */
struct names {
	char	**v;
	size_t	  n, cap;
	int	  oom;
};

static void
names_add(struct names *s, const char *name)
{
	char **nv;
	size_t i;

	if (s->oom || name == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return;
	if (s->n + 1 >= s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		if ((nv = reallocarray(s->v, s->cap, sizeof(*nv))) == NULL) {
			s->oom = 1;
			return;
		}
		s->v = nv;
	}
	if ((s->v[s->n] = strdup(name)) == NULL) {
		s->oom = 1;
		return;
	}
	s->v[++s->n] = NULL;
}

static void
names_addall(struct names *s, const char *const *v)
{
	for (; *v != NULL; v++)
		names_add(s, *v);
}

static void
names_free(struct names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
member(const char *const *v, const char *word)
{
	for (; *v != NULL; v++)
		if (strcmp(*v, word) == 0)
			return 1;
	return 0;
}

/*
 * "unknown WHAT 'WORD' (did you mean 'X'?)", else "unknown WHAT 'WORD'
 * (LABEL: a, b, ...)HINT" (label NULL: "(TAIL)").
 */
static int
refuse(struct corp_err *err, const char *what, const char *word,
    const char *const *cands, const char *label, const char *hint)
{
	static const char *const none[] = { NULL };
	const char *s;
	char list[512];
	size_t i;

	if (cands == NULL)
		cands = none;
	if ((s = corp_suggest(word, cands, 2)) != NULL)
		return corp_errf(err, CORP_EUSAGE, "unknown %s '%s' (did you "
		    "mean '%s'?)", what, word, s);
	list[0] = '\0';
	for (i = 0; cands[i] != NULL && label != NULL; i++) {
		if (i == LISTED) {
			strlcat(list, ", ...", sizeof(list));
			break;
		}
		if (i > 0)
			strlcat(list, ", ", sizeof(list));
		strlcat(list, cands[i], sizeof(list));
	}
	if (label == NULL)
		return corp_errf(err, CORP_EUSAGE, "unknown %s '%s'%s", what,
		    word, hint ? hint : "");
	return corp_errf(err, CORP_EUSAGE, "unknown %s '%s' (%s: %s)%s", what,
	    word, label, list[0] ? list : "none", hint ? hint : "");
}

int
corp_task_state_check(const char *state, struct corp_err *err)
{
	if (state != NULL && member(task_states, state))
		return 0;
	return refuse(err, "task state", state == NULL ? "" : state,
	    task_states, "states", NULL);
}

int
corp_channel_known(const char *ch)
{
	return ch != NULL && member(corp_channels, ch);
}

int
corp_channel_check(const char *ch, struct corp_err *err)
{
	if (corp_channel_known(ch))
		return 0;
	if (!corp_channel_valid(ch))
		return corp_errf(err, CORP_EINVAL, "channel '%s': expected "
		    "1-32 of a-z 0-9 _ -", ch ? ch : "");
	return refuse(err, "channel", ch ? ch : "", corp_channels, "channels",
	    NULL);
}

int
corp_event_type_builtin(const char *t)
{
	return t != NULL && member(builtin_types, t);
}

int
corp_event_type_shipped(const char *t)
{
	return t != NULL && member(seed_types, t);
}

int
corp_role_builtin(const char *r)
{
	return r != NULL && (member(task_roles, r) || member(seed_roles, r));
}

int
corp_topic_check(const char *t, struct corp_err *err)
{
	if (t != NULL && member(topics, t))
		return 0;
	return refuse(err, "topic", t ? t : "", topics, "topics", NULL);
}

/* names_add as an owner's callback. */
static void
add_name(void *arg, const char *name)
{
	names_add(arg, name);
}

int
corp_event_type_check(struct corp_db *db, const char *type, int flags,
    struct corp_err *err)
{
	struct names s;
	int rc, yes, topic = (flags & CORP_NAME_TOPIC) != 0;

	if (!corp_event_type_valid(type))
		return corp_errf(err, CORP_EINVAL, "event type '%s': expected "
		    "1-64 of A-Z a-z 0-9 _ . : -", type ? type : "");
	if (corp_event_type_builtin(type) || corp_event_type_shipped(type) ||
	    (topic && member(topic_types, type)))
		return 0;
	if ((rc = corp_event_type_seen(db, type, topic, &yes, err)) != 0 ||
	    (!yes && (rc = corp_notify_has(db, type, NULL, &yes, err)) != 0))
		return rc;
	if (yes || (flags & CORP_NAME_NEW))
		return 0;
	/*
	 * Refused: gather what is known, for the message only; producers'
	 * types first (sorted), the built-in ones after them.
	 */
	memset(&s, 0, sizeof(s));
	names_addall(&s, seed_types);
	/* Bounded: the settings' types and those of recent events. */
	if ((rc = corp_event_recent_types(db, add_name, &s, err)) == 0 &&
	    (rc = corp_notify_each(db, 0, add_name, &s, err)) == 0 &&
	    (rc = s.oom ? corp_errf(err, CORP_EINTERNAL, "out of memory") :
	    0) == 0) {
		size_t i, k;

		/* Keep the producers' (sorted); the built-in ones follow. */
		for (i = k = 0; i < s.n; i++) {
			if (corp_event_type_builtin(s.v[i]) ||
			    member(topic_types, s.v[i]))
				free(s.v[i]);
			else
				s.v[k++] = s.v[i];
		}
		s.n = k;
		if (s.v != NULL)
			s.v[k] = NULL;
		if (k > 0)
			qsort(s.v, k, sizeof(*s.v), cmpname);
		names_addall(&s, builtin_types);
		if (topic)
			names_addall(&s, topic_types);
		rc = s.oom ? corp_errf(err, CORP_EINTERNAL, "out of memory") :
		    refuse(err, "event type", type, (const char *const *)s.v,
		    "known", (flags & CORP_NAME_HINT) ? "; a producer's new "
		    "type is declared once with --new-type" : NULL);
	}
	names_free(&s);
	return rc;
}

int
corp_role_check(struct corp_db *db, const char *role, int flags,
    struct corp_err *err)
{
	struct names s;
	int rc, yes;

	if (!corp_role_valid(role))
		return corp_errf(err, CORP_EINVAL, "role '%s': expected 1-64 "
		    "of A-Z a-z 0-9 _ . : -", role ? role : "");
	if (corp_role_builtin(role))
		return 0;
	if (strncmp(role, "deputy:", 7) == 0)
		return corp_errf(err, CORP_EUSAGE, "role '%s': a deputy gets "
		    "the setting of its principal's role; set role '%s'",
		    role, role + 7);
	if ((rc = corp_notify_has(db, NULL, role, &yes, err)) != 0)
		return rc;
	if (!yes && (rc = corp_event_role_emitted(db, role, &yes, err)) != 0)
		return rc;
	if (yes || (flags & CORP_NAME_NEW))
		return 0;
	/* Refused: the task roles, the settings' and recent producers'. */
	memset(&s, 0, sizeof(s));
	names_addall(&s, task_roles);
	names_addall(&s, seed_roles);
	if ((rc = corp_notify_each(db, 1, add_name, &s, err)) == 0 &&
	    (rc = corp_event_recent_roles(db, add_name, &s, err)) == 0)
		rc = s.oom ? corp_errf(err, CORP_EINTERNAL, "out of memory") :
		    refuse(err, "role", role, (const char *const *)s.v,
		    "known", (flags & CORP_NAME_HINT) ? "; a producer's new "
		    "role is declared once with --new-role" : NULL);
	names_free(&s);
	return rc;
}

/* Is lang, or its base, one of langs?  Else refuse with the closest. */
static int
lang_in(const json_t *langs, const char *lang, struct corp_err *err)
{
	struct names s;
	json_t *x;
	char base[36];
	size_t i, n;
	int rc = 0, known = 0;

	/* corp-fmt tries the language, then its base: "en" for "en-GB". */
	n = strcspn(lang, "-_");
	if (n >= sizeof(base))
		n = sizeof(base) - 1;
	memcpy(base, lang, n);
	base[n] = '\0';
	memset(&s, 0, sizeof(s));
	json_array_foreach(langs, i, x) {
		const char *l = json_string_value(x);

		if (strcmp(l, lang) == 0 || strcmp(l, base) == 0)
			known = 1;
		names_add(&s, l);
	}
	if (s.oom)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else if (!known)
		rc = refuse(err, "language", lang, (const char *const *)s.v,
		    "catalogs", NULL);
	names_free(&s);
	return rc;
}

int
corp_lang_check_catalog(const struct corp_catalog *cat, const char *lang,
    struct corp_err *err)
{
	json_t *langs;
	int rc;

	if (!corp_lang_valid(lang))
		return corp_errf(err, CORP_EINVAL, "'%s' is not a language "
		    "tag", lang ? lang : "");
	if ((langs = corp_catalog_langs(cat)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = lang_in(langs, lang, err);
	json_decref(langs);
	return rc;
}

int
corp_lang_check(const char *lang, struct corp_err *err)
{
	static json_t *cached;
	struct corp_catalog *cat;
	int rc;

	if (!corp_lang_valid(lang))
		return corp_errf(err, CORP_EINVAL, "'%s' is not a language "
		    "tag", lang ? lang : "");
	/* The catalogs are read once per process (an import checks many). */
	if (cached == NULL) {
		if ((cat = corp_catalog_new()) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		if ((rc = corp_catalog_load_std(cat, err)) != 0) {
			corp_catalog_free(cat);
			return corp_errprefix(err, "language '%s'", lang);
		}
		cached = corp_catalog_langs(cat);
		corp_catalog_free(cat);
		if (cached == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	return lang_in(cached, lang, err);
}

#define ZONEINFO "/usr/share/zoneinfo"

/* Every zone name under ZONEINFO/rel, for suggestions. */
static void
zones_walk(struct names *s, const char *rel, int depth)
{
	struct dirent *d;
	struct stat sb;
	char *dir, *path, *name;
	DIR *dp;

	if (depth > 3 || corp_asprintf(&dir, "%s%s%s", ZONEINFO,
	    *rel ? "/" : "", rel) < 0)
		return;
	dp = opendir(dir);
	while (dp != NULL && !s->oom && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.' || (depth == 0 &&
		    (strcmp(d->d_name, "posix") == 0 ||
		    strcmp(d->d_name, "right") == 0)))
			continue;
		if (corp_asprintf(&name, "%s%s%s", rel, *rel ? "/" : "",
		    d->d_name) < 0)
			break;
		if (corp_asprintf(&path, "%s/%s", ZONEINFO, name) < 0) {
			free(name);
			break;
		}
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			zones_walk(s, name, depth + 1);
		else if (corp_tz_valid(name))
			names_add(s, name);
		free(path);
		free(name);
	}
	if (dp != NULL)
		closedir(dp);
	free(dir);
}

int
corp_zone_known(const char *zone)
{
	return corp_tz_valid(zone);
}

int
corp_zone_check(const char *zone, struct corp_err *err)
{
	struct names s;
	int rc;

	if (zone != NULL && strcmp(zone, "UTC") == 0)
		return 0;
	/* corp_tz_valid's own rule for a name, before the file. */
	if (!corp_tz_name_ok(zone))
		return corp_errf(err, CORP_EINVAL, "time zone '%s': expected "
		    "a tz database name such as Europe/Kyiv", zone ? zone : "");
	if (corp_zone_known(zone))
		return 0;
	memset(&s, 0, sizeof(s));
	zones_walk(&s, "", 0);
	rc = refuse(err, "time zone", zone,
	    (const char *const *)s.v, NULL, " (not in the tz database, "
	    ZONEINFO ")");
	names_free(&s);
	return rc;
}

/* A webhook endpoint or exec command name (webhookconf.h): here, with
 * the other name rules, so that a module checking a bind's address
 * does not link the webhook configuration (and libcrypto). */
int
corp_webhook_name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '.' || strlen(s) > 64)
		return 0;
	return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-")] == '\0';
}
