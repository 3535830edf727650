/* tgbot.c -- see tgbot.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corp.h"
#include "digest.h"
#include "fsutil.h"
#include "tgbot.h"

int
corp_tg_bot_id(const char *token, char *out, struct corp_err *err)
{
	char hex[65];
	int rc;

	if ((rc = corp_sha256_hex(token, strlen(token), hex, err)) != 0)
		return rc;
	memcpy(out, hex, 16);
	out[16] = '\0';
	return 0;
}

int
corp_tg_token(char **token, struct corp_err *err)
{
	int rc;

	if ((rc = corp_secret(corp_cfg.telegram_token, "telegram_token",
	    token, err)) != 0)
		return rc;
	if (corp_tg_token_ok(*token))
		return 0;
	explicit_bzero(*token, strlen(*token));
	free(*token);
	*token = NULL;
	return corp_errf(err, CORP_ECONFIG, "%s/secrets/telegram_token: not a "
	    "bot token (expected DIGITS:KEY as @BotFather gives it, as for "
	    "CORP_TELEGRAM_TOKEN; the value is not shown)", corp_cfg.data_dir);
}

int
corp_tg_username_ok(const char *s)
{
	size_t n = strlen(s);

	/* Telegram: 5-32 of A-Z a-z 0-9 _, a letter first; a bot's ends
	 * in "bot" (core.telegram.org/bots/features#botfather). */
	return n >= 5 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == n &&
	    isalpha((unsigned char)s[0]) && strcasecmp(s + n - 3, "bot") == 0;
}
