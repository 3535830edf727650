/*
 * tgbutton.h -- the signed callback_data of a card's buttons (issue 19,
 * corp-tg.1 "BUTTONS"; DESIGN 12).
 *
 * corp-fmt puts the buttons on the line unsigned ("buttons": labels and
 * actions; corp-fmt links no libcrypto); corp-send telegram signs each
 * action when it builds the request's inline keyboard, and corp-tg
 * checks the signature when the button is pressed.  A token is
 *
 *	DELIVERY_ID "." ACTION "." MAC
 *
 * where MAC is the first 16 bytes of HMAC-SHA256(key, "corp-button:1:"
 * DELIVERY_ID ":" ACTION) as 22 base64url characters: at most
 * 19 + 1 + 20 + 1 + 22 = 63 bytes, within Telegram's 64.  The key is
 * DATA_DIR/secrets/tg-button.key, 32 random bytes as base64url, made
 * by the first corp-send that needs it (0600, never replaced; a new key
 * voids the buttons of every card sent before it).
 */
#ifndef CORP_TGBUTTON_H
#define CORP_TGBUTTON_H

#include <time.h>

struct corp_db;
struct corp_err;

#define CORP_TGBUTTON_SECRET	"tg-button.key"
#define CORP_TGBUTTON_TOKEN_MAX	64

/*
 * The key (caller frees, wipes); create: make it when missing.
 * CORP_ENOTFOUND without one (and !create), CORP_EFORBIDDEN when the
 * secrets directory or the file is not trusted.
 */
int	corp_tgbutton_key(int create, char **key, struct corp_err *);
/* The token of (delivery_id, action) into out (64 bytes + NUL). */
int	corp_tgbutton_sign(const char *key, long long delivery_id,
	    const char *action, char out[CORP_TGBUTTON_TOKEN_MAX + 1],
	    struct corp_err *);
/*
 * Check a token: CORP_EINVAL when it is not one (its shape), else
 * CORP_EFORBIDDEN when the MAC is not the key's; 0 with the delivery
 * id and the action (21 bytes) filled.
 */
int	corp_tgbutton_verify(const char *key, const char *token,
	    long long *delivery_id, char action[21], struct corp_err *);


/*
 * A button pressed (corp-tg.1 "BUTTONS"), inside the update's write
 * transaction.  In: the fields above "out".  Out: answer, the catalog
 * key the press is answered with (bot.button.*), and, when the press
 * acted, edit = 1 with action and actor (the user's name) to show on
 * the card; user_id is the presser's (0: not a user corp knows) for the
 * answer's language.  The press acts at most once per card: the first
 * press stores its row (tg_button_presses) with the event it made, in
 * this transaction.  Errors are the database's: roll back.
 */
#define CORP_TGBUTTON_TTL	(30 * 86400)	/* a card's buttons live */
struct corp_tgbutton_press {
	const char	*key;		/* NULL: no key, every token forged */
	const char	*data;		/* callback_data, may be NULL */
	const char	*callback_id;
	long long	 from_id;	/* the presser's Telegram id */
	long long	 chat_id;	/* the card's chat (0: none: refused) */
	long long	 message_id;	/* the card's message (0: none: refused) */
	long long	 update_id;
	time_t		 now;
	/* out */
	const char	*answer;
	int		 edit;
	long long	 user_id;
	long long	 event_id;
	char		 action[21];
	char		*actor;		/* caller frees */
	char		 why[256];	/* a refusal, for the log */
};
int	corp_tgbutton_press_tx(struct corp_db *, struct corp_tgbutton_press *,
	    struct corp_err *);

#endif
