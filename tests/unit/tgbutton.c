/* tgbutton.c -- the signed callback_data of buttons and the buttons'
 * catalog syntax (issue 19; corp-tg.1 BUTTONS, corp-fmt.1 Buttons). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"
#include "corp.h"
#include "render.h"
#include "tgbutton.h"

static const char key[] = "k3y-for-the-unit-test_0123456789abcdefghijk";

static int
verify(const char *tok, long long *id, char action[21])
{
	struct corp_err e;

	return corp_tgbutton_verify(key, tok, id, action, &e);
}

int
main(void)
{
	struct corp_err e;
	char tok[80], t2[160], action[21];
	long long id;
	json_t *b;
	char *s;

	ok(corp_tgbutton_sign(key, 1, "done", tok, &e) == 0, "sign");
	ok(strncmp(tok, "1.done.", 7) == 0 && strlen(tok) == 29,
	    "DELIVERY.ACTION.MAC, 22 characters of MAC");
	ok(verify(tok, &id, action) == 0 && id == 1 &&
	    strcmp(action, "done") == 0, "verifies, naming delivery and action");
	ok(corp_tgbutton_sign(key, 9007199254740991LL,
	    "abcdefghijklmnopqrst", tok, &e) == 0 && strlen(tok) <= 64,
	    "the longest token fits Telegram's 64 bytes (%zu)", strlen(tok));
	ok(verify(tok, &id, action) == 0, "and verifies");
	ok(corp_tgbutton_sign(key, 1, "Done", tok, &e) == CORP_EINVAL,
	    "an action that is no word is not signed");
	ok(corp_tgbutton_sign(key, 0, "done", tok, &e) == CORP_EINVAL,
	    "nor delivery 0");

	corp_tgbutton_sign(key, 12, "no_show", tok, &e);
	strcpy(t2, tok);
	t2[0] = '3';
	ok(verify(t2, &id, action) == CORP_EFORBIDDEN, "another delivery: forged");
	strcpy(t2, tok);
	memcpy(t2 + 3, "yes_sho", 7);
	ok(verify(t2, &id, action) == CORP_EFORBIDDEN, "another action: forged");
	strcpy(t2, tok);
	t2[strlen(t2) - 1] = t2[strlen(t2) - 1] == 'A' ? 'B' : 'A';
	ok(verify(t2, &id, action) == CORP_EFORBIDDEN, "a MAC changed: forged");
	ok(corp_tgbutton_verify("another key", tok, &id, action, &e) ==
	    CORP_EFORBIDDEN, "another key: forged");
	ok(verify("", &id, action) == CORP_EINVAL, "empty: malformed");
	ok(verify("12.no_show", &id, action) == CORP_EINVAL, "no MAC");
	snprintf(t2, sizeof(t2), "012%s", tok + 2);
	ok(verify(t2, &id, action) == CORP_EINVAL, "a leading zero");
	snprintf(t2, sizeof(t2), "-12%s", tok + 2);
	ok(verify(t2, &id, action) == CORP_EINVAL, "a sign");
	snprintf(t2, sizeof(t2), "99999999999999999999%s", tok + 2);
	ok(verify(t2, &id, action) == CORP_EINVAL, "beyond 2^53");
	snprintf(t2, sizeof(t2), "%sA", tok);
	ok(verify(t2, &id, action) == CORP_EINVAL, "a MAC too long");
	ok(verify("12..AAAAAAAAAAAAAAAAAAAAAA", &id, action) == CORP_EINVAL,
	    "no action");
	ok(verify("12.a.b.AAAAAAAAAAAAAAAAAAAAAA", &id, action) ==
	    CORP_EINVAL, "a dot in the action");
	ok(verify(NULL, &id, action) == CORP_EINVAL, "none");

	/* The catalog syntax. */
	ok(corp_buttons_parse(" Yes = done | No=no_show \n\nLater=later\n",
	    &b, &e) == 0, "rows and buttons");
	s = json_dumps(b, JSON_COMPACT);
	is_str(s, "[[{\"text\":\"Yes\",\"action\":\"done\"},{\"text\":\"No\","
	    "\"action\":\"no_show\"}],[{\"text\":\"Later\",\"action\":"
	    "\"later\"}]]", "trimmed, blank rows dropped");
	free(s);
	json_decref(b);
	ok(corp_buttons_parse("a=b=c", &b, &e) == 0, "the last = splits");
	is_str(json_string_value(json_object_get(json_array_get(
	    json_array_get(b, 0), 0), "text")), "a=b", "so a label may hold =");
	json_decref(b);
	ok(corp_buttons_parse("Yes", &b, &e) == CORP_ECONFIG && b == NULL,
	    "no action");
	ok(corp_buttons_parse("=done", &b, &e) == CORP_ECONFIG, "no label");
	ok(corp_buttons_parse("Yes=", &b, &e) == CORP_ECONFIG, "empty action");
	ok(corp_buttons_parse("Yes=1done", &b, &e) == CORP_ECONFIG,
	    "an action starts with a letter");
	ok(corp_buttons_parse("Yes=abcdefghijklmnopqrstu", &b, &e) ==
	    CORP_ECONFIG, "21 letters is too long");
	ok(corp_buttons_parse(" \n ", &b, &e) == CORP_ECONFIG, "no button");
	ok(corp_buttons_parse("a=a|b=b|c=c|d=d|e=e|f=f|g=g|h=h|i=i|j=j|k=k|"
	    "l=l|m=m|n=n|o=o|p=p|q=q|r=r|s=s|t=t|u=u|v=v|w=w|x=x|y=y", &b,
	    &e) == CORP_ECONFIG, "25 buttons are too many");
	return done_testing();
}
