/* tgspool.c -- see tgspool.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "corp.h"
#include "fsutil.h"
#include "tgbind.h"
#include "tgspool.h"

static int
mkdir1(const char *p, struct corp_err *err)
{
	return corp_private_dir(p, 1, err);
}

int
corp_tg_spool_dir(char **dir, struct corp_err *err)
{
	char *spool;
	int rc;

	*dir = NULL;
	if ((rc = corp_data_mkpath(&spool, "spool", err)) != 0)
		return rc;
	if ((rc = mkdir1(spool, err)) != 0) {
		free(spool);
		return rc;
	}
	if (corp_asprintf(dir, "%s/telegram", spool) < 0) {
		free(spool);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	free(spool);
	if ((rc = mkdir1(*dir, err)) != 0) {
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

int
corp_tg_spool_put(const char *body, size_t len, long long *update_id,
    struct corp_err *err)
{
	json_error_t je;
	json_t *doc, *id;
	char *dir = NULL, *path = NULL;
	int rc;

	*update_id = -1;
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL)
		return corp_errf(err, CORP_EINVAL, "update: %d:%d: %s",
		    je.line, je.column, je.text);
	id = json_object_get(doc, "update_id");
	if (!json_is_object(doc) || !json_is_integer(id) ||
	    json_integer_value(id) < 0) {
		json_decref(doc);
		return corp_errf(err, CORP_EINVAL, "update: expected a JSON "
		    "object with an integer update_id");
	}
	*update_id = json_integer_value(id);
	json_decref(doc);
	if ((rc = corp_tg_spool_dir(&dir, err)) != 0)
		return rc;
	if (corp_asprintf(&path, "%s/%lld.json", dir, *update_id) < 0)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	else
		rc = corp_atomic_write(path, body, len, err);
	free(dir);
	free(path);
	return rc;
}

static int
cmp_id(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int
corp_tg_spool_list(const char *dir, long long **ids, size_t *n,
    struct corp_err *err)
{
	struct dirent *de;
	const char *es;
	long long v, *a = NULL, *na;
	size_t len, cap = 0;
	char num[24];
	DIR *d;

	*ids = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		/* "<digits>.json": temporary files and the rest are not ours */
		if (len < 6 || len - 5 >= sizeof(num) ||
		    strcmp(de->d_name + len - 5, ".json") != 0 ||
		    strspn(de->d_name, "0123456789") != len - 5)
			continue;
		memcpy(num, de->d_name, len - 5);
		num[len - 5] = '\0';
		v = strtonum(num, 0, LLONG_MAX, &es);
		if (es != NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((na = reallocarray(a, cap, sizeof(*a))) == NULL) {
				free(a);
				closedir(d);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
			a = na;
		}
		a[(*n)++] = v;
	}
	if (errno != 0) {
		int e = errno;

		free(a);
		closedir(d);
		*n = 0;
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(e));
	}
	closedir(d);
	if (*n > 0)
		qsort(a, *n, sizeof(*a), cmp_id);
	*ids = a;
	return 0;
}

int
corp_secret_equal(const char *a, const char *b)
{
	char ha[65], hb[65];

	if (a == NULL || b == NULL ||
	    corp_sha256_hex(a, strlen(a), ha, NULL) != 0 ||
	    corp_sha256_hex(b, strlen(b), hb, NULL) != 0)
		return 0;
	return CRYPTO_memcmp(ha, hb, 64) == 0;
}
