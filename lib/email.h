/*
 * email.h -- the email transport: an RFC 5322 message sent over SMTP by
 * libcurl with TLS required (STARTTLS on smtp://, or smtps://).
 *
 * DATA_DIR/smtp.conf (optional; options override it): lines
 * "url smtp://host:587", "from corp@example.com", "user NAME"; blank
 * lines and # comments ignored.  The password is a secret
 * (CORP_SMTP_PASSWORD or DATA_DIR/secrets/smtp_password).
 */
#ifndef CORP_EMAIL_H
#define CORP_EMAIL_H

#include <time.h>

struct corp_err;
struct corp_sendres;
struct corp_smtp;

struct corp_smtp_conf {
	char	*url, *from, *user;
};

/* Fill the fields conf does not have yet from DATA_DIR/smtp.conf. */
int	corp_smtp_conf_load(struct corp_smtp_conf *, struct corp_err *);
/*
 * An address corp stores and sends (mailaddr.c, no libcurl): printable
 * ASCII LOCAL@DOMAIN without characters that need quoting, the domain
 * dot-separated labels.  Non-ASCII is refused: corp does not use
 * SMTPUTF8.  CORP_EINVAL with the reason.
 */
int	corp_email_addr_check(const char *, struct corp_err *);
int	corp_email_addr_ok(const char *);
/*
 * The whole message, CRLF line ends: Date (t), Message-ID
 * (<random@domain of from>), From, To, Subject (RFC 2047 B-encoded
 * words when not ASCII), MIME-Version, Content-Type text/plain;
 * charset=UTF-8, Content-Transfer-Encoding base64, then the body.
 */
int	corp_email_message(const char *from, const char *to,
	    const char *subject, const char *text, time_t t, char **out,
	    struct corp_err *);

int	corp_smtp_open(struct corp_smtp **, const struct corp_smtp_conf *,
	    const char *password, const char *ca_file, long connect_ms,
	    long total_ms, struct corp_err *);
void	corp_smtp_close(struct corp_smtp *);
/* Send msg to one recipient: success sent; SMTP 4xx and network
 * errors retry; 5xx failed; a refused login sets bad_token. */
void	corp_smtp_send(struct corp_smtp *, const char *to, const char *msg,
	    struct corp_sendres *);

#endif
