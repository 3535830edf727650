/* route.c -- see route.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "batchdigest.h"
#include "binds.h"
#include "db.h"
#include "directory.h"
#include "event.h"
#include "jsonl.h"
#include "notify.h"
#include "prefs.h"
#include "queue.h"
#include "route.h"
#include "settings.h"
#include "visibility.h"

const char *const corp_decision_names[CORP_D_N] = {
	"created", "muted_channel", "muted_type", "disabled", "self",
	"no_bind", "refused", "fallback", "digested"
};

/* A recipient: a user and the roles they hold for this event. */
struct rcpt {
	long long	 uid;
	char		*roles[16];
	int		 nroles;
	int		 refused;	/* explicit, outside the viewers */
};

/*
 * The recipients in the order they came, and an open-addressing hash of
 * their uids (slot: index + 1, 0 empty) so that finding one is O(1): a
 * linear search made a unit of 10 000 members cost 50 M comparisons.
 */
struct rlist {
	struct rcpt	*v;
	size_t		 n, cap;
	size_t		*slot;
	size_t		 nslot;		/* a power of two, > 2 n */
};

static void
rlist_free(struct rlist *l)
{
	size_t i;
	int j;

	for (i = 0; i < l->n; i++)
		for (j = 0; j < l->v[i].nroles; j++)
			free(l->v[i].roles[j]);
	free(l->v);
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

static size_t
rlist_hash(const struct rlist *l, long long uid)
{
	unsigned long long h = (unsigned long long)uid * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (l->nslot - 1);
}

static struct rcpt *
rlist_find(struct rlist *l, long long uid)
{
	size_t h;

	if (l->nslot == 0)
		return NULL;
	for (h = rlist_hash(l, uid); l->slot[h] != 0;
	    h = (h + 1) & (l->nslot - 1))
		if (l->v[l->slot[h] - 1].uid == uid)
			return &l->v[l->slot[h] - 1];
	return NULL;
}

/* Room for one more recipient in v and in the hash. */
static int
rlist_grow(struct rlist *l)
{
	size_t i, h, ns;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct rcpt *nv = reallocarray(l->v, nc, sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = nc;
	}
	if (2 * (l->n + 1) < l->nslot)
		return 0;
	ns = l->nslot ? l->nslot * 2 : 64;
	free(l->slot);
	if ((l->slot = calloc(ns, sizeof(*l->slot))) == NULL) {
		l->nslot = 0;
		return -1;
	}
	l->nslot = ns;
	for (i = 0; i < l->n; i++) {
		for (h = rlist_hash(l, l->v[i].uid); l->slot[h] != 0;
		    h = (h + 1) & (ns - 1))
			;
		l->slot[h] = i + 1;
	}
	return 0;
}

/* Add (uid, role); a role already held is not added twice. */
static int
rlist_add(struct rlist *l, long long uid, const char *role)
{
	struct rcpt *r;
	size_t h;
	int j;

	if ((r = rlist_find(l, uid)) == NULL) {
		if (rlist_grow(l) != 0)
			return -1;
		r = &l->v[l->n++];
		memset(r, 0, sizeof(*r));
		r->uid = uid;
		for (h = rlist_hash(l, uid); l->slot[h] != 0;
		    h = (h + 1) & (l->nslot - 1))
			;
		l->slot[h] = l->n;
	}
	for (j = 0; j < r->nroles; j++)
		if (strcmp(r->roles[j], role) == 0)
			return 0;
	if (r->nroles == (int)(sizeof(r->roles) / sizeof(r->roles[0])))
		return 0;
	if ((r->roles[r->nroles] = strdup(role)) == NULL)
		return -1;
	r->nroles++;
	return 0;
}

static int
add_viewer(long long tid, long long uid, const char *role, void *arg)
{
	(void)tid;
	return rlist_add(arg, uid, role) != 0;
}

/* Precedence of roles when picking the setting that decides. */
static int
role_rank(const char *r)
{
	static const char *order[] = { "executor", "initiator", "supervisor",
	    "deputy:", "previous_executor", "admin" };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strncmp(r, order[i], strlen(order[i])) == 0) {
			if (i == 3)	/* deputies by their principal's role */
				return 30 + role_rank(r + 7);
			return (int)i * 10;
		}
	return 100;
}

static int
cmp_roles(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int d = role_rank(x) - role_rank(y);

	return d != 0 ? d : strcmp(x, y);
}

/* A setting route read for the event being routed (struct ctx). */
struct rulec {
	char			*role, *channel;
	struct corp_notify_rule	 r;
};

static char *
join_roles(struct rcpt *r)
{
	char *s = NULL, *n;
	int j;

	for (j = 0; j < r->nroles; j++) {
		if (corp_asprintf(&n, "%s%s%s", s ? s : "", s ? "," : "",
		    r->roles[j]) < 0) {
			free(s);
			return NULL;
		}
		free(s);
		s = n;
	}
	return s ? s : strdup("");
}

struct ctx {
	struct corp_db		*db;
	time_t			 now;
	int			 dry;
	corp_route_fn		 fn;
	void			*arg;
	struct corp_route_stats	*stats;
	char			*default_channel;
	char			**channels;
	size_t			 nchannels;
	/*
	 * The event's decisions and rows not yet written (a real run
	 * only), flushed CORP_QROWS at a time, before a digest reads the
	 * tables, and at the end of the event: see flush().  Every
	 * string is the buffer's own copy.
	 */
	struct dec		*dv;
	size_t			 dn, dcap;
	struct corp_qrow	*qv;
	size_t			 qn, qcap;
	/*
	 * The settings (role, channel) of the event being routed, read
	 * once per event, not once per recipient: every recipient of an
	 * event shares its type (rules_clear at each event).
	 */
	struct rulec		*rv;
	size_t			 rn, rcap;
};

static void
rules_clear(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->rn; i++) {
		free(c->rv[i].role);
		free(c->rv[i].channel);
		free(c->rv[i].r.msgkey);
	}
	c->rn = 0;
}

/*
 * The setting of (type, role, channel), as corp_notify_rule gives it
 * (s->msgkey the caller's to free); deputy:R uses R's setting.
 */
static int
get_setting(struct ctx *c, const char *type, const char *role,
    const char *channel, struct corp_notify_rule *s, struct corp_err *err)
{
	struct rulec *x;
	size_t i;
	int rc;

	if (strncmp(role, "deputy:", 7) == 0)
		role += 7;
	for (i = 0; i < c->rn; i++)
		if (strcmp(c->rv[i].role, role) == 0 &&
		    strcmp(c->rv[i].channel, channel) == 0) {
			*s = c->rv[i].r;
			if (s->msgkey != NULL &&
			    (s->msgkey = strdup(s->msgkey)) == NULL)
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			return 0;
		}
	if ((rc = corp_notify_rule(c->db, type, role, channel, s, err)) != 0)
		return rc;
	if (c->rn == c->rcap) {
		size_t nc = c->rcap ? c->rcap * 2 : 8;
		struct rulec *nv = reallocarray(c->rv, nc, sizeof(*nv));

		if (nv == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		c->rv = nv;
		c->rcap = nc;
	}
	x = &c->rv[c->rn];
	x->r = *s;
	x->role = strdup(role);
	x->channel = strdup(channel);
	x->r.msgkey = s->msgkey != NULL ? strdup(s->msgkey) : NULL;
	if (x->role == NULL || x->channel == NULL ||
	    (s->msgkey != NULL && x->r.msgkey == NULL)) {
		free(x->role);
		free(x->channel);
		free(x->r.msgkey);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	c->rn++;
	return 0;
}

/* A decision waiting to be written. */
struct dec {
	long long	 event_id, user_id;
	int		 d;
	char		*channel, *role, *roles, *fb, *why;
};

static char *
dupnull(const char *s, int *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

static void
dec_clear(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->dn; i++) {
		free(c->dv[i].channel);
		free(c->dv[i].role);
		free(c->dv[i].roles);
		free(c->dv[i].fb);
		free(c->dv[i].why);
	}
	c->dn = 0;
}

static void
qrow_clear(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->qn; i++) {
		free((char *)c->qv[i].channel);
		free((char *)c->qv[i].role);
		free((char *)c->qv[i].roles);
		free((char *)c->qv[i].priority);
		free((char *)c->qv[i].msgkey);
		free((char *)c->qv[i].fallback);
	}
	c->qn = 0;
}

/* The 9 values of a decision; DEC_SQL32: CORP_QROWS of them. */
#define DEC_SQL		"(?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define DEC_SQL4	DEC_SQL ", " DEC_SQL ", " DEC_SQL ", " DEC_SQL
#define DEC_SQL16	DEC_SQL4 ", " DEC_SQL4 ", " DEC_SQL4 ", " DEC_SQL4
#define DEC_SQL32	DEC_SQL16 ", " DEC_SQL16
#define DEC_NCOL	9

static void
dec_bind(struct corp_stmt *st, int k, const struct dec *x, time_t now)
{
	corp_bind_int64(st, k + 1, x->event_id);
	corp_bind_int64(st, k + 2, x->user_id);
	corp_bind_text(st, k + 3, x->channel);
	corp_bind_text(st, k + 4, corp_decision_names[x->d]);
	corp_bind_text(st, k + 5, x->role);
	corp_bind_text(st, k + 6, x->roles);
	corp_bind_int64(st, k + 7, (long long)now);
	corp_bind_text(st, k + 8, x->fb);
	corp_bind_text(st, k + 9, x->why);
}

/*
 * Write the decisions (flush_decisions) or rows (flush_rows) buffered,
 * in the order they were made (so that of two rows with one (event,
 * user, channel) the first stays, as when each was inserted at once):
 * CORP_QROWS to a statement, the rest one by one.  No statement of a
 * route reads either table between two flushes but a digest's
 * (flush() before it).
 */
static int
flush_decisions(struct ctx *c, struct corp_err *err)
{
	struct corp_stmt *st;
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i + CORP_QROWS <= c->dn; i += CORP_QROWS) {
		if ((rc = corp_db_prep(c->db, &st, "INSERT INTO "
		    "route_decisions (event_id, user_id, channel, decision, "
		    "role, roles, decided_at, fallback, why) VALUES " DEC_SQL32
		    " ON CONFLICT DO NOTHING", err)) != 0)
			break;
		for (j = 0; j < CORP_QROWS; j++)
			dec_bind(st, (int)j * DEC_NCOL, &c->dv[i + j], c->now);
		rc = corp_db_exec(c->db, st, "store decision", err);
	}
	for (; rc == 0 && i < c->dn; i++) {
		if ((rc = corp_db_prep(c->db, &st, "INSERT INTO "
		    "route_decisions (event_id, user_id, channel, decision, "
		    "role, roles, decided_at, fallback, why) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		    "ON CONFLICT DO NOTHING", err)) != 0)
			break;
		dec_bind(st, 0, &c->dv[i], c->now);
		rc = corp_db_exec(c->db, st, "store decision", err);
	}
	dec_clear(c);
	return rc;
}

static int
flush_rows(struct ctx *c, struct corp_err *err)
{
	int rc;

	rc = corp_queue_insert_rows(c->db, c->qv, c->qn, c->now, err);
	qrow_clear(c);
	return rc;
}

static int
flush(struct ctx *c, struct corp_err *err)
{
	int rc;

	rc = flush_decisions(c, err);
	if (rc == 0)
		rc = flush_rows(c, err);
	qrow_clear(c);
	return rc;
}

static int
load_channels(struct ctx *c, const char *type, struct corp_err *err)
{
	size_t i;

	for (i = 0; i < c->nchannels; i++)
		free(c->channels[i]);
	free(c->channels);
	c->channels = NULL;
	c->nchannels = 0;
	return corp_notify_channels(c->db, type, c->default_channel,
	    &c->channels, &c->nchannels, err);
}

/* fb and why: the channel taken and why, for CORP_D_FALLBACK only. */
static int
store_decision(struct ctx *c, const struct corp_event *ev, struct rcpt *r,
    const char *channel, int d, const char *role, const char *roles,
    const char *fb, const char *why, json_t *row, struct corp_err *err)
{
	struct dec *x;
	int rc, oom = 0;

	c->stats->decisions[d]++;
	if (c->dry) {
		json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:s?, s:s}",
		    "event_id", (json_int_t)ev->event_id,
		    "user_id", (json_int_t)r->uid, "channel", channel,
		    "roles", corp_queue_roles_json(roles), "role", role,
		    "decision", corp_decision_names[d]);

		json_object_set_new(o, "fallback", corp_json_strval(fb));
		json_object_set_new(o, "why", corp_json_strval(why));
		if (row != NULL)
			json_object_set(o, "row", row);
		rc = c->fn(o, c->arg);
		json_decref(o);
		return rc;
	}
	if (c->dn == c->dcap) {
		size_t nc = c->dcap ? c->dcap * 2 : CORP_QROWS;
		struct dec *nv = reallocarray(c->dv, nc, sizeof(*nv));

		if (nv == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		c->dv = nv;
		c->dcap = nc;
	}
	x = &c->dv[c->dn++];
	x->event_id = ev->event_id;
	x->user_id = r->uid;
	x->d = d;
	x->channel = dupnull(channel, &oom);
	x->role = dupnull(role, &oom);
	x->roles = dupnull(roles, &oom);
	x->fb = dupnull(fb, &oom);
	x->why = dupnull(why, &oom);
	if (oom)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return c->dn >= CORP_QROWS ? flush_decisions(c, err) : 0;
}

/* A delivery row waiting to be written (corp_queue_insert's values). */
static int
store_row(struct ctx *c, const struct corp_qrow *q, struct corp_err *err)
{
	struct corp_qrow *x;
	int oom = 0;

	if (c->qn == c->qcap) {
		size_t nc = c->qcap ? c->qcap * 2 : CORP_QROWS;
		struct corp_qrow *nv = reallocarray(c->qv, nc, sizeof(*nv));

		if (nv == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		c->qv = nv;
		c->qcap = nc;
	}
	x = &c->qv[c->qn++];
	*x = *q;
	x->channel = dupnull(q->channel, &oom);
	x->role = dupnull(q->role, &oom);
	x->roles = dupnull(q->roles, &oom);
	x->priority = dupnull(q->priority, &oom);
	x->msgkey = dupnull(q->msgkey, &oom);
	x->fallback = dupnull(q->fallback, &oom);
	if (oom)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return c->qn >= CORP_QROWS ? flush_rows(c, err) : 0;
}

/*
 * How well channel reaches the user, from its bind state bs: 2 an active
 * bind, 1 a row may wait (an inactive bind, or the default channel), 0
 * not at all (no_bind).
 */
static int
reach(const struct ctx *c, const char *channel, int bs)
{
	if (bs == 1)
		return 2;
	return bs == 0 || strcmp(channel, c->default_channel) == 0 ? 1 : 0;
}

/* The fallback channel's reach (0 when the user muted it) and bind. */
static int
fallback_reach(struct ctx *c, long long uid, const char *fb, int *bs,
    int *rank, struct corp_err *err)
{
	int rc, yes;

	*rank = 0;
	*bs = -1;
	if ((rc = corp_prefs_muted(c->db, uid, "channel", fb, &yes, err)) != 0)
		return rc;
	if (yes)
		return 0;
	if ((rc = corp_binds_state(c->db, uid, fb, bs, err)) != 0)
		return rc;
	*rank = reach(c, fb, *bs);
	return 0;
}

/* The event joins the user's open digest on channel on. */
static int
digest(struct ctx *c, const struct corp_event *ev, struct rcpt *r,
    const struct corp_notify_rule *use, const char *channel, const char *on,
    const char *role, const char *roles, const char *fb,
    struct corp_err *err)
{
	struct corp_digest_member m;
	char why[96], due[CORP_TIMEBUF];
	int rc;

	/* What was decided before reaches the tables first. */
	if (!c->dry && (rc = flush(c, err)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.user_id = r->uid;
	m.event_id = ev->event_id;
	m.channel = on;
	m.period = use->digest;
	m.role = role;
	m.roles = roles;
	m.title = ev->title != NULL ? ev->title : ev->event_type;
	if ((rc = corp_batchdigest_due(c->db, r->uid, use->digest, c->now,
	    &m.due, err)) != 0)
		return rc;
	snprintf(why, sizeof(why), "digest %s%s%s until %s", use->digest,
	    fb != NULL ? " on " : "", fb != NULL ? fb : "",
	    corp_time_fmt(m.due, due));
	if ((rc = store_decision(c, ev, r, channel, CORP_D_DIGESTED, role,
	    roles, fb, why, NULL, err)) != 0)
		return rc;
	return c->dry ? 0 : corp_batchdigest_join(c->db, &m, c->now, err);
}

static int
decide(struct ctx *c, const struct corp_event *ev, struct rcpt *r,
    const char *channel, const char *roles, struct corp_err *err)
{
	struct corp_notify_rule s, use;
	const char *role = NULL, *fb = NULL, *on = channel;
	char why[96] = "";
	json_t *row = NULL;
	time_t nb;
	int j, rc, yes, bs, fbs, rank, frank, d;

	memset(&use, 0, sizeof(use));
	if (r->refused)
		return store_decision(c, ev, r, channel, CORP_D_REFUSED, NULL,
		    roles, NULL, NULL, NULL, err);
	/* Roles are sorted by precedence: the first enabled one decides. */
	for (j = 0; j < r->nroles; j++) {
		if ((rc = get_setting(c, ev->event_type, r->roles[j],
		    channel, &s, err)) != 0)
			return rc;
		if (s.found && s.enabled) {
			use = s;
			role = r->roles[j];
			break;
		}
		free(s.msgkey);
	}
	if (role == NULL)
		d = CORP_D_DISABLED;
	else if (r->uid == ev->actor_user_id && !use.notify_self)
		d = CORP_D_SELF;
	else {
		if ((rc = corp_prefs_muted(c->db, r->uid, "channel", channel,
		    &yes, err)) != 0)
			goto out;
		if (yes)
			d = CORP_D_MUTED_CHANNEL;
		else {
			if ((rc = corp_prefs_muted(c->db, r->uid,
			    "event_type", ev->event_type, &yes, err)) != 0)
				goto out;
			d = yes ? CORP_D_MUTED_TYPE : CORP_D_CREATED;
		}
	}
	if (d == CORP_D_CREATED) {
		if ((rc = corp_binds_state(c->db, r->uid, channel, &bs, err))
		    != 0)
			goto out;
		rank = reach(c, channel, bs);
		/* The fallback when it reaches the user better. */
		if (rank < 2 && use.fallback[0] != '\0') {
			if ((rc = fallback_reach(c, r->uid, use.fallback, &fbs,
			    &frank, err)) != 0)
				goto out;
			if (frank > rank) {
				d = CORP_D_FALLBACK;
				fb = on = use.fallback;
				snprintf(why, sizeof(why), bs < 0 ?
				    "no %s bind" : "%s bind inactive",
				    channel);
				bs = fbs;
			}
		}
		if (d == CORP_D_CREATED && rank == 0)
			d = CORP_D_NO_BIND;
	}
	if (d != CORP_D_CREATED && d != CORP_D_FALLBACK) {
		rc = store_decision(c, ev, r, channel, d, role, roles, NULL,
		    NULL, NULL, err);
		goto out;
	}
	/* A digest collects what can wait (corp-settings.1 "Digests"). */
	if (use.digest[0] != '\0' && strcmp(use.priority, "urgent") != 0) {
		rc = digest(c, ev, r, &use, channel, on, role, roles, fb, err);
		goto out;
	}
	nb = 0;
	if (strcmp(use.priority, "urgent") != 0) {
		if ((rc = corp_prefs_quiet_not_before(c->db, r->uid, c->now, &nb,
		    err)) != 0)
			goto out;
		if (nb <= c->now)
			nb = 0;
	}
	/* The row a dry run shows; a real run writes it instead. */
	if (c->dry) {
		row = json_pack("{s:s, s:s, s:s, s:s, s:o}",
		    "role", role, "priority", use.priority,
		    "template", use.msgkey,
		    "readiness", bs == 1 ? "ready" : "waiting_bind",
		    "not_before", corp_json_time((time_t)nb));
		if (fb != NULL)
			json_object_set_new(row, "channel", json_string(fb));
	}
	if ((rc = store_decision(c, ev, r, channel, d, role, roles, fb,
	    fb != NULL ? why : NULL, row, err)) != 0)
		goto out;
	c->stats->rows++;
	/*
	 * A row on the fallback already (this event's own setting there
	 * made it, or will: the unique key keeps one) moves no further; a
	 * row on its own channel keeps the fallback for the move.
	 */
	if (!c->dry) {
		struct corp_qrow q = { .event_id = ev->event_id,
		    .user_id = r->uid, .channel = on, .role = role,
		    .roles = roles, .priority = use.priority,
		    .msgkey = use.msgkey, .ready = bs == 1, .not_before = nb,
		    .fallback = fb == NULL && use.fallback[0] != '\0' ?
		    use.fallback : NULL };

		rc = store_row(c, &q, err);
	}
out:
	json_decref(row);
	free(use.msgkey);
	return rc;
}

static int
add_previous(void *arg, long long uid)
{
	return rlist_add(arg, uid, "previous_executor");
}

static int
previous_executors(struct corp_db *db, const struct corp_event *ev,
    struct rlist *l, struct corp_err *err)
{
	return corp_dir_active_ids(db, ev->previous_assignee_user_id,
	    ev->previous_assignee_org_unit_id, add_previous, l, err);
}

static int
user_active(struct corp_db *db, long long uid, int *yes, struct corp_err *err)
{
	struct corp_user_brief u;
	int rc;

	if ((rc = corp_dir_user_brief(db, uid, &u, err)) != 0)
		return rc;
	*yes = u.found && u.active;
	return 0;
}

/* Explicit recipients [{user_id, role}], intersected with viewers. */
static int
explicit_rcpts(struct ctx *c, const struct corp_event *ev,
    struct rlist *viewers, struct rlist *out, struct corp_err *err)
{
	json_t *arr, *it;
	size_t i;
	int rc, yes;

	if ((arr = json_loads(ev->recipients, 0, NULL)) == NULL ||
	    !json_is_array(arr)) {
		json_decref(arr);
		return corp_errf(err, CORP_EINTERNAL,
		    "event %lld: stored recipients are not a JSON array",
		    ev->event_id);
	}
	json_array_foreach(arr, i, it) {
		json_int_t uid = json_integer_value(json_object_get(it,
		    "user_id"));
		const char *role = json_string_value(json_object_get(it,
		    "role"));
		struct rcpt *r;

		if (uid <= 0 || role == NULL)
			continue;
		if (ev->task_id > 0)
			yes = rlist_find(viewers, uid) != NULL;
		else if ((rc = user_active(c->db, uid, &yes, err)) != 0) {
			json_decref(arr);
			return rc;
		}
		if (rlist_add(out, uid, role) != 0) {
			json_decref(arr);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		r = rlist_find(out, uid);
		if (!yes) {
			if (!r->refused)
				c->stats->refused++;
			r->refused = 1;
		}
	}
	json_decref(arr);
	return 0;
}

static int
store_recipient(struct ctx *c, long long eid, long long uid,
    const char *roles, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (c->dry)
		return 0;
	if ((rc = corp_db_prep(c->db, &st, "INSERT INTO "
	    "event_recipients (event_id, user_id, roles) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT DO NOTHING",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	corp_bind_text(st, 3, roles);
	return corp_db_exec(c->db, st, "store recipient", err);
}

static int
route_event(struct ctx *c, const struct corp_event *ev, struct corp_err *err)
{
	struct rlist viewers = { 0 }, explicit = { 0 }, *use;
	struct corp_subject s;
	size_t i, k;
	int rc = 0;

	c->stats->events++;
	rules_clear(c);
	if (ev->task_id > 0) {
		memset(&s, 0, sizeof(s));
		s.initiator = ev->initiator_user_id;
		s.assignee_user = ev->assignee_user_id;
		s.assignee_unit = ev->assignee_org_unit_id;
		s.draft = ev->state != NULL && strcmp(ev->state, "DRAFT") == 0;
		if ((rc = corp_event_subject(c->db, ev->task_id, &s,
		    err)) != 0)
			goto out;
		if ((rc = corp_viewers_of(c->db, &s, c->now, add_viewer,
		    &viewers, err)) != 0) {
			if (rc > 0 && err->msg[0] == '\0')
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			goto out;
		}
		if (ev->event_type != NULL &&
		    strcmp(ev->event_type, "TASK_ASSIGNED") == 0 &&
		    (rc = previous_executors(c->db, ev, &viewers, err)) != 0)
			goto out;
	}
	use = &viewers;
	if (ev->recipients != NULL) {
		if ((rc = explicit_rcpts(c, ev, &viewers, &explicit, err)) != 0)
			goto out;
		use = &explicit;
	} else if (ev->task_id <= 0)
		goto out;	/* nobody to tell */
	if ((rc = load_channels(c, ev->event_type, err)) != 0)
		goto out;
	for (i = 0; i < use->n; i++) {
		struct rcpt *r = &use->v[i];
		char *roles;

		qsort(r->roles, (size_t)r->nroles, sizeof(r->roles[0]),
		    cmp_roles);
		if ((roles = join_roles(r)) == NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		if (!r->refused) {
			c->stats->recipients++;
			rc = store_recipient(c, ev->event_id, r->uid, roles,
			    err);
		}
		for (k = 0; rc == 0 && k < c->nchannels; k++)
			rc = decide(c, ev, r, c->channels[k], roles, err);
		free(roles);
		if (rc != 0)
			goto out;
	}
	if (!c->dry)
		rc = flush(c, err);
out:
	dec_clear(c);
	qrow_clear(c);
	rlist_free(&viewers);
	rlist_free(&explicit);
	return rc;
}

int
corp_route_watermark(struct corp_db *db, long long *wm, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st,
	    "SELECT watermark FROM route_state WHERE id = 1", err)) != 0)
		return rc;
	rc = corp_step(st);
	*wm = rc == SQLITE_ROW ? corp_col_int64(st, 0) : 0;
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read watermark", err);
	return 0;
}

int
corp_route_last(struct corp_db *db, time_t *at, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st,
	    "SELECT routed_at FROM route_state WHERE id = 1", err)) != 0)
		return rc;
	rc = corp_step(st);
	*at = rc == SQLITE_ROW ? (time_t)corp_col_int64(st, 0) : 0;
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read route time", err);
	return 0;
}

int
corp_route_recipient_roles(struct corp_db *db, long long eid, long long uid,
    json_t **roles, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*roles = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT roles FROM event_recipients "
	    "WHERE event_id = ?1 AND user_id = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	rc = corp_step(st);
	*roles = rc == SQLITE_ROW ? corp_queue_roles_json(corp_col_text(st,
	    0)) : json_null();
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(*roles);
		*roles = NULL;
		return corp_db_fail(db, rc, "read recipients", err);
	}
	return 0;
}

int
corp_route_decisions_json(struct corp_db *db, long long eid, long long uid,
    json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *dec;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT channel, decision, role, "
	    "roles, decided_at, fallback, why FROM route_decisions "
	    "WHERE event_id = ?1 AND user_id = ?2 ORDER BY channel",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, eid);
	corp_bind_int64(st, 2, uid);
	dec = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW)
		json_array_append_new(dec, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:o, s:o, s:o}", "channel", corp_col_text(st, 0),
		    "decision", corp_col_text(st, 1),
		    "role", corp_json_strval(corp_col_text(st, 2)),
		    "roles", corp_queue_roles_json(corp_col_text(st, 3)),
		    "decided_at", corp_json_time((time_t)
		    corp_col_int64(st, 4)),
		    "fallback", corp_json_strval(corp_col_text(st, 5)),
		    "why", corp_json_strval(corp_col_text(st, 6))));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(dec);
		return corp_db_fail(db, rc, "read route decisions", err);
	}
	*out = dec;
	return 0;
}

static int
set_watermark(struct corp_db *db, long long wm, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st,
	    "UPDATE route_state SET watermark = ?1, routed_at = ?2 "
	    "WHERE id = 1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, wm);
	corp_bind_int64(st, 2, (long long)now);
	return corp_db_exec(db, st, "write watermark", err);
}

/* One batch: the events after the watermark, routed, watermark moved. */
static int
batch_once(struct ctx *c, int batch, int *done, struct corp_err *err)
{
	struct corp_event *evs = NULL;
	long long wm;
	size_t n = 0, i;
	int rc;

	*done = 0;
	if ((rc = corp_route_watermark(c->db, &wm, err)) != 0)
		return rc;
	if ((evs = calloc((size_t)batch, sizeof(*evs))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_event_page(c->db, wm, batch, evs, &n, err)) != 0)
		goto out;
	rc = 0;
	if (n == 0) {
		*done = 1;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (evs[i].topic != NULL)
			continue;	/* topic events are never routed */
		rc = route_event(c, &evs[i], err);
		if (rc != 0)
			corp_errprefix(err, "event %lld trace=%s",
			    evs[i].event_id, evs[i].trace_id ?
			    evs[i].trace_id : "-");
	}
	if (rc == 0) {
		c->stats->watermark = evs[n - 1].event_id;
		rc = set_watermark(c->db, evs[n - 1].event_id, c->now, err);
	}
	if ((int)n < batch)
		*done = 1;
out:
	for (i = 0; i < n; i++)
		corp_event_free(&evs[i]);
	free(evs);
	return rc;
}

/* The arguments of fallback_tx. */
struct fallback {
	time_t		 now;
	long long	 after, moved;
	const char	*after_text;
};

/* The decision of a moved (or failed) row becomes 'fallback'. */
static int
fallback_decision(struct corp_db *db, const struct corp_waiting *w,
    const char *why, time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE route_decisions SET "
	    "decision = 'fallback', fallback = ?4, why = ?5, decided_at = ?6 "
	    "WHERE event_id = ?1 AND user_id = ?2 AND channel = ?3",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, w->event_id);
	corp_bind_int64(st, 2, w->user_id);
	corp_bind_text(st, 3, w->channel);
	corp_bind_text(st, 4, w->fallback);
	corp_bind_text(st, 5, why);
	corp_bind_int64(st, 6, (long long)now);
	return corp_db_exec(db, st, "store fallback decision", err);
}

static int
fallback_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct fallback *a = arg;
	struct corp_waiting *v = NULL;
	char why[160];
	size_t n = 0, i;
	int rc, yes, bs, done;

	if ((rc = corp_queue_fallback_waiting(db, a->now - a->after, &v, &n,
	    err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* Only to an active bind the user has not muted. */
		if ((rc = corp_prefs_muted(db, v[i].user_id, "channel",
		    v[i].fallback, &yes, err)) != 0)
			goto out;
		if (yes)
			continue;
		if ((rc = corp_binds_state(db, v[i].user_id, v[i].fallback,
		    &bs, err)) != 0)
			goto out;
		if (bs != 1)
			continue;
		if ((rc = corp_queue_fallback_move(db, &v[i], a->now, &done,
		    err)) != 0)
			goto out;
		if (done == 0)
			continue;
		snprintf(why, sizeof(why), "waited %s for a %s bind%s%s%s",
		    a->after_text, v[i].channel, done == 2 ? "; a row on " : "",
		    done == 2 ? v[i].fallback : "", done == 2 ? " exists" : "");
		if ((rc = fallback_decision(db, &v[i], why, a->now, err)) != 0)
			goto out;
		a->moved++;
	}
out:
	free(v);
	return rc;
}

int
corp_route_fallback(struct corp_db *db, time_t now, long long *moved,
    struct corp_err *err)
{
	struct fallback a = { .now = now };
	char *text = NULL;
	int rc;

	*moved = 0;
	if ((rc = corp_setting_duration(db, "fallback_after", &a.after,
	    err)) != 0)
		return rc;
	if (a.after == 0)
		return 0;	/* route time alone decides */
	if ((rc = corp_setting_get(db, "fallback_after", &text, err)) != 0)
		return rc;
	a.after_text = text;
	rc = corp_db_tx(db, fallback_tx, &a, err);
	free(text);
	if (rc == 0)
		*moved = a.moved;
	return rc;
}

int
corp_route(struct corp_db *db, int batch, int dry_run,
    const struct corp_route_hooks *h, struct corp_route_stats *stats,
    struct corp_err *err)
{
	struct ctx c;
	long long expired, wm0;
	size_t i;
	int rc, done = 0;

	memset(stats, 0, sizeof(*stats));
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.now = corp_now();
	c.dry = dry_run;
	c.fn = h->fn;
	c.arg = h->arg;
	c.stats = stats;
	if ((rc = corp_setting_get(db, "default_channel", &c.default_channel,
	    err)) != 0)
		return rc;
	if ((rc = corp_route_watermark(db, &stats->watermark, err)) != 0)
		goto out;
	wm0 = stats->watermark;
	if (!dry_run) {
		if ((rc = corp_queue_expire_held(db, c.now, NULL, &expired,
		    err)) != 0)
			goto out;
		stats->expired = expired;
		if ((rc = corp_route_fallback(db, c.now, &stats->moved,
		    err)) != 0)
			goto out;
		if ((rc = corp_batchdigest_close(db, c.now, &stats->digests,
		    err)) != 0)
			goto out;
	}
	while (!done) {
		if ((rc = corp_db_begin(db, err)) != 0)
			goto out;
		if ((rc = batch_once(&c, batch, &done, err)) != 0) {
			corp_db_rollback(db);
			goto out;
		}
		if (dry_run) {
			/* One batch, nothing kept. */
			corp_db_rollback(db);
			break;
		}
		if ((rc = corp_db_commit(db, err)) != 0)
			goto out;
		/* A batch that moved the watermark (not the last, empty). */
		if (h->progress != NULL && stats->watermark != wm0)
			h->progress(h->arg, stats);
		wm0 = stats->watermark;
	}
out:
	for (i = 0; i < c.nchannels; i++)
		free(c.channels[i]);
	free(c.channels);
	free(c.default_channel);
	free(c.dv);
	free(c.qv);
	rules_clear(&c);
	free(c.rv);
	return rc;
}

int
corp_route_loop(struct corp_db *db, int batch, int dry_run, int follow,
    volatile sig_atomic_t *stop, const struct corp_route_hooks *h,
    struct corp_err *err)
{
	struct corp_route_stats s;
	long long dv = -1, ndv, last = 0;
	int rc;

	do {
		if (follow) {
			if ((rc = corp_db_schema_check(db, err)) != 0 ||
			    (rc = corp_db_data_version(db, &ndv, err)) != 0)
				return rc;
			/* Nothing committed: a pass a minute all the same,
			 * for what time alone makes due (expiry, fallback). */
			if (ndv == dv && corp_mono_ms() - last < 60000) {
				/* Nothing committed since: wait, bounded. */
				if ((rc = corp_db_wait(db, 200, err)) != 0)
					return rc;
				continue;
			}
			dv = ndv;
		}
		last = corp_mono_ms();
		if ((rc = corp_route(db, batch, dry_run, h, &s, err))
		    != 0)
			return rc;
		if (!follow || s.events > 0 || s.expired > 0 || s.moved > 0 ||
		    s.digests > 0)
			h->report(h->arg, &s);
		if (follow && (rc = corp_db_data_version(db, &dv, err)) != 0)
			return rc;
	} while (follow && !*stop);
	return 0;
}

json_t *
corp_route_stats_json(const struct corp_route_stats *s)
{
	json_t *o, *d;
	int i;

	d = json_object();
	for (i = 0; i < CORP_D_N; i++)
		json_object_set_new(d, corp_decision_names[i],
		    json_integer(s->decisions[i]));
	o = json_pack("{s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I}",
	    "events", (json_int_t)s->events,
	    "recipients", (json_int_t)s->recipients,
	    "rows", (json_int_t)s->rows,
	    "decisions", d,
	    "refused", (json_int_t)s->refused,
	    "expired", (json_int_t)s->expired,
	    "moved", (json_int_t)s->moved,
	    "digests", (json_int_t)s->digests,
	    "watermark", (json_int_t)s->watermark);
	return o;
}
