#!/bin/sh
# corp-bind import: bind lines applied in one transaction, whole or not
# at all; the first bad line named by its position; held rows made
# ready as add makes them; idempotent; many binds at once.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-01-05T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
q() { "$@" >/dev/null || bail "$* failed"; }
q corp-org add ops
printf '%s\n' '{"login":"alice","name":"Alice","unit":"ops"}' \
    '{"login":"bob","name":"Bob","unit":"ops"}' \
    '{"login":"carol","name":"Carol","unit":"ops"}' | q corp-user import
printf 'crm https://crm.example/hooks/corp\n' > "$CORP_DATA_DIR/webhooks.conf"
mkdir -m 700 "$CORP_DATA_DIR/secrets"
(umask 077; echo whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw > "$CORP_DATA_DIR/secrets/webhook-crm")
q corp-settings config set base_url https://corp.example
# A task for alice routed while she had no bind: her telegram row waits.
q corp-task create --as admin --title "Report" --assignee alice
q corp-event route
alice=$(corp-user show alice | jq .user_id)
bob=$(corp-user show bob | jq .user_id)
is "$(sql "SELECT channel, readiness FROM deliveries WHERE user_id = $alice")" \
    "telegram|waiting_bind" "alice's row waits for a bind"

cat > "$T/binds" <<'EOF'
{"login":"alice","channel":"telegram","address":"1001"}
{"login":"alice","channel":"webhook","address":"crm"}

{"login":"bob","channel":"email","address":"bob@example.org"}
{"login":"bob","channel":"webhook","address":"crm"}
EOF
ok "import" corp-bind import < "$T/binds"
is "$(printf '%s\n' "$out" | jq -r .result | tr '\n' ' ')" \
    "created created created created " "each created"
run_in "$T/binds" corp-bind import
is "$(printf '%s\n' "$out" | jq -c '[.line, .login, .channel, .address, .result]' | tr '\n' ' ')" \
    '[1,"alice","telegram","1001","unchanged"] [2,"alice","webhook","crm","unchanged"] [4,"bob","email","bob@example.org","unchanged"] [5,"bob","webhook","crm","unchanged"] ' \
    "again: one line per input line, by its line number, all unchanged"
corp-bind deactivate --user bob --channel email >/dev/null
sql .dump > "$T/before"
printf '%s\n' '{"login":"carol","channel":"telegram","address":"1003"}' \
    '{"login":"alice","channel":"telegram","address":"1001"}' \
    '{"login":"alice","channel":"email","address":"alice@example.org"}' \
    '{"login":"bob","channel":"email","address":"bob@example.org"}' \
    '{"login":"alice","channel":"email","address":"a2@example.org"}' > "$T/more"
export CORP_NOW=2026-01-05T10:30:00Z
later=$(date -u -d "$CORP_NOW" +%s)
ok "import: new, unchanged, reactivated, a later line for the same bind" \
    corp-bind import < "$T/more"
is "$(printf '%s\n' "$out" | jq -r '"\(.line):\(.login):\(.user_id):\(.result)"' | tr '\n' ' ')" \
    "1:carol:$((bob + 1)):created 2:alice:$alice:unchanged 3:alice:$alice:created 4:bob:$bob:updated 5:alice:$alice:updated " \
    "created, unchanged, updated (inactive made active; another address)"
is "$(sql "SELECT u.login, b.channel, b.address, b.active,
    (b.created_at - $now) / 60, (b.updated_at - $now) / 60
    FROM binds b JOIN users u ON u.id = b.user_id ORDER BY u.login, b.channel" |
    tr '\n' ' ')" \
    "$(printf '%s ' "alice|email|a2@example.org|1|30|30" "alice|telegram|1001|1|0|0" \
    "alice|webhook|crm|1|0|0" "bob|email|bob@example.org|1|0|30" \
    "bob|webhook|crm|1|0|0" "carol|telegram|1003|1|30|30")" \
    "stored (minutes after the first import): unchanged binds keep updated_at; many users share the endpoint"
is "$(sql "SELECT readiness FROM deliveries WHERE user_id = $alice")" ready \
    "the held row became ready, as add makes it"
is "$(corp-bind list --user alice | jq -r .address | tr '\n' ' ')" \
    "a2@example.org 1001 crm " "list shows them"

# The first bad line ends the import: its position, nothing written.
sql .dump > "$T/before"
good='{"login":"carol","channel":"email","address":"carol@example.org"}'
bad() {
	printf '%s\n' "$good" "$1" '{"login":"bob","channel":"telegram","address":"1002"}' > "$T/bad"
	run_in "$T/bad" corp-bind import
	is "$rc" "$2" "refused ($2): $3"
	is "$err" "corp-bind: <stdin>:2:$4; nothing imported" "$3: named by its line"
	is "$out" "" "$3: prints nothing"
}
bad 'not json' 65 "not JSON" "3: invalid token near 'not'"
bad '[1]' 65 "not an object" "1: expected a JSON object"
bad '{"login":"bob","channel":"telegram","address":"1002","active":true}' 65 \
    "an unknown field" ' unknown field "active" (a bind line has login, channel and address)'
bad '{"login":"bob","channel":"telegram"}' 65 "no address" ' missing field "address"'
bad '{"login":"bob","channel":"telgram","address":"1002"}' 65 "a misspelt channel" \
    " unknown channel 'telgram' (did you mean 'telegram'?)"
bad '{"login":"bob","channel":"telegram","address":"-1002"}' 65 "a group chat" \
    " telegram address '-1002': expected a private chat id, a positive 64-bit integer"
bad '{"login":"bob","channel":"webhook","address":"crn"}' 65 "an undefined endpoint" \
    " webhook endpoint 'crn' is not defined in $CORP_DATA_DIR/webhooks.conf (defined: crm); did you mean 'crm'?"
bad '{"login":"nobody","channel":"telegram","address":"1002"}' 67 "an unknown user" \
    " user 'nobody': not found"
bad '{"login":"bob","channel":"telegram","address":"1001"}' 79 "another user's address" \
    " telegram address 1001 is bound to user 'alice'; deactivate that bind first"
bad '{"login":"bob","channel":"email","address":"carol@example.org"}' 79 \
    "an address an earlier line took" \
    " email address carol@example.org is bound to user 'carol'; deactivate that bind first"
sql .dump > "$T/after"
ok "nothing written by any refused batch" cmp "$T/before" "$T/after"
chmod 664 "$CORP_DATA_DIR/webhooks.conf"
bad '{"login":"bob","channel":"webhook","address":"crm"}' 77 "an unsafe webhooks.conf" \
    " $CORP_DATA_DIR/webhooks.conf: group-writable (mode 664); chmod go-w $CORP_DATA_DIR/webhooks.conf"
chmod 644 "$CORP_DATA_DIR/webhooks.conf"
is_rc 64 "import takes no options" corp-bind import --user bob
is_rc 0 "an empty batch" corp-bind import < /dev/null
is "$out" "" "prints nothing"

# Many binds at once: one transaction (DESIGN 9), all or nothing.
n=$(quick 2000 500)
seq 1 "$n" | awk '{ printf "{\"login\":\"m%d\"}\n", $1 }' > "$T/users"
seq 1 "$n" | awk '{ printf "{\"login\":\"m%d\",\"channel\":\"telegram\",\"address\":\"%d\"}\n", $1, 700000 + $1 }' > "$T/many"
ok "import $n users" corp-user import < "$T/users"
ok "import $n binds" corp-bind import < "$T/many"
is "$(printf '%s\n' "$out" | grep -c '"result":"created"')" "$n" "each created"
is "$(sql "SELECT count(*) FROM binds WHERE address LIKE '7_____%'")" "$n" "all stored"
echo '{"login":"m1","channel":"telegram","address":"1001"}' >> "$T/many"
sed -i 's/"address":"700001"/"address":"7000011"/' "$T/many"
run_in "$T/many" corp-bind import
is "$rc:$err" "79:corp-bind: <stdin>:$((n + 1)): telegram address 1001 is bound to user 'alice'; deactivate that bind first; nothing imported" \
    "the last line bad: refused whole"
is "$(sql "SELECT count(*) FROM binds WHERE address = '7000011'")" 0 \
    "not even the first line's change is kept"
ok "corp-db check clean" corp-db check
done_testing
