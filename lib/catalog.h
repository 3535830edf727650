/*
 * catalog.h -- i18n message catalogs (seed 003's format, DESIGN 6).
 *
 * A catalog file holds lines
 *
 *	{lang}:{key} | "{text}"
 *
 * where {text} is a JSON string literal; lines starting with '#' and blank
 * lines are comments.  Files are loaded in layers: the shipped directory,
 * then the operator's data directory, then files named on the command
 * line.  Within one layer a (lang, key) may appear once (a duplicate is
 * CORP_EINVAL naming both places); a later layer overrides an earlier
 * one, key by key.
 */
#ifndef CORP_CATALOG_H
#define CORP_CATALOG_H

#include <jansson.h>

struct corp_err;
struct corp_catalog;

struct corp_catalog *corp_catalog_new(void);
void	corp_catalog_free(struct corp_catalog *);

/*
 * Load one file into layer.  CORP_EINVAL with "FILE:LINE: why" for a
 * malformed line or a duplicate within the layer; CORP_EINTERNAL when the
 * file cannot be read; CORP_EFORBIDDEN when it fails the ownership rule
 * (corp_read_conf: a symbolic link, not a regular file, another user's,
 * or writable by group or others).
 */
int	corp_catalog_load_file(struct corp_catalog *, const char *path,
	    int layer, struct corp_err *);
/* The same for len bytes of buf; name stands for the file in messages. */
int	corp_catalog_load_mem(struct corp_catalog *, const char *buf,
	    size_t len, const char *name, int layer, struct corp_err *);
/*
 * Load the files DIR/NAME.txt in name order into layer.  A missing directory loads
 * nothing and is not an error.
 */
int	corp_catalog_load_dir(struct corp_catalog *, const char *dir,
	    int layer, struct corp_err *);

/*
 * The standard layers: SHARE_DIR/i18n (layer 1), then DATA_DIR/i18n
 * (layer 2), as corp-fmt.1 describes.  CORP_EINTERNAL when neither
 * holds an entry.
 */
int	corp_catalog_load_std(struct corp_catalog *, struct corp_err *);

/* The text of (lang, key), or NULL. */
const char *corp_catalog_get(const struct corp_catalog *, const char *lang,
	    const char *key);
/* The layer (lang, key) comes from (the last one that defined it), or 0. */
int	corp_catalog_layer(const struct corp_catalog *, const char *lang,
	    const char *key);
/* "FILE:LINE" where (lang, key) was defined, or NULL. */
const char *corp_catalog_where(const struct corp_catalog *,
	    const char *lang, const char *key);
/*
 * Call fn for every entry, in (lang, key) byte order, with its text, layer
 * and "FILE:LINE"; a non-zero return of fn stops the walk and is returned.
 * CORP_EINTERNAL (err set) when out of memory.
 */
int	corp_catalog_each(const struct corp_catalog *,
	    int (*fn)(void *arg, const char *lang, const char *key,
	    const char *text, int layer, const char *where), void *arg,
	    struct corp_err *);
/*
 * A notification setting's --template KEY: defined in some language of
 * the standard catalogs (corp_catalog_load_std), or CORP_EUSAGE naming
 * the closest key; a catalog that does not load is its own error.
 */
int	corp_catalog_key_check(const char *key, struct corp_err *);
/* Number of entries loaded. */
size_t	corp_catalog_size(const struct corp_catalog *);
/* The languages that have at least one entry, sorted, as a new JSON
 * array of strings (NULL when out of memory). */
json_t	*corp_catalog_langs(const struct corp_catalog *);

#endif
