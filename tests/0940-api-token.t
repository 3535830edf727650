#!/bin/sh
# corp-user token add/list/revoke: the token printed once, only its
# SHA-256 stored, labels and expiry, the states, refusals (unknown or
# inactive user, a bad label, an expiry not in the future, an unknown id).
. "${CORP_SRC:-.}/tests/lib.sh"
setup
export CORP_NOW=2026-03-01T12:00:00Z
corp-user add ann >/dev/null
corp-user add gone >/dev/null
corp-user deactivate gone >/dev/null

ok "token add" corp-user token add ann --expires 90d --name "review page"
tok=$(printf '%s' "$out" | jq -r .token)
like "$tok" '^corp_[A-Za-z0-9_-]{43}$' "the token: corp_ and 43 base64url characters"
is "$(printf '%s' "$out" | jq -c 'del(.token)')" \
    '{"id":1,"user":"ann","label":"review page","created_at":"2026-03-01T12:00:00Z","expires_at":"2026-05-30T12:00:00Z","last_used_at":null,"revoked_at":null,"state":"active"}' \
    "the token line"
hash=$(printf '%s' "$tok" | openssl dgst -sha256 -r | cut -d' ' -f1)
is "$(sql "SELECT id, user_id, hash FROM api_tokens")" \
    "1|$(sql "SELECT id FROM users WHERE login = 'ann'")|$hash" \
    "the database keeps the SHA-256"
is "$(sql .dump | grep -c -- "$tok")" 0 "and never the token"

ok "a second token, no expiry" corp-user token add admin
tok2=$(printf '%s' "$out" | jq -r .token)
isnt "$tok2" "$tok" "tokens differ"
ok "list" corp-user token list
is "$out" '{"id":1,"user":"ann","label":"review page","created_at":"2026-03-01T12:00:00Z","expires_at":"2026-05-30T12:00:00Z","last_used_at":null,"revoked_at":null,"state":"active"}
{"id":2,"user":"admin","label":null,"created_at":"2026-03-01T12:00:00Z","expires_at":null,"last_used_at":null,"revoked_at":null,"state":"active"}' \
    "list: every token, never the secret"
is "$(CORP_NOW=2026-06-01T00:00:00Z corp-user token list ann | jq -r .state)" \
    expired "past its expiry: expired"
is "$(corp-user token list admin | jq -r .id)" 2 "list LOGIN"
is_rc 67 "list of an unknown login" corp-user token list zed

ok "revoke" corp-user token revoke 1
is "$(printf '%s' "$out" | jq -c '[.state, .revoked_at]')" \
    '["revoked","2026-03-01T12:00:00Z"]' "revoked"
CORP_NOW=2026-03-02T00:00:00Z ok "revoke again" corp-user token revoke 1
is "$(printf '%s' "$out" | jq -r .revoked_at)" 2026-03-01T12:00:00Z \
    "revoking again changes nothing"
is_rc 67 "revoke an unknown id" corp-user token revoke 9
is "$err" "corp-user: token 9: not found" "names the id"
is_rc 64 "revoke a non-number" corp-user token revoke x

is_rc 67 "add for an unknown login" corp-user token add zed
is_rc 65 "add for an inactive user" corp-user token add gone
is "$err" "corp-user: user 'gone' is inactive: a token would let nobody in" \
    "says why"
is_rc 65 "a label with a control character" corp-user token add ann \
    --name "$(printf 'a\tb')"
is_rc 65 "a label too long" corp-user token add ann \
    --name "$(printf '%0201d' 0)"
is_rc 64 "a bad duration" corp-user token add ann --expires soon
is "$(sql "SELECT count(*) FROM api_tokens")" 2 "refusals stored nothing"
is_rc 64 "an unknown token verb" corp-user token craete ann
like "$err" "did you mean 'create'|did you mean 'revoke'|unknown" "usage error"

# deactivation revokes the user's tokens: reactivation brings none back
ok "a token of bob" corp-user add bob
tb=$(corp-user token add bob --name b | jq -r .id)
CORP_NOW=2026-03-01T13:00:00Z ok "deactivate bob" corp-user set bob --inactive
ok "reactivate bob" corp-user set bob --active
is "$(corp-user token list bob | jq -c '[.id, .state, .revoked_at]')" \
    "[$tb,\"revoked\",\"2026-03-01T13:00:00Z\"]" \
    "deactivation revoked the token, reactivation kept it revoked"
is "$(corp-user token list admin | jq -r .state)" active \
    "another user's tokens: as they were"
done_testing
