#!/bin/sh
# The README's two-minute tour, as written (issue 15.13): every indented
# command of the section "A TWO-MINUTE TOUR", in order, in one shell in a
# scratch directory, with the programs and contrib/ on PATH as make
# install puts them; each must exit 0, and the outbox must end with ann's
# message.  A command that never returns (run without --until-empty)
# fails the test through the timeout instead of hanging it.
. "${CORP_SRC:-.}/tests/lib.sh"
export CORP_NOW=2026-03-02T09:00:00Z
unset CORP_DATA_DIR
PATH="$CORP_SRC/contrib:$PATH"
mkdir -m 700 "$T/w"

# The commands: lines indented by 4 spaces, a line ending in \ or |
# continued by the next.  Each runs in a { } group (same shell, so the
# tour's export holds) with its output and status kept by number.
awk '
/^A TWO-MINUTE TOUR$/ { tour = 1; next }
/^[A-Z][A-Z -]*$/ { tour = 0 }
tour && /^    / {
	line = substr($0, 5)
	cmd = cmd == "" ? line : cmd "\n" line
	if (line ~ /(\\|\|)[ \t]*$/)
		next
	n++
	printf "{\n%s\n} >\"$T/out.%d\" 2>\"$T/err.%d\"\necho \"%d $?\" >>\"$T/status\"\n", cmd, n, n, n
	printf "%s\n", cmd > (ENVIRON["T"] "/cmd." n)
	cmd = ""
}
END { printf "%d\n", n > (ENVIRON["T"] "/ncmd") }
' "$CORP_SRC/README" >"$T/tour.sh"
n=$(cat "$T/ncmd")
if [ "$n" -lt 10 ]; then
	bail "found only $n tour commands in README"
fi
pass "README's tour has $n commands"

(cd "$T/w" && timeout 120 sh "$T/tour.sh")
is "$?" 0 "the tour runs to its end (every command returns)"
i=1
while [ "$i" -le "$n" ]; do
	st=$(sed -n "s/^$i //p" "$T/status")
	is "${st:-never finished}" 0 "tour command $i exits 0: $(head -1 "$T/cmd.$i")" \
	    "stderr: $(cat "$T/err.$i" 2>/dev/null)"
	i=$((i + 1))
done

# What the tour shows, and what it left.
export CORP_DATA_DIR="$T/w/tour"
outn=$(grep -l 'outbox.jsonl' "$T"/cmd.* | head -1)
outn=${outn##*.}
is "$(cat "$T/out.$outn")" '📋 You have a new task: <b>Q1 sales report</b>

<a href="https://corp.example/tasks/1">Open task #1</a>' \
    "the tour's tail of the outbox shows ann's message"
is "$(wc -l <"$CORP_DATA_DIR/outbox.jsonl")" 1 "the outbox holds one line"
is "$(jq -c '[.address, .user_id, .channel, .event.event_type]' \
    "$CORP_DATA_DIR/outbox.jsonl")" '["ann",2,"file","TASK_CREATED"]' \
    "for ann, on the file channel, of the new task"
is "$(corp-task show 1 | jq -c '[.due_at, .overdue]')" \
    '["2026-03-09T09:00:00Z",false]' "the task is due in a week, not overdue"
is "$(corp-deliver explain --event 1 --user ann | jq -c '[.deliveries[] | .status]')" \
    '["SENT"]' "its one delivery is SENT"
runn=$(grep -l 'corp-deliver run' "$T"/cmd.* | head -1)
is "$(jq -c '[.claimed, .sent]' "$T/out.${runn##*.}")" '[0,0]' \
    "run --until-empty returned with nothing left to do"
coden=$(grep -l 'corp-bind code' "$T"/cmd.* | head -1)
like "$(jq -r .link "$T/out.${coden##*.}")" \
    '^https://t\.me/corp_tour_bot\?start=[A-Za-z0-9_-]+$' \
    "corp-bind code prints the deep link of the named bot"
is "$(corp-db check | jq -s 'all(.ok or .severity == "warning")')" true "corp-db check is clean"

# corp-bind code before the bot is named: 65, and says how to name it.
ok "the bot's name can be unset" corp-settings config unset telegram.bot_username
run corp-bind code --user ann
is "$rc:$err" "65:corp-bind: telegram.bot_username is not set; set it with: corp-settings config set telegram.bot_username NAME" \
    "corp-bind code without the bot's name says how to set it"

done_testing
