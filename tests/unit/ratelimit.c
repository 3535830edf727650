/* ratelimit.c -- unit tests of the limiter's slot computation
 * (corp_rl_slot), which the file and the PostgreSQL tables share. */
#include <stdlib.h>

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

int
main(void)
{
	test_basic();
	test_window();
	test_burst();
	test_random();
	return done_testing();
}
