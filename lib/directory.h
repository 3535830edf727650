/*
 * directory.h -- users, org units, delegations (DESIGN 3).
 * Logins: 1-64 characters of [A-Za-z0-9._@-], starting with a letter or
 * digit.  Unit names follow the same rule.
 *
 * Writers own their transaction (corp_db_tx: a refusal writes nothing;
 * inside a transaction the caller holds they join it).  Unknown login or
 * unit: CORP_ENOTFOUND;
 * malformed values: CORP_EINVAL; duplicates and cycles: CORP_ECONFLICT.
 */
#ifndef CORP_DIRECTORY_H
#define CORP_DIRECTORY_H

#include <time.h>
#include <jansson.h>

#include "jsonl.h"

struct corp_db;
struct corp_err;

#define CORP_NAME_MAX	200	/* display names and unit titles, bytes */

int	corp_login_valid(const char *);
int	corp_lang_valid(const char *);	/* "en", "pt-BR": 1-35 [A-Za-z0-9-] */
/* Create login as an active admin, or make an existing one an active
 * admin; idempotent.  Opens its own transaction. */
int	corp_dir_make_admin(struct corp_db *, const char *login,
	    long long *idp, struct corp_err *);

/* A user's fields; has_X says whether X is given (set or cleared). */
struct corp_user_in {
	const char	*login;
	const char	*name;	int has_name;
	const char	*lang;	int has_lang;	/* NULL: fallback */
	const char	*tz;	int has_tz;	/* NULL: the unit's */
	const char	*unit;	int has_unit;	/* NULL: no unit */
	int		 is_admin, has_admin;
	int		 active, has_active;
};
enum { CORP_PUT_ADD, CORP_PUT_SET, CORP_PUT_ANY };
/*
 * Add (CORP_ECONFLICT if the login exists), set (CORP_ENOTFOUND if it
 * does not) or either (import).  *result: "created", "updated" or
 * "unchanged".  Owns its transaction.
 */
int	corp_dir_user_put(struct corp_db *, const struct corp_user_in *,
	    int mode, long long *idp, const char **result, struct corp_err *);
/*
 * corp-user import: each item one user as corp-json.5 has it (login;
 * name, lang, tz, unit, is_admin, active; an unknown field is refused),
 * added or updated (CORP_PUT_ANY), all in one transaction.  fn hears of
 * every good item in order: rc 0 and its result line {line, login,
 * user_id, result}, which fn takes.  The first refused item rolls the
 * whole batch back and is returned ("NAME:LINE: why; nothing imported",
 * 65 for a bad line, 67/79 as for add); so is an internal or busy error.
 * Results fn heard of are void then.
 */
int	corp_dir_user_import(struct corp_db *, struct corp_jsonl_item *,
	    size_t n, corp_result_fn fn, void *arg, struct corp_err *);
/* Unknown login: CORP_ENOTFOUND.  active may be NULL. */
int	corp_dir_user_id(struct corp_db *, const char *login, long long *id,
	    int *active, struct corp_err *);
/* The user JSON line of corp-json.5. */
int	corp_dir_user_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* Users (only active unless all), of one unit when unit != NULL. */
int	corp_dir_user_list(struct corp_db *, const char *unit, int all,
	    json_t **array, struct corp_err *);
/* The user's zone: own, else unit's, else CORP_TZ, else UTC.  Caller
 * frees *zone. */
int	corp_dir_user_zone(struct corp_db *, long long id, char **zone,
	    struct corp_err *);
int	corp_dir_unit_zone(struct corp_db *, long long id, char **zone,
	    struct corp_err *);

/* Org units.  Writers own their transaction. */
int	corp_dir_unit_id(struct corp_db *, const char *name, long long *id,
	    struct corp_err *);
int	corp_dir_unit_add(struct corp_db *, const char *name,
	    const char *title, const char *parent, const char *tz,
	    const char *head, long long *idp, struct corp_err *);
/* parent NULL: make it a root.  A cycle is CORP_ECONFLICT. */
int	corp_dir_unit_move(struct corp_db *, const char *name,
	    const char *parent, struct corp_err *);
struct corp_unit_in {
	const char	*title;	int has_title;
	const char	*head;	int has_head;	/* NULL: no head */
	const char	*tz;	int has_tz;	/* NULL: CORP_TZ */
};
int	corp_dir_unit_set(struct corp_db *, const char *name,
	    const struct corp_unit_in *, struct corp_err *);
int	corp_dir_unit_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* Every unit in tree order (parents first, siblings by name), each with
 * its "depth". */
int	corp_dir_unit_list(struct corp_db *, json_t **array,
	    struct corp_err *);

/* Delegations: deputy acts for principal inside [from, until).  Writers
 * own their transaction. */
int	corp_dir_delegate(struct corp_db *, const char *principal,
	    const char *deputy, time_t from, time_t until, long long *idp,
	    struct corp_err *);
int	corp_dir_delegation_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* Delegations where user (when not NULL) is principal or deputy; only
 * those active at `at` when active_only. */
int	corp_dir_delegations(struct corp_db *, const char *user,
	    int active_only, time_t at, json_t **array, struct corp_err *);
/* Already revoked: CORP_ECONFLICT. */
int	corp_dir_revoke(struct corp_db *, long long id, struct corp_err *);

/*
 * For the other modules, which never read these tables with SQL of
 * their own (HACKING: one owner per table).  corp_dir_user_brief: found
 * = 0 when no user has the id.  corp_dir_active_ids: fn(arg, id) for
 * the active user `user`, or when user <= 0 for the active members of
 * unit, in id order (fn returns non-zero: out of memory).
 * corp_dir_delegated: does principal delegate to deputy at that time?
 */
struct corp_user_brief {
	int		found, active, is_admin;
	long long	unit_id;	/* 0: none */
};
int	corp_dir_user_brief(struct corp_db *, long long id,
	    struct corp_user_brief *, struct corp_err *);
/* A user's language and name (each NULL when unset or no such user). */
int	corp_dir_user_texts(struct corp_db *, long long id, char **lang,
	    char **name, struct corp_err *);
/* The login of the active user whose login is word, case ignored (an
 * @mention); *login NULL when none. */
int	corp_dir_login_nocase(struct corp_db *, const char *word, char **login,
	    struct corp_err *);
int	corp_dir_active_ids(struct corp_db *, long long user, long long unit,
	    int (*fn)(void *, long long), void *arg, struct corp_err *);
int	corp_dir_delegated(struct corp_db *, long long principal,
	    long long deputy, time_t at, int *yes, struct corp_err *);

#endif
