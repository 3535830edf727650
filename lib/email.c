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
#include "sendres.h"

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

/* The server's last negative reply (code >= 400), continuation lines
 * joined: libcurl's error buffer keeps only the code. */
struct reply {
	long	code;
	int	more;		/* a "550-" line: the reply goes on */
	char	text[201];	/* printable ASCII, '?' for other bytes */
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

#define LINE_PREF	78	/* RFC 5322 2.1.1: SHOULD; MUST is 998 */
#define EW_LINE		76	/* RFC 2047 2: a line with encoded words */

/*
 * "Name: value" CRLF, folded (RFC 5322 2.2.3) before the white space
 * ahead of a word that would take the line past LINE_PREF, so a line is
 * longer only when one word is: callers encode a subject with such a
 * word, and an address is at most 254 octets.  value is printable ASCII
 * and spaces (the caller made sure).
 */
static int
header(char **buf, size_t *len, const char *name, const char *value)
{
	const char *p = value;
	size_t col = strlen(name) + 2, ws, w;
	int words = 0;

	if (cat(buf, len, name, strlen(name)) != 0 ||
	    cat(buf, len, ": ", 2) != 0)
		return -1;
	while (*p != '\0') {
		ws = strspn(p, " ");
		if ((w = strcspn(p + ws, " ")) == 0)
			break;		/* trailing spaces: dropped */
		if (words > 0 && col + ws + w > LINE_PREF) {
			if (cat(buf, len, "\r\n", 2) != 0)
				return -1;
			col = 0;
		}
		if (cat(buf, len, p, ws + w) != 0)
			return -1;
		col += ws + w;
		p += ws + w;
		words++;
	}
	return cat(buf, len, "\r\n", 2);
}

/*
 * Must the subject go as encoded words?  When it is not ASCII, when it
 * holds "=?", which a reader would decode as an encoded word (a title
 * must not choose what the Subject shows), or when a word is too long
 * for a folded line of LINE_PREF octets.
 */
static int
needs_encoding(const char *s)
{
	const unsigned char *p;
	size_t w;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80)
			return 1;
	if (strstr(s, "=?") != NULL)
		return 1;
	for (; *s != '\0'; s += w) {
		s += strspn(s, " ");
		if ((w = strcspn(s, " ")) > LINE_PREF - sizeof("Subject: ") + 1)
			return 1;
	}
	return 0;
}

/*
 * The Subject as RFC 2047 B words, cut between UTF-8 characters, each
 * line (the first with "Subject: ") at most EW_LINE octets; a reader
 * joins adjacent encoded words without the folding white space.
 */
static int
encoded_subject(char **buf, size_t *len, const char *s)
{
	unsigned char b64[80];
	size_t n, room, total = strlen(s), off = 0;
	int first = 1;

	if (cat(buf, len, "Subject:", 8) != 0)
		return -1;
	while (off < total) {
		/* " =?UTF-8?B?" ... "?=": 13 octets around the base64. */
		room = EW_LINE - 13 - (first ? 8 : 0);
		room = room / 4 * 3;
		n = total - off > room ? room : total - off;
		while (off + n < total && n > 0 &&
		    ((unsigned char)s[off + n] & 0xc0) == 0x80)
			n--;
		EVP_EncodeBlock(b64, (const unsigned char *)s + off, (int)n);
		if ((!first && cat(buf, len, "\r\n", 2) != 0) ||
		    cat(buf, len, " =?UTF-8?B?", 11) != 0 ||
		    cat(buf, len, (char *)b64, strlen((char *)b64)) != 0 ||
		    cat(buf, len, "?=", 2) != 0)
			return -1;
		first = 0;
		off += n;
	}
	return cat(buf, len, "\r\n", 2);
}

int
corp_email_message(const char *from, const char *to, const char *subject,
    const char *text, time_t t, char **out, struct corp_err *err)
{
	char date[64], rnd[33], *buf = NULL, *subj = NULL, *mid = NULL;
	unsigned char line[80];
	const char *dom = strchr(from, '@');
	size_t len = 0, tl = strlen(text), off, i;
	struct tm tm;

	*out = NULL;
	if (corp_nonce_hex(rnd, 16) != 0)
		return corp_errf(err, CORP_EINTERNAL, "message id");
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/*
	 * The subject is user text: no control character (CR and LF above
	 * all) reaches the header; it is one line, then folded or encoded.
	 */
	if ((subj = strdup(subject != NULL ? subject : "")) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; subj[i]; i++)
		if ((unsigned char)subj[i] < 0x20 || subj[i] == 0x7f)
			subj[i] = ' ';
	if (corp_asprintf(&mid, "<%s@%s>", rnd, dom != NULL ? dom + 1 :
	    "localhost") < 0)
		goto oom;
	if (header(&buf, &len, "Date", date) != 0 ||
	    header(&buf, &len, "Message-ID", mid) != 0 ||
	    header(&buf, &len, "From", from) != 0 ||
	    header(&buf, &len, "To", to) != 0 ||
	    (needs_encoding(subj) ? encoded_subject(&buf, &len, subj) :
	    header(&buf, &len, "Subject", subj)) != 0 ||
	    header(&buf, &len, "MIME-Version", "1.0") != 0 ||
	    header(&buf, &len, "Content-Type",
	    "text/plain; charset=UTF-8") != 0 ||
	    header(&buf, &len, "Content-Transfer-Encoding", "base64") != 0 ||
	    cat(&buf, &len, "\r\n", 2) != 0)
		goto oom;
	for (off = 0; off < tl; off += 57) {
		int n = EVP_EncodeBlock(line, (const unsigned char *)text +
		    off, (int)(tl - off > 57 ? 57 : tl - off));

		if (cat(&buf, &len, (char *)line, (size_t)n) != 0 ||
		    cat(&buf, &len, "\r\n", 2) != 0)
			goto oom;
	}
	free(subj);
	free(mid);
	*out = buf;
	return 0;
oom:
	free(subj);
	free(mid);
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

/*
 * libcurl hands every SMTP reply line to the header callback (its
 * "pingpong" layer); keep the newest negative reply.  A positive one
 * (QUIT's 221 after a refusal) does not replace it.
 */
static size_t
on_reply(char *b, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, i, k;
	long code;

	if (len < 4 || b[0] < '1' || b[0] > '5' || b[1] < '0' || b[1] > '9' ||
	    b[2] < '0' || b[2] > '9')
		return len;
	code = (b[0] - '0') * 100 + (b[1] - '0') * 10 + (b[2] - '0');
	if (code < 400)
		return len;
	if (!r->more || code != r->code) {
		r->code = code;
		r->text[0] = '\0';
	} else if (r->text[0] != '\0')
		strlcat(r->text, " ", sizeof(r->text));
	r->more = b[3] == '-';
	k = strlen(r->text);
	for (i = 4; i < len && b[i] != '\r' && b[i] != '\n' &&
	    k + 1 < sizeof(r->text); i++)
		r->text[k++] = b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '?';
	r->text[k] = '\0';
	return len;
}

/*
 * The password in every form a server may echo in a reply corp keeps
 * (corp_redact: as is, percent-encoded), and as AUTH sent it: base64 of
 * the password (AUTH LOGIN) and of "\0USER\0PASSWORD" (AUTH PLAIN)
 * (fresh-eyes round 14: a server echoing the PLAIN blob put it in the
 * ack error, the database and stderr).
 */
static void
redact_smtp(char *buf, size_t size, const struct corp_smtp *s)
{
	unsigned char raw[512], b64[700];
	size_t ul, pl;

	if (s->password == NULL || *s->password == '\0')
		return;
	corp_redact(buf, size, s->password);
	pl = strlen(s->password);
	ul = s->user != NULL ? strlen(s->user) : 0;
	if (pl < sizeof(raw) / 2 && EVP_EncodeBlock(b64, (const unsigned char *)
	    s->password, (int)pl) > 0)
		corp_redact(buf, size, (char *)b64);
	if (ul + pl + 2 <= sizeof(raw)) {
		raw[0] = '\0';
		memcpy(raw + 1, s->user != NULL ? s->user : "", ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, s->password, pl);
		if (EVP_EncodeBlock(b64, raw, (int)(ul + pl + 2)) > 0)
			corp_redact(buf, size, (char *)b64);
		explicit_bzero(raw, sizeof(raw));
	}
	explicit_bzero(b64, sizeof(b64));
}

/*
 * "RCPT failed: 550" (libcurl) and "5.1.1 user unknown" (the server)
 * into "RCPT failed: 550 5.1.1 user unknown"; without a reply of that
 * code, libcurl's words alone.
 */
static void
describe(char *out, size_t size, CURLcode cc, const char *errbuf, long code,
    const struct reply *r)
{
	char num[16];
	size_t el = strlen(errbuf), nl;
	const char *what = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (r->code != code || code == 0 || r->text[0] == '\0') {
		snprintf(out, size, "%s%s%s", curl_easy_strerror(cc),
		    errbuf[0] ? ": " : "", errbuf);
		return;
	}
	nl = (size_t)snprintf(num, sizeof(num), " %ld", code);
	if (el > nl && strcmp(errbuf + el - nl, num) == 0)
		snprintf(out, size, "%s %s", errbuf, r->text);
	else
		snprintf(out, size, "%s: %ld %s", what, code, r->text);
}

void
corp_smtp_send(struct corp_smtp *s, const char *to, const char *msg,
    struct corp_sendres *res)
{
	struct curl_slist *rcpt = NULL;
	struct reader rd = { msg, strlen(msg) };
	struct reply reply = { 0, 0, "" };
	char from[300], errmsg[CURL_ERROR_SIZE + 256];
	CURL *c = s->c;
	CURLcode cc;
	long code = 0;

	corp_sendres_init(res);
	if ((rcpt = curl_slist_append(NULL, to)) == NULL) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "out of memory");
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
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (cc == CURLE_OK)
		return;
	describe(errmsg, sizeof(errmsg), cc, s->errbuf, code, &reply);
	redact_smtp(errmsg, sizeof(errmsg), s);
	if (corp_curl_unreached(c, (int)cc)) {
		/* Never reached the server (or no TLS): it pauses. */
		res->attempted = 0;
		res->error_class = "unreachable";
		corp_sendres_set(res, CORP_SEND_RETRY, "smtp: %s", errmsg);
	} else if (cc == CURLE_LOGIN_DENIED) {
		/* The operator's credentials, not this message: stage. */
		res->bad_token = 1;
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_RETRY, "smtp login denied");
	} else if (code >= 500 && code < 600)
		corp_sendres_set(res, CORP_SEND_FAILED, "smtp: %s", errmsg);
	else if (code >= 400 && code < 500)
		corp_sendres_set(res, CORP_SEND_RETRY, "smtp: %s", errmsg);
	else
		corp_sendres_set(res, CORP_SEND_RETRY, "smtp: %s", errmsg);
}
