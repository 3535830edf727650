/*
 * chatspace.h -- a chat tied to an org unit, its space (corp-analysis.1
 * "Spaces"; corp-api.1's space:UNIT_ID:TOPIC topics).  Owner of the
 * chat_spaces table.
 */
#ifndef CORP_CHATSPACE_H
#define CORP_CHATSPACE_H

#include <jansson.h>

struct corp_db;
struct corp_err;

/* An active admin (as) ties chat to the unit named unit (a chat has one
 * space: tying again moves it); *out the tie's JSON.  65, 67 unknown
 * login or unit, 77 not an active admin. */
int	corp_chatspace_tie(struct corp_db *, long long chat, const char *unit,
	    const char *as, json_t **out, struct corp_err *);
/* The chat leaves its space; *out the tie removed (67: none). */
int	corp_chatspace_untie(struct corp_db *, long long chat, const char *as,
	    json_t **out, struct corp_err *);
/* Every tie, by chat id. */
int	corp_chatspace_list(struct corp_db *, json_t **array,
	    struct corp_err *);
/* {"CHAT_ID": UNIT_ID, ...}: every tie, for filtering events. */
int	corp_chatspace_map(struct corp_db *, json_t **object,
	    struct corp_err *);
/* May user uid follow unit's space: an active admin, or an active user
 * of that unit or its head.  *yes 0 also when the unit does not exist. */
int	corp_chatspace_may(struct corp_db *, long long uid, long long unit,
	    int *yes, struct corp_err *);

#endif
