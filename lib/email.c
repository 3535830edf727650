/* email.c -- see email.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "corp.h"
#include "email.h"
#include "fsutil.h"
#include "http.h"
#include "rand.h"
#include "send.h"

struct corp_smtp {
	CURL	*c;
	char	*url, *from, *user, *password, *ca_file;
	long	 connect_ms, total_ms;
	char	 errbuf[CURL_ERROR_SIZE];
};

struct reader {
	const char	*p;
	size_t		 left;
};

static int
setconf(char **dst, const char *v, struct corp_err *err)
{
	if (*dst != NULL)
		return 0;	/* an option given on the command line wins */
	if ((*dst = strdup(v)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_smtp_conf_load(struct corp_smtp_conf *c, struct corp_err *err)
{
	char *path, *buf, *line, *next, *v;
	int rc = 0, lineno = 0;

	if ((rc = corp_data_path(&path, "smtp.conf", err)) != 0)
		return rc;
	rc = corp_read_conf(path, 65536, &buf, NULL, err);
	if (rc == CORP_ENOTFOUND) {
		free(path);
		return 0;
	}
	if (rc != 0) {
		free(path);
		return rc;
	}
	for (line = buf; line != NULL && rc == 0; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		v = line + strcspn(line, " \t");
		if (*v != '\0')
			*v++ = '\0';
		v += strspn(v, " \t");
		if (strcmp(line, "url") == 0)
			rc = setconf(&c->url, v, err);
		else if (strcmp(line, "from") == 0)
			rc = setconf(&c->from, v, err);
		else if (strcmp(line, "user") == 0)
			rc = setconf(&c->user, v, err);
		else
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: unknown "
			    "setting \"%s\" (url, from, user)", path, lineno,
			    line);
	}
	free(buf);
	free(path);
	return rc;
}

int
corp_email_addr_ok(const char *a)
{
	const char *at;

	if (a == NULL || strlen(a) > 254 || a[strcspn(a, " \t\r\n<>,\"")]
	    != '\0')
		return 0;
	at = strchr(a, '@');
	return at != NULL && at != a && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

static int
ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* Append to a growing string; -1 on out of memory. */
static int
cat(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb;

	if ((nb = realloc(*buf, *len + n + 1)) == NULL)
		return -1;
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

/* RFC 2047 B words of at most 45 bytes each, cut between characters. */
static int
encoded_subject(char **buf, size_t *len, const char *s)
{
	unsigned char b64[80];
	size_t n, total = strlen(s), off = 0;
	int first = 1;

	while (off < total) {
		n = total - off > 45 ? 45 : total - off;
		while (off + n < total && n > 0 &&
		    ((unsigned char)s[off + n] & 0xc0) == 0x80)
			n--;
		EVP_EncodeBlock(b64, (const unsigned char *)s + off, (int)n);
		if ((!first && cat(buf, len, "\r\n ", 3) != 0) ||
		    cat(buf, len, "=?UTF-8?B?", 10) != 0 ||
		    cat(buf, len, (char *)b64, strlen((char *)b64)) != 0 ||
		    cat(buf, len, "?=", 2) != 0)
			return -1;
		first = 0;
		off += n;
	}
	return 0;
}

int
corp_email_message(const char *from, const char *to, const char *subject,
    const char *text, time_t t, char **out, struct corp_err *err)
{
	char date[64], rnd[33], *buf = NULL, *subj = NULL, hdr[1024];
	unsigned char line[80];
	const char *dom = strchr(from, '@');
	size_t len = 0, tl = strlen(text), off, i;
	struct tm tm;

	*out = NULL;
	if (corp_nonce_hex(rnd, 16) != 0)
		return corp_errf(err, CORP_EINTERNAL, "message id");
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* No header injection: a subject is one line. */
	if ((subj = strdup(subject != NULL ? subject : "")) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; subj[i]; i++)
		if (subj[i] == '\r' || subj[i] == '\n' || subj[i] == '\t')
			subj[i] = ' ';
	snprintf(hdr, sizeof(hdr), "Date: %s\r\nMessage-ID: <%s@%s>\r\n"
	    "From: %s\r\nTo: %s\r\nSubject: ", date, rnd,
	    dom != NULL ? dom + 1 : "localhost", from, to);
	if (cat(&buf, &len, hdr, strlen(hdr)) != 0 ||
	    (ascii_only(subj) ? cat(&buf, &len, subj, strlen(subj)) :
	    encoded_subject(&buf, &len, subj)) != 0)
		goto oom;
	snprintf(hdr, sizeof(hdr), "\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	if (cat(&buf, &len, hdr, strlen(hdr)) != 0)
		goto oom;
	for (off = 0; off < tl; off += 57) {
		int n = EVP_EncodeBlock(line, (const unsigned char *)text +
		    off, (int)(tl - off > 57 ? 57 : tl - off));

		if (cat(&buf, &len, (char *)line, (size_t)n) != 0 ||
		    cat(&buf, &len, "\r\n", 2) != 0)
			goto oom;
	}
	free(subj);
	*out = buf;
	return 0;
oom:
	free(subj);
	free(buf);
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

int
corp_smtp_open(struct corp_smtp **sp, const struct corp_smtp_conf *conf,
    const char *password, const char *ca_file, long connect_ms,
    long total_ms, struct corp_err *err)
{
	struct corp_smtp *s;

	*sp = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return corp_errf(err, CORP_EINTERNAL, "libcurl: init failed");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	s->url = corp_strdup(conf->url);
	s->from = corp_strdup(conf->from);
	s->user = corp_strdup(conf->user);
	s->password = corp_strdup(password);
	s->ca_file = corp_strdup(ca_file);
	s->connect_ms = connect_ms;
	s->total_ms = total_ms;
	if ((s->c = curl_easy_init()) == NULL) {
		corp_smtp_close(s);
		return corp_errf(err, CORP_EINTERNAL, "libcurl: no handle");
	}
	*sp = s;
	return 0;
}

void
corp_smtp_close(struct corp_smtp *s)
{
	if (s == NULL)
		return;
	if (s->c != NULL)
		curl_easy_cleanup(s->c);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->url);
	free(s->from);
	free(s->user);
	free(s->password);
	free(s->ca_file);
	free(s);
}

static size_t
on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t k = size * n < r->left ? size * n : r->left;

	memcpy(dst, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

void
corp_smtp_send(struct corp_smtp *s, const char *to, const char *msg,
    struct corp_send_res *res)
{
	struct curl_slist *rcpt = NULL;
	struct reader rd = { msg, strlen(msg) };
	char from[300], errmsg[CURL_ERROR_SIZE + 128];
	CURL *c = s->c;
	CURLcode cc;
	long code = 0;

	corp_send_res_init(res);
	if ((rcpt = curl_slist_append(NULL, to)) == NULL) {
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_RETRY, "out of memory");
		return;
	}
	snprintf(from, sizeof(from), "<%s>", s->from);
	curl_easy_reset(c);
	s->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	if (s->user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    s->password != NULL ? s->password : "");
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->total_ms);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (cc == CURLE_OK)
		return;
	snprintf(errmsg, sizeof(errmsg), "%s%s%s", curl_easy_strerror(cc),
	    s->errbuf[0] ? ": " : "", s->errbuf);
	corp_redact(errmsg, sizeof(errmsg), s->password);
	if (cc == CURLE_LOGIN_DENIED) {
		/* The operator's credentials, not this message: stage. */
		res->bad_token = 1;
		res->attempted = 0;
		corp_send_set(res, CORP_SEND_RETRY, "smtp login denied");
	} else if (code >= 500 && code < 600)
		corp_send_set(res, CORP_SEND_FAILED, "smtp: %ld: %s", code,
		    errmsg);
	else if (code >= 400 && code < 500)
		corp_send_set(res, CORP_SEND_RETRY, "smtp: %ld: %s", code,
		    errmsg);
	else
		corp_send_set(res, CORP_SEND_RETRY, "smtp: %s", errmsg);
}
