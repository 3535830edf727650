/* ratelimit.c -- unit tests of the limiter's slot computation
 * (corp_rl_slot), which the file and the PostgreSQL tables share, and of
 * the limiter itself over a store in memory (struct corp_rl_store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "corp.h"
#include "ratelimit.h"

static long long W = 1000;	/* the window, ms */
static struct corp_rl_send s[4096];
static size_t n;

static void
add(long long t, const char *chat)
{
	if (n == sizeof(s) / sizeof(s[0]))
		abort();
	s[n].t = t;
	s[n].chat = chat;
	n++;
}

static long long
slot(int per_sec, long long now, long long pause, const char *chat)
{
	return corp_rl_slot(s, n, per_sec, W, now, pause, chat);
}

static void
test_basic(void)
{
	n = 0;
	is_int(slot(30, 5000, 0, "7"), 5000, "empty window: now");
	is_int(slot(30, 5000, 9000, "7"), 9000, "a pause: its end");
	is_int(slot(30, 5000, 4000, "7"), 5000, "a past pause: now");

	add(1000, "7");
	is_int(slot(30, 1200, 0, "7"), 2000, "one chat: W after its last");
	is_int(slot(30, 1200, 0, "8"), 1200, "another chat: now");
	is_int(slot(30, 1200, 0, NULL), 1200, "no chat: now");
	is_int(slot(30, 1200, 0, ""), 1200, "chat \"\": no per-chat limit");
	is_int(slot(30, 1000, 0, "7"), 2000, "exactly W apart is allowed");
	n = 0;
	add(3000, "7");		/* reserved, in the future */
	is_int(slot(30, 1000, 0, "7"), 1000,
	    "a chat's reserved send W away: now");
	is_int(slot(30, 2500, 0, "7"), 4000,
	    "closer: W after it (W on either side)");
	is_int(slot(30, 2500, 0, "8"), 2500, "the others are free now");
}

static void
test_window(void)
{
	n = 0;
	add(0, "a");
	add(100, "b");
	add(200, "c");
	is_int(slot(3, 300, 0, "d"), 1000, "full window: when the first "
	    "leaves");
	is_int(slot(4, 300, 0, "d"), 300, "room left: now");
	n = 0;
	add(500, "a");
	add(600, "b");
	is_int(slot(2, 0, 0, "c"), 1500,
	    "reserved sends ahead: no window may hold three");
	is_int(slot(3, 0, 0, "c"), 0, "three allowed: now");
	is_int(slot(2, 0, 1200, "c"), 1500, "a pause inside: still 1500");
	is_int(slot(2, 0, 1700, "c"), 1700, "a pause past it: its end");
}

/* 31 sends at once to 31 chats with N = 30: the last waits W. */
static void
test_burst(void)
{
	static const char *chats[] = { "1", "2", "3", "4", "5", "6", "7",
	    "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18",
	    "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
	    "30", "31" };
	long long t = 0;
	size_t i;

	n = 0;
	for (i = 0; i < 31; i++) {
		t = slot(30, 0, 0, chats[i]);
		add(t, chats[i]);
	}
	is_int(s[29].t, 0, "30 at once");
	is_int(t, W, "the 31st W later");
}

/*
 * Reservations at random times, chats and pauses, the window pruned as
 * the stores prune it: every slot is at or after now and the pause,
 * no window of W holds more than N, no two sends to one chat are closer
 * than W, and the slot is the earliest such time (brute force over
 * every millisecond, with a small W).
 */
static int
valid(int per_sec, const char *chat, long long c)
{
	long long x;
	size_t i, cnt;

	for (i = 0; i < n; i++)
		if (*chat != '\0' && strcmp(s[i].chat, chat) == 0 &&
		    llabs(s[i].t - c) < W)
			return 0;
	for (x = c - W + 1; x <= c; x++) {
		for (cnt = 1, i = 0; i < n; i++)
			if (s[i].t >= x && s[i].t < x + W)
				cnt++;
		if (cnt > (size_t)per_sec)
			return 0;
	}
	return 1;
}

static void
test_random(void)
{
	static const char *chats[] = { "", "1", "2", "3", "4" };
	long long now = 0, pause = 0, c, t0, x;
	int bad = 0, notfirst = 0, k;
	size_t i, j;

	srandom(4);
	n = 0;
	W = 40;		/* small, for the brute force */
	for (k = 0; k < 2000; k++) {
		const char *chat = chats[random() % 5];

		now += random() % 20;
		if (random() % 100 == 0)
			pause = now + random() % 80;
		/* Drop what no window from now on can hold, as load() does. */
		for (i = j = 0; i < n; i++)
			if (s[i].t > now - W)
				s[j++] = s[i];
		n = j;
		c = slot(4, now, pause, chat);
		t0 = now > pause ? now : pause;
		if (c < t0 || !valid(4, chat, c))
			bad++;
		for (x = t0; x < c; x++)
			if (valid(4, chat, x)) {
				notfirst++;
				break;
			}
		add(c, chat);
	}
	is_int(bad, 0, "2000 random slots: all within the limits");
	is_int(notfirst, 0, "and none later than needed");
	W = 1000;
}

/*
 * A store in memory: one key, a clock the test moves, a lock that must
 * be let go by every path.
 */
struct mem {
	struct corp_rl_store base;
	long long	 now, pause, chat_until;
	char		 chat[16];	/* the chat paused on its own */
	struct corp_rl_send s[64];
	char		 chats[64][16];
	size_t		 n;
	int		 locked, saves, fail_lock, fail_open;
	char		 key[64];
};

static int
mem_open(struct corp_rl_store *st, const char *key, char **name,
    struct corp_err *err)
{
	struct mem *m = (struct mem *)st;

	if (m->fail_open)
		return corp_errf(err, CORP_ETEMP, "rate limit: store down");
	snprintf(m->key, sizeof(m->key), "%s", key);
	*name = strdup("memory");
	return 0;
}

static int
mem_lock(struct corp_rl_store *st, const char *key, const char *chat,
    long long w, struct corp_rl_view *v, struct corp_err *err)
{
	struct mem *m = (struct mem *)st;
	size_t i, j;

	if (m->fail_lock)
		return corp_errf(err, CORP_ETEMP, "rate limit: busy");
	if (m->locked || strcmp(key, m->key) != 0)
		abort();
	m->locked = 1;
	for (i = j = 0; i < m->n; i++)
		if (m->s[i].t > m->now - w) {
			m->s[j].t = m->s[i].t;
			memmove(m->chats[j], m->chats[i], sizeof(m->chats[j]));
			m->s[j].chat = m->chats[j];
			j++;
		}
	m->n = j;
	v->now = m->now;
	v->pause_until = m->pause;
	v->chat_until = chat != NULL && strcmp(chat, m->chat) == 0 ?
	    m->chat_until : 0;
	v->s = m->s;
	v->n = m->n;
	return 0;
}

static int
mem_save(struct corp_rl_store *st, const char *key, const char *chat,
    long long t, long long pause_until, long long chat_until,
    struct corp_err *err)
{
	struct mem *m = (struct mem *)st;

	(void)key;
	(void)err;
	if (!m->locked)
		abort();
	if (t >= 0) {
		snprintf(m->chats[m->n], sizeof(m->chats[0]), "%s", chat);
		m->s[m->n].chat = m->chats[m->n];
		m->s[m->n++].t = t;
	}
	if (pause_until >= 0)
		m->pause = pause_until;
	if (chat_until > 0) {
		snprintf(m->chat, sizeof(m->chat), "%s", chat);
		m->chat_until = chat_until;
	}
	m->saves++;
	m->locked = 0;
	return 0;
}

static void
mem_unlock(struct corp_rl_store *st)
{
	((struct mem *)st)->locked = 0;
}

static void
mem_free(struct corp_rl_store *st)
{
	(void)st;
}

static const struct corp_rl_store_ops mem_ops = {
	mem_open, mem_lock, mem_save, mem_unlock, mem_free
};

static void
test_store(void)
{
	static struct mem m;
	struct corp_err e;
	struct corp_rl *rl;
	long long wait, ms;
	int chat;

	m.base.ops = &mem_ops;
	m.now = 100000;
	m.fail_open = 1;
	is_int(corp_rl_open(&rl, &m.base, "telegram", "TOKEN", 2, 1.0, &e),
	    CORP_ETEMP, "a store that cannot open: its error");
	ok(rl == NULL, "and no handle");
	m.fail_open = 0;
	is_int(corp_rl_open(&rl, &m.base, "telegram", "TOKEN", 2, 1.0, &e), 0,
	    "open over a store in memory");
	ok(strncmp(m.key, "telegram-", 9) == 0 && strlen(m.key) == 25 &&
	    strstr(m.key, "TOKEN") == NULL,
	    "the store sees KIND-<16 hex>, never the key");
	is_str(corp_rl_path(rl), "memory", "messages name the store");

	is_int(corp_rl_reserve(rl, "7", 5000, &wait, &e), 0, "first send");
	is_int(wait, 0, "now");
	is_int(corp_rl_reserve(rl, "8", 5000, &wait, &e), 0, "second");
	is_int(wait, 0, "now too (2 a second)");
	is_int(corp_rl_reserve(rl, "9", 500, &wait, &e), CORP_ETEMP,
	    "a third within the second, longer than max_wait: ETEMP");
	is_int(wait, 1000, "the wait it would need");
	is_int((long long)m.n, 2, "nothing recorded");
	ok(!m.locked, "the store is let go");
	is_int(corp_rl_reserve(rl, "9", 5000, &wait, &e), 0,
	    "with a longer max_wait");
	is_int(wait, 1000, "it waits for the window");
	is_int(m.s[2].t, 101000, "the reserved time stored");

	m.now += 2000;		/* 102000 */
	is_int(corp_rl_pause(rl, 5000, &e), 0, "a 429 pauses the key");
	is_int(m.pause, 107000, "stored: now + ms");
	is_int(corp_rl_reserve(rl, "7", 10000, &wait, &e), 0,
	    "a send after the pause");
	is_int(wait, 5000, "waits the pause out");
	corp_rl_last_pause(rl, &ms, &chat);
	ok(ms == 5000 && chat == 0, "the key's pause, 5000 ms");

	corp_rl_max_pause(rl, 2000);
	m.now = 200000;
	is_int(corp_rl_pause(rl, 1000000000LL, &e), 0, "a huge retry_after");
	is_int(m.pause, 202000, "at most the cap");
	m.pause = 900000;	/* a forged state */
	is_int(corp_rl_reserve(rl, "x", 10000, &wait, &e), 0, "forged pause");
	is_int(wait, 2000, "capped when read");
	is_int(m.pause, 202000, "and the cap stored");

	m.now = 300000;
	is_int(corp_rl_pause_chat(rl, "7", 1500, &e), 0, "a chat's own 429");
	ok(strcmp(m.chat, "7") == 0 && m.chat_until == 301500,
	    "stored for that chat");
	is_int(m.pause, 202000, "the key's pause untouched");
	is_int(corp_rl_reserve(rl, "8", 10000, &wait, &e), 0, "another chat");
	is_int(wait, 0, "goes on now");
	is_int(corp_rl_reserve(rl, "7", 10000, &wait, &e), 0, "the chat");
	is_int(wait, 1500, "waits its own pause");
	corp_rl_last_pause(rl, &ms, &chat);
	ok(ms == 1500 && chat == 1, "the chat's pause, 1500 ms");
	is_int(corp_rl_pause_chat(rl, "7", 100, &e), 0, "a shorter one");
	is_int(m.chat_until, 301500, "never shortens a pause");

	m.fail_lock = 1;
	is_int(corp_rl_reserve(rl, "7", 10000, &wait, &e), CORP_ETEMP,
	    "a store error is the reservation's");
	is_int(corp_rl_pause(rl, 10, &e), CORP_ETEMP, "and the pause's");
	ok(!m.locked, "nothing left locked");
	corp_rl_close(rl);
}

/*
 * corp_rl_answered: a chat's next slot is W after its last answer as
 * well as W after its reserved slot (the answer's time is the real
 * monotonic clock, so the waits are bounded, not exact).
 */
static void
test_answered(void)
{
	static struct mem m;
	struct corp_err e;
	struct corp_rl *rl;
	long long wait;
	char chat[16];
	int i;

	memset(&m, 0, sizeof(m));
	m.base.ops = &mem_ops;
	m.now = 500000;
	if (corp_rl_open(&rl, &m.base, "telegram", "TOKEN", 30, 1.0, &e) != 0)
		abort();
	is_int(corp_rl_reserve(rl, "5", 5000, &wait, &e), 0, "a send to 5");
	is_int(wait, 0, "now");
	m.now += 1500;		/* its slot's W is over */
	corp_rl_answered(rl, "5");
	is_int(corp_rl_reserve(rl, "5", 5000, &wait, &e), 0,
	    "the next to 5 right after its answer");
	ok(wait > 500 && wait <= 1000, "waits W from the answer (%lld ms)",
	    wait);
	is_int(corp_rl_reserve(rl, "6", 5000, &wait, &e), 0, "another chat");
	is_int(wait, 0, "goes now: the answer was 5's");
	corp_rl_answered(rl, "5");
	is_int(corp_rl_reserve(rl, "5", 500, &wait, &e), CORP_ETEMP,
	    "longer than max_wait: ETEMP, as for any slot");
	ok(wait > 500 && wait <= 1000 + 1000, "the wait it would need");
	corp_rl_answered(rl, "1234567890123456789012345");
	m.now += 5000;
	is_int(corp_rl_reserve(rl, "1234567890123456789012345", 5000, &wait,
	    &e), 0, "a chat too long to remember");
	is_int(wait, 0, "is not held");
	/* 128 other chats answered since: 5's answer is forgotten. */
	corp_rl_answered(rl, "5");
	for (i = 0; i < 128; i++) {
		snprintf(chat, sizeof(chat), "c%d", i);
		corp_rl_answered(rl, chat);
	}
	is_int(corp_rl_reserve(rl, "5", 5000, &wait, &e), 0,
	    "an answer pushed out of the ring");
	is_int(wait, 0, "only the reserved slots count");
	corp_rl_close(rl);
}

int
main(void)
{
	test_basic();
	test_window();
	test_burst();
	test_random();
	test_store();
	test_answered();
	return done_testing();
}
