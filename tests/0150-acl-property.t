#!/bin/sh
# The visibility function against an oracle written here, independently
# (recursive SQL through the sql helper), over random org trees, users,
# delegations around CORP_NOW and tasks in every state, built with corp's
# commands (tests/acl-gen.py).  Compares the whole (task, user, role)
# relation from `corp-task viewers --all` and `corp-task list --as U` for
# a sample of users.
# Replay a failure: CORP_ACL_SEED=<the seed printed below>.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
now=$(date -u -d "$CORP_NOW" +%s)
seed=${CORP_ACL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# A case is built by some 33 runs of corp's commands (acl-gen.py), three
# to four times the CPU of when SQL wrote it: 100 cases, not 200, keep the
# file under twice its old cost (PostgreSQL: 40, each case a new
# database).  Each run draws a new seed, so the runs of the suite
# together cover many more; CORP_ACL_SEED replays one.
cases=$(quick 100 25 40)
echo "# seed $seed, $cases cases (CORP_ACL_SEED=$seed to replay)"
/usr/bin/python3 "$CORP_SRC/tests/acl-gen.py" "$seed" "$cases" "$T/c" "$now" ||
    bail "generator failed"
empty=$(copydb "$(curdb)") || bail "copydb failed"

. "$CORP_SRC/tests/acl-oracle.sh"

# fresh: $db is an empty database again, as corp-db init left it.  SQLite:
# a new copy (its -wal and -shm removed first: a stale one never applies).
# PostgreSQL: a new database from $empty (dropped after the case).
db=""
fresh() {
	if pg_mode; then
		[ -z "$db" ] || rmdb "$db"
		db=$(copydb "$empty") || bail "copydb failed"
		return
	fi
	# $empty was checkpointed by copydb and is never opened again: a
	# plain copy (one process a case, not three).
	db=$T/case.db
	rm -f "$db-wal" "$db-shm"
	cp "$empty" "$db" || bail "copying the empty database failed"
}

rows=0
deputies=0
i=0
while [ "$i" -lt "$cases" ]; do
	d="$T/c/$i"
	fresh
	if ! CORP_DB=$db sh -e "$d/setup.sh"; then
		fail "case $i: loading failed (seed $seed)"
		i=$((i + 1))
		continue
	fi
	want=$(oracle "$db" | LC_ALL=C sort)
	got=$(CORP_DB=$db corp-task viewers --all | sed \
	    's/^{"task_id":\([0-9]*\),"user_id":\([0-9]*\),"role":"\([^"]*\)"}$/\1|\2|\3/' |
	    LC_ALL=C sort)
	is "$got" "$want" "case $i: the viewer relation (seed $seed)"
	# One awk for the case: per sampled login the task ids it must list
	# (numeric order, each once, as corp-task list prints them), from the
	# oracle's rows and the logins' ids; then the relation's counts.
	read -r sample < "$d/sample"
	bad=""
	while read -r u w; do
		case $u in
		"#")	# shellcheck disable=SC2086
			set -- $w
			rows=$((rows + $1))
			deputies=$((deputies + $2))
			continue ;;
		esac
		g=$(CORP_DB=$db corp-task list --as "$u" |
		    sed -n 's/^{"task_id":\([0-9]*\),.*/\1/p')
		# shellcheck disable=SC2086
		set -- $g
		[ "$*" = "$w" ] || bad="$bad $u(got [$*] want [$w])"
	done <<EOF
$( { sql_at "$db" "SELECT 'id|' || login || '|' || id FROM users"
    printf '%s\n' "$want"; } | awk -F'|' -v sample="$sample" '
    $1 == "id" { id[$2] = $3; next }
    NF == 3 { rows++; if ($3 ~ /^deputy:/) dep++
        if (!(($2, $1) in seen)) { seen[$2, $1] = 1
        ids[$2] = ids[$2] " " $1 } }
    END { n = split(sample, s, " ")
        for (k = 1; k <= n; k++) {
            m = split(ids[id[s[k]]], t, " "); out = ""
            for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
                if (t[b] + 0 < t[a] + 0) { x = t[a]; t[a] = t[b]; t[b] = x }
            for (a = 1; a <= m; a++) out = out (a > 1 ? " " : "") t[a]
            print s[k], out }
        print "#", rows + 0, dep + 0 }')
EOF
	is "$bad" "" "case $i: list --as for a sample of users"
	i=$((i + 1))
done
# Guard against a vacuous run: the cases must exercise the rules.
[ "$rows" -gt $((cases * 5)) ] && pass "relations are not trivial ($rows rows)" ||
    fail "relations are trivial ($rows rows)"
[ "$deputies" -gt 0 ] && pass "deputies occur ($deputies rows)" ||
    fail "no deputy row in any case"
done_testing
