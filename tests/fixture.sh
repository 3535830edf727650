# tests/fixture.sh -- a small company for tests of routing and the queue,
# built with corp's own commands as an operator would build it.
#
#   root (head boss) -> sales (head sam) -> [ann, bob]; eve has no unit
#   admin is user 1 (corp-db init --admin admin); boss, ann, bob, eve and
#   sam follow, in that order: their ids are in $boss $ann $bob $eve $sam
#   boss, ann, bob and sam are bound on telegram (chats 1010, 1011, 1012
#   and 1014); eve has no bind
fixture_company() {
	{ corp-org add root --title Root &&
	    corp-org add sales --title Sales --parent root &&
	    printf '%s\n' '{"login":"boss","name":"Boss","unit":"root"}' \
	    '{"login":"ann","name":"Ann","unit":"sales"}' \
	    '{"login":"bob","name":"Bob","unit":"sales"}' \
	    '{"login":"eve","name":"Eve"}' \
	    '{"login":"sam","name":"Sam","unit":"sales"}' | corp-user import &&
	    corp-org set-head root boss && corp-org set-head sales sam &&
	    printf '{"login":"%s","channel":"telegram","address":"%s"}\n' \
	    boss 1010 ann 1011 bob 1012 sam 1014 | corp-bind import
	} >/dev/null || bail "fixture_company failed"
	eval "$(corp-user list --all |
	    jq -r 'select(.login != "admin") | "\(.login)=\(.user_id)"')"
}

# fixture_tasks N: N tasks of the sales unit that boss creates ("Task 1"
# ...), each with its TASK_CREATED event.  boss hears of his own tasks
# (notify_self on TASK_CREATED for initiators), so routing one gives
# rows to boss, ann, bob and sam on telegram.
fixture_tasks() {
	corp-settings notify set --event-type TASK_CREATED --role initiator \
	    --channel telegram --notify-self >/dev/null ||
	    bail "fixture_tasks: notify set failed"
	_t=1
	while [ "$_t" -le "$1" ]; do
		corp-task create --as boss --title "Task $_t" --unit sales \
		    >/dev/null || bail "fixture_tasks: create failed"
		_t=$((_t + 1))
	done
}

# A test sender: every line acked with the given result.
ack_all() {
	jq -c --arg r "${1:-sent}" '. + {result: $r, provider_message_id: "p\(.delivery_id)"}'
}
