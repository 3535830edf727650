/*
 * tgbot.h -- the Telegram bot's identity: its token, the id files and
 * rows name it by, the rule for its username.  Apart from telegram.h (the
 * Bot API client): none of these makes a request, so a caller of them
 * alone (corp-bind code, settings_check.c) pulls in no HTTP client.
 */
#ifndef CORP_TGBOT_H
#define CORP_TGBOT_H

struct corp_err;

/* The first 16 hex digits of SHA-256(token): how files and rows name a
 * bot without its token (out: 17 bytes). */
int	corp_tg_bot_id(const char *token, char *out, struct corp_err *);
/*
 * The bot token: CORP_TELEGRAM_TOKEN (checked when the environment was
 * read), else DATA_DIR/secrets/telegram_token (corp_secret), which must
 * be a token as well (corp_tg_token_ok): CORP_ECONFIG naming the file,
 * never the value.  The other errors are corp_secret's.
 */
int	corp_tg_token(char **token, struct corp_err *);
/* A Telegram bot username: 5-32 of A-Z a-z 0-9 _, a letter first,
 * ending in "bot" (any case)? */
int	corp_tg_username_ok(const char *);

#endif
