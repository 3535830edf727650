/* directory.c -- see directory.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "linkcode.h"
#include "jsonl.h"
#include "names.h"
#include "text.h"

int
corp_login_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@-") == n;
}

int
corp_lang_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 35 || !isalpha((unsigned char)s[0]))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-") == n;
}

struct make_admin {
	const char	*login;
	long long	*idp;
};

static int
make_admin_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct make_admin *a = arg;
	const char *login = a->login;
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "INSERT INTO users (login, name, "
	    "is_admin, active, created_at, updated_at) VALUES (?1, ?1, 1, 1, "
	    "?2, ?2) ON CONFLICT (login) DO UPDATE SET is_admin = 1, "
	    "active = 1, updated_at = ?2 RETURNING id", err)) != 0)
		return rc;
	corp_bind_text(st, 1, login);
	corp_bind_int64(st, 2, (long long)corp_now());
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "make admin", err);
		corp_reset(st);
		return rc;
	}
	*a->idp = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

int
corp_dir_make_admin(struct corp_db *db, const char *login, long long *idp,
    struct corp_err *err)
{
	struct make_admin a = { login, idp };

	if (!corp_login_valid(login))
		return corp_errf(err, CORP_EINVAL,
		    "'%s' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -)",
		    login);
	return corp_db_tx(db, make_admin_tx, &a, err);
}

/*
 * Step st expecting at most one row: 0 with *found set, or an error.
 * The statement is left on its row when found (caller resets).
 */
static int
step1(struct corp_db *db, struct corp_stmt *st, int *found, const char *what,
    struct corp_err *err)
{
	int rc = corp_step(st);

	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	rc = corp_db_fail(db, rc, what, err);
	corp_reset(st);
	return rc;
}

int
corp_dir_user_id(struct corp_db *db, const char *login, long long *id,
    int *active, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, found;

	if ((rc = corp_db_prep(db, &st,
	    "SELECT id, active FROM users WHERE login = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, login);
	if ((rc = step1(db, st, &found, "read user", err)) != 0)
		return rc;
	if (!found) {
		corp_reset(st);
		return corp_errf(err, CORP_ENOTFOUND, "user '%s': not found",
		    login);
	}
	*id = corp_col_int64(st, 0);
	if (active)
		*active = corp_col_int(st, 1);
	corp_reset(st);
	return 0;
}

int
corp_dir_unit_id(struct corp_db *db, const char *name, long long *id,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, found;

	if ((rc = corp_db_prep(db, &st,
	    "SELECT id FROM org_units WHERE name = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, name);
	if ((rc = step1(db, st, &found, "read unit", err)) != 0)
		return rc;
	if (!found) {
		corp_reset(st);
		return corp_errf(err, CORP_ENOTFOUND, "unit '%s': not found",
		    name);
	}
	*id = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

static int
check_user_in(const struct corp_user_in *u, struct corp_err *err)
{
	int rc;

	if (!corp_login_valid(u->login))
		return corp_errf(err, CORP_EINVAL,
		    "'%s' is not a valid login (1-64 of A-Z a-z 0-9 . _ @ -)",
		    u->login ? u->login : "");
	if (u->has_name) {
		if (u->name == NULL || *u->name == '\0')
			return corp_errf(err, CORP_EINVAL,
			    "name must not be empty");
		if ((rc = corp_text_check(u->name, CORP_NAME_MAX, "name",
		    err)) != 0)
			return rc;
	}
	/* A language without a catalog or a zone outside the tz database
	 * would be stored and silently fall back: refuse it here. */
	if (u->has_lang && u->lang != NULL &&
	    (rc = corp_lang_check(u->lang, err)) != 0)
		return rc;
	if (u->has_tz && u->tz != NULL &&
	    (rc = corp_zone_check(u->tz, err)) != 0)
		return rc;
	return 0;
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* corp_dir_user_put inside the transaction (its own, or an import's). */
static int
user_put(struct corp_db *db, const struct corp_user_in *u, int mode,
    long long *idp, const char **result, struct corp_err *err)
{
	struct corp_stmt *st;
	char *name = NULL, *lang = NULL, *tz = NULL;
	long long id = 0, unit = 0, ounit = 0;
	int rc, found, admin = 0, active = 1, changed;
	time_t now = corp_now();

	if ((rc = check_user_in(u, err)) != 0)
		return rc;
	if (u->has_unit && u->unit != NULL &&
	    (rc = corp_dir_unit_id(db, u->unit, &unit, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT id, name, lang, tz, "
	    "org_unit_id, is_admin, active FROM users WHERE login = ?1",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, u->login);
	if ((rc = step1(db, st, &found, "read user", err)) != 0)
		return rc;
	if (found) {
		id = corp_col_int64(st, 0);
		name = corp_strdup(corp_col_text(st, 1));
		lang = corp_strdup(corp_col_text(st, 2));
		tz = corp_strdup(corp_col_text(st, 3));
		ounit = corp_col_int64(st, 4);
		admin = corp_col_int(st, 5);
		active = corp_col_int(st, 6);
	}
	corp_reset(st);
	if (found && mode == CORP_PUT_ADD) {
		rc = corp_errf(err, CORP_ECONFLICT, "user '%s' exists",
		    u->login);
		goto out;
	}
	if (!found && mode == CORP_PUT_SET) {
		rc = corp_errf(err, CORP_ENOTFOUND, "user '%s': not found",
		    u->login);
		goto out;
	}
	if (!found && !u->has_unit)
		unit = 0;
	else if (!u->has_unit)
		unit = ounit;
	changed = !found ||
	    (u->has_name && !same(u->name, name)) ||
	    (u->has_lang && !same(u->lang, lang)) ||
	    (u->has_tz && !same(u->tz, tz)) ||
	    unit != ounit ||
	    (u->has_admin && (u->is_admin != 0) != admin) ||
	    (u->has_active && (u->active != 0) != active);
	*result = !found ? "created" : changed ? "updated" : "unchanged";
	if (!changed) {
		*idp = id;
		rc = 0;
		goto out;
	}
	if ((rc = corp_db_prep(db, &st, "INSERT INTO users (login, name, "
	    "lang, tz, org_unit_id, is_admin, active, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
	    "ON CONFLICT (login) DO UPDATE SET name = ?2, lang = ?3, tz = ?4, "
	    "org_unit_id = ?5, is_admin = ?6, active = ?7, updated_at = ?8 "
	    "RETURNING id", err)) != 0)
		goto out;
	corp_bind_text(st, 1, u->login);
	corp_bind_text(st, 2, u->has_name ? u->name : name ? name : u->login);
	corp_bind_text(st, 3, u->has_lang ? u->lang : lang);
	corp_bind_text(st, 4, u->has_tz ? u->tz : tz);
	corp_bind_id(st, 5, unit);
	corp_bind_int(st, 6, u->has_admin ? u->is_admin != 0 : admin);
	corp_bind_int(st, 7, u->has_active ? u->active != 0 : active);
	corp_bind_int64(st, 8, (long long)now);
	if ((rc = step1(db, st, &found, "write user", err)) != 0)
		goto out;
	*idp = corp_col_int64(st, 0);
	corp_reset(st);
	/* A deactivated user's binding codes die with the account: a code
	 * handed out before must not bind a chat to it later. */
	if (u->has_active && !u->active && found && active) {
		if ((rc = corp_linkcode_void_tx(db, *idp, now, err)) != 0)
			goto out;
		/* Its API tokens too: reactivating the account must not
		 * bring back a bearer token handed out before. */
		if ((rc = corp_db_prep(db, &st, "UPDATE api_tokens SET "
		    "revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
		    err)) != 0)
			goto out;
		corp_bind_int64(st, 1, *idp);
		corp_bind_int64(st, 2, (long long)now);
		rc = corp_db_exec(db, st, "revoke API tokens", err);
	}
out:
	free(name);
	free(lang);
	free(tz);
	return rc;
}

struct user_put {
	const struct corp_user_in *u;
	int		 mode;
	long long	*idp;
	const char	**result;
};

static int
user_put_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct user_put *a = arg;

	return user_put(db, a->u, a->mode, a->idp, a->result, err);
}

int
corp_dir_user_put(struct corp_db *db, const struct corp_user_in *u, int mode,
    long long *idp, const char **result, struct corp_err *err)
{
	struct user_put a = { u, mode, idp, result };

	return corp_db_tx(db, user_put_tx, &a, err);
}

/* An optional true/false field. */
static int
json_flag(json_t *obj, const char *key, int *val, int *has,
    struct corp_err *e)
{
	json_t *v;

	if ((v = json_object_get(obj, key)) == NULL)
		return 0;
	if (!json_is_boolean(v))
		return corp_errf(e, CORP_EINVAL, "field \"%s\" must be true or "
		    "false", key);
	*val = json_is_true(v);
	*has = 1;
	return 0;
}

/*
 * One import line into u; strings point into obj.  Unknown fields are
 * refused: a misspelt "is_admin" must not pass silently.
 */
static int
user_in_json(json_t *obj, struct corp_user_in *u, struct corp_err *e)
{
	static const char *known[] = { "login", "name", "lang", "tz", "unit",
	    "is_admin", "active", NULL };
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!json_is_object(obj))
		return corp_errf(e, CORP_EINVAL, "not a JSON object");
	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return corp_errf(e, CORP_EINVAL, "unknown field \"%s\"",
			    key);
	}
	if (corp_json_str(obj, "login", &u->login, 1, e) != 0)
		return e->code;
#define STR(f) do {							\
	if ((v = json_object_get(obj, #f)) != NULL) {			\
		if (corp_json_str(obj, #f, &u->f, 0, e) != 0)		\
			return e->code;					\
		u->has_##f = 1;						\
	}								\
} while (0)
	STR(name);
	STR(lang);
	STR(tz);
	STR(unit);
#undef STR
	if (u->has_name && u->name == NULL)
		return corp_errf(e, CORP_EINVAL, "field \"name\" must be a "
		    "string");
	if ((rc = json_flag(obj, "is_admin", &u->is_admin, &u->has_admin,
	    e)) != 0)
		return rc;
	return json_flag(obj, "active", &u->active, &u->has_active, e);
}

struct user_import {
	struct corp_jsonl_item	*it;
	size_t			 n;
	corp_result_fn		 fn;
	void			*arg;
};

/* A refused line is refused before user_put writes anything, so
 * skipping it leaves nothing of it behind. */
static int
user_import_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct user_import *a = arg;
	struct corp_user_in u;
	const char *res;
	long long id;
	json_t *o;
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++) {
		if ((rc = user_in_json(a->it[i].obj, &u, err)) == 0)
			rc = user_put(db, &u, CORP_PUT_ANY, &id, &res, err);
		if (rc == CORP_EINTERNAL || rc == CORP_ETEMP)
			return rc;
		if (rc != 0) {
			/* The batch is refused whole: the transaction rolls
			 * back.  A name checked as on a command line (64) is
			 * bad input in a line (65). */
			char msg[sizeof(err->msg)];

			(void)strlcpy(msg, err->msg, sizeof(msg));
			return corp_errf(err, rc == CORP_EUSAGE ? CORP_EINVAL :
			    rc, "%s:%lu: %s; nothing imported", a->it[i].name,
			    a->it[i].lineno, msg);
		}
		if ((o = json_pack("{s:I, s:s, s:I, s:s}", "line",
		    (json_int_t)a->it[i].lineno, "login", u.login, "user_id",
		    (json_int_t)id, "result", res)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		a->fn(a->arg, &a->it[i], rc, err, o);
	}
	corp_errclear(err);
	return 0;
}

int
corp_dir_user_import(struct corp_db *db, struct corp_jsonl_item *it,
    size_t n, corp_result_fn fn, void *arg, struct corp_err *err)
{
	struct user_import a = { it, n, fn, arg };

	return corp_db_tx(db, user_import_tx, &a, err);
}

static const char USER_ONE_SQL[] =
    "SELECT u.id, u.login, u.name, u.lang, u.tz, "
    "coalesce(u.tz, o.tz, ?2, 'UTC'), u.org_unit_id, o.name, u.is_admin, "
    "u.active, u.created_at, u.updated_at "
    "FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id "
    "WHERE u.id = ?1";
static const char USER_LIST_SQL[] =
    "SELECT u.id, u.login, u.name, u.lang, u.tz, "
    "coalesce(u.tz, o.tz, ?2, 'UTC'), u.org_unit_id, o.name, u.is_admin, "
    "u.active, u.created_at, u.updated_at "
    "FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id "
    "WHERE (?1 IS NULL OR u.org_unit_id = ?1) AND (?3 = 1 OR u.active = 1) "
    "ORDER BY u.login";

static json_t *
user_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:b, s:b, "
	    "s:o, s:o}",
	    "user_id", (json_int_t)corp_col_int64(st, 0),
	    "login", corp_col_text(st, 1),
	    "name", corp_col_text(st, 2),
	    "lang", corp_json_strval(corp_col_text(st, 3)),
	    "tz", corp_json_strval(corp_col_text(st, 4)),
	    "zone", corp_col_text(st, 5),
	    "org_unit_id", corp_json_idval(corp_col_int64(st, 6)),
	    "unit", corp_json_strval(corp_col_text(st, 7)),
	    "is_admin", corp_col_int(st, 8),
	    "active", corp_col_int(st, 9),
	    "created_at", corp_json_time(corp_col_int64(st, 10)),
	    "updated_at", corp_json_time(corp_col_int64(st, 11)));
}

int
corp_dir_user_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, found;

	if ((rc = corp_db_prep(db, &st, USER_ONE_SQL, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, corp_cfg.tz);
	if ((rc = step1(db, st, &found, "read user", err)) != 0)
		return rc;
	if (!found) {
		corp_reset(st);
		return corp_errf(err, CORP_ENOTFOUND, "user %lld: not found",
		    id);
	}
	*out = user_row(st);
	corp_reset(st);
	return *out ? 0 : corp_errf(err, CORP_EINTERNAL, "out of memory");
}

int
corp_dir_user_list(struct corp_db *db, const char *unit, int all,
    json_t **array, struct corp_err *err)
{
	struct corp_stmt *st;
	long long uid = 0;
	int rc;

	if (unit != NULL && (rc = corp_dir_unit_id(db, unit, &uid, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, USER_LIST_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, uid);
	corp_bind_text(st, 2, corp_cfg.tz);
	corp_bind_int(st, 3, all != 0);
	return corp_db_rows(db, st, user_row, array, "list users", err);
}

static int
zone_of(struct corp_db *db, const char *sql, long long id, char **zone,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, found;

	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_text(st, 2, corp_cfg.tz);
	if ((rc = step1(db, st, &found, "read zone", err)) != 0)
		return rc;
	*zone = corp_strdup(found ? corp_col_text(st, 0) : "UTC");
	corp_reset(st);
	if (*zone == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return found ? 0 : corp_errf(err, CORP_ENOTFOUND, "%lld: not found",
	    id);
}

int
corp_dir_user_zone(struct corp_db *db, long long id, char **zone,
    struct corp_err *err)
{
	static const char sql[] = "SELECT coalesce(u.tz, o.tz, ?2, 'UTC') "
	    "FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id "
	    "WHERE u.id = ?1";

	return zone_of(db, sql, id, zone, err);
}

int
corp_dir_unit_zone(struct corp_db *db, long long id, char **zone,
    struct corp_err *err)
{
	static const char sql[] = "SELECT coalesce(tz, ?2, 'UTC') "
	    "FROM org_units WHERE id = ?1";

	return zone_of(db, sql, id, zone, err);
}

/* Org units. */

static int
check_unit(const char *name, const char *title, const char *tz,
    struct corp_err *err)
{
	int rc;

	if (name != NULL && !corp_login_valid(name))
		return corp_errf(err, CORP_EINVAL, "'%s' is not a valid unit "
		    "name (1-64 of A-Z a-z 0-9 . _ @ -)", name);
	if (title != NULL) {
		if (*title == '\0')
			return corp_errf(err, CORP_EINVAL,
			    "title must not be empty");
		if ((rc = corp_text_check(title, CORP_NAME_MAX, "title",
		    err)) != 0)
			return rc;
	}
	if (tz != NULL)
		return corp_zone_check(tz, err);
	return 0;
}

struct unit_add {
	const char	*name, *title, *parent, *tz, *head;
	long long	*idp;
};

static int
unit_add_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct unit_add *a = arg;
	const char *name = a->name, *title = a->title, *parent = a->parent;
	const char *tz = a->tz, *head = a->head;
	struct corp_stmt *st;
	long long pid = 0, hid = 0, id;
	int rc, found;

	if (parent && (rc = corp_dir_unit_id(db, parent, &pid, err)) != 0)
		return rc;
	if (head && (rc = corp_dir_user_id(db, head, &hid, NULL, err)) != 0)
		return rc;
	if (corp_dir_unit_id(db, name, &id, NULL) == 0)
		return corp_errf(err, CORP_ECONFLICT, "unit '%s' exists",
		    name);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO org_units (name, title, "
	    "parent_id, head_user_id, tz, created_at, updated_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id", err)) != 0)
		return rc;
	corp_bind_text(st, 1, name);
	corp_bind_text(st, 2, title ? title : name);
	corp_bind_id(st, 3, pid);
	corp_bind_id(st, 4, hid);
	corp_bind_text(st, 5, tz);
	corp_bind_int64(st, 6, (long long)corp_now());
	if ((rc = step1(db, st, &found, "add unit", err)) != 0)
		return rc;
	*a->idp = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

int
corp_dir_unit_add(struct corp_db *db, const char *name, const char *title,
    const char *parent, const char *tz, const char *head, long long *idp,
    struct corp_err *err)
{
	struct unit_add a = { name, title, parent, tz, head, idp };
	int rc;

	if ((rc = check_unit(name, title ? title : name, tz, err)) != 0)
		return rc;
	return corp_db_tx(db, unit_add_tx, &a, err);
}

struct unit_move {
	const char	*name, *parent;
};

static int
unit_move_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct unit_move *a = arg;
	const char *name = a->name, *parent = a->parent;
	struct corp_stmt *st;
	long long id, pid = 0;
	int rc, found;

	if ((rc = corp_dir_unit_id(db, name, &id, err)) != 0)
		return rc;
	if (parent && (rc = corp_dir_unit_id(db, parent, &pid, err)) != 0)
		return rc;
	if (pid > 0) {
		/* Is the unit the new parent or one of its ancestors? */
		if ((rc = corp_db_prep(db, &st, "WITH RECURSIVE anc(id, d) AS "
		    "(SELECT CAST(?1 AS BIGINT), 0 UNION SELECT o.parent_id, anc.d + 1 "
		    "FROM org_units o JOIN anc ON o.id = anc.id "
		    "WHERE o.parent_id IS NOT NULL AND anc.d < 100000) "
		    "SELECT 1 FROM anc WHERE id = ?2", err)) != 0)
			return rc;
		corp_bind_int64(st, 1, pid);
		corp_bind_int64(st, 2, id);
		if ((rc = step1(db, st, &found, "read units", err)) != 0)
			return rc;
		corp_reset(st);
		if (found)
			return corp_errf(err, CORP_ECONFLICT, "moving '%s' "
			    "under '%s' would make a cycle", name, parent);
	}
	if ((rc = corp_db_prep(db, &st, "UPDATE org_units SET parent_id = ?2, "
	    "updated_at = ?3 WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_id(st, 2, pid);
	corp_bind_int64(st, 3, (long long)corp_now());
	return corp_db_exec(db, st, "move unit", err);
}

int
corp_dir_unit_move(struct corp_db *db, const char *name, const char *parent,
    struct corp_err *err)
{
	struct unit_move a = { name, parent };

	return corp_db_tx(db, unit_move_tx, &a, err);
}

struct unit_set {
	const char			*name;
	const struct corp_unit_in	*u;
};

static int
unit_set_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct unit_set *a = arg;
	const char *name = a->name;
	const struct corp_unit_in *u = a->u;
	struct corp_stmt *st;
	long long id, hid = 0;
	int rc;

	if ((rc = corp_dir_unit_id(db, name, &id, err)) != 0)
		return rc;
	if (u->has_head && u->head &&
	    (rc = corp_dir_user_id(db, u->head, &hid, NULL, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE org_units SET "
	    "title = CASE WHEN ?2 = 1 THEN ?3 ELSE title END, "
	    "head_user_id = CASE WHEN ?4 = 1 THEN ?5 ELSE head_user_id END, "
	    "tz = CASE WHEN ?6 = 1 THEN ?7 ELSE tz END, updated_at = ?8 "
	    "WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_int(st, 2, u->has_title != 0);
	corp_bind_text(st, 3, u->title);
	corp_bind_int(st, 4, u->has_head != 0);
	corp_bind_id(st, 5, hid);
	corp_bind_int(st, 6, u->has_tz != 0);
	corp_bind_text(st, 7, u->tz);
	corp_bind_int64(st, 8, (long long)corp_now());
	return corp_db_exec(db, st, "set unit", err);
}

int
corp_dir_unit_set(struct corp_db *db, const char *name,
    const struct corp_unit_in *u, struct corp_err *err)
{
	struct unit_set a = { name, u };
	int rc;

	if ((rc = check_unit(NULL, u->has_title ? u->title : NULL,
	    u->has_tz ? u->tz : NULL, err)) != 0)
		return rc;
	if (u->has_title && u->title == NULL)
		return corp_errf(err, CORP_EINVAL, "title must not be empty");
	return corp_db_tx(db, unit_set_tx, &a, err);
}

static const char UNIT_TREE_SQL[] =
    "WITH RECURSIVE t(id, depth, path) AS ("
    " SELECT id, 0, char(1) || name FROM org_units WHERE parent_id IS NULL"
    " UNION ALL"
    " SELECT o.id, t.depth + 1, t.path || char(1) || o.name"
    " FROM org_units o JOIN t ON o.parent_id = t.id WHERE t.depth < 10000)"
    "SELECT o.id, o.name, o.title, o.parent_id, p.name, o.head_user_id,"
    " h.login, o.tz, coalesce(o.tz, ?2, 'UTC'), t.depth, o.created_at,"
    " o.updated_at "
    "FROM t JOIN org_units o ON o.id = t.id"
    " LEFT JOIN org_units p ON p.id = o.parent_id"
    " LEFT JOIN users h ON h.id = o.head_user_id "
    "WHERE ?1 IS NULL OR o.id = ?1 ORDER BY t.path";

static json_t *
unit_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:i, "
	    "s:o, s:o}",
	    "org_unit_id", (json_int_t)corp_col_int64(st, 0),
	    "name", corp_col_text(st, 1),
	    "title", corp_col_text(st, 2),
	    "parent_id", corp_json_idval(corp_col_int64(st, 3)),
	    "parent", corp_json_strval(corp_col_text(st, 4)),
	    "head_user_id", corp_json_idval(corp_col_int64(st, 5)),
	    "head", corp_json_strval(corp_col_text(st, 6)),
	    "tz", corp_json_strval(corp_col_text(st, 7)),
	    "zone", corp_col_text(st, 8),
	    "depth", corp_col_int(st, 9),
	    "created_at", corp_json_time(corp_col_int64(st, 10)),
	    "updated_at", corp_json_time(corp_col_int64(st, 11)));
}

static int
unit_rows(struct corp_db *db, long long id, json_t **array,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, UNIT_TREE_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_text(st, 2, corp_cfg.tz);
	return corp_db_rows(db, st, unit_row, array, "list units", err);
}

int
corp_dir_unit_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	if ((rc = unit_rows(db, id, &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND, "unit %lld: not found",
		    id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_dir_unit_list(struct corp_db *db, json_t **array, struct corp_err *err)
{
	return unit_rows(db, 0, array, err);
}

/* Delegations. */

struct delegate {
	const char	*principal, *deputy;
	time_t		 from, until;
	long long	*idp;
};

static int
delegate_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct delegate *a = arg;
	const char *principal = a->principal, *deputy = a->deputy;
	struct corp_stmt *st;
	long long pid, did;
	int rc, found;

	if ((rc = corp_dir_user_id(db, principal, &pid, NULL, err)) != 0 ||
	    (rc = corp_dir_user_id(db, deputy, &did, NULL, err)) != 0)
		return rc;
	if (pid == did)
		return corp_errf(err, CORP_EINVAL,
		    "a user cannot be their own deputy");
	if ((rc = corp_db_prep(db, &st, "INSERT INTO delegations "
	    "(principal_id, deputy_id, valid_from, valid_until, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, pid);
	corp_bind_int64(st, 2, did);
	corp_bind_int64(st, 3, (long long)a->from);
	corp_bind_int64(st, 4, (long long)a->until);
	corp_bind_int64(st, 5, (long long)corp_now());
	if ((rc = step1(db, st, &found, "add delegation", err)) != 0)
		return rc;
	*a->idp = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

int
corp_dir_delegate(struct corp_db *db, const char *principal,
    const char *deputy, time_t from, time_t until, long long *idp,
    struct corp_err *err)
{
	struct delegate a = { principal, deputy, from, until, idp };

	if (from >= until)
		return corp_errf(err, CORP_EINVAL,
		    "--from must be before --until");
	return corp_db_tx(db, delegate_tx, &a, err);
}

static const char DELEG_SQL[] =
    "SELECT d.id, d.principal_id, p.login, d.deputy_id, q.login, "
    "d.valid_from, d.valid_until, d.revoked_at, "
    "d.revoked_at IS NULL AND d.valid_from <= ?4 AND ?4 < d.valid_until "
    "FROM delegations d JOIN users p ON p.id = d.principal_id "
    "JOIN users q ON q.id = d.deputy_id "
    "WHERE (?1 IS NULL OR d.id = ?1) "
    "AND (?2 IS NULL OR d.principal_id = ?2 OR d.deputy_id = ?2) "
    "AND (?3 = 0 OR (d.revoked_at IS NULL AND d.valid_from <= ?4 "
    "AND ?4 < d.valid_until)) ORDER BY d.id";

static json_t *
deleg_row(struct corp_stmt *st)
{
	return json_pack("{s:I, s:I, s:s, s:I, "
	    "s:s, s:o, s:o, s:o, s:b}",
	    "delegation_id", (json_int_t)corp_col_int64(st, 0),
	    "principal_user_id", (json_int_t)corp_col_int64(st, 1),
	    "principal", corp_col_text(st, 2),
	    "deputy_user_id", (json_int_t)corp_col_int64(st, 3),
	    "deputy", corp_col_text(st, 4),
	    "from", corp_json_time(corp_col_int64(st, 5)),
	    "until", corp_json_time(corp_col_int64(st, 6)),
	    "revoked_at", corp_json_time(corp_col_int64(st, 7)),
	    "active", corp_col_int(st, 8));
}

static int
deleg_rows(struct corp_db *db, long long id, long long uid, int active_only,
    time_t at, json_t **array, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, DELEG_SQL, err)) != 0)
		return rc;
	corp_bind_id(st, 1, id);
	corp_bind_id(st, 2, uid);
	corp_bind_int(st, 3, active_only != 0);
	corp_bind_int64(st, 4, (long long)at);
	return corp_db_rows(db, st, deleg_row, array, "list delegations", err);
}

int
corp_dir_delegation_json(struct corp_db *db, long long id, json_t **out,
    struct corp_err *err)
{
	json_t *a;
	int rc;

	if ((rc = deleg_rows(db, id, 0, 0, corp_now(), &a, err)) != 0)
		return rc;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return corp_errf(err, CORP_ENOTFOUND,
		    "delegation %lld: not found", id);
	}
	*out = json_incref(json_array_get(a, 0));
	json_decref(a);
	return 0;
}

int
corp_dir_delegations(struct corp_db *db, const char *user, int active_only,
    time_t at, json_t **array, struct corp_err *err)
{
	long long uid = 0;
	int rc;

	if (user && (rc = corp_dir_user_id(db, user, &uid, NULL, err)) != 0)
		return rc;
	return deleg_rows(db, 0, uid, active_only, at, array, err);
}

static int
revoke_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	long long id = *(long long *)arg;
	struct corp_stmt *st;
	int rc, found, revoked;

	if ((rc = corp_db_prep(db, &st, "SELECT revoked_at IS NOT NULL "
	    "FROM delegations WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = step1(db, st, &found, "read delegation", err)) != 0)
		return rc;
	revoked = found && corp_col_int(st, 0);
	corp_reset(st);
	if (!found)
		return corp_errf(err, CORP_ENOTFOUND,
		    "delegation %lld: not found", id);
	if (revoked)
		return corp_errf(err, CORP_ECONFLICT,
		    "delegation %lld is already revoked", id);
	if ((rc = corp_db_prep(db, &st, "UPDATE delegations SET revoked_at = "
	    "?2 WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	corp_bind_int64(st, 2, (long long)corp_now());
	return corp_db_exec(db, st, "revoke delegation", err);
}

int
corp_dir_revoke(struct corp_db *db, long long id, struct corp_err *err)
{
	return corp_db_tx(db, revoke_tx, &id, err);
}

/*
 * Accessors for the other modules (issue 17 point 6: users, org_units
 * and delegations are read here, never with a second module's SQL).
 */
int
corp_dir_user_brief(struct corp_db *db, long long id,
    struct corp_user_brief *u, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = corp_db_prep(db, &st, "SELECT org_unit_id, active, is_admin "
	    "FROM users WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		u->found = 1;
		u->unit_id = corp_col_int64(st, 0);
		u->active = corp_col_int(st, 1);
		u->is_admin = corp_col_int(st, 2);
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read user", err);
	return 0;
}

int
corp_dir_user_texts(struct corp_db *db, long long id, char **lang,
    char **name, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*lang = *name = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT lang, name FROM users "
	    "WHERE id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		*lang = corp_strdup(corp_col_text(st, 0));
		*name = corp_strdup(corp_col_text(st, 1));
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read user", err);
	return 0;
}

int
corp_dir_login_nocase(struct corp_db *db, const char *word, char **login,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*login = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT login FROM users WHERE "
	    "lower(login) = lower(?1) AND active = 1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, word);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*login = corp_strdup(corp_col_text(st, 0));
	corp_reset(st);
	if (rc == SQLITE_ROW)
		return *login == NULL ? corp_errf(err, CORP_EINTERNAL,
		    "out of memory") : 0;
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read users", err);
	return 0;
}

int
corp_dir_active_ids(struct corp_db *db, long long user, long long unit,
    int (*fn)(void *, long long), void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT id FROM users WHERE active = 1 "
	    "AND (id = ?1 OR (?1 IS NULL AND org_unit_id = ?2)) ORDER BY id",
	    err)) != 0)
		return rc;
	corp_bind_id(st, 1, user);
	corp_bind_id(st, 2, unit);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		if (fn(arg, corp_col_int64(st, 0)) != 0) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read users", err);
	return 0;
}

int
corp_dir_delegated(struct corp_db *db, long long principal, long long deputy,
    time_t at, int *yes, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM delegations "
	    "WHERE principal_id = ?1 AND deputy_id = ?2 AND revoked_at IS NULL "
	    "AND valid_from <= ?3 AND ?3 < valid_until", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, principal);
	corp_bind_int64(st, 2, deputy);
	corp_bind_int64(st, 3, (long long)at);
	return corp_db_exists(db, st, yes, "read delegations", err);
}
