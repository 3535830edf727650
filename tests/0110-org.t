#!/bin/sh
# corp-org: the unit tree (move refuses cycles), heads, zones,
# delegations and their [from, until) window.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T10:00:00Z
ok "add root" corp-org add hq --title "Head office" --tz Europe/Kyiv
for u in a b c d; do corp-org add "$u" >/dev/null; done
corp-org move a --parent hq >/dev/null
corp-org move b --parent a >/dev/null
corp-org move c --parent b >/dev/null
ok "list as a tree" corp-org list
is "$out" "d	d
hq	Head office	tz=Europe/Kyiv
  a	a
    b	b
      c	c" "tree text: roots and siblings by name"
before=$(sql .dump)
is_rc 79 "a cycle is refused" corp-org move hq --parent c
is_rc 79 "its own parent is refused" corp-org move b --parent b
is "$(sql .dump)" "$before" "nothing written"
ok "move to the root" corp-org move c --root
is "$(corp-org list --json | jq -c 'select(.name == "c") | [.parent, .depth]')" \
    '[null,0]' "list --json"
is_rc 79 "add twice" corp-org add hq
is_rc 67 "unknown parent" corp-org add e --parent nowhere
corp-user add boss >/dev/null
ok "set-head" corp-org set-head a boss
is "$(printf '%s' "$out" | jq -r .head)" boss "head set"
ok "set-head --none" corp-org set-head a --none
is_rc 64 "a zone outside the tz database" corp-org set-tz a Nowhere/City
is "$err" "corp-org: unknown time zone 'Nowhere/City' (not in the tz database, /usr/share/zoneinfo)" \
    "says so"
is_rc 64 "a misspelt zone" corp-org set-tz a Asia/Tokio
is "$err" "corp-org: unknown time zone 'Asia/Tokio' (did you mean 'Asia/Tokyo'?)" \
    "suggests the zone"
is_rc 64 "add with a misspelt zone" corp-org add zz --tz europe/kyiv
is "$err" "corp-org: unknown time zone 'europe/kyiv' (did you mean 'Europe/Kyiv'?)" \
    "letter case aside"
is_rc 65 "a malformed zone" corp-org set-tz a ../../etc/passwd
is "$err" "corp-org: time zone '../../etc/passwd': expected a tz database name such as Europe/Kyiv" \
    "is invalid input"
is_rc 64 "a file of the zone directory that is not a zone" corp-org set-tz a leapseconds
is "$(corp-org show a | jq -r .tz)" null "nothing stored"
ok "set-tz" corp-org set-tz a Asia/Tokyo
ok "delegate" corp-org delegate --principal boss --deputy admin \
    --from 2026-03-01T10:00:00Z --until 2026-03-02T10:00:00Z
is "$(printf '%s' "$out" | jq -c '[.delegation_id, .principal, .deputy, .active]')" \
    '[1,"boss","admin",true]' "active from its start"
is "$(corp-org delegations --active --now 2026-03-02T10:00:00Z | jq -s length)" 0 \
    "not active at its end"
is "$(corp-org delegations --active --now 2026-03-01T09:59:59Z | jq -s length)" 0 \
    "not active before its start"
is_rc 65 "from after until" corp-org delegate --principal boss --deputy admin \
    --from 2026-03-02T00:00:00Z --until 2026-03-01T00:00:00Z
is_rc 65 "own deputy" corp-org delegate --principal boss --deputy boss \
    --from 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z
is_rc 67 "unknown deputy" corp-org delegate --principal boss --deputy x \
    --from 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z
ok "revoke" corp-org revoke 1
is "$(printf '%s' "$out" | jq -c '[.active, (.revoked_at != null)]')" \
    '[false,true]' "revoked"
is_rc 79 "revoke twice" corp-org revoke 1
is_rc 67 "revoke unknown" corp-org revoke 9
done_testing
