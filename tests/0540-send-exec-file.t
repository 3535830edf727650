#!/bin/sh
# corp-send exec and file: commands named in exec.conf, their exit codes
# and time bound; the file channel's appends; EPIPE.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"

export CORP_DATA_DIR="$T/data"
mkdir -m 700 "$CORP_DATA_DIR" "$T/bin"
cat > "$T/bin/ok" <<EOF
#!/bin/sh
cat >> "$T/exec.in"
echo "ticket-42"
echo "second line"
EOF
cat > "$T/bin/busy" <<'EOF'
#!/bin/sh
cat > /dev/null
echo "mailbox busy, try later" >&2
exit 75
EOF
cat > "$T/bin/fail" <<'EOF'
#!/bin/sh
echo "no such user" >&2
echo "more detail" >&2
exit 3
EOF
cat > "$T/bin/silent" <<'EOF'
#!/bin/sh
exit 9
EOF
cat > "$T/bin/slow" <<EOF
#!/bin/sh
sleep 30 &
echo \$! > "$T/slow.pid"
wait
EOF
chmod 755 "$T"/bin/*
cat > "$CORP_DATA_DIR/exec.conf" <<EOF
# name=command
ok=$T/bin/ok
busy=$T/bin/busy
fail=$T/bin/fail
silent=$T/bin/silent
slow=$T/bin/slow
missing=$T/bin/nonexistent
relative=bin/ok
EOF
chmod 600 "$CORP_DATA_DIR/exec.conf"

{
	dline 1 ok "" exec
	dline 2 busy "" exec
	dline 3 fail "" exec
	dline 4 silent "" exec
	dline 5 missing "" exec
	dline 6 nosuch "" exec
	dline 7 "/bin/sh -c id" "" exec
} > "$T/in"
run_in "$T/in" corp-send exec
is "$rc" 0 "exit 0"
is "$(acks | sed 's/ (no file [^"]*)//')" '[1,"sent","ticket-42",null,true,null]
[2,"retry",null,"mailbox busy, try later",true,null]
[3,"failed",null,"no such user",true,null]
[4,"failed",null,"exec: exit 9",true,null]
[5,"failed",null,"cannot run '"$T"'/bin/nonexistent: No such file or directory",true,null]
[6,"retry",null,"no exec command \"nosuch\" in '"$CORP_DATA_DIR"'/exec.conf",false,60]
[7,"failed",null,"address is not an exec command name ([A-Za-z0-9_.-]+)",false,null]' \
    "exit 0 sent (first stdout line), 75 retry, other failed (stderr's first line)"
is "$(cat "$T/exec.in")" "$(head -1 "$T/in")" "the command got the whole line on stdin"
is "$(printf '%s\n' "$out" | sed -n 6p | jq -r .error_class)" config \
    "a command exec.conf does not define holds the line"

# Bounded time: past --exec-timeout the process group is killed: retry.
dline 10 slow "" exec > "$T/in"
run_in "$T/in" corp-send exec --exec-timeout 1s
is "$(acks | jq -c '.[1:5]')" "[\"retry\",null,\"exec: $T/bin/slow: no answer within 1 s; killed\",true]" \
    "a command past --exec-timeout: retry"
wait_file "$T/slow.pid" 5
# (a zombie counts as gone: the container's init may not reap it)
if ps -o stat= -p "$(cat "$T/slow.pid")" 2>/dev/null | grep -qv Z; then
	fail "the whole process group was killed"
else
	pass "the whole process group was killed"
fi

# An absolute path is required; exec.conf must be private.
dline 11 relative "" exec > "$T/in"
run_in "$T/in" corp-send exec
is "$rc:$(acks | jq -c '.[1]')" '65:"retry"' "a relative command path stops the stage"
like "$err" "exec.conf:8: the command must be an absolute path" "and names the line"
dline 12 ok "" exec > "$T/in"
chmod 640 "$CORP_DATA_DIR/exec.conf"
run_in "$T/in" corp-send exec
is "$rc:$(acks | jq -c '.[1:5]')" "77:[\"retry\",null,\"$CORP_DATA_DIR/exec.conf: mode 640: group or others may use it; chmod 600 it\",false]" \
    "an exec.conf others may read is refused (77)"
chmod 600 "$CORP_DATA_DIR/exec.conf"

# file: appends each line to DATA_DIR/outbox.jsonl (or --out), sent.
{ dline 20 x "<b>a</b>" file; dline 21 y "b" file;
  dline 22 x c file | jq -c '.result = "failed"'; } > "$T/in"
run_in "$T/in" corp-send file
is "$rc" 0 "file: exit 0"
is "$(acks)" '[20,"sent",null,null,true,null]
[21,"sent",null,null,true,null]
[22,"failed",null,null,null,null]' "file: sent; a decided line passes through"
is "$(cat "$CORP_DATA_DIR/outbox.jsonl")" "$(head -2 "$T/in")" \
    "the lines appended to the outbox as given"
is "$(stat -c %a "$CORP_DATA_DIR/outbox.jsonl")" 600 "the outbox is 0600"
run_in "$T/in" corp-send file
is "$(wc -l < "$CORP_DATA_DIR/outbox.jsonl")" 4 "appends, never truncates"
run_in "$T/in" corp-send file --out "$T/other.jsonl"
is "$(wc -l < "$T/other.jsonl")" 2 "--out names another file"
run_in "$T/in" corp-send file --out "$T/no/such/dir/x"
is "$rc" 1 "an outbox that cannot be opened exits 1"

# EPIPE: the reader goes away; stop quietly with 0.
dline 100 x "$(printf '%0300d' 0)" file |
    awk '{ for (i = 0; i < 600; i++) { l = $0;
    sub(/"delivery_id":100/, "\"delivery_id\":" (100 + i), l); print l } }' \
    > "$T/big"
sh -c 'corp-send file --out "$1/big.out" < "$1/big" 2> "$1/pipe.err";
    echo $? > "$1/pipe.rc"' sh "$T" | head -1 > /dev/null
is "$(cat "$T/pipe.rc")" 0 "EPIPE: exit 0"
is "$(cat "$T/pipe.err")" "" "quietly"

done_testing
