#!/bin/sh
# corp-send email: STARTTLS required and AUTH against fake-smtp, the
# RFC 5322 message (Date, Message-ID, encoded Subject), 451 retry,
# 550 failed, configuration and the password kept out of every output.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR"
export FAKE_SMTP_PASSWORD='pw-Unusual-7731'
make_cert smtp
# The password as AUTH sent it (PLAIN: base64 of NUL user NUL password;
# LOGIN: base64 of the password), for a server that echoes it.
PLAIN64=$(printf '\000alice\000%s' "$FAKE_SMTP_PASSWORD" | base64 -w0)
LOGIN64=$(printf '%s' "$FAKE_SMTP_PASSWORD" | base64 -w0)
cat > "$T/script" <<J
{"rcpt":"grey@example.org","code":451,"message":"4.7.1 greylisted"}
{"rcpt":"gone@example.org","code":550,"message":"5.1.1 no such user"}
{"rcpt":"echo@example.org","code":550,"message":"5.7.1 you sent $PLAIN64 and $LOGIN64"}
J
start_fake smtp "$CORP_SRC/tests/fakes/fake-smtp" --log "$T/smtp.log" \
    --user alice --require-tls --require-auth --tls-cert "$T/smtp.pem" \
    --tls-key "$T/smtp.key" --script "$T/script"
cat > "$CORP_DATA_DIR/smtp.conf" <<EOF
# the outgoing server
url smtp://localhost:$port
from corp@corp.example
user alice
EOF
export CORP_CA_FILE="$T/smtp.pem" CORP_SMTP_PASSWORD="$FAKE_SMTP_PASSWORD"

{
	dline 1 ann@example.org "Report due 2026-01-05 18:00
https://corp.example/tasks/5" email | jq -c '.subject = "Задача: отчёт"'
	dline 2 grey@example.org x email
	dline 3 gone@example.org x email
	dline 4 "not an address" x email
	dline 5 bob@example.org x email | jq -c '.subject = "plain subject"'
} > "$T/in"
run_in "$T/in" corp-send email
is "$rc" 0 "exit 0"
is "$(acks | jq -c '.[0:2] + .[4:5]')" '[1,"sent",true]
[2,"retry",true]
[3,"failed",true]
[4,"failed",false]
[5,"sent",true]' "sent, 451 retry, 550 failed"
is "$(printf '%s\n' "$out" | sed -n 2p | jq -r .error)" \
    "smtp: RCPT failed: 451 4.7.1 greylisted" "the 4xx reply, with the server's text"
is "$(printf '%s\n' "$out" | sed -n 3p | jq -r .error)" \
    "smtp: RCPT failed: 550 5.1.1 no such user" "the 5xx reply, with the server's text"

m=$(grep '"event":"message"' "$T/smtp.log" | head -1)
is "$(printf '%s' "$m" | jq -c '[.tls, .auth_user, .mail_from, .rcpt_to]')" \
    '[true,"alice","corp@corp.example",["ann@example.org"]]' \
    "over TLS, authenticated, envelope from smtp.conf"
printf '%s' "$m" | jq -r .data > "$T/msg"
is "$(/usr/bin/python3 - "$T/msg" <<'PY'
import email, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
ok = []
ok.append(re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} "
                       r"\d\d:\d\d:\d\d \+0000", m["Date"]) is not None)
ok.append(re.fullmatch(r"<[0-9a-f]{32}@corp\.example>", m["Message-ID"])
          is not None)
ok.append(m["From"] == "corp@corp.example" and m["To"] == "ann@example.org")
ok.append(str(m["Subject"]) == "Задача: отчёт")
ok.append("=?UTF-8?B?" in raw.decode("ascii"))
ok.append(m["MIME-Version"] == "1.0")
ok.append(m.get_content_type() == "text/plain" and
          m.get_content_charset() == "utf-8")
ok.append(m.get_content() ==
          "Report due 2026-01-05 18:00\nhttps://corp.example/tasks/5")
print(" ".join("ok" if x else "BAD" for x in ok))
PY
)" "ok ok ok ok ok ok ok ok" \
    "Date, Message-ID, From, To, encoded Subject, MIME, body"
like "$(grep '"rcpt_to":\["bob@example.org"\]' "$T/smtp.log" | jq -r .data)" \
    "Subject: plain subject" "an ASCII subject is left as it is"

# What a strict MTA sees (issue 15.14, 16.11): no line over 78 octets,
# the message parses under email.policy.strict (fake-smtp refuses it
# otherwise), and the Subject a reader sees is exactly the title.
long=$(/usr/bin/python3 -c 'print(" ".join(["word%03d" % i for i in range(124)]))')
word=$(/usr/bin/python3 -c 'print("x" * 990)')
cyr=$(/usr/bin/python3 -c 'print("Задача " * 60 + "конец")')
spoof='Pay =?UTF-8?B?0KHRgNC+0YfQvdC+?= today'
{
	dline 40 s40@example.org x email | jq -c --arg s "$long" '.subject = $s'
	dline 41 s41@example.org x email | jq -c --arg s "$word" '.subject = $s'
	dline 42 s42@example.org x email | jq -c --arg s "$cyr" '.subject = $s'
	dline 43 s43@example.org x email | jq -c --arg s "$spoof" '.subject = $s'
	dline 44 s44@example.org x email |
	    jq -c '.subject = "Hello\r\nBcc: evil@example.net\r\n\r\nbody"'
	dline 45 s45@example.org x email | jq -c '.subject = "tab\there\u0007bel\u001bx "'
	dline 46 s46@example.org x email | jq -c '.subject = ""'
} > "$T/in"
run_in "$T/in" corp-send email
is "$(acks | jq -c '.[0:2]' | tr '\n' ' ')" \
    '[40,"sent"] [41,"sent"] [42,"sent"] [43,"sent"] [44,"sent"] [45,"sent"] [46,"sent"] ' \
    "every subject goes (the fake refuses what a strict MTA would)"
grep '"rcpt_to":\["s4[0-6]@' "$T/smtp.log" > "$T/subj.log"
is "$(jq -r '.max_line <= 78' "$T/subj.log" | sort -u)" true \
    "no line of any message over 78 octets"
subject_of() {	# subject_of ADDRESS: Subject as a reader decodes it
	jq -r --arg a "$1" 'select(.rcpt_to == [$a]) | .data' "$T/subj.log" |
	    /usr/bin/python3 -c '
import email, email.policy, sys
raw = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
m = email.message_from_bytes(raw, policy=email.policy.strict)
print(len(m.get_all("Subject")), repr(str(m["Subject"])),
      sorted(k for k in m.keys()))'
}
hdrs="['Content-Transfer-Encoding', 'Content-Type', 'Date', 'From', 'MIME-Version', 'Message-ID', 'Subject', 'To']"
is "$(subject_of s40@example.org)" "1 '$long' $hdrs" \
    "a 990-character ASCII subject is folded, unfolds to itself"
like "$(jq -r 'select(.rcpt_to == ["s40@example.org"]) | .data' "$T/subj.log")" \
    "Subject: word000 word001" "folded as plain text, not encoded"
is "$(subject_of s41@example.org)" "1 '$word' $hdrs" \
    "one 990-character word: encoded words, decoded back"
is "$(subject_of s42@example.org)" "1 '$cyr' $hdrs" \
    "a long Cyrillic subject: encoded words, cut between characters"
is "$(subject_of s43@example.org)" "1 '$spoof' $hdrs" \
    "an encoded-word look-alike in a title stays literal text"
unlike "$(jq -r 'select(.rcpt_to == ["s43@example.org"]) | .data' "$T/subj.log")" \
    "0KHRgNC\+0YfQvdC\+" "the look-alike is not on the wire as is"
is "$(subject_of s44@example.org)" "1 'Hello  Bcc: evil@example.net    body' $hdrs" \
    "CR/LF in a subject never make a header"
is "$(jq -c 'select(.rcpt_to == ["s44@example.org"]) | .rcpt_to' "$T/subj.log")" \
    '["s44@example.org"]' "nor a recipient"
is "$(subject_of s45@example.org)" "1 'tab here bel x' $hdrs" \
    "other control characters become spaces"
is "$(subject_of s46@example.org)" "1 '' $hdrs" "an empty subject"

# Never an 8-bit address on the wire: corp does not use SMTPUTF8.
dline 47 'пётр@corp.test' x email > "$T/in"
run_in "$T/in" corp-send email
is "$(acks | jq -c '.[1:5]')" "[\"failed\",null,\"address: e-mail address 'пётр@corp.test': not ASCII; corp does not use SMTPUTF8 and never sends an 8-bit address (give an internationalised domain as its xn-- A-label)\",false]" \
    "a non-ASCII address is failed, not attempted"
is "$(grep -c 'пётр' "$T/smtp.log")" 0 "the server never saw it"

# A server echoing the password as AUTH sent it (fresh-eyes round 14):
# redacted in the error, as the password itself is.
dline 11 echo@example.org x email > "$T/in"
run_in "$T/in" corp-send email
is "$(acks | jq -c '.[1:4]')" '["failed",null,"smtp: RCPT failed: 550 5.7.1 you sent <redacted> and <redacted>"]' \
    "the AUTH PLAIN and LOGIN forms of the password: redacted"
unlike "$out$err" "$PLAIN64|$LOGIN64" "  in no output"

# Wrong password: not sent, and the password shows nowhere.
dline 10 ann@example.org x email > "$T/in"
CORP_SMTP_PASSWORD=wrong-Secret-99 run_in "$T/in" corp-send email
is "$rc:$(acks | jq -c '.[1:5]')" '77:["retry",null,"smtp login denied",false]' \
    "a refused login (535) fails the stage, not the line: 77"
unlike "$out$err" "wrong-Secret-99|pw-Unusual" "no password in any output"
unlike "$(cat "$T/smtp.log")" "secret_seen" "nor in what the server saw"

# TLS is required: a server without STARTTLS is not used.
start_fake plain "$CORP_SRC/tests/fakes/fake-smtp" --log "$T/plain.log" \
    --user alice
run_in "$T/in" corp-send email --smtp-url "smtp://localhost:$port"
is "$(acks | jq -c '.[1]')" '"retry"' "no STARTTLS: not sent (retry)"
is "$(grep -c '"event":"message"' "$T/plain.log")" 0 "nothing went in clear text"

# Configuration errors hold the lines and exit 78, as corp.7 says
# (OP 8): a missing SMTP password (was 67), an smtp.conf that does not
# parse (was 65), no server configured (was 64).
CORP_SMTP_PASSWORD= run_in "$T/in" corp-send email
is "$rc:$(acks | jq -c '.[1:6]')" "78:[\"retry\",null,\"secret smtp_password: no CORP_SMTP_PASSWORD in the environment and no file $CORP_DATA_DIR/secrets/smtp_password\",false,60]" \
    "no SMTP password: held, 78, naming the variable and the file"
is "$(printf '%s' "$out" | jq -r .error_class)" config "  (config)"
cp "$CORP_DATA_DIR/smtp.conf" "$T/smtp.conf.keep"
echo 'port 25' >> "$CORP_DATA_DIR/smtp.conf"
run_in "$T/in" corp-send email
is "$rc:$(acks | jq -c '.[1:6]')" "78:[\"retry\",null,\"$CORP_DATA_DIR/smtp.conf:5: unknown setting \\\"port\\\" (url, from, user)\",false,60]" \
    "an smtp.conf that does not parse: held, 78"
mv "$T/smtp.conf.keep" "$CORP_DATA_DIR/smtp.conf"
# Options override smtp.conf; none at all holds the lines (78).
rm "$CORP_DATA_DIR/smtp.conf"
run_in "$T/in" corp-send email
is "$rc:$(acks | jq -c '.[1:6]')" "78:[\"retry\",null,\"email needs a server and a sender: url and from in $CORP_DATA_DIR/smtp.conf (or --smtp-url and --from)\",false,60]" \
    "no server configured: held, 78"
is_rc 64 "a server option without a sender is usage" corp-send email \
    --smtp-url "smtp://localhost:$(cat "$T/smtp.port")"
run_in "$T/in" corp-send email --smtp-url "smtp://localhost:$(cat "$T/smtp.port")" \
    --from ops@corp.example --smtp-user alice
is "$(acks | jq -c '.[1]')" '"sent"' "--smtp-url, --from, --smtp-user"
is "$(tail -1 "$T/smtp.log" | jq -r .mail_from)" "ops@corp.example" "--from is the sender"

done_testing
