/*
 * names.h -- the known sets of the names an operator or a producer
 * types (channels, event types, roles, languages, zones, topics), and
 * the checks that refuse a name outside its set with a "did you mean"
 * (DESIGN 12).  A misspelt name would otherwise be stored with exit 0
 * and then silently never match anything.
 *
 * Every check returns 0; CORP_EINVAL for a malformed name; or, for a
 * well-formed name outside its set, CORP_EUSAGE with a message that
 * names the value and either the closest known name (corp_suggest,
 * distance <= 2) or, when none is that close, the known ones:
 *
 *	unknown channel 'telgram' (did you mean 'telegram'?)
 *	unknown language 'english' (catalogs: en, ru, uk)
 *
 * 64 because on a command line an unknown name is a usage error, as an
 * unknown option is; a tool that read the name from an input line
 * reports that line and exits 65, as for any bad line.
 */
#ifndef CORP_NAMES_H
#define CORP_NAMES_H

struct corp_db;
struct corp_err;

/* The channels corp can deliver on, NULL-terminated: the one list. */
extern const char *const corp_channels[];
int	corp_channel_known(const char *);
int	corp_channel_check(const char *, struct corp_err *);

/* A task state (DRAFT, OPEN, WAITING_APPROVAL, DONE, CANCELLED). */
int	corp_task_state_check(const char *, struct corp_err *);

/* The task state machine's and the scheduler's event types. */
int	corp_event_type_builtin(const char *);
/* Seed 003's booking types, whose settings ship with corp. */
int	corp_event_type_shipped(const char *);
/* The roles a setting can name for task events, and seed 003's. */
int	corp_role_builtin(const char *);

/* How corp_event_type_check and corp_role_check judge a name. */
enum {
	/* A well-formed name outside the set is accepted: the caller is
	 * declaring a producer's new name (--new-type, --new-role). */
	CORP_NAME_NEW = 1,
	/* Topic event types (seed 004: never routed) count as known:
	 * for filters of listings, not for settings. */
	CORP_NAME_TOPIC = 2,
	/* The message of a refusal tells how to declare a new name. */
	CORP_NAME_HINT = 4
};

/*
 * An event type is known when it is built in or one of seed 003's
 * booking types, or seen: the type of an event in the log (with
 * CORP_NAME_TOPIC also of a topic event) or of a notification setting.
 * Seed 004's topic event types are built in for CORP_NAME_TOPIC.
 * Matching is exact (route compares types so).  A refusal suggests from
 * the known types of the settings and of the last 10000 events, so that
 * its cost is bounded (it may run inside emit's write transaction).
 */
int	corp_event_type_check(struct corp_db *, const char *type, int flags,
	    struct corp_err *);
/*
 * A role is known when it is a task role a setting can name (executor,
 * initiator, supervisor, previous_executor, admin) or seed 003's
 * (client, specialist), or seen: the role of a notification setting or
 * of an explicit recipient of an emitted event.  A deputy:ROLE is
 * refused with a word on what a deputy gets.
 */
int	corp_role_check(struct corp_db *, const char *role, int flags,
	    struct corp_err *);
/*
 * A language is known when a catalog (shipped or the operator's, as
 * corp-fmt loads them) has it or its base ("en" for "en-GB"): the
 * languages corp-fmt can render.
 */
int	corp_lang_check(const char *lang, struct corp_err *);
/* The same against the languages of a loaded catalog (corp-fmt's, with
 * its --catalog files). */
struct corp_catalog;
int	corp_lang_check_catalog(const struct corp_catalog *,
	    const char *lang, struct corp_err *);
/* A zone of the tz database (a TZif file under /usr/share/zoneinfo). */
int	corp_zone_check(const char *zone, struct corp_err *);
/* The same, as a yes or no (no suggestion looked for). */
int	corp_zone_known(const char *zone);
/* A topic of seed 004's topic events: messages, analysis_runs,
 * proposals. */
int	corp_topic_check(const char *topic, struct corp_err *);

#endif
