# The WebSocket client of the corp-api tests (tests/tools/ws.mjs), sourced
# after lib.sh: ws ARGS... runs it.  node 22 has a global WebSocket;
# node 20 has it behind a flag.
command -v node >/dev/null || bail "node is needed for the WebSocket client"
if node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null
then WSN=""; else WSN=--experimental-websocket; fi
ws() {
	node $WSN --no-warnings "$CORP_SRC/tests/tools/ws.mjs" "$@"
}
