#!/bin/sh
# A server's words (issue 16, review 1 item 5): Telegram's description
# reaches the ack line -- and from it stderr and the database -- as one
# line of printable ASCII, without newlines, ESC or OSC sequences, and
# with the token redacted in every form a server may echo: whole, its
# secret half alone, and percent-encoded (123456%3A...).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup
TOKEN='777009:AAcanaryKey_abc-def123'
KEY='AAcanaryKey_abc-def123'
export FAKE_TG_TOKEN="$TOKEN"
desc=$(printf 'Bad Request\ncorp-deliver: telegram: sent 6 retry 0 failed 0 held 0\n\033]8;;https://evil.example/\007click\033]8;;\007 key %s enc 777009%%3A%s low 777009%%3a%s\r\033[2Jend' "$KEY" "$KEY" "$KEY")
jq -cn --arg d "$desc" '{chat_id: 600, status: 400,
    body: {ok: false, error_code: 400, description: $d}}' > "$T/script"
# Review 4 item 6: bidi overrides and isolates, marks, zero-width
# characters and the line/paragraph separators reorder or hide text.
jq -cn '{chat_id: 601, status: 400, body: {ok: false, error_code: 400,
    description: "Bad Request: \u202egnp.exe\u202c \u2066a\u2069 \u200fb\u200e \u061cc d\u2028e\u2029f\u200bg\ufeffh \u00e9\u20ac \u009bi"}}' \
    >> "$T/script"
start_fake tg "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tg.log" \
    --script "$T/script"
dline 1 600 > "$T/in"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram --allow-http
is "$rc" 0 "the stage exits 0"
e=$(printf '%s\n' "$out" | jq -r .error)
is "$e" "Bad Request?corp-deliver: telegram: sent 6 retry 0 failed 0 held 0??]8;;https://evil.example/?click?]8;;? key <redacted> enc <redacted> low <redacted>??[2Jend" \
    "one line of printable ASCII, every form of the token redacted"
is "$(printf '%s\n%s' "$out" "$err" | grep -c -e "$KEY" -e "$(printf '\033')")" 0 \
    "neither the key nor ESC anywhere in the output"
is "$(printf '%s\n' "$out" | wc -l)" 1 "one ack line"

dline 2 601 > "$T/in"
CORP_TELEGRAM_TOKEN="$TOKEN" CORP_TELEGRAM_API="http://127.0.0.1:$port" \
    CORP_RATE_LIMIT=off run_in "$T/in" corp-send telegram --allow-http
is "$(printf '%s\n' "$out" | jq -r .error)" \
    "Bad Request: ?gnp.exe? ?a? ?b? ?c d?e?f?g?h é€ ?i" \
    "invisible format controls and a C1 control (U+009B) become one '?' each, other letters pass"

# Every stderr line is one line: a name from the command line too.
run corp-user show "$(printf 'x\n\033]8;;https://evil.example/\007y')"
is "$rc" 67 "an unknown user"
is "$(printf '%s\n' "$err" | wc -l):$(printf '%s' "$err" |
    grep -c "$(printf '\033')")" "1:0" "named on one stderr line without ESC"
done_testing
