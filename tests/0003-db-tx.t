#!/bin/sh
# corp_db_tx (lib/db.h), the one transaction rule: an entry point that
# writes owns its transaction; a refusal writes nothing; inside a
# transaction the caller holds it joins and leaves the rollback to the
# owner.  Through $CORP_BUILD/tools/dbtx on a scratch table of its own
# (the object under test is the transaction, not a corp table); on both
# backends (make check-pg: PostgreSQL).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
D="${CORP_BUILD:-$CORP_SRC/build}/tools/dbtx"

ok "the scratch table" "$D" init

ok "a write in its own transaction" "$D" put a
is "$out" "rc=0 in_tx=0" "committed, no transaction left open"

ok "a refusal after a write" "$D" refuse b
is "$out" "rc=65 in_tx=0
err=refused after writing 'b'" "returns fn's code and message, rolled back"

ok "a conflict on the second write" "$D" dup c
is "$(printf '%s\n' "$out" | head -1)" "rc=79 in_tx=0" "79, rolled back"
like "$out" "err=insert tx_probe: " "the database's reason, named"

ok "joined, the owner rolls back" "$D" join-rollback d
is "$out" "rc=0 in_tx=1
after in_tx=0" "no commit of its own: still in the caller's transaction"

ok "joined, the owner commits" "$D" join-commit e
is "$out" "rc=0 in_tx=1
after in_tx=0" "committed by the owner"

ok "joined, a refusal" "$D" join-refuse f
is "$out" "rc=65 in_tx=1
err=refused after writing 'f'
after in_tx=0" "the transaction stays the owner's to roll back"

ok "nested calls join the outer one" "$D" nested g
is "$out" "inner in_tx=1
rc=65 in_tx=0
err=outer refused" "the inner call did not commit; the outer refusal took it back"

ok "what stayed" "$D" list
is "$out" "a
e" "only the committed writes: a and the owner's e"

done_testing
