/* chatspace.c -- see chatspace.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "analysis_int.h"
#include "chatspace.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "settings.h"

/* The JSON of chat's tie, read with the unit's name and the tier's
 * login (display columns, by key); *out NULL when none. */
static int
tie_json(struct corp_db *db, long long chat, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	char tb[CORP_TIMEBUF];
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT s.chat_id, u.name, s.unit_id, "
	    "w.login, s.tied_at FROM chat_spaces s JOIN org_units u ON "
	    "u.id = s.unit_id JOIN users w ON w.id = s.tied_by "
	    "WHERE s.chat_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, chat);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_pack("{sI ss sI ss ss}", "chat_id",
		    (json_int_t)corp_col_int64(st, 0), "unit",
		    corp_col_text(st, 1), "org_unit_id",
		    (json_int_t)corp_col_int64(st, 2), "tied_by",
		    corp_col_text(st, 3), "tied_at",
		    corp_time_fmt((time_t)corp_col_int64(st, 4), tb));
		rc = *out == NULL ? corp_errf(err, CORP_EINTERNAL,
		    "out of memory") : 0;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = corp_db_fail(db, rc, "read chat space", err);
	corp_reset(st);
	return rc;
}

struct tie {
	long long	 chat;
	const char	*unit, *as;
	json_t		*out;
};

static int
tie_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct tie *t = arg;
	struct corp_stmt *st;
	long long by, unit;
	int rc, isadm;

	if ((rc = corp_analysis_actor(db, t->as, &by, &isadm, err)) != 0 ||
	    (rc = corp_dir_unit_id(db, t->unit, &unit, err)) != 0)
		return rc;
	if (!isadm)
		return corp_analysis_not_admin(t->as, err);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO chat_spaces (chat_id, "
	    "unit_id, tied_by, tied_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
	    "(chat_id) DO UPDATE SET unit_id = excluded.unit_id, tied_by = "
	    "excluded.tied_by, tied_at = excluded.tied_at", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, t->chat);
	corp_bind_int64(st, 2, unit);
	corp_bind_int64(st, 3, by);
	corp_bind_int64(st, 4, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "tie chat", err)) != 0)
		return rc;
	return tie_json(db, t->chat, &t->out, err);
}

int
corp_chatspace_tie(struct corp_db *db, long long chat, const char *unit,
    const char *as, json_t **out, struct corp_err *err)
{
	struct tie t = { chat, unit, as, NULL };
	int rc;

	if (unit == NULL)
		return corp_errf(err, CORP_EINVAL, "--unit UNIT is required");
	rc = corp_db_tx(db, tie_tx, &t, err);
	if (rc != 0) {
		json_decref(t.out);
		return rc;
	}
	*out = t.out;
	return 0;
}

static int
untie_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct tie *t = arg;
	struct corp_stmt *st;
	long long by;
	int rc, isadm;

	if ((rc = corp_analysis_actor(db, t->as, &by, &isadm, err)) != 0)
		return rc;
	if (!isadm)
		return corp_analysis_not_admin(t->as, err);
	if ((rc = tie_json(db, t->chat, &t->out, err)) != 0)
		return rc;
	if (t->out == NULL)
		return corp_errf(err, CORP_ENOTFOUND, "chat %lld: tied to no "
		    "unit", t->chat);
	if ((rc = corp_db_prep(db, &st, "DELETE FROM chat_spaces WHERE "
	    "chat_id = ?1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, t->chat);
	return corp_db_exec(db, st, "untie chat", err);
}

int
corp_chatspace_untie(struct corp_db *db, long long chat, const char *as,
    json_t **out, struct corp_err *err)
{
	struct tie t = { chat, NULL, as, NULL };
	int rc;

	rc = corp_db_tx(db, untie_tx, &t, err);
	if (rc != 0) {
		json_decref(t.out);
		return rc;
	}
	*out = t.out;
	return 0;
}

int
corp_chatspace_list(struct corp_db *db, json_t **array, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *arr, *o;
	long long chat;
	int rc;

	*array = NULL;
	if ((arr = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, "SELECT chat_id FROM chat_spaces "
	    "ORDER BY chat_id", err)) != 0) {
		json_decref(arr);
		return rc;
	}
	/* Few rows: the ids first, then each tie's line. */
	while ((rc = corp_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_integer(corp_col_int64(st, 0)));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return corp_db_fail(db, rc, "read chat spaces", err);
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		chat = json_integer_value(json_array_get(arr, i));
		if ((rc = tie_json(db, chat, &o, err)) != 0) {
			json_decref(arr);
			return rc;
		}
		json_array_set_new(arr, i, o != NULL ? o : json_null());
	}
	*array = arr;
	return 0;
}

int
corp_chatspace_map(struct corp_db *db, json_t **object, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *m;
	char k[24];
	int rc;

	*object = NULL;
	if ((m = json_object()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, "SELECT chat_id, unit_id FROM "
	    "chat_spaces", err)) != 0) {
		json_decref(m);
		return rc;
	}
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		snprintf(k, sizeof(k), "%lld", corp_col_int64(st, 0));
		json_object_set_new(m, k, json_integer(corp_col_int64(st, 1)));
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(m);
		return corp_db_fail(db, rc, "read chat spaces", err);
	}
	*object = m;
	return 0;
}

int
corp_chatspace_may(struct corp_db *db, long long uid, long long unit,
    int *yes, struct corp_err *err)
{
	struct corp_user_brief u;
	json_t *o = NULL;
	int rc;

	*yes = 0;
	if ((rc = corp_dir_user_brief(db, uid, &u, err)) != 0)
		return rc;
	if (!u.found || !u.active)
		return 0;
	/* The unit must exist, for admins too (no existence leak either
	 * way: a refusal reads as an unknown topic). */
	if ((rc = corp_dir_unit_json(db, unit, &o, err)) != 0)
		return rc == CORP_ENOTFOUND ? 0 : rc;
	*yes = (u.is_admin && corp_cfg.admin_all) || u.unit_id == unit ||
	    json_integer_value(json_object_get(o, "head_user_id")) == uid;
	json_decref(o);
	return 0;
}
