#!/bin/sh
# The role x transition table of DESIGN 3, row by row: every allowed
# actor succeeds and writes one event (with on_behalf_of_user_id for a
# deputy); every refused actor gets the exit code and the database is
# byte for byte what it was (sql .dump before and after).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z

corp-org add root >/dev/null
corp-org add team --parent root >/dev/null
for u in init exec sup other dep_i dep_s dep_e dep_a gone; do
	corp-user add "$u" --unit team >/dev/null || bail "add $u"
done
corp-user set sup --unit root >/dev/null
corp-org set-head root sup >/dev/null
for p in init:dep_i sup:dep_s exec:dep_e admin:dep_a; do
	corp-org delegate --principal "${p%%:*}" --deputy "${p#*:}" \
	    --from 2026-01-01T00:00:00Z --until 2027-01-01T00:00:00Z >/dev/null
done
corp-user deactivate gone >/dev/null
# uid LOGIN: the user's id (the ids read once: no user is added after).
ids=$(sql "SELECT login || ' ' || id FROM users")
uid() {
	printf '%s\n' "$ids" | while read -r _l _i; do
		[ "$_l" = "$1" ] && echo "$_i"
	done
}
# task_id: the task_id of the JSON object corp-task prints.
task_id() { sed -n 's/^{"task_id":\([0-9]*\),.*/\1/p'; }

# Fresh tasks: assigned to exec by init, in the state asked for.
mk() {
	case $1 in
	DRAFT) corp-task create --as init --title t --assignee exec --draft ;;
	OPEN) corp-task create --as init --title t --assignee exec ;;
	WAITING_APPROVAL)
		_t=$(corp-task create --as init --title t --assignee exec |
		    task_id)
		corp-task submit "$_t" --as exec --text r ;;
	DONE)
		_t=$(mk WAITING_APPROVAL)
		corp-task approve "$_t" --as init ;;
	esac | task_id
}

args_of() {
	case $1 in
	assign) echo "--assignee other" ;;
	set-due) echo "--due 2026-04-01T00:00:00Z" ;;
	submit) echo "--text done" ;;
	reject|cancel) echo "--reason because" ;;
	*) echo "" ;;
	esac
}

# allow VERB STATE ACTOR [BEHALF]: succeeds, one event, right actor.
allow() {
	_t=$(mk "$2")
	ne=$(sql "SELECT count(*) FROM events")
	# shellcheck disable=SC2046
	run corp-task "$1" "$_t" --as "$3" $(args_of "$1")
	is "$rc" 0 "$1 from $2 by $3: allowed"
	# one query for both checks: the new events, the last one's actors
	_r=$(sql "SELECT count(*) - $ne FROM events" "SELECT actor_user_id ||
	    ':' || coalesce(CAST(on_behalf_of_user_id AS TEXT), '-') FROM events
	    ORDER BY event_id DESC LIMIT 1")
	is "${_r%%
*}" 1 "$1 by $3: exactly one event"
	is "${_r#*
}" "$(uid "$3"):$(if [ -n "${4:-}" ]; then uid "$4"; else echo -; fi)" \
	    "$1 by $3: actor and principal"
}

# refuse CODE VERB STATE ACTOR: exit code, nothing written.
refuse() {
	_t=$(mk "$3")
	_before=$(sql .dump)
	# shellcheck disable=SC2046
	run corp-task "$2" "$_t" --as "$4" $(args_of "$2")
	is "$rc" "$1" "$2 from $3 by $4: refused with $1"
	is "$(sql .dump)" "$_before" "$2 by $4: nothing written"
}

# assign: OPEN; initiator, supervisor, admin, their deputies.
allow assign OPEN init
allow assign OPEN sup
allow assign OPEN admin
allow assign OPEN dep_i init
allow assign OPEN dep_s sup
for a in exec dep_e other dep_a gone; do
	refuse 77 assign OPEN $a
done
refuse 79 assign WAITING_APPROVAL init
refuse 79 assign DRAFT init

# set-due: OPEN, WAITING_APPROVAL; initiator, supervisor, admin, deputies.
allow set-due OPEN init
allow set-due WAITING_APPROVAL sup
allow set-due OPEN admin
allow set-due WAITING_APPROVAL dep_i init
allow set-due OPEN dep_s sup
for a in exec dep_e other gone; do
	refuse 77 set-due OPEN $a
done
refuse 79 set-due DONE init

# submit: OPEN -> WAITING_APPROVAL; executor and executor's deputy.
allow submit OPEN exec
allow submit OPEN dep_e exec
for a in init sup admin dep_i dep_s other gone; do
	refuse 77 submit OPEN $a
done
refuse 79 submit WAITING_APPROVAL exec

# approve / reject: WAITING_APPROVAL; initiator, supervisor, deputies.
for v in approve reject; do
	allow $v WAITING_APPROVAL init
	allow $v WAITING_APPROVAL sup
	allow $v WAITING_APPROVAL dep_i init
	allow $v WAITING_APPROVAL dep_s sup
	for a in exec dep_e admin other gone; do
		refuse 77 $v WAITING_APPROVAL $a
	done
	refuse 79 $v OPEN init
	refuse 79 $v DONE sup
done
t=$(mk WAITING_APPROVAL)
is_rc 64 "reject without --reason is usage" corp-task reject "$t" --as init
is_rc 65 "reject with an empty reason is invalid" \
    corp-task reject "$t" --as init --reason ''

# cancel: OPEN, WAITING_APPROVAL -> CANCELLED; initiator, admin, deputies.
allow cancel OPEN init
allow cancel WAITING_APPROVAL admin
allow cancel OPEN dep_i init
for a in sup dep_s exec dep_e other gone; do
	refuse 77 cancel OPEN $a
done
refuse 79 cancel DONE init
refuse 79 cancel DRAFT init

# open: DRAFT -> OPEN; the draft's initiator and their deputies.
allow open DRAFT init
allow open DRAFT dep_i init
for a in admin sup exec other gone; do
	refuse 77 open DRAFT $a
done
refuse 79 open OPEN init

# create: any active user; inactive 77; unknown 67.
ok "create by a plain user" corp-task create --as other --title x --unit team
is "$(printf '%s' "$out" | jq -c '[.state, .initiator, .assignee_unit]')" \
    '["OPEN","other","team"]' "the creator is the initiator"
before=$(sql .dump)
is_rc 77 "create by an inactive user" corp-task create --as gone --title x \
    --unit team
is_rc 67 "create by an unknown user" corp-task create --as nobody --title x \
    --unit team
is_rc 67 "create for an unknown assignee" corp-task create --as init \
    --title x --assignee nobody
is_rc 65 "create for a user without a unit" corp-task create --as init \
    --title x --assignee admin
like "$err" "has no org unit" "says why"
is "$(sql .dump)" "$before" "refused creates wrote nothing"

# A draft writes no event; open writes TASK_CREATED with v2.
t=$(mk DRAFT)
is "$(sql "SELECT count(*) FROM events WHERE task_id = $t")" 0 \
    "a draft has no event"
corp-task open "$t" --as init >/dev/null
is "$(sql "SELECT event_type || ' ' || dedupe_key FROM events
    WHERE task_id = $t")" "TASK_CREATED task:$t:v2" "open writes TASK_CREATED"

# Unknown task, stale version, delegation windows.
before=$(sql .dump)
is_rc 67 "unknown task" corp-task approve 99999 --as init
is_rc 67 "unknown actor" corp-task approve "$t" --as nobody
t=$(mk OPEN)
before=$(sql .dump)
is_rc 79 "stale --if-version" corp-task assign "$t" --as init \
    --assignee other --if-version 7
is "$(sql .dump)" "$before" "stale version wrote nothing"
ok "right --if-version" corp-task assign "$t" --as init --assignee other \
    --if-version 1
is "$(printf '%s' "$out" | jq .version)" 2 "version moves"
t=$(mk OPEN)
is_rc 77 "a deputy outside the window (before) is refused" \
    corp-task assign "$t" --as dep_i --assignee other \
    --now 2025-12-31T23:59:59Z
is_rc 77 "a deputy at until is refused (window is half-open)" \
    corp-task assign "$t" --as dep_i --assignee other \
    --now 2027-01-01T00:00:00Z

# Never the submitter: the author, and the principal of a deputy's report.
t=$(corp-task create --as init --title self --assignee init | jq .task_id)
corp-task submit "$t" --as init --text r >/dev/null
refuse_here() {
	before=$(sql .dump)
	is_rc 77 "$1" corp-task approve "$t" --as "$2"
	is "$(sql .dump)" "$before" "$1: nothing written"
}
refuse_here "the submitting initiator may not approve" init
corp-task reject "$t" --as sup --reason again >/dev/null
corp-task submit "$t" --as dep_i --text r2 >/dev/null
is "$(sql "SELECT author_user_id || ':' || on_behalf_of_user_id FROM
    task_reports WHERE task_id = $t AND version = 2")" \
    "$(uid dep_i):$(uid init)" "a deputy's report names the principal"
refuse_here "the principal of a deputy's report may not approve" init
refuse_here "the deputy who wrote it may not approve" dep_i
ok "the supervisor may" corp-task approve "$t" --as sup
is "$(sql "SELECT status FROM task_reports WHERE task_id = $t ORDER BY
    version")" "rejected
approved" "reports are versioned and decided"

# CORP_ADMIN_POLICY=none: an admin is nobody special.
t=$(mk OPEN)
is_rc 77 "admin policy none: no admin row" env CORP_ADMIN_POLICY=none \
    corp-task assign "$t" --as admin --assignee other

ok "corp-db check after all of it" corp-db check
done_testing
