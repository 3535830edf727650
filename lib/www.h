/*
 * www.h -- corp-api's two pages (corp-api.1 PAGES): the review page and
 * the operator page, plain files in SHARE_DIR/www (make install puts
 * them there; found as the catalogs are, corp_cfg.share_dir), read once
 * at start and served from memory.  No HTTP here: a path in, the bytes
 * and their type out.
 *
 * Contract: only the files named in the table of www.c are served, by
 * their fixed paths ("/", "/ops", "/static/NAME"); no path from a client
 * ever reaches the file system.  The directory and each file pass the
 * ownership rule (corp.7 SECURITY: what corp serves is as trusted as
 * what it says), else CORP_EFORBIDDEN naming it; a missing directory is
 * CORP_ENOTFOUND (corp-api then answers the pages' paths with 404).
 */
#ifndef CORP_WWW_H
#define CORP_WWW_H

#include <stddef.h>

struct corp_err;

/* The headers every page and file goes out with: a strict CSP (no
 * inline script or style, nothing from another origin, not framed). */
#define CORP_WWW_CSP	"default-src 'none'; script-src 'self'; " \
	"style-src 'self'; img-src 'self'; connect-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct corp_www_file {
	const char	*path;		/* "/", "/ops", "/static/review.js" */
	const char	*name;		/* the file in SHARE_DIR/www */
	const char	*type;		/* Content-Type */
	char		*body;
	size_t		 len;
};

struct corp_www {
	char		*dir;
	int		 loaded;
	struct corp_www_file *files;
};

/* Read every file of the table from dir (NULL: SHARE_DIR/www). */
int	corp_www_load(struct corp_www *, const char *dir, struct corp_err *);
/* The file served at path (GET or HEAD), or NULL: not a page's path. */
const struct corp_www_file *corp_www_get(const struct corp_www *,
	    const char *path);
/* Is path one of the pages' paths (served or not)? */
int	corp_www_path(const char *path);
void	corp_www_free(struct corp_www *);

#endif
