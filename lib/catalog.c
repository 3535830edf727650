/* catalog.c -- see catalog.h. */
#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corp.h"
#include "catalog.h"
#include "notify.h"
#include "fsutil.h"

/* The operator's layer, DATA_DIR/i18n (fmtline.h CORP_LAYER_DATA). */
#define DATA_LAYER	2

/*
 * The entries live in one jansson object used as a hash table: the key is
 * "lang:key" (a language never holds ':'), the value [text, layer, where].
 */
struct corp_catalog {
	json_t	*map;
};

struct corp_catalog *
corp_catalog_new(void)
{
	struct corp_catalog *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->map = json_object()) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
corp_catalog_free(struct corp_catalog *c)
{
	if (c == NULL)
		return;
	json_decref(c->map);
	free(c);
}

size_t
corp_catalog_size(const struct corp_catalog *c)
{
	return json_object_size(c->map);
}

/*
 * "lang:key" is put together on the stack: corp-deliver run looks up ~10
 * keys per message (issue 18, PROFILE 11), and an allocation each cost
 * more than the lookup.  A longer key than the buffer takes the heap.
 */
static json_t *
entry(const struct corp_catalog *c, const char *lang, const char *key)
{
	char buf[256], *k;
	size_t ll, kl;
	json_t *v;

	if (lang == NULL || key == NULL)
		return NULL;
	ll = strlen(lang);
	kl = strlen(key);
	if (ll + kl + 1 > sizeof(buf)) {
		if (corp_asprintf(&k, "%s:%s", lang, key) < 0)
			return NULL;
		v = json_object_get(c->map, k);
		free(k);
		return v;
	}
	memcpy(buf, lang, ll);
	buf[ll] = ':';
	memcpy(buf + ll + 1, key, kl);
	return json_object_getn(c->map, buf, ll + 1 + kl);
}

const char *
corp_catalog_get(const struct corp_catalog *c, const char *lang,
    const char *key)
{
	return json_string_value(json_array_get(entry(c, lang, key), 0));
}

int
corp_catalog_layer(const struct corp_catalog *c, const char *lang,
    const char *key)
{
	return (int)json_integer_value(json_array_get(entry(c, lang, key), 1));
}

const char *
corp_catalog_where(const struct corp_catalog *c, const char *lang,
    const char *key)
{
	return json_string_value(json_array_get(entry(c, lang, key), 2));
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
corp_catalog_each(const struct corp_catalog *c,
    int (*fn)(void *, const char *, const char *, const char *, int,
    const char *), void *arg, struct corp_err *err)
{
	const char **keys, *k;
	char lang[16];
	json_t *v;
	size_t n = 0, i, ll;
	int rc = 0;

	if ((keys = calloc(json_object_size(c->map) + 1,
	    sizeof(*keys))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	json_object_foreach(c->map, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmpstr);
	for (i = 0; i < n && rc == 0; i++) {
		/* "lang:key"; a language is at most 6 bytes (islang). */
		ll = strcspn(keys[i], ":");
		if (ll >= sizeof(lang))
			continue;
		memcpy(lang, keys[i], ll);
		lang[ll] = '\0';
		v = json_object_get(c->map, keys[i]);
		rc = fn(arg, lang, keys[i] + ll + 1,
		    json_string_value(json_array_get(v, 0)),
		    (int)json_integer_value(json_array_get(v, 1)),
		    json_string_value(json_array_get(v, 2)));
	}
	free(keys);
	return rc;
}

static int
islang(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (i == n)
		return 1;
	return n == i + 3 && s[i] == '_' && s[i + 1] >= 'A' &&
	    s[i + 1] <= 'Z' && s[i + 2] >= 'A' && s[i + 2] <= 'Z';
}

static int
iskeychar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '@' ||
	    ch == '-';
}

/* One line (no newline, NUL-terminated); where = "FILE:LINE". */
static int
parse_line(struct corp_catalog *c, char *line, int layer, const char *where,
    struct corp_err *err)
{
	static const char shape[] = "expected {lang}:{key} | \"{text}\"";
	json_error_t je;
	json_t *text, *old, *val;
	char *colon, *key, *sep, *mapkey;
	size_t n = strlen(line);
	int rc;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (line[0] == '#' || strspn(line, " \t") == n)
		return 0;
	if ((colon = strchr(line, ':')) == NULL ||
	    !islang(line, (size_t)(colon - line)))
		return corp_errf(err, CORP_EINVAL,
		    "%s: malformed line: %s", where, shape);
	key = colon + 1;
	for (sep = key; iskeychar((unsigned char)*sep); sep++)
		;
	if (sep == key || strncmp(sep, " | \"", 4) != 0)
		return corp_errf(err, CORP_EINVAL,
		    "%s: malformed line: %s", where, shape);
	text = json_loads(sep + 3, JSON_DECODE_ANY, &je);
	if (text == NULL)
		return corp_errf(err, CORP_EINVAL,
		    "%s:%d: text is not a JSON string: %s", where,
		    (int)(sep + 3 - line) + je.column, je.text);
	if (!json_is_string(text)) {
		json_decref(text);
		return corp_errf(err, CORP_EINVAL,
		    "%s: text is not a JSON string", where);
	}
	*sep = '\0';
	if (corp_asprintf(&mapkey, "%s", line) < 0) {
		json_decref(text);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	old = json_object_get(c->map, mapkey);
	if (old != NULL &&
	    json_integer_value(json_array_get(old, 1)) == layer) {
		rc = corp_errf(err, CORP_EINVAL, "%s: duplicate %s (first at %s)",
		    where, mapkey, json_string_value(json_array_get(old, 2)));
		json_decref(text);
		free(mapkey);
		return rc;
	}
	val = json_pack("[o, i, s]", text, layer, where);
	if (val == NULL || json_object_set_new(c->map, mapkey, val) != 0) {
		free(mapkey);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(mapkey);
	return 0;
}

static int
load_stream(struct corp_catalog *c, FILE *f, const char *path, int layer,
    struct corp_err *err)
{
	char *line = NULL, *where;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int rc = 0;

	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len) != NULL) {
			rc = corp_errf(err, CORP_EINVAL, "%s:%lu: NUL byte",
			    path, lineno);
			break;
		}
		if (corp_asprintf(&where, "%s:%lu", path, lineno) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			break;
		}
		rc = parse_line(c, line, layer, where, err);
		free(where);
		if (rc != 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	free(line);
	return rc;
}

int
corp_catalog_load_file(struct corp_catalog *c, const char *path, int layer,
    struct corp_err *err)
{
	char *buf;
	size_t len;
	int rc;

	/*
	 * A file named on the command line (corp-fmt --catalog) says
	 * corp's words to every user as the data dir's do: the same
	 * ownership rule (sec-review-9 item 4), judged on the descriptor
	 * read, and its path walked as CORP_CA_FILE's or send --out's is
	 * (sec-review-17a: another user's link or directory on the way
	 * chose the file).  A missing file stays CORP_EINTERNAL, as
	 * open(2) says it.
	 */
	if ((rc = corp_read_conf_walk(path, 64 * 1024 * 1024, &buf, &len,
	    err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
			    strerror(ENOENT));
		return rc;
	}
	rc = corp_catalog_load_mem(c, buf, len, path, layer, err);
	free(buf);
	return rc;
}

int
corp_catalog_load_mem(struct corp_catalog *c, const char *buf, size_t len,
    const char *name, int layer, struct corp_err *err)
{
	FILE *f;
	int rc;

	if (len == 0)
		return 0;
	if ((f = fmemopen((void *)(uintptr_t)buf, len, "r")) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", name,
		    strerror(errno));
	rc = load_stream(c, f, name, layer, err);
	fclose(f);
	return rc;
}

/*
 * The share dir that holds the shipped i18n/: whoever may write it may
 * put another i18n/ in its place, so it is judged too (the data dir is,
 * at start).  It may be a link (GNU stow folds trees that way): what it
 * names is judged.
 */
static int
share_ok(const char *i18n, struct corp_err *err)
{
	struct stat st;
	char *top, *p;
	int rc;

	if ((top = strdup(i18n)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((p = strrchr(top, '/')) != NULL && p != top)
		*p = '\0';
	if (stat(top, &st) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", top,
		    strerror(errno));
	else
		rc = corp_trust_stat(top, &st, err);
	free(top);
	return rc;
}

int
corp_catalog_load_dir(struct corp_catalog *c, const char *dir, int layer,
    struct corp_err *err)
{
	struct stat st;
	glob_t g;
	char *pat;
	size_t i;
	int rc = 0, gr;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(errno));
	}
	/* Both layers are configuration, the shipped one included (what
	 * corp says is as trusted as what it runs): the ownership rule. */
	if (layer < DATA_LAYER && (rc = share_ok(dir, err)) != 0)
		return rc;
	if (layer <= DATA_LAYER && (rc = corp_trust_dir(dir, err)) != 0)
		return rc;
	if (corp_asprintf(&pat, "%s/*.txt", dir) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	gr = glob(pat, GLOB_ERR, NULL, &g);
	free(pat);
	if (gr == GLOB_NOMATCH)
		return 0;
	if (gr != 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: cannot read the "
		    "directory", dir);
	for (i = 0; i < g.gl_pathc && rc == 0; i++) {
		char *buf;
		size_t len;

		if (layer > DATA_LAYER) {
			rc = corp_catalog_load_file(c, g.gl_pathv[i], layer,
			    err);
			continue;
		}
		if ((rc = corp_read_conf(g.gl_pathv[i], 64 * 1024 * 1024, &buf,
		    &len, err)) != 0)
			break;
		rc = corp_catalog_load_mem(c, buf, len, g.gl_pathv[i], layer,
		    err);
		free(buf);
	}
	globfree(&g);
	return rc;
}

int
corp_catalog_load_std(struct corp_catalog *cat, struct corp_err *err)
{
	const char *dirs[2] = { corp_cfg.share_dir, corp_cfg.data_dir };
	char *dir;
	int i, rc;

	for (i = 0; i < 2; i++) {
		if (dirs[i] == NULL)
			continue;
		if (corp_asprintf(&dir, "%s/i18n", dirs[i]) < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		rc = corp_catalog_load_dir(cat, dir, i + 1, err);
		free(dir);
		if (rc != 0)
			return rc;
	}
	if (corp_catalog_size(cat) == 0)
		return corp_errf(err, CORP_EINTERNAL, "no message catalog in "
		    "%s/i18n nor %s/i18n", dirs[0] ? dirs[0] : "-",
		    dirs[1] ? dirs[1] : "-");
	return 0;
}

static int
cmp_lang(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *
corp_catalog_langs(const struct corp_catalog *c)
{
	const char *k, **v = NULL;
	json_t *val, *out, *seen;
	size_t n = 0, i;

	/* Keys are "lang:key" and a language never holds ':'. */
	if ((seen = json_object()) == NULL)
		return NULL;
	json_object_foreach(c->map, k, val) {
		char lang[16];
		size_t len = strcspn(k, ":");

		if (len == 0 || len >= sizeof(lang))
			continue;
		memcpy(lang, k, len);
		lang[len] = '\0';
		if (json_object_set_new(seen, lang, json_true()) != 0) {
			json_decref(seen);
			return NULL;
		}
	}
	if ((out = json_array()) == NULL || (json_object_size(seen) > 0 &&
	    (v = calloc(json_object_size(seen), sizeof(*v))) == NULL)) {
		json_decref(out);
		json_decref(seen);
		return NULL;
	}
	json_object_foreach(seen, k, val)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp_lang);
	for (i = 0; i < n; i++)
		if (json_array_append_new(out, json_string(v[i])) != 0) {
			json_decref(out);
			out = NULL;
			break;
		}
	free(v);
	json_decref(seen);
	return out;
}

int
corp_catalog_key_check(const char *key, struct corp_err *err)
{
	struct corp_catalog *c;
	const char **keys, *k, *kk, *best;
	size_t n = 0;
	json_t *v;
	int rc, found = 0;

	/* A malformed key is corp_notify_set's to refuse (65). */
	if (!corp_msgkey_valid(key))
		return 0;
	if ((c = corp_catalog_new()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_catalog_load_std(c, err)) != 0) {
		corp_catalog_free(c);
		return rc;
	}
	if ((keys = calloc(json_object_size(c->map) + 1,
	    sizeof(*keys))) == NULL) {
		corp_catalog_free(c);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	json_object_foreach(c->map, k, v) {
		kk = strchr(k, ':');
		kk = kk != NULL ? kk + 1 : k;
		if (strcmp(kk, key) == 0)
			found = 1;
		keys[n++] = kk;
	}
	rc = 0;
	if (!found) {
		best = corp_suggest(key, keys, 2);
		rc = corp_errf(err, CORP_EUSAGE, "--template: no catalog "
		    "defines the key '%s'%s%s%s; add it to %s/i18n/LANG.txt "
		    "first (corp-fmt(1))", key, best ? " (did you mean '" : "",
		    best ? best : "", best ? "'?)" : "", corp_cfg.data_dir);
	}
	free(keys);
	corp_catalog_free(c);
	return rc;
}
