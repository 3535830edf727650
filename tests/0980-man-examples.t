#!/bin/sh
# Every EXAMPLES display of every man page, run (issue 15: the suite walks
# the operator's path), so that an example cannot rot: the page is the
# contract.  tests/man-examples.py extracts them (its header says how a
# display becomes commands, and the marks a page may put before a display:
# not run, needs PostgreSQL, needs SQLite, exit N).  Each command must
# exit 0 (or the N its mark names) and print exactly the output the page
# shows under it; a crontab(5) line must print nothing (cron mails any
# output); a command that runs until a signal (the table "until": the
# condition that says it is up, and its status after SIGTERM: 0 where its
# page promises a clean stop, 143 for a reader that simply dies) must be
# up, then stop on SIGTERM with that status.
#
# Each page runs in a scratch directory of its own (its cwd), on a fresh
# copy of one stage of the fixture, built below with corp's own commands:
#
#   empty    nothing: no data dir content, no database
#   units    corp-db init --admin admin; units ops and team (under ops)
#   company  + users boss (head of ops), dep, alice, bob, ann; Telegram
#            binds; telegram.bot_username; the bot token, webhooks.conf
#            (crm), exec.conf (llm, a stand-in language model: every
#            message that says "please" is a proposal); 120 messages of
#            the group -100 (events 1..120, topic messages): 110 of
#            2026-02-27 09:00-09:10 (4 say please), 10 of 2026-03-01
#            09:00-09:10 (2 say please)
#   busy     + tasks 1..17 by boss (odd ones to ann, even ones to bob),
#            routed (Telegram rows pending); analysis run 1 over 2026-02-27
#            (proposals 1..4, completed)
#
# with business time CORP_NOW=2026-03-02T10:00:00Z, the fake Bot API over
# HTTPS as CORP_TELEGRAM_API (its CA in CORP_CA_FILE) and a second one over
# plain HTTP for the pages' "http://127.0.0.1:8081", CORP_RATE_LIMIT=off
# (corp(7)), the tools as installed (make install, below).  The table
# "stage" says which page starts from which stage, prep_PAGE prepares the
# files a page's examples read, and the table "subst" (PAGE, text in the
# page, what the test runs) fills in what only the test knows.
. "${CORP_SRC:-.}/tests/lib.sh"
. "$CORP_SRC/tests/send-lib.sh"
export CORP_NOW=2026-03-02T10:00:00Z CORP_RATE_LIMIT=off
TOKEN='777098:AAman-Examples_token'
export FAKE_TG_TOKEN="$TOKEN"
unset CORP_TELEGRAM_TOKEN CORP_SMTP_PASSWORD CORP_CA_FILE
export HOME="$T/home"
mkdir -p "$HOME" "$T/backups" "$T/pages" "$T/ex" "$T/res"

# The installed layout, as an operator has it: make install (the suite's
# own build, copied; nothing is compiled here) into a tree of its own,
# its bin first on PATH, and no CORP_SHARE_DIR: the programs find the
# catalogs installed beside them, contrib's scripts are installed too.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$CORP_SRC" install \
    PREFIX=/opt/corp DESTDIR="$T/root" B="${CORP_BUILD:-$CORP_SRC/build}" \
    SANITIZE="${CORP_SANITIZE:-}" >"$T/install.log" 2>&1 ||
    bail "make install failed: $(tail -5 "$T/install.log")"
export PATH="$T/root/opt/corp/bin:$PATH"
unset CORP_SHARE_DIR
is "$(for p in "$T"/root/opt/corp/bin/*; do command -v "${p##*/}"; done |
    grep -vc "^$T/root/opt/corp/bin/")" 0 "every installed tool is the one on PATH"

make_cert tg
: > "$T/updates"
start_fake tgs "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tgs.log" \
    --updates "$T/updates" --tls-cert "$T/tg.pem" --tls-key "$T/tg.key"
export CORP_TELEGRAM_API="https://127.0.0.1:$port" CORP_CA_FILE="$T/tg.pem"
TGLOG=$T/tgs.log
start_fake tgp "$CORP_SRC/contrib/fake-telegram-api" --log "$T/tgp.log" \
    --updates "$T/updates"
plain_port=$port
export TGLOG

q() { "$@" >/dev/null || bail "fixture: $* failed"; }

# snapshot NAME: keep the current data dir and database as stage NAME.
snapshot() {
	cp -a "$CORP_DATA_DIR" "$T/stage-$1" || bail "snapshot $1"
	if pg_mode; then
		eval "stage_db_$1=\$(copydb \"\$CORP_DB\")" || bail "copydb $1"
	fi
}

# ---- the extractor, on a page of its own ------------------------------
cat > "$T/x.1" <<'EOF'
.Sh EXAMPLES
Two commands, the first over three lines, with its output:
.Bd -literal -offset indent
$ printf '%s\en' a b |
  sort -r \e
    -u
b
a
$ echo \-n
.Ed
.\" example: not run: shows a file
.Bd -literal
[Service]
.Ed
.\" example: needs PostgreSQL
.\" example: exit 3
.Bd -literal
psql -c 'select 1'
15 3 * * * date +\e%F
.Ed
.Sh SEE ALSO
.Bd -literal
not an example
.Ed
EOF
run python3 "$CORP_SRC/tests/man-examples.py" --list "$T/x.1"
is "$out" "== x.1:3 run
\$ printf '%s\\n' a b |
  sort -r \\
    -u
b
a
\$ echo -n
== x.1:12 skip shows a file
== x.1:17 pg
\$ psql -c 'select 1'
\$ 15 3 * * * date +\\%F" "man-examples.py: sessions, continuations, output, marks"
mkdir "$T/x"
run python3 "$CORP_SRC/tests/man-examples.py" --out "$T/x" "$T/x.1"
is "$(cat "$T/x/3.1.exit" "$T/x/3.2.exit" "$T/x/3.2.cmd")" "3
cron
date +%F" "a mark's exit status; a crontab line runs its command, % as cron reads it"
printf '.Sh EXAMPLES\n.Bd -literal\nls \\(em\n.Ed\n' > "$T/y.1"
run python3 "$CORP_SRC/tests/man-examples.py" --list "$T/y.1"
is "$rc:$err" '1:y.1:3: mdoc escape \( in an example: teach tests/man-examples.py what it means' \
    "man-examples.py: an escape it does not know is an error"

# ---- the fixture ----------------------------------------------------
setup
q corp-org add ops --title Operations
q corp-org add team --title Team --parent ops
snapshot units

q corp-user add boss --name Boss --unit ops
q corp-user add dep --name Deputy --unit ops
q corp-org set-head ops boss
for u in alice bob ann; do
	q corp-user add $u --name "$(echo $u | sed 's/./\U&/')" --unit team
done
q corp-settings config set telegram.bot_username corp_test_bot
q corp-bind add --user alice --channel telegram --address 123456789
q corp-bind add --user ann --channel telegram --address 1001
q corp-bind add --user bob --channel telegram --address 1002
q corp-bind add --user boss --channel telegram --address 1003
D=$CORP_DATA_DIR
mkdir -m 700 "$D/secrets"
(umask 077 && printf '%s\n' "$TOKEN" > "$D/secrets/telegram_token")
(umask 077 && echo 'crm https://crm.example/hooks/corp' > "$D/webhooks.conf")
mkdir -m 700 "$T/llm"
cat > "$T/llm/llm" <<'EOF'
#!/bin/sh
# A stand-in for a language model: every message that says "please".
exec jq -c '.messages[] | select(.text | test("please"; "i")) |
    {title: .text, messages: [.message_id]}'
EOF
chmod 700 "$T/llm/llm"
(umask 077 && echo "llm=$T/llm/llm" > "$D/exec.conf")

# updates FIRST COUNT START STEP [ID=TEXT]...: COUNT Bot API updates of the
# group -100, update and message ids from FIRST, the first at START (RFC
# 3339), one every STEP seconds; each says "Status of report ID: on
# track" unless an ID=TEXT gives its text.
updates() {
	python3 - "$@" <<'PY'
import calendar, json, sys, time
first, count, step = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
t0 = calendar.timegm(time.strptime(sys.argv[3], "%Y-%m-%dT%H:%M:%SZ"))
texts = dict((int(a.split("=", 1)[0]), a.split("=", 1)[1])
             for a in sys.argv[5:])
for i in range(count):
    n = first + i
    print(json.dumps({"update_id": n, "message": {"message_id": n,
        "date": t0 + step * i, "chat": {"id": -100, "type": "supergroup",
        "title": "Team"}, "from": {"id": 500 + i % 3, "is_bot": False,
        "first_name": "Member", "username": f"member{i % 3}"},
        "text": texts.get(n, f"Status of report {n}: on track")}},
        separators=(",", ":")))
PY
}
{
	updates 1 110 2026-02-27T09:00:00Z 5 "3=Please call the auditor" \
	    "33=Please order paper" "63=Please renew the domain" \
	    "93=Please fix the printer"
	updates 111 10 2026-03-01T09:00:00Z 60 \
	    "113=Please book the room for Friday" \
	    "117=Please send the March report to the bank"
} > "$T/history.jsonl"
q corp-msg import "$T/history.jsonl"
snapshot company

i=1
while [ $i -le 17 ]; do
	a=bob; [ $((i % 2)) = 1 ] && a=ann
	q corp-task create --as boss --title "Task $i" --assignee $a
	i=$((i + 1))
done
q corp-event route
q corp-analysis create --as admin --chat -100 --from 2026-02-27T00:00:00Z \
    --until 2026-02-28T00:00:00Z
q corp-analysis start 1 --as admin --proposer exec:llm
snapshot busy

# ---- what each page starts from, and what it reads ------------------
stage() {
	case $1 in
	corp-db.1) echo empty ;;
	corp-user.1) echo units ;;
	corp-cursor.1|corp-deliver.1|corp-event.1|corp-fmt.1|corp-msg.1|\
	corp-pipeline.1|corp-proposal.1|corp-send.1) echo busy ;;
	*) echo company ;;
	esac
}

# A backup to restore (SQLite); under check-pg a SQLite database of 12
# users to migrate from, and the names of the databases the page creates.
prep_corp_db() {
	mkdir -m 700 "$T/old"
	q corp-db --db "$T/old/corp.db" init --admin boss
	q corp-db --db "$T/old/corp.db" backup "$T/backups/2026-01-05.db"
}
src=; mig=; rest=
if pg_mode; then
	src=$T/src/corp.db
	mkdir -m 700 "$T/src"
	q corp-db --db "$src" init --admin boss
	i=1
	while [ $i -le 11 ]; do
		echo "{\"login\":\"u$i\"}"
		i=$((i + 1))
	done | q corp-user --db "$src" import
	mig=$(newdb) && rmdb "$mig" && rest=$(newdb) && rmdb "$rest" ||
	    bail "no database names"
fi
# The events the reader has seen; a capture of new messages; a few
# formatted lines.
prep_corp_event() { echo 130 > last-id; }
prep_corp_bind() {
	printf '%s\n' '{"login":"alice","channel":"telegram","address":"123456789"}' \
	    '{"login":"bob","channel":"email","address":"bob@example.com"}' \
	    > binds.jsonl
}
prep_corp_msg() { updates 1001 120 2026-03-01T10:00:00Z 30 > capture.jsonl; }
prep_corp_send() {
	corp-deliver pending --channel telegram --limit 3 | corp-fmt \
	    > formatted.jsonl || bail "formatted.jsonl"
}

pgname() { _u=${1#*:///}; echo "${_u%%\?*}"; }
cat > "$T/subst" <<EOF
*	http://127.0.0.1:8081	http://127.0.0.1:$plain_port
corp-db.1	/var/backups/corp	$T/backups
corp-db.1	corp-db migrate-to postgresql://corp@db.example/corp	corp-db migrate-to --db $src $mig
corp-db.1	createdb -h db.example -U corp corp	createdb -h ${CORP_TEST_PG:-} $(pgname "$mig")
corp-db.1	postgresql://corp@db.example/corp	'$mig'
corp-db.1	createdb corp_restored	createdb -h ${CORP_TEST_PG:-} $(pgname "$rest")
corp-db.1	-d corp_restored	-d '$rest'
EOF
cat > "$T/until" <<'EOF'
corp-deliver.1	corp-deliver run --channel telegram --worker tg1	[ -e "$CORP_DATA_DIR/worker-tg1.lock" ]	0
corp-event.1	corp-event tail --follow	[ -s "$OUT" ]	143
corp-tg.1	corp-tg poll --timeout 50	grep -q '"timeout":50' "$TGLOG"	0
EOF
cd "$T/ex" && python3 "$CORP_SRC/tests/man-examples.py" --subst "$T/subst" \
    --until "$T/until" --out "$T/ex" "$CORP_SRC"/man/*.[157] ||
    bail "man-examples.py failed"
cd "$T"

# ---- run them ---------------------------------------------------------
lastpage=
k=1
while [ -e "$T/ex/$k.info" ]; do
	read -r page line kind reason < "$T/ex/$k.info"
	where="$page:$line"
	if [ "$page" != "$lastpage" ]; then
		lastpage=$page
		p=$(echo "$page" | tr . _)
		st=$(stage "$page")
		pd=$T/pages/$p
		mkdir -p "$pd/cwd"
		if [ "$st" = empty ]; then
			mkdir -m 700 "$pd/data"
			pg_mode && { CORP_DB=$(newdb) || bail "newdb"; }
		else
			cp -a "$T/stage-$st" "$pd/data" || bail "copy $st"
			pg_mode && { CORP_DB=$(copydb "$(eval echo \$stage_db_$st)") ||
			    bail "copydb $st"; }
		fi
		export CORP_DATA_DIR="$pd/data"
		pg_mode && export CORP_DB
		f=prep_$(echo "${page%.*}" | tr - _)
		if type "$f" >/dev/null 2>&1; then
			(cd "$pd/cwd" && $f) || bail "$f failed"
		fi
	fi
	case $kind in
	skip) skip "$where: not run: $reason"; k=$((k + 1)); continue ;;
	pg) pg_mode || { skip "$where: needs PostgreSQL (make check-pg)"
	    k=$((k + 1)); continue; } ;;
	sqlite) if ! if_sqlite "$where: needs SQLite"; then
	    k=$((k + 1)); continue; fi ;;
	esac
	(cd "$pd/cwd" && sh "$T/ex/$k.sh" "$T/res") 2> "$T/res/$k.sh.err"
	n=1
	while [ -e "$T/ex/$k.$n.cmd" ]; do
		r=$T/res/$k.$n
		cmd=$(head -1 "$T/ex/$k.$n.cmd" | sed 's/\\/\\\\/g')
		want=$(cat "$T/ex/$k.$n.exit")
		got=$(cat "$r.rc" 2>/dev/null || echo "none")
		o=$(cat "$r.out" 2>/dev/null) e=$(cat "$r.err" 2>/dev/null)
		case $want in
		cron) ok_=0; [ "$got" = 0 ] && [ -z "$o$e" ] && ok_=1
		    what="exits 0 and prints nothing (cron would mail it)" ;;
		signal*) ok_=0; [ "$got" = "${want#signal }" ] &&
		    [ -e "$r.up" ] && ok_=1
		    what="runs until SIGTERM, then exits ${want#signal }" ;;
		*) ok_=0; [ "$got" = "$want" ] && ok_=1
		    what="exits $want" ;;
		esac
		if [ $ok_ = 1 ]; then
			pass "$where: $cmd: $what"
		else
			fail "$where: $cmd: $what" "exit: $got" \
			    "stdout: $(printf '%s' "$o" | head -c 1500)" \
			    "stderr: $(printf '%s' "$e" | head -c 1500)" \
			    "$(cat "$T/res/$k.sh.err")"
		fi
		if [ -e "$T/ex/$k.$n.want" ]; then
			is "$o" "$(cat "$T/ex/$k.$n.want")" \
			    "$where: $cmd: prints what the page shows"
		fi
		n=$((n + 1))
	done
	k=$((k + 1))
done
is "$(cat "$T"/ex/*.info | cut -d' ' -f1 | sort -u)" \
    "$(cd "$CORP_SRC/man" && grep -l '^\.Sh EXAMPLES' *.[157] | sort)" \
    "every page with EXAMPLES gave its displays"
# The pages' pipes, runs and pipelines reached the fakes, and each
# message they sent was accepted.
for f in tgs tgp; do
	is "$(jq -r 'select(.method == "sendMessage") | .status' "$T/$f.log" |
	    sort | uniq -c | awk '{ print ($1 > 0 ? "some" : "none"), $2 }')" \
	    "some 200" "the fake Bot API ($f) received messages, every one accepted"
done
is "$(grep -c secret_seen "$T/tgs.log" "$T/tgp.log" | grep -vc ':0$')" 0 \
    "the token reached no message"
done_testing
