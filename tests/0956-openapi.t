#!/bin/sh
# share/openapi.json, the OpenAPI 3 description of corp-api: its
# structure (python3's json and tests/openapi-check.py: the fields every
# operation needs, path parameters, $refs, errors as Error), every route
# the sources serve documented and every documented route served -- read
# from lib/api.c's and lib/www.c's tables and the upgraded path of
# cmd/corp-api.c, and probed on a running corp-api (GET /ws as a corp.v1
# upgrade: 101) -- and the checker catching each kind of drift.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
DOC=$CORP_SHARE_DIR/openapi.json
CHK="python3 $CORP_SRC/tests/openapi-check.py"

ok "openapi.json is JSON" python3 -m json.tool "$DOC"
is "$(jq -r '.openapi' "$DOC")" 3.0.3 "OpenAPI 3.0.3"
run $CHK structure "$DOC" "$CORP_SRC"
is "$rc $out" "0 " "the structure holds and the routes match the sources"

# the checker sees drift of each kind
jq 'del(.paths["/api/ops/dlq"])' "$DOC" >"$T/d1.json"
run $CHK structure "$T/d1.json" "$CORP_SRC"
is "$rc $out" "1 routes: served, not documented: GET /api/ops/dlq" \
    "a served route missing from the document"
jq '.paths["/api/runs/{id}/pause"] = .paths["/api/runs/{id}/close"]' "$DOC" \
    >"$T/d2.json"
run $CHK structure "$T/d2.json" "$CORP_SRC"
is "$rc $out" "1 routes: documented, not served: PUT /api/runs/{id}/pause" \
    "a documented route nobody serves"
jq '.paths["/api/runs/{id}"].get.responses["200"].content["application/json"].schema["$ref"] = "#/components/schemas/Rnu"' \
    "$DOC" >"$T/d3.json"
run $CHK structure "$T/d3.json" "$CORP_SRC"
is "$rc $out" '1 $ref #/components/schemas/Rnu does not resolve' \
    "a dangling \$ref"
jq 'del(.paths["/api/proposals/{id}"].parameters)' "$DOC" >"$T/d4.json"
run $CHK structure "$T/d4.json" "$CORP_SRC"
is "$rc $out" '1 GET /api/proposals/{id}: path parameters ['"'id'"'], declared []
PATCH /api/proposals/{id}: path parameters ['"'id'"'], declared []' \
    "an undeclared path parameter"
jq '.paths["/api/me"].get.responses["401"].content["application/json"].schema = {"type":"object"}' \
    "$DOC" >"$T/d5.json"
run $CHK structure "$T/d5.json" "$CORP_SRC"
is "$rc $out" '1 GET /api/me 401: not an Error' "an error that is not Error"

# every documented route is served by a running corp-api
S=$T/api.sock
bg corp-api --socket "$S" >"$T/ready" 2>"$T/api.log"
wait_file "$T/ready" 30 "$bgpid" || bail "corp-api did not start"
run $CHK probe "$DOC" "$S"
is "$rc $out" "0 " "every documented operation reaches a handler"
run $CHK probe "$T/d2.json" "$S"
is "$rc $out" '1 PUT /api/runs/{id}/pause: 404 no such resource' \
    "the probe catches a route nobody serves"
jq '.paths["/api/me"].post = .paths["/api/runs"].post' "$DOC" >"$T/d6.json"
run $CHK probe "$T/d6.json" "$S"
is "$rc $out" '1 POST /api/me: 405 method not allowed' \
    "and a method the route does not take"
jq '.paths["/wsx"] = .paths["/ws"]' "$DOC" >"$T/d7.json"
run $CHK probe "$T/d7.json" "$S"
like "$rc $out" '^1 GET /wsx: [0-9]+, not an upgrade$' \
    "and a WebSocket path that is not upgraded"

done_testing
