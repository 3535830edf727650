#!/bin/sh
# A binding code posted in a group in the forms NFKC folds to ASCII, which
# a reader reads at once and types back, is burnt as the plain one is
# (corp-tg.1 /start, corp.7 SECURITY): fullwidth (U+FF01..U+FF5E, what an
# IME types), the Mathematical Alphanumeric Symbols' letters and digits
# (bold, monospace...), mixed with ASCII and with invisible characters
# inside.  Before (sec-review-17a finding 6) none was burnt and the plain
# code still bound later.  A fullwidth word that is no code burns nothing.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777026:AAfold-token'
export FAKE_TG_TOKEN="$TOKEN"
export CORP_NOW=2026-01-05T10:00:00Z
corp-settings config set telegram.bot_username corp_test_bot >/dev/null
: > "$T/updates"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --updates "$T/updates" --transcript "$T/tr"
API="http://127.0.0.1:$port"
poll() {
	CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="$API" \
	    CORP_RATE_LIMIT=off run corp-tg poll --once --allow-http
}
unused() {	# unused LOGIN: how many of the user's codes can still bind
	sql "SELECT count(*) FROM tg_codes c JOIN users u ON u.id = c.user_id
	    WHERE u.login = '$1' AND used_at IS NULL AND superseded_at IS NULL"
}
# gmsg ID CODE JQ-EXPR: a supergroup message whose fields JQ-EXPR makes
# (with $c the code and the jq functions below).
gmsg() {
	jq -cn --argjson u "$1" --arg c "$2" '
	    # fullwidth: ASCII 0x21..0x7E to U+FF01..U+FF5E
	    def fw: explode | map(if . >= 33 and . <= 126 then . + 65248
		else . end) | implode;
	    # a Mathematical Alphanumeric style: capital A at $a, digit 0 at $d
	    def math($a; $d): explode | map(
		if . >= 65 and . <= 90 then . - 65 + $a
		elif . >= 97 and . <= 122 then . - 97 + $a + 26
		elif . >= 48 and . <= 57 then . - 48 + $d else . end) | implode;
	    {update_id: $u, message: ({message_id: $u, date: 1767607200,
	    chat: {id: -100826, type: "supergroup", title: "G"},
	    from: {id: 2020, first_name: "M"}} + ('"$3"'))}'
}
i=0
for shape in \
    '{text: ("/start " + ($c | fw))}' \
    '{text: ("code: " + ($c[0:11] | fw) + $c[11:] + " thanks")}' \
    '{text: ($c | math(119808; 120782))}' \
    '{caption: ("see " + ($c | math(120432; 120822)))}' \
    '{text: (($c[0:5] | fw) + "\u200b" + ($c[5:] | math(120380; 120802)))}' \
    '{text: ("https://t.me/corp_test_bot?start=" + ($c | fw))}'; do
	i=$((i + 1))
	corp-user add "f$i" --lang en >/dev/null
	c=$(corp-bind code --user "f$i" | jq -r .code)
	gmsg $((100 + i)) "$c" "$shape" >> "$T/updates"
	[ "$i" = 1 ] && f1=$c
done
# Controls: a fullwidth word of 22 code characters that is no code, and
# a code one character off in fullwidth, burn nothing.
corp-user add keep --lang en >/dev/null
c=$(corp-bind code --user keep | jq -r .code)
kc=$c
gmsg 120 "$c" '{text: ("ＡＡＡＡｂｂｂｂＣＣＣＣｄｄｄｄ－＿０１２３ and " +
    (($c[0:21] | fw) + (if $c[21:] == "A" then "Ｂ" else "Ａ" end)))}' \
    >> "$T/updates"
poll
is "$rc" 0 "poll exits 0"
is "$(for j in 1 2 3 4 5 6; do printf '%s ' "$(unused "f$j")"; done)" \
    "0 0 0 0 0 0 " \
    "fullwidth, half fullwidth, math bold, math monospace, mixed with U+200B, in a deep link: burnt"
is "$(unused keep)" 1 "a fullwidth word that is no code, a code one off: nothing burnt"

# The plain code no longer binds in a private chat; keep's does.
: > "$T/updates"
upd() {
	jq -cn --argjson u "$1" --arg text "$2" --argjson c "$3" \
	    '{update_id: $u, message: {message_id: $u, date: 1767607200,
	    text: $text, chat: {id: $c, type: "private", first_name: "F"},
	    from: {id: $c, is_bot: false, first_name: "F"}}}'
}
upd 130 "/start $f1" 4126 >> "$T/updates"
upd 131 "/start $kc" 4127 >> "$T/updates"
poll
is "$(sql "SELECT u.login || ' ' || b.address FROM binds b JOIN users u
    ON u.id = b.user_id ORDER BY b.address" | tr '\n' ' ')" "keep 4127 " \
    "the burnt code binds nothing later; the untouched one binds"
is "$(sql "SELECT key FROM tg_outbox WHERE chat_id = 4126")" \
    bot.start.bad_code "the burnt code's /start: bad code"
done_testing
