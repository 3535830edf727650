/*
 * webpush-tool -- lib/webpush.c on the command line, for the shell tests
 * that check it against an independent implementation (tests/fakes/
 * fake-push).  A test driver, not a corp tool: no man page, not installed.
 *
 *   webpush-tool encrypt SUBFILE [RS]  < PLAINTEXT > BODY
 *   webpush-tool keygen KEYFILE        (writes the PEM 0600, prints the
 *                                       public key)
 *   webpush-tool vapid KEYFILE ENDPOINT SUBJECT [NOW [EXPIRES_IN]]
 *                                      (prints the Authorization value;
 *                                       NOW defaults to time(NULL))
 *   webpush-tool sub                   < SUBSCRIPTION (prints it checked,
 *                                       keys in canonical form)
 *
 * SUBFILE is a PushSubscription (http endpoints allowed).  Errors:
 * "webpush-tool: MESSAGE" on stderr, exit status the corp code (65 for
 * bad input, 64 usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "corp.h"
#include "webpush.h"

static __attribute__((noreturn)) void
die(int code, const char *msg)
{
	fprintf(stderr, "webpush-tool: %s\n", msg);
	exit(code);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: webpush-tool encrypt SUBFILE [RS] < PLAIN\n"
	    "       webpush-tool keygen KEYFILE\n"
	    "       webpush-tool vapid KEYFILE ENDPOINT SUBJECT [NOW "
	    "[EXPIRES_IN]]\n"
	    "       webpush-tool sub < SUBSCRIPTION\n");
	exit(64);
}

/* All of fd into a fresh buffer (NUL-terminated). */
static char *
slurp(int fd, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	ssize_t n;

	if (buf == NULL)
		die(1, "out of memory");
	for (;;) {
		if (len == cap) {
			if ((nb = realloc(buf, cap * 2 + 1)) == NULL)
				die(1, "out of memory");
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static char *
slurp_file(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY);
	char *buf;

	if (fd < 0)
		die(1, strerror(errno));
	buf = slurp(fd, lenp);
	close(fd);
	return buf;
}

static long long
num(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct corp_webpush_sub sub;
	struct corp_webpush_vapid *v;
	struct corp_err e;
	unsigned char *body;
	char pub[CORP_WEBPUSH_KEY_B64], *text, *pem, *val;
	size_t len, bodylen;
	FILE *f;
	int fd;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "encrypt") == 0 && (argc == 3 || argc == 4)) {
		text = slurp_file(argv[2], &len);
		if (corp_webpush_sub_parse_text(text, len, argv[2],
		    CORP_WEBPUSH_ALLOW_HTTP, &sub, &e) != 0)
			die(e.code, e.msg);
		free(text);
		text = slurp(0, &len);
		if (corp_webpush_encrypt(sub.p256dh, sub.auth, text, len,
		    argc == 4 ? (uint32_t)num(argv[3], 0, 4294967295LL) : 0,
		    &body, &bodylen, &e) != 0)
			die(e.code, e.msg);
		if (fwrite(body, 1, bodylen, stdout) != bodylen)
			die(1, strerror(errno));
		free(body);
		free(text);
		corp_webpush_sub_free(&sub);
	} else if (strcmp(argv[1], "keygen") == 0 && argc == 3) {
		if (corp_webpush_vapid_keygen(&pem, pub, &e) != 0)
			die(e.code, e.msg);
		if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0600)) <
		    0 || (f = fdopen(fd, "w")) == NULL ||
		    fputs(pem, f) == EOF || fclose(f) != 0)
			die(1, strerror(errno));
		free(pem);
		printf("%s\n", pub);
	} else if (strcmp(argv[1], "vapid") == 0 && argc >= 5 && argc <= 7) {
		text = slurp_file(argv[2], &len);
		if (corp_webpush_vapid_load(text, len, &v, &e) != 0)
			die(e.code, e.msg);
		free(text);
		if (corp_webpush_vapid_header(v, argv[3], argv[4],
		    argc >= 6 ? (time_t)num(argv[5], 0, 1LL << 40) :
		    time(NULL), argc == 7 ? (long)num(argv[6], -1, 1LL << 40) :
		    0, &val, &e) != 0)
			die(e.code, e.msg);
		printf("%s\n", val);
		free(val);
		corp_webpush_vapid_free(v);
	} else if (strcmp(argv[1], "sub") == 0 && argc == 2) {
		json_t *o;

		text = slurp(0, &len);
		if (corp_webpush_sub_parse_text(text, len, "<stdin>",
		    CORP_WEBPUSH_ALLOW_HTTP, &sub, &e) != 0)
			die(e.code, e.msg);
		o = json_pack("{s:s, s:o, s:{s:s, s:s}}", "endpoint",
		    sub.endpoint, "expirationTime", sub.expiration_ms < 0 ?
		    json_null() : json_integer(sub.expiration_ms), "keys",
		    "p256dh", sub.p256dh, "auth", sub.auth);
		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT |
		    JSON_PRESERVE_ORDER) != 0)
			die(1, "cannot print");
		putchar('\n');
		json_decref(o);
		free(text);
		corp_webpush_sub_free(&sub);
	} else
		usage();
	if (fclose(stdout) != 0)
		die(1, strerror(errno));
	return 0;
}
