#!/bin/sh
# The email channel end to end, as an operator sets it up (issue 15: the
# suite walks the operator's path): from corp-db init, with corp's
# commands and the documented files only -- smtp.conf, the password in
# secrets/smtp_password, binds with corp-bind add, email as the default
# channel -- tasks routed and delivered through the pipe of corp(7) and
# through corp-deliver run to fake-smtp (STARTTLS and AUTH required, and
# the checks of a strict MTA); each message read back as a mail reader
# would (python3's email package, strict policy): envelope, From, To,
# Subject, encoding and plain-text body; the queue through corp-deliver
# stats, explain and dlq.  The likely mistakes: an address corp cannot
# send to (non-ASCII: refused at bind, 65), and no password file (rows
# held, run exits 78 with one line per cause, nothing lost); the repair
# of a bounced row (a new bind, corp-deliver requeue, the next
# corp-pipeline(1) cycle); an MTA that is down (rows wait, no attempt
# used, nothing in the dead-letter queue).
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
. "$CORP_SRC/tests/e2e-lib.sh"
setup
export CORP_NOW=2026-03-02T09:00:00Z
D=$CORP_DATA_DIR
PASSWORD='pw-e2e-Mail_4471'
make_cert smtp
echo '{"rcpt":"gone@corp.example","code":550,"message":"5.1.1 no such user"}' \
    > "$T/smtp.script"
FAKE_SMTP_PASSWORD=$PASSWORD start_fake smtp "$CORP_SRC/tests/fakes/fake-smtp" \
    --log "$T/smtp.log" --user corp --require-tls --require-auth \
    --tls-cert "$T/smtp.pem" --tls-key "$T/smtp.key" --script "$T/smtp.script"
export CORP_CA_FILE="$T/smtp.pem"
# mails N: the messages the fake accepted from its Nth log line on, as a
# strict reader parses them: "RCPT | From | To | Subject | encoding | body".
mails() {
	tail -n +"$1" "$T/smtp.log" | python3 -c '
import email, email.policy, json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e.get("event") != "message":
        continue
    m = email.message_from_string(e["data"], policy=email.policy.strict)
    print(" | ".join([",".join(e["rcpt_to"]), e["mail_from"], m["From"],
                      m["To"], str(m["Subject"]),
                      m["Content-Transfer-Encoding"], m.get_content_type(),
                      "tls" if e["tls"] else "PLAIN", e["auth_user"]]))
    print(m.get_content().rstrip("\n"))'
}

q corp-settings config set base_url https://corp.example
q corp-settings config set default_channel email
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email
q corp-org add ops --title Operations
q corp-user add boss --name Boss --unit ops
q corp-org set-head ops boss
q corp-user add ann --name Ann --unit ops
q corp-user add bob --name Bob --unit ops
q corp-user add cyd --name Cyd --unit ops
cat > "$D/smtp.conf" <<EOF
# the outgoing server
url smtp://localhost:$port
from corp@corp.example
user corp
EOF
mkdir -m 700 "$D/secrets"
(umask 077 && printf '%s\n' "$PASSWORD" > "$D/secrets/smtp_password")

# The mistake at bind time: an address corp cannot send.
is_rc 65 "a non-ASCII address is refused" corp-bind add --user ann \
    --channel email --address 'аня@corp.example'
like "$err" "SMTPUTF8" "saying why"
ok "ann's address" corp-bind add --user ann --channel email \
    --address ann@corp.example
ok "bob's" corp-bind add --user bob --channel email --address bob@corp.example
ok "cyd's, a mailbox that is gone" corp-bind add --user cyd --channel email \
    --address gone@corp.example

# Through the pipe.
q corp-task create --as admin --title "Quarterly report" --assignee ann
q corp-task create --as admin --title "Бюджет <draft> & notes" --assignee bob
q corp-task create --as admin --title "Hiring plan" --assignee cyd
q corp-event route
n=$(($(wc -l < "$T/smtp.log") + 1))
pipe email
is "$rc" "0 0 0 0 0" "every stage of the pipe exits 0"
is "$err" "corp-send: delivery 3: failed: smtp: RCPT failed: 550 5.1.1 no such user trace=$(corp-event show 3 | jq -r .trace_id)" \
    "the one failure is reported with the server's reply"
is "$(mails $n)" "ann@corp.example | corp@corp.example | corp@corp.example | ann@corp.example | [#1] New task: Quarterly report | base64 | text/plain | tls | corp
📋 You have a new task: Quarterly report

Open task #1: https://corp.example/tasks/1
bob@corp.example | corp@corp.example | corp@corp.example | bob@corp.example | [#2] New task: Бюджет <draft> & notes | base64 | text/plain | tls | corp
📋 You have a new task: Бюджет <draft> & notes

Open task #2: https://corp.example/tasks/2" \
    "each executor got their mail over TLS, logged in: subject, plain text, link"
like "$(grep '"event":"message"' "$T/smtp.log" | sed -n 2p | jq -r .data)" \
    'Subject: =\?UTF-8\?B\?' "a non-ASCII subject is encoded"
is "$(corp-cursor get --channel email)" "3:5" "the cursor moved"
is "$(queue email)" "FAILED ready 1, SENT ready 2" "stats: two sent, one failed"
is "$(dlq_rows)" "cyd email smtp: RCPT failed: 550 5.1.1 no such user" \
    "dlq: cyd's row, with the server's reply"
is "$(explained 1 ann email)" '["created","ann@corp.example","SENT",1,["sent"]]' \
    "explain: ann's row was created, bound, sent at the first attempt"

# The mistake at send time: the password file is missing.
q corp-task create --as admin --title "Offsite" --assignee ann
q corp-task create --as admin --title "Payroll" --assignee bob
q corp-event route
mv "$D/secrets/smtp_password" "$T/password"
n=$(($(wc -l < "$T/smtp.log") + 1))
run corp-deliver run --channel email --until-empty
is "$rc" 78 "no password: run exits 78 (a configuration error), rows held"
is "$err" "2026-03-02T09:00:00.000Z corp-deliver: secret smtp_password: no CORP_SMTP_PASSWORD in the environment and no file $D/secrets/smtp_password; every remaining line passes on as retry
2026-03-02T09:00:00.000Z corp-deliver: email: held 2: secret smtp_password: no CORP_SMTP_PASSWORD in the environment and no file $D/secrets/smtp_password
2026-03-02T09:00:00.000Z corp-deliver: email: sent 0 retry 0 failed 0 held 2" \
    "naming the missing file, once per cause, then the line for cron"
is "$(tail -n +$n "$T/smtp.log" | grep -c '"event":"message"')" 0 \
    "nothing was sent"
is "$(explained 4 ann email)" '["created","ann@corp.example","PENDING",0,["retry"]]' \
    "the row was held: a retry that used no attempt"

# Through corp-deliver run, the password back, after retry_after.
mv "$T/password" "$D/secrets/smtp_password"
CORP_NOW=2026-03-02T09:01:00Z run corp-deliver run --channel email \
    --until-empty
is "$rc" 0 "run exits 0"
is "$(printf '%s' "$out" | jq -c '[.claimed, .sent, .failed, .held, .dlq]')" \
    "[2,2,0,0,0]" "its summary: two claimed, two sent"
is "$err" "2026-03-02T09:01:00.000Z corp-deliver: email: sent 2 retry 0 failed 0 held 0" \
    "and the line for cron"
is "$(mails $n | grep '@')" "ann@corp.example | corp@corp.example | corp@corp.example | ann@corp.example | [#4] New task: Offsite | base64 | text/plain | tls | corp
bob@corp.example | corp@corp.example | corp@corp.example | bob@corp.example | [#5] New task: Payroll | base64 | text/plain | tls | corp" \
    "run sent the same mails the pipe would"
is "$(queue email)" "FAILED ready 1, SENT ready 4" "stats: four sent, one failed"
is "$(queue telegram)" "" "and nothing on Telegram"
is "$(grep -c secret_seen "$T/smtp.log")" 0 \
    "the password never reached a message"

# The repair of cyd's failed row: the right mailbox, then the row back
# from the dead-letter queue, out with the next corp-pipeline(1) cycle.
ok "cyd's bind takes the right mailbox" corp-bind add --user cyd \
    --channel email --address cyd@corp.example
ok "the operator requeues the failed row" corp-deliver requeue \
    --channel email --all-failed
is "$out" '{"requeued":1}' "one row"
n=$(($(wc -l < "$T/smtp.log") + 1))
CORP_NOW=2026-03-02T09:02:00Z run corp-pipeline --channel email
is "$rc:$err" "0:" \
    "corp-pipeline exits 0, silently"
is "$(mails $n | grep '@')" "cyd@corp.example | corp@corp.example | corp@corp.example | cyd@corp.example | [#3] New task: Hiring plan | base64 | text/plain | tls | corp" \
    "cyd got the mail"
is "$(corp-deliver dlq)" "" "the dead-letter queue is empty"
is "$(explained 3 cyd email)" '["created","cyd@corp.example","SENT",1,["failed","sent"]]' \
    "explain: the failed attempt, then the one that went"

# A dead MTA (here: nothing listens on the port smtp.conf names).  Rows
# wait, no attempt used, nothing goes to the dead-letter queue.
FAKE_SMTP_PASSWORD=$PASSWORD start_fake dead "$CORP_SRC/tests/fakes/fake-smtp"
kill "$bgpid"
wait "$bgpid" 2>/dev/null
live=$(grep '^url ' "$D/smtp.conf")
sed -i "s|^url .*|url smtp://localhost:$port|" "$D/smtp.conf"
q corp-task create --as admin --title "Outage" --assignee ann
q corp-event route
CORP_NOW=2026-03-02T09:03:00Z run corp-deliver run --channel email --until-empty
is "$rc" 0 "run exits 0: the row waits"
is "$(unport "$err")" "2026-03-02T09:03:00.000Z corp-deliver: delivery 6: retry: smtp: Couldn't connect to server: Failed to connect to localhost port PORT after N ms: Couldn't connect to server (unreachable: paused 30s) trace=$(corp-event show 6 | jq -r .trace_id)
2026-03-02T09:03:00.000Z corp-deliver: email: sent 0 retry 1 failed 0 held 0" \
    "the MTA's server paused 30 s, the summary counts a retry"
is "$(explained 6 ann email)" '["created","ann@corp.example","PENDING",0,["retry"]]' "explain: a retry that used no attempt"
is "$(queue email)" "PENDING ready 1, SENT ready 5" "stats: nothing failed"
sed -i "s|^url .*|$live|" "$D/smtp.conf"
n=$(($(wc -l < "$T/smtp.log") + 1))
CORP_NOW=2026-03-02T09:30:00Z run corp-pipeline --channel email
is "$rc:$err" "0:" \
    "the MTA back, the next cycle sends it"
is "$(mails $n | grep '@')" "ann@corp.example | corp@corp.example | corp@corp.example | ann@corp.example | [#6] New task: Outage | base64 | text/plain | tls | corp" \
    "to ann"
is "$(queue email)" "SENT ready 6" "stats: all sent"
done_testing
