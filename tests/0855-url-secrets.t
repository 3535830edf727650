#!/bin/sh
# A secret is never sent in clear and a password never rides in a URL:
# every plain-http allowance is decided on the host libcurl parses (the
# OpenAI-compatible proposer, the openai.url setting, the Bot API and
# webhooks in 0500/0520), and a URL from the command line or a
# configuration file with a user or password in it is refused without
# being echoed (--smtp-url, smtp.conf, --openai-url, openai.url).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
setup

# --- the proposer: plain http only to loopback, as libcurl parses it ----
export FAKE_OPENAI_KEY=sk-test-SECRET-4242 CORP_OPENAI_KEY=sk-test-SECRET-4242
printf '%s' '{"proposals":[]}' > "$T/reply.json"
start_fake oa "$CORP_SRC/tests/fakes/fake-openai" --log "$T/oa.log" \
    --reply "$T/reply.json"
for url in "http://127.0.0.1@other.host:$port/" \
    'http://localhost.evil.example/' "http://127.0.0.1.nip.io:$port/" \
    'http://10.0.0.1/' "http://evil.example#@127.0.0.1:$port/"; do
	run corp-analysis start 1 --as admin --proposer openai --openai-url "$url"
	is "$rc" 64 "--openai-url $url is refused (64)"
done
like "$err" '^corp-analysis: --openai-url: plain http:// only to a loopback host' \
    "the reason names the option"
run corp-analysis start 1 --as admin --proposer openai \
    --openai-url "https://user:Pw-In-Url-77@api.example.com"
is "$rc" 64 "a password in --openai-url is refused (64)"
is "$err" "corp-analysis: --openai-url: a password in the URL (user:password@host) is refused: it would show in process lists and files; the password comes from a secret only" \
    "without echoing it"
is "$(wc -c < "$T/oa.log")" 0 "nothing reached the fake, the key went nowhere"
run corp-analysis start 1 --as admin --proposer openai \
    --openai-url "http://127.0.0.1:$port"
is "$rc" 67 "loopback over plain http passes the rule (then: no run 1, 67)"

# The openai.url setting: the same decision when it is set.
is_rc 65 "openai.url refuses a look-alike of localhost" \
    corp-settings config set openai.url 'http://localhost.evil.example/'
like "$err" "openai.url: plain http:// only to a loopback host" "saying why"
is_rc 65 "and a password" \
    corp-settings config set openai.url 'https://u:Set-Pw-55@api.example.com'
unlike "$out$err" "Set-Pw-55" "without echoing it"
is "$(corp-settings config get openai.url)" "https://api.openai.com" \
    "nothing was stored"
ok "an https URL is fine" corp-settings config set openai.url https://llm.corp.example/
ok "so is loopback http" corp-settings config set openai.url "http://[::1]:$port"

# --- SMTP: the password comes from the secret only ------------------------
dline 1 ann@example.org x email > "$T/in"
run_in "$T/in" corp-send email --smtp-url 'smtp://alice:Mail-Pw-31@localhost:25' \
    --from corp@corp.example
# (the line passes on unsent, as retry, so that ack gives its row back)
is "$rc:$(printf '%s\n' "$out" | jq -c '[.delivery_id, .result, .attempted]')" \
    '64:[1,"retry",false]' "--smtp-url with a password is refused (64), nothing sent"
unlike "$out" "Mail-Pw-31" "the passed-on line does not carry the password"
is "$(printf '%s\n' "$err" | head -1)" "corp-send: --smtp-url: a password in the URL (user:password@host) is refused: it would show in process lists and files; the password comes from a secret only" \
    "naming the option, not the password"
run_in "$T/in" corp-send email --smtp-url 'smtp://alice@localhost:25' \
    --from corp@corp.example
is "$rc" 64 "a user name in --smtp-url too: it goes in --smtp-user"
like "$err" "give the user with its own option" "saying where it goes"
printf 'url smtps://alice:Conf-Pw-32@mail.example.com\nfrom corp@corp.example\n' \
    > "$CORP_DATA_DIR/smtp.conf"
chmod 600 "$CORP_DATA_DIR/smtp.conf"
run_in "$T/in" corp-send email
is "$rc" 78 "a password in smtp.conf's url: a configuration error, held (78, OP 8)"
like "$err" '^corp-send: smtp.conf: url: a password in the URL' "naming the file"
# run reads smtp.conf when it has an e-mail row to send: one for zed.
q() { "$@" >/dev/null || bail "setup: $*"; }
q corp-org add ops --title Ops
q corp-user add zed --unit ops
q corp-bind add --user zed --channel email --address zed@example.org
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email
q corp-task create --as admin --title Mail --assignee zed
q corp-event route
run corp-deliver run --channel email --until-empty
is "$rc" 78 "corp-deliver run holds it too (78)"
unlike "$out$err" "Conf-Pw-32|Mail-Pw-31" "no password in any output"
run corp-deliver run --channel email --until-empty \
    --smtp-url 'smtp://alice:Run-Pw-33@localhost:25'
is "$rc" 64 "and --smtp-url of run"
unlike "$out$err" "Run-Pw-33" "unechoed"
printf 'url smtp://localhost:25\nfrom corp@corp.example\n' > "$CORP_DATA_DIR/smtp.conf"
run_in "$T/in" corp-send email --smtp-url 'https://mail.example.com'
is "$rc" 64 "an --smtp-url that is not smtp:// or smtps:// is usage"
like "$err" "expected smtp:// or smtps://" "saying which"

done_testing
