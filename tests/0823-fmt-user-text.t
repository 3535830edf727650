#!/bin/sh
# Users' text may not shape a message's structure (sec-review-16b item
# 3; corp-fmt.1 Escaping): a one-line placeholder's value (task.title,
# *.name, ...) has its line breaks (LF, CR, U+0085, U+2028, U+2029) and
# tabs made spaces and its bidi and invisible characters '?' (the
# cleaning of terminal text); a multi-line one (reason, payload.*) keeps
# its line breaks and loses the rest.  Before, a title "line1\n• Fake
# item" faked a digest item and U+202E reversed what followed it.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/fixture.sh"
setup
fixture_company
export CORP_NOW=2026-01-05T10:10:00Z
q() { "$@" >/dev/null || bail "$* failed"; }
RLO=$(printf '\342\200\256')
LS=$(printf '\342\200\250')
NEL=$(printf '\302\205')
ZW=$(printf '\342\200\213')
T1=$(printf 'line1\n\342\200\242 Fake item')
T2="Pay${RLO}won later"
T3=$(printf 'a\tb\r\nc%sd%se%sf' "$LS" "$NEL" "$ZW")

# ---- a digest: each title one line, one item ---------------------
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel telegram --digest 1h
q corp-task create --as boss --title "$T1" --assignee ann
q corp-task create --as boss --title "$T2" --assignee ann
q corp-task create --as boss --title "$T3" --assignee ann
q corp-event route
CORP_NOW=2026-01-05T11:00:00Z q corp-event route
CORP_NOW=2026-01-05T11:00:00Z ok "fmt" sh -c \
    "corp-deliver pending --channel telegram --peek | corp-fmt"
is "$(printf '%s\n' "$out" | jq -r "select(.user_id == $ann) | .text")" \
    "📬 <b>Digest: 3 notifications</b>
• line1 • Fake item
• Pay?won later
• a b c d e?f" \
    "three items, each one line; RLO and ZWSP are '?'"

# ---- a card: the title in one line, the reason's lines kept ------
q corp-settings notify set --event-type TASK_CREATED --role executor \
    --channel telegram --no-digest
q corp-task create --as boss --title "$T1" --assignee bob
CORP_NOW=2026-01-05T11:00:00Z q corp-event route
line=$(CORP_NOW=2026-01-05T11:00:00Z corp-deliver pending --channel \
    telegram --peek | jq -c "select(.user_id == $bob)")
CORP_NOW=2026-01-05T11:00:00Z ok "fmt card" sh -c \
    "printf '%s\n' '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' | corp-fmt"
is "$(printf '%s' "$out" | jq -r .text | grep -c 'line1 • Fake item')" 1 \
    "the card's title is one line"
is "$(printf '%s' "$out" | jq -r .text | grep -c '^• Fake')" 0 \
    "  no line of the card starts with the fake item"
# A reason (multi-line: a REJECTED event's) keeps its breaks, loses RLO;
# the actor's name is one line.  The line is corp-deliver's with the
# event's fields set as a REJECTED one would carry them.
printf '%s' "$line" | jq -c --arg r "$(printf 'too short\r\nredo%s it' "$RLO")" \
    --arg n "$(printf 'Boss\n\342\200\242 Admin')" \
    '.template = "rejected" | .event.reason = $r | .actor_name = $n' \
    > "$T/rej"
run_in "$T/rej" corp-fmt
is "$(printf '%s' "$out" | jq -r .text | sed -n 1,4p)" "❌ Your report on <b>line1 • Fake item</b> has been rejected. The task is open again.
Reason: too short
redo? it
Rejected by Boss • Admin" "reason: lines kept, RLO '?'; the name one line"
# e-mail: the subject is one line, the plain text too for the title.
printf '%s' "$line" | jq -c '.channel = "email"' > "$T/mail"
run_in "$T/mail" corp-fmt
is "$(printf '%s' "$out" | jq -r .text | grep -c 'line1 • Fake item')" 1 \
    "e-mail text: the title one line"
unlike "$(printf '%s' "$out" | jq -r .subject)" "$RLO" "the subject has no RLO"
done_testing
