/* jsonl.c -- see jsonl.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "jsonl.h"

struct corp_jsonl {
	int		 fd;
	char		*name;
	char		*buf;
	size_t		 len, cap, off;
	unsigned long	 lineno;
	int		 eof;
	int		 skipping;	/* inside an over-long line */
};

struct corp_jsonl *
corp_jsonl_open(int fd, const char *name)
{
	struct corp_jsonl *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->fd = fd;
	if ((r->name = strdup(name)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
corp_jsonl_close(struct corp_jsonl *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->name);
	free(r);
}

unsigned long
corp_jsonl_lineno(struct corp_jsonl *r)
{
	return r->lineno;
}

/* Depth of [ and { outside strings; stops counting past the bound. */
static int
depth_ok(const char *s, size_t n, size_t *where)
{
	int d = 0, instr = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
			continue;
		}
		if (c == '"')
			instr = 1;
		else if (c == '[' || c == '{') {
			if (++d > CORP_JSONL_DEPTH) {
				*where = i + 1;
				return 0;
			}
		} else if (c == ']' || c == '}')
			d--;
	}
	return 1;
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int
corp_json_parse_line(const char *buf, size_t len, const char *name,
    unsigned long lineno, json_t **out, struct corp_err *err)
{
	json_error_t je;
	json_t *v;
	size_t col;

	*out = NULL;
	if (len > CORP_JSONL_MAX)
		return corp_errf(err, CORP_EINVAL,
		    "%s:%lu: line longer than %d bytes", name, lineno,
		    CORP_JSONL_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return corp_errf(err, CORP_EINVAL,
		    "%s:%lu:%zu: NUL byte in input", name, lineno,
		    (size_t)((const char *)memchr(buf, '\0', len) - buf) + 1);
	if (!depth_ok(buf, len, &col))
		return corp_errf(err, CORP_EINVAL,
		    "%s:%lu:%zu: nesting deeper than %d", name, lineno, col,
		    CORP_JSONL_DEPTH);
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &je);
	if (v == NULL)
		return corp_errf(err, CORP_EINVAL, "%s:%lu:%d: %s", name,
		    lineno, je.column > 0 ? je.column : 1, je.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return corp_errf(err, CORP_EINVAL,
		    "%s:%lu:1: expected a JSON object", name, lineno);
	}
	*out = v;
	return 0;
}

/* Make room and read once; returns bytes read, 0 at EOF, -1 error. */
static ssize_t
fill(struct corp_jsonl *r)
{
	ssize_t n;

	if (r->off > 0 && r->off == r->len)
		r->off = r->len = 0;
	if (r->off > 0 && r->len == r->cap) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->len == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 65536;
		char *nb;

		if ((nb = realloc(r->buf, ncap)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		r->len += (size_t)n;
	return n;
}

/* Blanks around a line's object: what blank() skips. */
static int
isblank_c(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * corp_jsonl_next; with raw given, *raw and *rawlen get the object's
 * text as read, without the blanks around it (valid until the next
 * call).
 */
static int
next_line(struct corp_jsonl *r, json_t **out, const char **raw,
    size_t *rawlen, int timeout_ms, struct corp_err *err)
{
	long long deadline = timeout_ms >= 0 ? corp_mono_ms() + timeout_ms : 0;

	*out = NULL;
	for (;;) {
		/* No buffer before the first read: NULL + 0 is UB. */
		char *nl = NULL, *line = r->buf ? r->buf + r->off : NULL;
		size_t avail = r->len - r->off, n;
		ssize_t got;

		if (avail > 0)
			nl = memchr(line, '\n', avail);
		if (nl != NULL || (r->eof && avail > 0)) {
			n = nl != NULL ? (size_t)(nl - line) : avail;
			r->off += n + (nl != NULL);
			if (r->skipping) {
				r->skipping = 0;
				return corp_errf(err, CORP_EINVAL,
				    "%s:%lu: line longer than %d bytes",
				    r->name, r->lineno, CORP_JSONL_MAX), 
				    CORP_JSONL_BAD;
			}
			r->lineno++;
			if (blank(line, n))
				continue;
			if (corp_json_parse_line(line, n, r->name, r->lineno,
			    out, err) != 0)
				return CORP_JSONL_BAD;
			if (raw != NULL) {
				while (n > 0 && isblank_c(line[n - 1]))
					n--;
				while (n > 0 && isblank_c(*line)) {
					line++;
					n--;
				}
				*raw = line;
				*rawlen = n;
			}
			return CORP_JSONL_OBJ;
		}
		if (r->eof)
			return CORP_JSONL_EOF;
		/* An over-long line: drop what we have, remember to report. */
		if (avail > CORP_JSONL_MAX) {
			if (!r->skipping)
				r->lineno++;
			r->skipping = 1;
			r->off = r->len = 0;
		}
		if (timeout_ms >= 0) {
			struct pollfd p = { .fd = r->fd, .events = POLLIN };
			long long left = deadline - corp_mono_ms();
			int pr;

			if (left < 0)
				left = 0;
			pr = poll(&p, 1, (int)left);
			if (pr < 0 && errno != EINTR)
				return corp_errf(err, CORP_EINTERNAL,
				    "%s: poll: %s", r->name, strerror(errno)),
				    CORP_JSONL_ERR;
			if (pr == 0)
				return CORP_JSONL_TIMEOUT;
			if (pr < 0)
				continue;
		}
		got = fill(r);
		if (got < 0) {
			if (errno == EAGAIN)
				continue;
			return corp_errf(err, CORP_EINTERNAL, "%s: read: %s",
			    r->name, strerror(errno)), CORP_JSONL_ERR;
		}
		if (got == 0)
			r->eof = 1;
	}
}

int
corp_jsonl_next(struct corp_jsonl *r, json_t **out, int timeout_ms,
    struct corp_err *err)
{
	return next_line(r, out, NULL, NULL, timeout_ms, err);
}

struct loopstate {
	struct corp_loop	*l;
	struct corp_jsonl_item	*items;
	size_t			 n, cap;
	long long		 first;	/* corp_mono_ms() of items[0] */
};

static void
drop(struct loopstate *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		json_decref(s->items[i].obj);
		free(s->items[i].raw);
	}
	s->n = 0;
}

/* Give the batch to each(); 0, CORP_LOOP_STOP or each()'s code. */
static int
flush_batch(struct loopstate *s, struct corp_err *err)
{
	int rc;

	if (s->n == 0)
		return 0;
	s->l->nitems += s->n;
	rc = s->l->each(s->items, s->n, s->l->arg, err);
	drop(s);
	return rc;
}

static int
add_item(struct loopstate *s, json_t *obj, const char *raw, size_t rawlen,
    const char *name, unsigned long lineno, struct corp_err *err)
{
	char *copy = NULL;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct corp_jsonl_item *ni;

		if (s->l->batch > 0 && ncap > s->l->batch)
			ncap = s->l->batch;
		if ((ni = reallocarray(s->items, ncap, sizeof(*ni))) == NULL) {
			json_decref(obj);
			return corp_errf(err, CORP_EINTERNAL, "%s: out of "
			    "memory", name);
		}
		s->items = ni;
		s->cap = ncap;
	}
	if (raw != NULL) {
		if ((copy = malloc(rawlen + 1)) == NULL) {
			json_decref(obj);
			return corp_errf(err, CORP_EINTERNAL, "%s: out of "
			    "memory", name);
		}
		memcpy(copy, raw, rawlen);
		copy[rawlen] = '\0';
	}
	if (s->n == 0)
		s->first = corp_mono_ms();
	s->items[s->n].obj = obj;
	s->items[s->n].raw = copy;
	s->items[s->n].rawlen = rawlen;
	s->items[s->n].name = name;
	s->items[s->n].lineno = lineno;
	s->n++;
	return 0;
}

/* One input to its end; batches may run on into the next input. */
static int
loop_one(struct loopstate *s, int fd, const char *name, struct corp_err *err)
{
	struct corp_loop *l = s->l;
	struct corp_jsonl *r;
	int rc = 0, paused = 0, tmo;
	json_t *obj;
	const char *raw = NULL;
	size_t rawlen = 0;

	if ((r = corp_jsonl_open(fd, name)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: out of memory",
		    name);
	for (;;) {
		if (s->n > 0 && l->batch_ms == 0)
			tmo = 0;
		else if (s->n > 0 && l->batch_ms > 0) {
			long long left = s->first + l->batch_ms -
			    corp_mono_ms();

			tmo = left > 0 ? (int)left : 0;
		} else if (l->pause != NULL && !paused)
			tmo = 0;
		else
			tmo = -1;
		rc = next_line(r, &obj, l->raw ? &raw : NULL, &rawlen, tmo,
		    err);
		if (rc == CORP_JSONL_EOF) {
			rc = 0;
			break;
		}
		if (rc == CORP_JSONL_ERR) {
			rc = CORP_EINTERNAL;
			break;
		}
		if (rc == CORP_JSONL_BAD) {
			paused = 0;
			l->nbad++;
			if (l->bad != NULL)
				l->bad(err, l->arg);
			rc = 0;
			continue;
		}
		if (rc == CORP_JSONL_OBJ) {
			paused = 0;
			if ((rc = add_item(s, obj, l->raw ? raw : NULL, rawlen,
			    name, corp_jsonl_lineno(r), err)) != 0)
				break;
			if (l->batch > 0 && s->n == l->batch &&
			    (rc = flush_batch(s, err)) != 0)
				break;
			continue;
		}
		/*
		 * CORP_JSONL_TIMEOUT: the batch's time is up (batch_ms 0:
		 * nothing more is ready; N: its N ms passed), or we are
		 * about to block: say so once.
		 */
		if (s->n > 0 && l->batch_ms >= 0) {
			if ((rc = flush_batch(s, err)) != 0)
				break;
		} else {
			paused = 1;
			if ((rc = l->pause(l->arg, err)) != 0)
				break;
		}
	}
	corp_jsonl_close(r);
	return rc;
}

int
corp_jsonl_loop(int argc, char **argv, struct corp_loop *l,
    struct corp_err *err)
{
	struct loopstate s = { .l = l };
	int i, fd, rc = 0;

	l->nitems = l->nbad = 0;
	for (i = 0; rc == 0 && i < (argc > 0 ? argc : 1); i++) {
		const char *name = argc > 0 ? argv[i] : "-";

		if (strcmp(name, "-") == 0) {
			rc = loop_one(&s, STDIN_FILENO, "<stdin>", err);
			continue;
		}
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = corp_errf(err, errno == ENOENT ? CORP_ENOTFOUND :
			    errno == EACCES ? CORP_EFORBIDDEN : CORP_EINTERNAL,
			    "%s: %s", name, strerror(errno));
			break;
		}
		rc = loop_one(&s, fd, name, err);
		close(fd);
	}
	if (rc == 0)
		rc = flush_batch(&s, err);
	drop(&s);
	free(s.items);
	return rc == CORP_LOOP_STOP ? 0 : rc;
}

static int flush_each = 1, pretty_out;

void
corp_out_init(FILE *f, int pretty)
{
	struct stat st;

	pretty_out = pretty;
	flush_each = 1;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		flush_each = 0;
}

/*
 * A line is built in one buffer and written with one fwrite: json_dumpf
 * would call fwrite once per token (issue 18, lever 5: a third of
 * pending's instructions).  The buffer grows to the longest line and is
 * kept for the next.
 */
static char	*outbuf;
static size_t	 outcap;

static int
out_room(size_t n)
{
	char *nb;
	size_t ncap;

	if (n <= outcap)
		return 0;
	for (ncap = outcap ? outcap : 4096; ncap < n; ncap *= 2)
		;
	if ((nb = realloc(outbuf, ncap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	outbuf = nb;
	outcap = ncap;
	return 0;
}

static int
out_write(FILE *f, const char *s, size_t n)
{
	if (n > 0 && fwrite(s, 1, n, f) != n)
		return -1;
	if (flush_each && fflush(f) == EOF)
		return -1;
	return 0;
}

static int
emit(FILE *f, json_t *v, size_t flags)
{
	size_t n;

	errno = 0;
	flags |= JSON_PRESERVE_ORDER;
	/* 0: v cannot be encoded (json_dumpf fails the same way). */
	if ((n = json_dumpb(v, outbuf, outcap, flags)) == 0)
		return -1;
	if (n + 1 > outcap) {
		if (out_room(n + 1) != 0 ||
		    json_dumpb(v, outbuf, outcap, flags) != n)
			return -1;
	}
	outbuf[n] = '\n';
	return out_write(f, outbuf, n + 1);
}

/* Is key the last member of object v (insertion order)? */
static int
last_member(json_t *v, const char *key)
{
	void *it = json_object_iter(v), *next;

	if (it == NULL)
		return 0;
	while ((next = json_object_iter_next(v, it)) != NULL)
		it = next;
	return strcmp(json_object_iter_key(it), key) == 0;
}

static int word_ok(const char *);

int
corp_out_json_last(FILE *f, json_t *v, const char *key, const char *text,
    size_t tlen)
{
	json_t *val;
	size_t n, kl = strlen(key), flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	int rc;

	if (pretty_out || !json_is_object(v) || !word_ok(key) ||
	    !last_member(v, key))
		return corp_out_json(f, v);
	errno = 0;
	/* v without its last member, then that member from text. */
	val = json_incref(json_object_get(v, key));
	json_object_del(v, key);
	n = json_dumpb(v, outbuf, outcap, flags);
	if (n != 0 && n + tlen + kl + 5 > outcap) {
		if (out_room(n + tlen + kl + 5) != 0 ||
		    json_dumpb(v, outbuf, outcap, flags) != n)
			n = 0;
	}
	/* Back at the end, where it was. */
	rc = json_object_set_new(v, key, val);
	if (n < 2 || rc != 0)
		return -1;
	n--;	/* over the '}' */
	if (n > 1)
		outbuf[n++] = ',';
	outbuf[n++] = '"';
	memcpy(outbuf + n, key, kl);
	n += kl;
	outbuf[n++] = '"';
	outbuf[n++] = ':';
	memcpy(outbuf + n, text, tlen);
	n += tlen;
	outbuf[n++] = '}';
	outbuf[n++] = '\n';
	return out_write(f, outbuf, n);
}

static int
word_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

int
corp_out_splice(FILE *f, const char *raw, size_t len, const char *key,
    const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), i, n;
	int empty = 1;

	errno = 0;
	if (len < 2 || raw[0] != '{' || raw[len - 1] != '}' ||
	    !word_ok(key) || !word_ok(val)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 1; i < len - 1 && empty; i++)
		if (!isblank_c(raw[i]) && raw[i] != '\n')
			empty = 0;
	/* raw without its '}', ,"key":"val"} and the newline */
	n = len - 1 + !empty + kl + vl + 7;
	if (out_room(n) != 0)
		return -1;
	memcpy(outbuf, raw, len - 1);
	i = len - 1;
	if (!empty)
		outbuf[i++] = ',';
	outbuf[i++] = '"';
	memcpy(outbuf + i, key, kl);
	i += kl;
	memcpy(outbuf + i, "\":\"", 3);
	i += 3;
	memcpy(outbuf + i, val, vl);
	i += vl;
	memcpy(outbuf + i, "\"}\n", 3);
	i += 3;
	return out_write(f, outbuf, i);
}

int
corp_out_json(FILE *f, json_t *v)
{
	return emit(f, v, pretty_out ? JSON_INDENT(2) : JSON_COMPACT);
}

int
corp_out_pretty(FILE *f, json_t *v)
{
	return emit(f, v, JSON_INDENT(2));
}

int
corp_out_close(FILE *f)
{
	int e;

	errno = 0;
	if (fflush(f) == EOF) {
		e = errno;
		fclose(f);
		errno = e;
		return -1;
	}
	if (fclose(f) == EOF)
		return -1;
	return 0;
}

int
corp_json_id(json_t *o, const char *key, long long *out, int required,
    struct corp_err *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*out = 0;
		if (required)
			return corp_errf(err, CORP_EINVAL,
			    "missing field \"%s\"", key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return corp_errf(err, CORP_EINVAL,
		    "field \"%s\" must be a positive integer", key);
	*out = json_integer_value(v);
	return 0;
}

int
corp_json_str(json_t *o, const char *key, const char **out, int required,
    struct corp_err *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*out = NULL;
		if (required)
			return corp_errf(err, CORP_EINVAL,
			    "missing field \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return corp_errf(err, CORP_EINVAL,
		    "field \"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int
corp_json_set(json_t *o, const char *key, json_t *val)
{
	if (val == NULL)
		return -1;
	return json_object_set_new(o, key, val);
}

json_t *
corp_json_time(time_t t)
{
	char buf[CORP_TIMEBUF];

	if (t == 0)
		return json_null();
	return json_string(corp_time_fmt(t, buf));
}

json_t *
corp_json_idval(long long id)
{
	return id > 0 ? json_integer(id) : json_null();
}

json_t *
corp_json_strval(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}
