/* ratelimit.c -- see ratelimit.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sha2.h>

#include "corp.h"
#include "clock.h"
#include "fsutil.h"
#include "jsonl.h"
#include "ratelimit.h"

#define RL_MAX_FILE	(1024 * 1024)

/*
 * How many answers a handle remembers.  Only those of the last W ms
 * matter, and the limiter lets at most per_sec sends start in any W:
 * their answers, and those of requests still in flight from before,
 * fit with room to spare; one that drops out only loses the refinement.
 */
#define RL_ANSWERS	128

struct corp_rl {
	struct corp_rl_store *store;	/* the state: a file, or given */
	int		 own;		/* the file store: closed with rl */
	char		*name;		/* for messages */
	char		 key[64];	/* KIND-HASH */
	int		 per_sec;
	long long	 w;		/* window, ms */
	long long	 max_pause;	/* ms: the longest corp_rl_pause */
	long long	 last_pause;	/* ms of 429 pause in the last slot */
	int		 last_chat;	/* ... and it was the chat's own */
	/* The last answers, per chat (corp_rl_answered): a ring. */
	struct {
		char		 chat[24];
		long long	 at;	/* corp_mono_ms() */
	}		 ans[RL_ANSWERS];
	unsigned	 nans;		/* answers recorded, ever */
};

/* ---- the file store: DATA_DIR/ratelimit/KIND-HASH.json ------------- */

struct rl_file {
	struct corp_rl_store base;
	int		 fd;
	char		*path;
	char		 boot_id[64];
	json_t		*doc;		/* owns the file's chat strings */
	long long	 pause_until;
	json_t		*chat_pauses;	/* {"chat": until ms}, owned */
	struct corp_rl_send *s;		/* chat "" for none */
	size_t		 n;
};

static void
read_boot_id(char *buf, size_t size)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
}

static void
file_clear(struct rl_file *f)
{
	free(f->s);
	json_decref(f->doc);
	json_decref(f->chat_pauses);
	f->s = NULL;
	f->doc = f->chat_pauses = NULL;
	f->n = 0;
	f->pause_until = 0;
}

static void
file_unlock(struct corp_rl_store *st)
{
	struct rl_file *f = (struct rl_file *)st;

	file_clear(f);
	flock(f->fd, LOCK_UN);
}

/*
 * Lock and load.  Anything unreadable, from another boot or malformed
 * starts afresh: the window is only an estimate of what the server
 * counts, and the server's 429 is the backstop.
 */
static int
file_load(struct rl_file *f, long long now, long long w,
    struct corp_err *err)
{
	json_t *sends, *e;
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t i;

	while (flock(f->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return corp_errf(err, CORP_EINTERNAL, "%s: flock: %s",
			    f->path, strerror(errno));
	if (fstat(f->fd, &sb) != 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", f->path,
		    strerror(errno));
	if (sb.st_size <= 0 || sb.st_size > RL_MAX_FILE)
		return 0;
	if ((buf = malloc((size_t)sb.st_size)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	n = pread(f->fd, buf, (size_t)sb.st_size, 0);
	if (n < 0) {
		free(buf);
		return corp_errf(err, CORP_EINTERNAL, "%s: read: %s",
		    f->path, strerror(errno));
	}
	f->doc = json_loadb(buf, (size_t)n, 0, NULL);
	free(buf);
	if (f->doc == NULL || !json_is_object(f->doc) ||
	    !json_is_string(json_object_get(f->doc, "boot_id")) ||
	    strcmp(json_string_value(json_object_get(f->doc, "boot_id")),
	    f->boot_id) != 0) {
		file_clear(f);
		return 0;
	}
	e = json_object_get(f->doc, "pause_until");
	if (json_is_integer(e))
		f->pause_until = json_integer_value(e);
	/* The chats' own 429 pauses that still run. */
	e = json_object_get(f->doc, "chat_pauses");
	if (json_is_object(e)) {
		const char *k;
		json_t *v;

		if ((f->chat_pauses = json_object()) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		json_object_foreach(e, k, v)
			if (json_is_integer(v) && json_integer_value(v) > now)
				json_object_set(f->chat_pauses, k, v);
	}
	sends = json_object_get(f->doc, "sends");
	if (!json_is_array(sends))
		return 0;
	f->s = calloc(json_array_size(sends) + 1, sizeof(*f->s));
	if (f->s == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	json_array_foreach(sends, i, e) {
		json_t *t = json_array_get(e, 0), *c = json_array_get(e, 1);

		if (!json_is_integer(t))
			continue;
		/* Old sends no longer count for any window from now on. */
		if (json_integer_value(t) <= now - w)
			continue;
		f->s[f->n].t = json_integer_value(t);
		f->s[f->n].chat = json_is_string(c) ? json_string_value(c) :
		    "";
		f->n++;
	}
	return 0;
}

static int
file_lock(struct corp_rl_store *st, const char *key, const char *chat,
    long long w, struct corp_rl_view *v, struct corp_err *err)
{
	struct rl_file *f = (struct rl_file *)st;
	json_t *cp;
	int rc;

	(void)key;
	memset(v, 0, sizeof(*v));
	v->now = corp_mono_ms();
	if ((rc = file_load(f, v->now, w, err)) != 0) {
		file_unlock(st);
		return rc;
	}
	v->pause_until = f->pause_until;
	cp = chat != NULL && *chat != '\0' && f->chat_pauses != NULL ?
	    json_object_get(f->chat_pauses, chat) : NULL;
	v->chat_until = json_is_integer(cp) ? json_integer_value(cp) : 0;
	v->s = f->s;
	v->n = f->n;
	return 0;
}

/* Write back and unlock (the unlock also happens on any error). */
static int
file_save(struct corp_rl_store *st, const char *key, const char *chat,
    long long t, long long pause_until, long long chat_until,
    struct corp_err *err)
{
	struct rl_file *f = (struct rl_file *)st;
	json_t *doc, *sends, *e;
	char *text;
	size_t i, len;
	int rc = 0;

	(void)key;
	if (pause_until >= 0)
		f->pause_until = pause_until;
	if (chat_until > 0 && chat != NULL && *chat != '\0') {
		if (f->chat_pauses == NULL &&
		    (f->chat_pauses = json_object()) == NULL) {
			file_unlock(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		json_object_set_new(f->chat_pauses, chat,
		    json_integer(chat_until));
	}
	sends = json_array();
	for (i = 0; i < f->n; i++) {
		e = json_pack("[I,s]", (json_int_t)f->s[i].t, f->s[i].chat);
		json_array_append_new(sends, e);
	}
	if (t >= 0)
		json_array_append_new(sends, json_pack("[I,s]", (json_int_t)t,
		    chat != NULL ? chat : ""));
	doc = json_pack("{s:i, s:s, s:I, s:o}", "v", 1, "boot_id",
	    f->boot_id, "pause_until", (json_int_t)f->pause_until,
	    "sends", sends);
	if (doc != NULL && f->chat_pauses != NULL &&
	    json_object_size(f->chat_pauses) > 0)
		json_object_set(doc, "chat_pauses", f->chat_pauses);
	text = doc != NULL ? json_dumps(doc, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (text == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else {
		len = strlen(text);
		text[len] = '\n';
		if (ftruncate(f->fd, 0) != 0 ||
		    pwrite(f->fd, text, len + 1, 0) != (ssize_t)(len + 1))
			rc = corp_errf(err, CORP_EINTERNAL, "%s: write: %s",
			    f->path, strerror(errno));
		free(text);
	}
	file_unlock(st);
	return rc;
}

static void
file_free(struct corp_rl_store *st)
{
	struct rl_file *f = (struct rl_file *)st;

	if (f == NULL)
		return;
	file_clear(f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

static int
file_open(struct corp_rl_store *st, const char *key, char **name,
    struct corp_err *err)
{
	(void)key;
	*name = strdup(((struct rl_file *)st)->path);
	return *name == NULL ? corp_errf(err, CORP_EINTERNAL,
	    "out of memory") : 0;
}

static const struct corp_rl_store_ops file_ops = {
	file_open, file_lock, file_save, file_unlock, file_free
};

/* The file of kind-hex, created 0600 in DATA_DIR/ratelimit (0700). */
static int
file_store(struct corp_rl_store **out, const char *kind, const char *hex,
    struct corp_err *err)
{
	struct rl_file *f;
	char *dir;
	int rc;

	*out = NULL;
	if ((rc = corp_data_mkpath(&dir, "ratelimit", err)) != 0)
		return rc;
	if ((rc = corp_private_dir(dir, 1, err)) != 0) {
		free(dir);
		return rc;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    corp_asprintf(&f->path, "%s/%s-%s.json", dir, kind, hex) < 0) {
		free(f);
		free(dir);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(dir);
	f->base.ops = &file_ops;
	f->fd = -1;
	read_boot_id(f->boot_id, sizeof(f->boot_id));
	/* A planted link: 77, as for every file of the data dir. */
	if ((rc = corp_open_nofollow(f->path, O_RDWR | O_CREAT, 0600,
	    &f->fd, err)) != 0) {
		file_free(&f->base);
		return rc;
	}
	*out = &f->base;
	return 0;
}

/*
 * A key's file name: the first 64 bits of its SHA-256 in hex (the key
 * may be a bot token).  libmd's SHA-256, which libbsd loads anyway: a
 * pipe stage that links libcrypto pays ~3 M instructions at start for
 * it (HACKING).
 */
static void
key_hex(const char *key, char hex[17])
{
	char sum[SHA256_DIGEST_STRING_LENGTH];

	SHA256Data((const uint8_t *)key, strlen(key), sum);
	memcpy(hex, sum, 16);
	hex[16] = '\0';
}

int
corp_rl_open(struct corp_rl **out, struct corp_rl_store *store,
    const char *kind, const char *key, int per_sec, double margin,
    struct corp_err *err)
{
	struct corp_rl *rl;
	char hex[17];
	int rc;

	*out = NULL;
	if (!(margin > 0 && margin <= 1) || per_sec < 1)
		return corp_errf(err, CORP_EUSAGE, "rate limit: bad margin");
	key_hex(key, hex);
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	snprintf(rl->key, sizeof(rl->key), "%s-%s", kind, hex);
	rl->per_sec = per_sec;
	rl->max_pause = 3600 * 1000LL;
	rl->w = (long long)ceil(1000.0 / margin);
	if (store == NULL) {
		if ((rc = file_store(&rl->store, kind, hex, err)) != 0) {
			free(rl);
			return rc;
		}
		rl->own = 1;
	} else
		rl->store = store;
	if ((rc = rl->store->ops->open(rl->store, rl->key, &rl->name,
	    err)) != 0) {
		corp_rl_close(rl);
		return rc;
	}
	*out = rl;
	return 0;
}

void
corp_rl_close(struct corp_rl *rl)
{
	if (rl == NULL)
		return;
	if (rl->own)
		rl->store->ops->free(rl->store);
	free(rl->name);
	free(rl);
}

const char *
corp_rl_path(const struct corp_rl *rl)
{
	return rl->name;
}

void
corp_rl_max_pause(struct corp_rl *rl, long long ms)
{
	if (ms > 0)
		rl->max_pause = ms;
}

void
corp_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
fits(const struct corp_rl_send *s, size_t n, int per_sec, long long w,
    const char *chat, long long c)
{
	long long x, xs[3];
	size_t i, j, k, cnt;

	for (i = 0; chat != NULL && *chat != '\0' && i < n; i++)
		if (strcmp(s[i].chat, chat) == 0 && llabs(s[i].t - c) < w)
			return 0;
	/*
	 * Every window [x, x+W) that holds c must stay within per_sec.  The
	 * count over x peaks where an entry has just come in, so checking
	 * the first such x and each entry's edges is enough.
	 */
	for (i = 0; i <= n; i++) {
		xs[0] = c - w + 1;
		if (i < n) {
			xs[1] = s[i].t - w + 1;
			xs[2] = s[i].t;
		} else
			xs[1] = xs[2] = xs[0];
		for (k = 0; k < 3; k++) {
			x = xs[k];
			if (x <= c - w || x > c)
				continue;
			for (cnt = 1, j = 0; j < n; j++)
				if (s[j].t >= x && s[j].t < x + w)
					cnt++;
			if (cnt > (size_t)per_sec)
				return 0;
		}
	}
	return 1;
}

long long
corp_rl_slot(const struct corp_rl_send *s, size_t n, int per_sec,
    long long w, long long now, long long pause_until, const char *chat)
{
	long long t0, best, c;
	size_t i;

	t0 = now > pause_until ? now : pause_until;
	/*
	 * The earliest fit is t0 or the moment some send leaves a window;
	 * the last send's time plus W always fits.
	 */
	best = -1;
	if (fits(s, n, per_sec, w, chat, t0))
		best = t0;
	for (i = 0; i < n; i++) {
		c = s[i].t + w;
		if (c > t0 && (best < 0 || c < best) &&
		    fits(s, n, per_sec, w, chat, c))
			best = c;
	}
	return best;
}

/*
 * The end of the 429 pauses that hold a send to a chat: the token's and
 * the chat's own, each at most the cap from now.  Notes in rl which one
 * it was and how long (corp_rl_last_pause).
 */
static long long
paused_until(struct corp_rl *rl, long long now, long long token,
    long long chat)
{
	if (chat > now + rl->max_pause)
		chat = now + rl->max_pause;
	rl->last_pause = 0;
	rl->last_chat = 0;
	if (chat > now && chat >= token) {
		rl->last_pause = chat - now;
		rl->last_chat = 1;
		return chat;
	}
	if (token > now)
		rl->last_pause = token - now;
	return token;
}

void
corp_rl_last_pause(const struct corp_rl *rl, long long *ms, int *chat)
{
	*ms = rl->last_pause;
	*chat = rl->last_chat;
}

void
corp_rl_answered(struct corp_rl *rl, const char *chat)
{
	size_t i;

	if (chat == NULL || *chat == '\0' || strlen(chat) >=
	    sizeof(rl->ans[0].chat))
		return;
	i = rl->nans++ % RL_ANSWERS;
	strlcpy(rl->ans[i].chat, chat, sizeof(rl->ans[i].chat));
	rl->ans[i].at = corp_mono_ms();
}

/* How many ms ago chat's last answer came, if within W; else -1. */
static long long
answered_ago(const struct corp_rl *rl, const char *chat)
{
	long long now, ago;
	size_t i, n;

	if (chat == NULL || *chat == '\0' || rl->nans == 0)
		return -1;
	now = corp_mono_ms();
	n = rl->nans < RL_ANSWERS ? rl->nans : RL_ANSWERS;
	/* Newest first: the chat's latest answer is the one that counts. */
	for (i = 0; i < n; i++) {
		size_t k = (rl->nans - 1 - i) % RL_ANSWERS;

		if (strcmp(rl->ans[k].chat, chat) != 0)
			continue;
		ago = now - rl->ans[k].at;
		return ago < rl->w ? ago : -1;
	}
	return -1;
}

int
corp_rl_reserve(struct corp_rl *rl, const char *chat, long long max_wait_ms,
    long long *wait_ms, struct corp_err *err)
{
	const struct corp_rl_store_ops *op = rl->store->ops;
	struct corp_rl_view v;
	long long pu, best, from, after;
	int rc;

	*wait_ms = 0;
	if ((rc = op->lock(rl->store, rl->key, chat, rl->w, &v, err)) != 0)
		return rc;
	pu = v.pause_until;
	if (pu > v.now + rl->max_pause)
		pu = v.now + rl->max_pause;	/* at most the cap */
	from = paused_until(rl, v.now, pu, v.chat_until);
	if ((after = answered_ago(rl, chat)) >= 0 &&
	    v.now + rl->w - after > from)
		from = v.now + rl->w - after;
	best = corp_rl_slot(v.s, v.n, rl->per_sec, rl->w, v.now, from, chat);
	*wait_ms = best - v.now;
	if (*wait_ms > max_wait_ms) {
		op->unlock(rl->store);		/* nothing recorded */
		return CORP_ETEMP;
	}
	return op->save(rl->store, rl->key, chat != NULL ? chat : "", best,
	    pu != v.pause_until ? pu : -1, 0, err);
}

int
corp_rl_pause(struct corp_rl *rl, long long ms, struct corp_err *err)
{
	return corp_rl_pause_chat(rl, NULL, ms, err);
}

int
corp_rl_pause_chat(struct corp_rl *rl, const char *chat, long long ms,
    struct corp_err *err)
{
	const struct corp_rl_store_ops *op = rl->store->ops;
	struct corp_rl_view v;
	long long pu, cu = 0;
	int rc;

	/* A server's number: bounded before any arithmetic. */
	if (ms > rl->max_pause)
		ms = rl->max_pause;
	if (ms < 0)
		ms = 0;
	if (chat != NULL && *chat == '\0')
		chat = NULL;
	if ((rc = op->lock(rl->store, rl->key, chat, rl->w, &v, err)) != 0)
		return rc;
	/* A stored pause past the cap (an older corp, a forged file). */
	pu = v.pause_until;
	if (pu > v.now + rl->max_pause)
		pu = v.now + rl->max_pause;
	if (chat == NULL && v.now + ms > pu)
		pu = v.now + ms;
	if (chat != NULL && v.now + ms > v.chat_until)
		cu = v.now + ms;
	return op->save(rl->store, rl->key, chat, -1,
	    pu != v.pause_until ? pu : -1, cu, err);
}

/* ---- outages ------------------------------------------------------- */

long long
corp_down_next(long long prev)
{
	if (prev <= 0)
		return CORP_DOWN_FIRST;
	return prev >= CORP_DOWN_MAX / 2 ? CORP_DOWN_MAX : prev * 2;
}

/* The file of kind/key; mk: create the directory (to write it). */
static int
down_path(const char *kind, const char *key, int mk, char **path,
    struct corp_err *err)
{
	char hex[17], *dir;
	int rc;

	key_hex(key, hex);
	if ((rc = corp_data_path(&dir, "ratelimit", err)) != 0)
		return rc;
	/* Missing is fine for a reader: no pause was ever written. */
	if ((rc = corp_private_dir(dir, mk, err)) != 0 &&
	    (mk || rc != CORP_ENOTFOUND)) {
		free(dir);
		return rc;
	}
	rc = corp_asprintf(path, "%s/down-%s-%s.json", dir, kind, hex) < 0 ?
	    corp_errf(err, CORP_EINTERNAL, "out of memory") : 0;
	free(dir);
	return rc;
}

/* The state in the text of an outage file (corp_down_get). */
static void
down_parse(char *buf, long long now, struct corp_down *d)
{
	json_t *doc, *until, *pause, *e, *since;

	d->known = 1;
	doc = json_loads(buf, 0, NULL);
	until = json_object_get(doc, "until");
	pause = json_object_get(doc, "pause");
	e = json_object_get(doc, "error");
	since = json_object_get(doc, "since");
	if (json_is_integer(since) && json_integer_value(since) > 0)
		d->since = json_integer_value(since);
	/* Anything else than what corp_down_mark writes: not paused. */
	if (json_is_integer(until) && json_is_integer(pause) &&
	    json_integer_value(pause) > 0 &&
	    json_integer_value(pause) <= CORP_DOWN_MAX) {
		d->pause = json_integer_value(pause);
		if (json_integer_value(until) > now)
			d->remaining = json_integer_value(until) - now;
		/* A clock that went back never makes a pause longer. */
		if (d->remaining > d->pause)
			d->remaining = d->pause;
		if (json_is_string(e))
			strlcpy(d->error, json_string_value(e),
			    sizeof(d->error));
	}
	json_decref(doc);
}

int
corp_down_get(const char *kind, const char *key, long long now,
    struct corp_down *d, struct corp_err *err)
{
	char *path, *buf;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = down_path(kind, key, 0, &path, err)) != 0)
		return rc;
	rc = corp_read_file(path, 4096, &buf, NULL, err);
	free(path);
	if (rc == CORP_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	down_parse(buf, now, d);
	free(buf);
	return 0;
}

int
corp_down_get_at(const char *kind, const char *key, char **path,
    long long now, struct corp_down *d, struct corp_err *err)
{
	char *dir, *buf;
	int rc;

	if (*path == NULL)	/* the first call: corp_down_get's checks */
		return (rc = corp_down_get(kind, key, now, d, err)) != 0 ? rc :
		    down_path(kind, key, 0, path, err);
	memset(d, 0, sizeof(*d));
	rc = corp_read_file(*path, 4096, &buf, NULL, err);
	if (rc == CORP_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	/* A file to trust: its directory is judged again (made unsafe
	 * since the first call: CORP_EFORBIDDEN, as corp_down_get). */
	if ((rc = corp_data_path(&dir, "ratelimit", err)) == 0) {
		rc = corp_private_dir(dir, 0, err);
		free(dir);
	}
	if (rc == 0)
		down_parse(buf, now, d);
	free(buf);
	return rc;
}

int
corp_down_mark(const char *kind, const char *key, long long now,
    const char *error, long long *pause, struct corp_err *err)
{
	struct corp_down d;
	json_t *doc;
	char *path, *text;
	int rc;

	if ((rc = corp_down_get(kind, key, now, &d, err)) != 0)
		return rc;
	if (d.remaining > 0) {
		/* Another sender has just paused it: the same outage. */
		*pause = d.remaining;
		return 0;
	}
	*pause = corp_down_next(d.pause);
	if ((rc = down_path(kind, key, 1, &path, err)) != 0)
		return rc;
	doc = json_pack("{s:i, s:I, s:I, s:s, s:I, s:s, s:s?}", "v", 1,
	    "until", (json_int_t)(now + *pause), "pause", (json_int_t)*pause,
	    "error", error != NULL ? error : "",
	    "since", (json_int_t)(d.known && d.since > 0 ? d.since : now),
	    "channel", kind,
	    "endpoint", strcmp(kind, "telegram") != 0 ? key : NULL);
	text = doc != NULL ? json_dumps(doc, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (text == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else
		rc = corp_atomic_write(path, text, strlen(text), err);
	free(text);
	free(path);
	return rc;
}

int
corp_down_clear(const char *kind, const char *key, struct corp_err *err)
{
	char *path;
	int rc;

	if ((rc = down_path(kind, key, 0, &path, err)) != 0)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	free(path);
	return rc;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The outage files of kind (NULL: all), sorted; *dirp the directory. */
static int
down_files(const char *kind, char **dirp, char ***names, size_t *n,
    struct corp_err *err)
{
	struct dirent *de;
	char prefix[64], **v = NULL, **nv;
	size_t cap = 0;
	DIR *dir;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = corp_data_path(dirp, "ratelimit", err)) != 0)
		return rc;
	snprintf(prefix, sizeof(prefix), "down-%s%s", kind ? kind : "",
	    kind ? "-" : "");
	if ((dir = opendir(*dirp)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", *dirp,
		    strerror(errno));
	}
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			goto oom;
		(*n)++;
	}
	closedir(dir);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmpstr);
	*names = v;
	return 0;
oom:
	closedir(dir);
	while (*n > 0)
		free(v[--*n]);
	free(v);
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

static void
free_names(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* One outage file as its JSON document (NULL: unreadable or not ours). */
static json_t *
down_doc(const char *dir, const char *name)
{
	struct corp_err e;
	json_t *doc;
	char *path, *buf;

	if (corp_asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if (corp_read_file(path, 4096, &buf, NULL, &e) != 0) {
		free(path);
		return NULL;
	}
	free(path);
	doc = json_loads(buf, 0, NULL);
	free(buf);
	if (!json_is_object(doc) ||
	    !json_is_integer(json_object_get(doc, "until")) ||
	    !json_is_integer(json_object_get(doc, "pause"))) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int
corp_down_list(const char *kind, long long now, json_t **out,
    struct corp_err *err)
{
	char *dir = NULL, **names;
	size_t n, i;
	int rc;

	*out = NULL;
	if ((rc = down_files(kind, &dir, &names, &n, err)) != 0) {
		free(dir);
		return rc;
	}
	*out = json_array();
	for (i = 0; i < n; i++) {
		json_t *doc = down_doc(dir, names[i]), *ch, *ep, *er;
		long long until, since;
		char kindbuf[32];
		const char *k;

		if (doc == NULL)
			continue;
		until = json_integer_value(json_object_get(doc, "until"));
		since = json_is_integer(json_object_get(doc, "since")) ?
		    json_integer_value(json_object_get(doc, "since")) : 0;
		ch = json_object_get(doc, "channel");
		ep = json_object_get(doc, "endpoint");
		er = json_object_get(doc, "error");
		/* Files from before "channel": the kind in the name. */
		k = json_string_value(ch);
		if (k == NULL) {
			snprintf(kindbuf, sizeof(kindbuf), "%.*s",
			    (int)strcspn(names[i] + 5, "-"), names[i] + 5);
			k = kindbuf;
		}
		json_array_append_new(*out, json_pack("{s:s, s:o, s:o, s:o, "
		    "s:I, s:b, s:s}", "channel", k,
		    "endpoint", json_is_string(ep) ? json_copy(ep) :
		    json_null(),
		    "since", corp_json_time((time_t)since),
		    "until", corp_json_time((time_t)until),
		    "pause_s", (json_int_t)json_integer_value(
		    json_object_get(doc, "pause")),
		    "paused", until > now,
		    "cause", json_is_string(er) ? json_string_value(er) : ""));
		json_decref(doc);
	}
	free_names(names, n);
	free(dir);
	return 0;
}

int
corp_down_unpause(const char *kind, const char *endpoint, int *removed,
    struct corp_err *err)
{
	char *dir = NULL, **names, *path;
	size_t n, i;
	int rc;

	*removed = 0;
	if ((rc = down_files(kind, &dir, &names, &n, err)) != 0) {
		free(dir);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (endpoint != NULL) {
			json_t *doc = down_doc(dir, names[i]);
			const char *ep = json_string_value(
			    json_object_get(doc, "endpoint"));
			int match = ep != NULL && strcmp(ep, endpoint) == 0;

			json_decref(doc);
			if (!match)
				continue;
		}
		if (corp_asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			break;
		}
		if (unlink(path) != 0 && errno != ENOENT)
			rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
			    strerror(errno));
		else
			(*removed)++;
		free(path);
	}
	free_names(names, n);
	free(dir);
	return rc;
}
