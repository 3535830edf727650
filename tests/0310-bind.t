#!/bin/sh
# corp-bind: add, list, deactivate; readiness of held rows; conflicts;
# address validation.  State is built with corp's own commands only.
. "${CORP_SRC:-.}/tests/lib.sh"
setup

# The state an operator reaches: two events routed while nobody had an
# active bind on telegram or email.  Alice, the executor, has a held
# telegram row on each and a held email row on the first (her email bind
# was deactivated: route holds rows for it); her second event also went
# out on the file channel (SENT); bob, the unit's head, has a held
# telegram row on the first as supervisor.
export CORP_NOW=2026-01-05T09:00:00Z
t0=$(date -u -d "$CORP_NOW" +%s)
q() { "$@" >/dev/null || bail "$* failed"; }
q corp-org add ops
q corp-user add alice --name Alice --unit ops
q corp-user add bob --name Bob --unit ops
q corp-org set-head ops bob
q corp-bind add --user alice --channel email --address alice@example.org
q corp-bind deactivate --user alice --channel email
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel email
q corp-settings notify set --event-type TASK_CREATED --role supervisor \
    --channel telegram
q corp-settings notify set --event-type TASK_DUE_CHANGED --role executor \
    --channel file
q corp-task create --as admin --title "Report" --assignee alice
q corp-event route
q corp-bind add --user alice --channel file --address outbox
q corp-task set-due 1 --as admin --due 2026-01-09T17:00:00Z
q corp-event route
run sh -c 'corp-deliver pending --channel file | corp-fmt |
    corp-send file --out "$T/outbox" | corp-deliver ack'
[ "$rc:$(printf '%s' "$out" | jq -r .stored)" = 0:sent ] ||
    bail "the file row was not sent: $out $err"
alice=$(corp-user show alice | jq .user_id)
bob=$(corp-user show bob | jq .user_id)
export CORP_NOW=2026-01-05T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
rows() {
	sql "SELECT event_id, channel, status, readiness,
	    coalesce(CAST(waiting_since AS TEXT), '-') FROM
	    deliveries WHERE user_id = $1
	    ORDER BY channel, event_id" | tr '\n|' '  '
}

# The cursor has passed both events: binding still readies the rows.
corp-cursor set 2:99

ok "add a telegram bind" corp-bind add --user alice --channel telegram \
    --address 123456789
is "$out" "{\"user_id\":$alice,\"login\":\"alice\",\"channel\":\"telegram\",\"address\":\"123456789\",\"active\":true,\"deactivated_by\":null,\"created_at\":\"2026-01-05T10:00:00Z\",\"updated_at\":\"2026-01-05T10:00:00Z\"}" \
    "add prints the bind"
is "$(sql "SELECT user_id, channel, address, active, created_at, updated_at
    FROM binds WHERE channel = 'telegram'")" \
    "$alice|telegram|123456789|1|$now|$now" "the bind is stored"
is "$(rows "$alice")" \
    "1 email PENDING waiting_bind $t0 2 file SENT ready - 1 telegram PENDING ready - 2 telegram PENDING ready - " \
    "alice's held telegram rows are ready (also behind the cursor); email and file untouched"
is "$(rows "$bob")" "1 telegram PENDING waiting_bind $t0 " "bob's row still waits"
is "$(corp-cursor get)" "2:99" "the cursor is not touched"

# Another user cannot take an address that is actively bound.
is_rc 79 "an address bound to another user is a conflict" \
    corp-bind add --user bob --channel telegram --address 123456789
like "$err" "^corp-bind: telegram address 123456789 is bound to user 'alice'" \
    "and names who holds it"
is "$(sql "SELECT count(*) FROM binds WHERE user_id = $bob")" 0 \
    "nothing written for bob"
is "$(rows "$bob")" "1 telegram PENDING waiting_bind $t0 " "bob's row unchanged"

# Re-adding one's own bind is fine (idempotent, new updated_at).
export CORP_NOW=2026-01-05T11:00:00Z
later=$(date -u -d "$CORP_NOW" +%s)
ok "add again" corp-bind add --user alice --channel telegram --address 123456789
is "$(sql "SELECT active, created_at, updated_at FROM binds
    WHERE channel = 'telegram'")" "1|$now|$later" "created_at kept, updated_at moves"

# Deactivate: rows wait again, from now.
ok "deactivate" corp-bind deactivate --user alice --channel telegram
is "$(printf '%s' "$out" | jq -c '[.active, .updated_at]')" \
    '[false,"2026-01-05T11:00:00Z"]' "prints the inactive bind"
is "$(sql "SELECT active FROM binds WHERE user_id = $alice AND
    channel = 'telegram'")" 0 "inactive"
is "$(rows "$alice")" \
    "1 email PENDING waiting_bind $t0 2 file SENT ready - 1 telegram PENDING waiting_bind $later 2 telegram PENDING waiting_bind $later " \
    "telegram rows wait for a bind again, waiting_since = now"
ok "deactivate again is harmless" corp-bind deactivate --user alice \
    --channel telegram
is "$(rows "$alice" | cut -d' ' -f11-)" \
    "1 telegram PENDING waiting_bind $later 2 telegram PENDING waiting_bind $later " \
    "waiting_since keeps the first time"

# Now the address is free: bob takes it; then alice cannot re-activate.
ok "bob binds the freed address" corp-bind add --user bob --channel telegram \
    --address 123456789
is "$(rows "$bob")" "1 telegram PENDING ready - " "bob's row is ready"
is_rc 79 "alice cannot re-take it while bob holds it" \
    corp-bind add --user alice --channel telegram --address 123456789
is "$(sql "SELECT active FROM binds WHERE user_id = $alice AND
    channel = 'telegram'")" 0 "alice's bind stays inactive"
ok "alice binds another chat" corp-bind add --user alice --channel telegram \
    --address 987654321
is "$(sql "SELECT address, active FROM binds WHERE user_id = $alice AND
    channel = 'telegram'")" "987654321|1" "the bind takes the new address"
is "$(rows "$alice" | cut -d' ' -f11-)" \
    "1 telegram PENDING ready - 2 telegram PENDING ready - " "ready again"

# Email bind readies the email row only.
ok "email bind" corp-bind add --user alice --channel email \
    --address alice@example.org
is "$(rows "$alice" | cut -d' ' -f1-10)" \
    "1 email PENDING ready - 2 file SENT ready -" "the email row is ready"

# list
ok "list" corp-bind list
is "$(printf '%s\n' "$out" | jq -c '[.login, .channel, .address, .active]')" \
"[\"alice\",\"email\",\"alice@example.org\",true]
[\"alice\",\"file\",\"outbox\",true]
[\"alice\",\"telegram\",\"987654321\",true]
[\"bob\",\"telegram\",\"123456789\",true]" "every bind, by user and channel"
ok "list --user" corp-bind list --user bob
is "$out" "{\"user_id\":$bob,\"login\":\"bob\",\"channel\":\"telegram\",\"address\":\"123456789\",\"active\":true,\"deactivated_by\":null,\"created_at\":\"2026-01-05T11:00:00Z\",\"updated_at\":\"2026-01-05T11:00:00Z\"}" \
    "one user's binds, the documented line"
ok "list --channel" corp-bind list --channel email
is "$(printf '%s\n' "$out" | jq -r .login)" alice "one channel"
ok "list --user --channel with no match" corp-bind list --user bob \
    --channel email
is "$out" "" "prints nothing"

# Telegram addresses: a private chat id, positive 64-bit.
for a in -1001234567890 0 0123 abc 12a '' ' 123' +5 1e9 \
    9223372036854775808 99999999999999999999; do
	is_rc 65 "telegram address '$a' refused" corp-bind add --user bob \
	    --channel telegram --address "$a"
done
like "$err" "telegram address '99999999999999999999': expected a private chat id, a positive 64-bit integer" \
    "says why"
ok "the largest 64-bit id is fine" corp-bind add --user bob \
    --channel telegram --address 9223372036854775807
is_rc 65 "a bad e-mail address" corp-bind add --user bob --channel email \
    --address nobody
# E-mail: ASCII only (corp does not use SMTPUTF8), nothing that needs
# quoting, a domain of labels.
is_rc 65 "a non-ASCII local part is refused" corp-bind add --user bob \
    --channel email --address 'пётр@corp.test'
is "$err" "corp-bind: e-mail address 'пётр@corp.test': not ASCII; corp does not use SMTPUTF8 and never sends an 8-bit address (give an internationalised domain as its xn-- A-label)" \
    "says why and what to do"
for a in 'bob@почта.рф' 'a b@corp.test' '"q"@corp.test' 'a<b@corp.test' \
    'bob@corp' 'bob@corp..test' '.bob@corp.test' 'bob@-' 'x@y@corp.test'; do
	is_rc 65 "e-mail address '$a' refused" corp-bind add --user bob \
	    --channel email --address "$a"
done
corp-user add carol >/dev/null || bail "corp-user add failed"
ok "an IDN domain as its A-label is fine" corp-bind add --user carol \
    --channel email --address 'carol.o-k+tag@xn--80a1acny.xn--p1ai'
# A malformed webhooks.conf line: named by file and line (65), nothing
# bound; the same for import.
printf 'crm https://crm.example/hook\nbroken\n' > "$CORP_DATA_DIR/webhooks.conf"
chmod 600 "$CORP_DATA_DIR/webhooks.conf"
is_rc 65 "a malformed webhooks.conf line" corp-bind add --user bob \
    --channel webhook --address crm
is "$err" "corp-bind: $CORP_DATA_DIR/webhooks.conf:2: expected NAME URL" \
    "names the file and line"
printf '%s\n' '{"login":"bob","channel":"webhook","address":"crm"}' >"$T/imp"
is_rc 65 "import too" sh -c 'corp-bind import < "$1"' sh "$T/imp"
is "$err" "corp-bind: <stdin>:1: $CORP_DATA_DIR/webhooks.conf:2: expected NAME URL; nothing imported" \
    "naming the line and the file's line"
printf 'crm https://crm.example/hook\n' > "$CORP_DATA_DIR/webhooks.conf"
is_rc 64 "an endpoint webhooks.conf does not define is an unknown name" \
    corp-bind add --user bob --channel webhook --address crn
is "$err" "corp-bind: webhook endpoint 'crn' is not defined in $CORP_DATA_DIR/webhooks.conf (defined: crm); did you mean 'crm'?" \
    "with the closest one"
rm "$CORP_DATA_DIR/webhooks.conf"
is "$(sql "SELECT count(*) FROM binds WHERE user_id = $bob AND
    channel = 'webhook'")" 0 "none of those bound anything"
is_rc 65 "a webhook address is an endpoint name, not a URL" corp-bind add \
    --user bob --channel webhook --address https://x.example/
is_rc 65 "a bad channel name" corp-bind add --user bob --channel Telegram \
    --address 5
is "$(sql "SELECT count(*) FROM binds WHERE user_id = $bob")" 1 \
    "none of those wrote a bind"

# exec: a command exec.conf defines; many users may share one.
is_rc 64 "no exec.conf: refused" corp-bind add --user bob --channel exec \
    --address sms
is "$err" "corp-bind: exec command 'sms' is not defined: there is no $CORP_DATA_DIR/exec.conf (one \"NAME=/absolute/path\" per line, mode 600)" \
    "names the file"
printf 'sms=/usr/local/bin/send-sms\npager=/usr/local/bin/page\n' \
    > "$CORP_DATA_DIR/exec.conf"
chmod 600 "$CORP_DATA_DIR/exec.conf"
is_rc 64 "a misspelt command is refused" corp-bind add --user bob \
    --channel exec --address smss
is "$err" "corp-bind: exec command 'smss' is not defined in $CORP_DATA_DIR/exec.conf (defined: sms, pager); did you mean 'sms'?" \
    "lists them and suggests one"
chmod 640 "$CORP_DATA_DIR/exec.conf"
is_rc 77 "an exec.conf group may read is refused" corp-bind add --user bob \
    --channel exec --address sms
chmod 600 "$CORP_DATA_DIR/exec.conf"
ok "bob binds sms" corp-bind add --user bob --channel exec --address sms
ok "alice binds the same command" corp-bind add --user alice --channel exec \
    --address sms
is "$(sql "SELECT count(*) FROM binds WHERE channel = 'exec' AND
    address = 'sms' AND active = 1")" 2 "both active: exec commands are shared"

# exec.conf is judged whole (OP 7): a line with a relative command is
# an unparsable file, whichever name is bound.
printf 'pager=bin/page\n' >> "$CORP_DATA_DIR/exec.conf"
is_rc 65 "an unparsable exec.conf is refused" corp-bind add --user carol \
    --channel exec --address sms
is "$err" "corp-bind: $CORP_DATA_DIR/exec.conf:3: the command must be an absolute path" \
    "naming the line"
# StrictModes on the command and each directory above it (SEC 3): a
# command others may write, or in a directory others may write, runs
# their code as corp.
mkdir -m 700 "$T/cmd" && mkdir -m 777 "$T/cmd/open"
printf '#!/bin/sh\nexit 0\n' > "$T/cmd/open/x.sh"
printf '#!/bin/sh\nexit 0\n' > "$T/cmd/w.sh"
chmod 755 "$T/cmd/open/x.sh" && chmod 777 "$T/cmd/w.sh"
printf 'opendir=%s\nworld=%s\nsms=/usr/local/bin/send-sms\n' \
    "$T/cmd/open/x.sh" "$T/cmd/w.sh" > "$CORP_DATA_DIR/exec.conf"
is_rc 77 "a command in a world-writable directory is refused" corp-bind add \
    --user carol --channel exec --address opendir
is "$err" "corp-bind: exec command $T/cmd/open/x.sh: $T/cmd/open: world-writable (mode 777); chmod go-w $T/cmd/open" \
    "naming the directory and the fix"
is_rc 77 "a world-writable command is refused" corp-bind add \
    --user carol --channel exec --address world
is "$err" "corp-bind: exec command $T/cmd/w.sh: $T/cmd/w.sh: world-writable (mode 777); chmod go-w $T/cmd/w.sh" \
    "naming the file"
ok "a command not installed yet is accepted (corp-send holds its rows)" \
    corp-bind add --user carol --channel exec --address sms
# #!/usr/bin/env with a path or an option runs what nobody judged
# (sec-review-5 item 1): only "#!ENV NAME" passes.
printf '#!/usr/bin/env /tmp/e/interp\nexit 0\n' > "$T/cmd/viaenv.sh"
printf '#!/usr/bin/env sh\nexit 0\n' > "$T/cmd/envsh.sh"
chmod 755 "$T/cmd/viaenv.sh" "$T/cmd/envsh.sh"
printf 'viaenv=%s\nenvsh=%s\n' "$T/cmd/viaenv.sh" "$T/cmd/envsh.sh" \
    >> "$CORP_DATA_DIR/exec.conf"
is_rc 77 "#!/usr/bin/env /ABS/PATH is refused" corp-bind add \
    --user carol --channel exec --address viaenv
like "$err" "^corp-bind: exec command $T/cmd/viaenv.sh: $T/cmd/viaenv.sh: #! line \"#!/usr/bin/env /tmp/e/interp\": env runs a command nobody judged" \
    "naming the line"
ok "#!/usr/bin/env sh is accepted" \
    env PATH="$(dirname "$(command -v corp-bind)"):/usr/bin:/bin" \
    corp-bind add --user carol --channel exec --address envsh
# A script whose #! interpreter is missing is no command "not installed
# yet": corp-send refuses it, so corp-bind says so at once, and judges
# the line's options on the name as written (sec-review-9 item 9).
printf '#!%s/nope/interp\nexit 0\n' "$T" > "$T/cmd/nointerp.sh"
printf '#!%s/nope/gawk -iinc\nexit 0\n' "$T" > "$T/cmd/nogawk.sh"
printf '#!%s/nope/sh -e\nexit 0\n' "$T" > "$T/cmd/nosh.sh"
chmod 755 "$T/cmd/nointerp.sh" "$T/cmd/nogawk.sh" "$T/cmd/nosh.sh"
printf 'nointerp=%s\nnogawk=%s\nnosh=%s\n' "$T/cmd/nointerp.sh" \
    "$T/cmd/nogawk.sh" "$T/cmd/nosh.sh" >> "$CORP_DATA_DIR/exec.conf"
is_rc 77 "a script whose #! interpreter is missing is refused" corp-bind add \
    --user carol --channel exec --address nointerp
is "$err" "corp-bind: exec command $T/cmd/nointerp.sh: $T/cmd/nointerp.sh: #! interpreter $T/nope/interp: no such file; install it, or name one that is there" \
    "  naming the script and the interpreter"
is_rc 77 "a missing interpreter's option that takes a value is refused" \
    corp-bind add --user carol --channel exec --address nogawk
is "$err" "corp-bind: exec command $T/cmd/nogawk.sh: $T/cmd/nogawk.sh: #! line \"#!$T/nope/gawk -iinc\": an option of gawk that is not taken: one that takes a value (a module, a file, code) or changes what runs (stdin, no-exec, interactive) makes the script not what was judged, and awk, sed and make need -f last; corp(7) SECURITY lists the options taken" \
    "  naming the line"
is_rc 77 "options that pass, the interpreter still missing: refused" \
    corp-bind add --user carol --channel exec --address nosh
like "$err" "#! interpreter $T/nope/sh: no such file" "  naming it"
is "$(sql "SELECT count(*) FROM binds WHERE address IN
    ('nointerp', 'nogawk', 'nosh')")" 0 "  and no bind is written"
# A #! line the kernel reads only in part (256 bytes): perl reads it
# whole and takes options past them, which nobody judged
# (sec-review-10 item 4).  A line not ended within 256 bytes is
# refused; one of 255 bytes and its newline is read whole by both.
{ printf '#!/usr/bin/perl%300s-I/tmp/x\n' ''; printf 'exit 0\n'; } > "$T/cmd/longperl.sh"
{ printf '#!/bin/sh%246s\n' ''; printf 'exit 0\n'; } > "$T/cmd/long255.sh"
chmod 755 "$T/cmd/longperl.sh" "$T/cmd/long255.sh"
printf 'longperl=%s\nlong255=%s\n' "$T/cmd/longperl.sh" "$T/cmd/long255.sh" \
    >> "$CORP_DATA_DIR/exec.conf"
is_rc 77 "a #! line longer than the kernel reads is refused" corp-bind add \
    --user carol --channel exec --address longperl
is "$err" "corp-bind: exec command $T/cmd/longperl.sh: $T/cmd/longperl.sh: a #! line longer than 255 bytes: the kernel reads no more, but an interpreter may read the rest (perl takes options there), which nobody judged; end the line sooner" \
    "  naming the script and why"
is "$(head -n 1 "$T/cmd/long255.sh" | wc -c)" 256 "(255 bytes and a newline)"
ok "a #! line of 255 bytes is accepted" \
    corp-bind add --user carol --channel exec --address long255

# Not found, usage.
is_rc 67 "unknown login" corp-bind add --user nobody --channel telegram \
    --address 5
is "$err" "corp-bind: user 'nobody': not found" "says so"
is_rc 67 "list for an unknown login" corp-bind list --user nobody
is_rc 67 "deactivate without a bind" corp-bind deactivate --user bob \
    --channel email
is "$err" "corp-bind: user 'bob' has no bind on email" "says so"
is_rc 64 "add without --address" corp-bind add --user bob --channel telegram
is_rc 64 "no --as: not an acting-user tool" corp-bind list --as admin
is_rc 64 "there is no remove (binds are kept for history)" \
    corp-bind remove --user bob --channel telegram
like "$err" "unknown command 'remove'" "remove is unknown"
is_rc 64 "list takes no --address" corp-bind list --address 5
like "$err" "list takes no --address" "says which"
ok "--help" corp-bind --help
like "$out" "usage: corp-bind add --user LOGIN --channel CHANNEL --address ADDRESS" \
    "synopsis on stdout"

done_testing
