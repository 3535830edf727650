/* webhookconf.c -- see webhookconf.h. */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "corp.h"
#include "fsutil.h"
#include "webhookconf.h"

struct endpoint {
	char	*name, *url;
	int	 line;
};

struct conf {
	char		*path, *buf;
	struct endpoint	*ep;
	size_t		 n;
};

static void
conf_free(struct conf *c)
{
	free(c->path);
	free(c->buf);
	free(c->ep);
	memset(c, 0, sizeof(*c));
}

/*
 * Read and check the whole file: a name defined twice is an error, not
 * a silent first-wins.  CORP_ENOTFOUND (message "no file PATH") when
 * there is no file.
 */
static int
conf_load(struct conf *c, struct corp_err *err)
{
	struct endpoint *ep;
	char *line, *next, *sp;
	size_t i;
	int rc, lineno = 0;

	memset(c, 0, sizeof(*c));
	if ((rc = corp_data_path(&c->path, "webhooks.conf", err)) != 0)
		return rc;
	/* The ownership rule (corp_read_conf) is what keeps others out. */
	if ((rc = corp_read_conf(c->path, 1024 * 1024, &c->buf, NULL, err))
	    != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_errf(err, rc, "no file %s", c->path);
		goto fail;
	}
	for (line = c->buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		sp = line + strcspn(line, " \t");
		if (*sp == '\0') {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: expected "
			    "NAME URL", c->path, lineno);
			goto fail;
		}
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		sp[strcspn(sp, " \t")] = '\0';
		if (!corp_webhook_name_ok(line)) {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: endpoint "
			    "name '%s': expected 1-64 of A-Z a-z 0-9 _ . -, "
			    "not starting with a dot", c->path, lineno, line);
			goto fail;
		}
		for (i = 0; i < c->n; i++)
			if (strcmp(c->ep[i].name, line) == 0) {
				rc = corp_errf(err, CORP_EINVAL, "%s:%d: "
				    "endpoint '%s' is already defined on line "
				    "%d", c->path, lineno, line, c->ep[i].line);
				goto fail;
			}
		if ((ep = reallocarray(c->ep, c->n + 1, sizeof(*ep))) == NULL) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto fail;
		}
		c->ep = ep;
		ep[c->n].name = line;
		ep[c->n].url = sp;
		ep[c->n].line = lineno;
		c->n++;
	}
	return 0;
fail:
	conf_free(c);
	return rc;
}

int
corp_webhook_url(const char *name, char **url, struct corp_err *err)
{
	struct conf c;
	size_t i;
	int rc;

	*url = NULL;
	if ((rc = conf_load(&c, err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_errprefix(err, "no webhook endpoint \"%s\"", name);
		return rc;
	}
	rc = corp_errf(err, CORP_ENOTFOUND, "no webhook endpoint \"%s\" in "
	    "%s", name, c.path);
	for (i = 0; i < c.n; i++)
		if (strcmp(c.ep[i].name, name) == 0) {
			if ((*url = strdup(c.ep[i].url)) == NULL)
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			else
				rc = 0;
			break;
		}
	conf_free(&c);
	return rc;
}

int
corp_webhook_names(char ***names, struct corp_err *err)
{
	struct conf c;
	size_t i;
	int rc;

	*names = NULL;
	if ((rc = conf_load(&c, err)) != 0)
		return rc;
	if ((*names = calloc(c.n + 1, sizeof(**names))) == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; rc == 0 && i < c.n; i++)
		if (((*names)[i] = strdup(c.ep[i].name)) == NULL)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	conf_free(&c);
	if (rc != 0) {
		corp_webhook_names_free(*names);
		*names = NULL;
	}
	return rc;
}

void
corp_webhook_names_free(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

int
corp_webhook_secret_key(const char *secret, unsigned char *key,
    size_t size)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char buf[CORP_WEBHOOK_KEY_MAX + 3];
	size_t len, body;
	int n, pad = 0;

	if (secret == NULL || strncmp(secret, "whsec_", 6) != 0)
		return -1;
	secret += 6;
	len = strlen(secret);
	body = strspn(secret, b64);
	if (body < len && secret[body] == '=')
		pad = body + 1 < len && secret[body + 1] == '=' ? 2 : 1;
	if (body + (size_t)pad != len || len % 4 != 0 ||
	    len / 4 * 3 > sizeof(buf))
		return -1;
	if ((n = EVP_DecodeBlock(buf, (const unsigned char *)secret,
	    (int)len)) < 0)
		return -1;
	n -= pad;
	if (n < CORP_WEBHOOK_KEY_MIN || n > CORP_WEBHOOK_KEY_MAX ||
	    (key != NULL && (size_t)n > size)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	if (key != NULL)
		memcpy(key, buf, (size_t)n);
	OPENSSL_cleanse(buf, sizeof(buf));
	return n;
}

int
corp_webhook_secret_check(const char *secret, const char *path,
    struct corp_err *err)
{
	if (corp_webhook_secret_key(secret, NULL, 0) >= 0)
		return 0;
	return corp_errf(err, CORP_ECONFIG, "%s: not a webhook secret "
	    "(expected whsec_ followed by the base64 of %d to %d bytes, as "
	    "Standard Webhooks gives it; a raw secret is not accepted; the "
	    "value is not shown)", path, CORP_WEBHOOK_KEY_MIN,
	    CORP_WEBHOOK_KEY_MAX);
}
