/*
 * Unit tests for corp_jsonl_loop (lib/jsonl.c): batch sizes, batch_ms 0
 * and N on a pipe, pause once per pause, a kept object, CORP_LOOP_STOP,
 * a callback's error, a line without its newline, bad and over-long
 * lines, several inputs, a missing file.  The pipe cases write the next
 * input from the pause callback, so they never sleep or race.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "jsonl.h"
#include "tap.h"

static char dir[] = "/tmp/corp-jsonl-loop.XXXXXX";

/* What the callbacks saw: "E2(a:1,a:2) B P ..." */
struct seen {
	char	 log[4096];
	int	 stop_at;	/* each() call that returns CORP_LOOP_STOP */
	int	 fail_at;	/* each() call that fails with 65 */
	int	 ncalls;
	int	 keep;		/* take the first item of the first call */
	json_t	*kept;		/* taken from the first item */
	int	 wfd;		/* pipe write end, for pause() */
	const char *const *feed;	/* what pause() writes, one per call */
	int	 nfeed;
};

static void __attribute__((format(printf, 2, 3)))
logf_(struct seen *s, const char *fmt, ...)
{
	size_t len = strlen(s->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->log + len, sizeof(s->log) - len, fmt, ap);
	va_end(ap);
}

static int
each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *err)
{
	struct seen *s = arg;
	size_t i;

	s->ncalls++;
	logf_(s, "%sE%zu(", strlen(s->log) ? " " : "", n);
	for (i = 0; i < n; i++) {
		const char *base = strrchr(it[i].name, '/');

		logf_(s, "%s%s:%lu=%lld", i ? "," : "",
		    base ? base + 1 : it[i].name, it[i].lineno,
		    (long long)json_integer_value(json_object_get(it[i].obj,
		    "v")));
	}
	logf_(s, ")");
	if (s->keep && s->kept == NULL) {
		s->kept = it[0].obj;
		it[0].obj = NULL;
	}
	if (s->ncalls == s->stop_at)
		return CORP_LOOP_STOP;
	if (s->ncalls == s->fail_at)
		return corp_errf(err, CORP_EINVAL, "refused batch %d",
		    s->ncalls);
	return 0;
}

static int
pause_cb(void *arg, struct corp_err *err)
{
	struct seen *s = arg;

	(void)err;
	logf_(s, "%sP", strlen(s->log) ? " " : "");
	if (s->nfeed > 0) {
		const char *w = *s->feed++;

		s->nfeed--;
		if (w == NULL) {
			close(s->wfd);
			s->wfd = -1;
		} else if (write(s->wfd, w, strlen(w)) != (ssize_t)strlen(w))
			return corp_errf(err, CORP_EINTERNAL, "write");
	}
	return 0;
}

static void
bad_cb(const struct corp_err *e, void *arg)
{
	struct seen *s = arg;
	const char *m = strrchr(e->msg, '/');

	logf_(s, "%sB[%s]", strlen(s->log) ? " " : "", m ? m + 1 : e->msg);
}

static char *
file(const char *name, const char *text)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0) {
		perror(p);
		exit(1);
	}
	return p;
}

static void
init(struct seen *s, struct corp_loop *l, size_t batch, int ms)
{
	memset(s, 0, sizeof(*s));
	s->stop_at = s->fail_at = -1;
	s->wfd = -1;
	memset(l, 0, sizeof(*l));
	l->batch = batch;
	l->batch_ms = ms;
	l->each = each;
	l->bad = bad_cb;
	l->arg = s;
}

static const char five[] = "{\"v\":1}\n{\"v\":2}\n\n{\"v\":3}\n{\"v\":4}\n"
    "{\"v\":5}\n";

static void
files(void)
{
	struct corp_loop l;
	struct corp_err e;
	struct seen s;
	char *argv[3];
	int rc;

	argv[0] = file("five", five);
	init(&s, &l, 1, -1);
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_int(rc, 0, "batch 1: the end of input is 0");
	is_str(s.log, "E1(five:1=1) E1(five:2=2) E1(five:4=3) E1(five:5=4) "
	    "E1(five:6=5)", "batch 1: one call per object, lines counted "
	    "past a blank one");
	is_int(l.nitems, 5, "nitems");

	init(&s, &l, 2, -1);
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_str(s.log, "E2(five:1=1,five:2=2) E2(five:4=3,five:5=4) "
	    "E1(five:6=5)", "batch 2: full batches, the rest at the end");

	init(&s, &l, 0, -1);
	s.keep = 1;
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_str(s.log, "E5(five:1=1,five:2=2,five:4=3,five:5=4,five:6=5)",
	    "batch 0: the whole input in one call");
	ok(s.kept != NULL && s.kept->refcount == 1 &&
	    json_integer_value(json_object_get(s.kept, "v")) == 1,
	    "a kept object is the callback's (one reference, not freed)");
	json_decref(s.kept);

	argv[0] = file("bad", "{\"v\":1}\nnot json\n[1]\n{\"v\":2}");
	init(&s, &l, 0, -1);
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_int(rc, 0, "bad lines do not end the loop");
	is_str(s.log, "B[bad:2:3: invalid token near 'not'] "
	    "B[bad:3:1: expected a JSON object] E2(bad:1=1,bad:4=2)",
	    "bad lines reported with NAME:LINE:COL; a last line without "
	    "its newline counts");
	is_int(l.nbad, 2, "nbad");
	is_int(l.nitems, 2, "nitems excludes bad lines");

	argv[0] = file("five", five);
	init(&s, &l, 2, -1);
	s.stop_at = 2;
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_int(rc, 0, "CORP_LOOP_STOP ends quietly with 0");
	is_str(s.log, "E2(five:1=1,five:2=2) E2(five:4=3,five:5=4)",
	    "nothing after the stop");

	init(&s, &l, 2, -1);
	s.fail_at = 1;
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_int(rc, CORP_EINVAL, "a callback's code ends the loop");
	is_str(e.msg, "refused batch 1", "with its message");
	is_str(s.log, "E2(five:1=1,five:2=2)", "nothing after it");

	argv[0] = file("a", "{\"v\":1}\n{\"v\":2}\n");
	argv[1] = file("b", "{\"v\":3}\n");
	init(&s, &l, 0, -1);
	rc = corp_jsonl_loop(2, argv, &l, &e);
	is_str(s.log, "E3(a:1=1,a:2=2,b:1=3)",
	    "several inputs: one batch may span them, each item names its "
	    "own");

	argv[1] = "/nonexistent/corp-jsonl";
	init(&s, &l, 0, -1);
	rc = corp_jsonl_loop(2, argv, &l, &e);
	is_int(rc, CORP_ENOTFOUND, "a missing file is 67");
	is_str(e.msg, "/nonexistent/corp-jsonl: No such file or directory",
	    "named");
	is_str(s.log, "", "and the batch collected so far is dropped, not "
	    "given");
}

static void
longline(void)
{
	struct corp_loop l;
	struct corp_err e;
	struct seen s;
	char *argv[1], path[256];
	FILE *f;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/long", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs("{\"v\":1}\n{\"s\":\"", f);
	for (i = 0; i < CORP_JSONL_MAX / 64 + 1; i++)
		fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxx", f);
	fputs("\"}\n{\"v\":3}\n", f);
	if (fclose(f) != 0)
		exit(1);
	argv[0] = path;
	init(&s, &l, 1, -1);
	rc = corp_jsonl_loop(1, argv, &l, &e);
	is_int(rc, 0, "an over-long line does not end the loop");
	is_str(s.log, "E1(long:1=1) B[long:2: line longer than 16777216 "
	    "bytes] E1(long:3=3)", "it is reported as bad and skipped");
	unlink(path);
}

/* stdin from a pipe whose writes come from pause(). */
static void
pipes(void)
{
	static const char *const feed1[] = { "{\"v\":3}\n", NULL };
	static const char *const feed2[] = { NULL };
	struct corp_loop l;
	struct corp_err e;
	struct seen s;
	int p[2], saved, rc;

	saved = dup(0);
	if (pipe(p) != 0 || dup2(p[0], 0) < 0)
		exit(1);
	close(p[0]);
	init(&s, &l, 10, 0);
	l.pause = pause_cb;
	s.wfd = p[1];
	s.feed = feed1;
	s.nfeed = 2;
	if (write(p[1], "{\"v\":1}\n{\"v\":2}\n", 16) != 16)
		exit(1);
	rc = corp_jsonl_loop(0, NULL, &l, &e);
	is_int(rc, 0, "pipe, batch_ms 0: ends at EOF");
	is_str(s.log, "E2(<stdin>:1=1,<stdin>:2=2) P E1(<stdin>:3=3) P",
	    "batch_ms 0 closes the batch when input pauses, then pause() "
	    "once per pause, before blocking");

	if (pipe(p) != 0 || dup2(p[0], 0) < 0)
		exit(1);
	close(p[0]);
	init(&s, &l, 10, 20);
	l.pause = pause_cb;
	s.wfd = p[1];
	s.feed = feed2;
	s.nfeed = 1;
	if (write(p[1], "{\"v\":1}\n{\"v\":2}\n", 16) != 16)
		exit(1);
	rc = corp_jsonl_loop(0, NULL, &l, &e);
	is_str(s.log, "E2(<stdin>:1=1,<stdin>:2=2) P",
	    "batch_ms N: the batch closes N ms after its first object, "
	    "though the pipe stays open");

	if (pipe(p) != 0 || dup2(p[0], 0) < 0)
		exit(1);
	close(p[0]);
	init(&s, &l, 10, -1);
	l.pause = pause_cb;
	s.wfd = p[1];
	s.feed = feed1;
	s.nfeed = 2;
	if (write(p[1], "{\"v\":1}\n", 8) != 8)
		exit(1);
	rc = corp_jsonl_loop(0, NULL, &l, &e);
	is_str(s.log, "P P E2(<stdin>:1=1,<stdin>:2=3)",
	    "batch_ms -1: a pause does not close the batch");
	if (s.wfd >= 0)
		close(s.wfd);
	dup2(saved, 0);
	close(saved);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	files();
	longline();
	pipes();
	{
		static const char *const names[] = { "five", "bad", "a", "b" };
		char path[256];
		size_t i;

		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
	}
	rmdir(dir);
	return done_testing();
}
