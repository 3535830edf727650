/* www.c -- see www.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "fsutil.h"
#include "www.h"

#define MAX_FILE	(1024 * 1024)

static const struct corp_www_file table[] = {
	{ "/", "review.html", "text/html; charset=utf-8", NULL, 0 },
	{ "/ops", "ops.html", "text/html; charset=utf-8", NULL, 0 },
	{ "/static/corp.css", "corp.css", "text/css; charset=utf-8", NULL, 0 },
	{ "/static/common.js", "common.js", "text/javascript; charset=utf-8",
	    NULL, 0 },
	{ "/static/review.js", "review.js", "text/javascript; charset=utf-8",
	    NULL, 0 },
	{ "/static/ops.js", "ops.js", "text/javascript; charset=utf-8", NULL,
	    0 },
};
#define NFILES	(sizeof(table) / sizeof(table[0]))

void
corp_www_free(struct corp_www *w)
{
	size_t i;

	if (w->files != NULL)
		for (i = 0; i < NFILES; i++)
			free(w->files[i].body);
	free(w->files);
	free(w->dir);
	memset(w, 0, sizeof(*w));
}

int
corp_www_load(struct corp_www *w, const char *dir, struct corp_err *err)
{
	char *path;
	size_t i;
	int rc;

	memset(w, 0, sizeof(*w));
	if (dir != NULL)
		w->dir = corp_strdup(dir);
	else if (corp_cfg.share_dir == NULL)
		return corp_errf(err, CORP_ENOTFOUND, "no share directory");
	else if (corp_asprintf(&w->dir, "%s/www", corp_cfg.share_dir) < 0)
		w->dir = NULL;
	if (w->dir == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_trust_dir(w->dir, err)) != 0)
		return rc;
	if ((w->files = calloc(NFILES, sizeof(*w->files))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	memcpy(w->files, table, sizeof(table));
	for (i = 0; i < NFILES; i++) {
		if (corp_asprintf(&path, "%s/%s", w->dir, table[i].name) < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		rc = corp_read_conf(path, MAX_FILE, &w->files[i].body,
		    &w->files[i].len, err);
		free(path);
		if (rc != 0)
			return rc;
	}
	w->loaded = 1;
	return 0;
}

int
corp_www_path(const char *path)
{
	size_t i;

	for (i = 0; i < NFILES; i++)
		if (strcmp(path, table[i].path) == 0)
			return 1;
	return 0;
}

const struct corp_www_file *
corp_www_get(const struct corp_www *w, const char *path)
{
	size_t i;

	if (!w->loaded)
		return NULL;
	for (i = 0; i < NFILES; i++)
		if (strcmp(path, w->files[i].path) == 0)
			return &w->files[i];
	return NULL;
}
