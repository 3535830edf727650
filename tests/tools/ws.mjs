// ws.mjs -- a WebSocket client for the corp-api tests (node's built-in
// WebSocket; node 20 needs --experimental-websocket).  No framing here:
// node's WebSocket speaks the protocol.
//
//   node ws.mjs URL COUNT [FRAME...]
//     Connect with protocol corp.v1, send each FRAME (a JSON text) in
//     order, print every message received as one line, and exit after
//     COUNT of them (0: at the close).  The close prints
//     {"close":CODE,"reason":"..."}, a refused upgrade {"error":true}.
//     60 s without the end: exit 3.
//   node ws.mjs --idle N URL TOKEN
//     N connections, each authenticated and subscribed to proposals;
//     prints {"idle":N} once all are subscribed, then {"open":K} (the
//     connections still open) on each line read from stdin; exits at
//     its end.
//   node ws.mjs --raw URL
//     The upgrade without protocol corp.v1: prints {"error":true} or
//     {"open":true}.
const args = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const line = (s) => process.stdout.write(s + "\n");
setTimeout(() => { say({ timeout: true }); process.exit(3); }, 60000);

if (args[0] === "--idle") {
	const n = Number(args[1]), url = args[2], token = args[3];
	let ready = 0, open = 0;
	for (let i = 0; i < n; i++) {
		const ws = new WebSocket(url, "corp.v1");
		ws.onopen = () => {
			open++;
			ws.send(JSON.stringify({ type: "auth", token }));
			ws.send(JSON.stringify({ type: "subscribe",
			    topics: ["proposals"] }));
		};
		ws.onmessage = (m) => {
			if (JSON.parse(m.data).type === "subscribed" &&
			    ++ready === n)
				say({ idle: n });
		};
		ws.onclose = () => { open--; };
	}
	process.stdin.on("data", () => say({ open }));
	process.stdin.on("end", () => process.exit(0));
} else if (args[0] === "--raw") {
	const ws = new WebSocket(args[1]);
	ws.onopen = () => { say({ open: true }); process.exit(0); };
	ws.onerror = () => { say({ error: true }); process.exit(0); };
} else {
	const url = args[0], count = Number(args[1]), frames = args.slice(2);
	let got = 0, opened = false;
	const ws = new WebSocket(url, "corp.v1");
	ws.onopen = () => {
		opened = true;
		for (const f of frames)
			ws.send(f);
	};
	ws.onmessage = (m) => {
		line(m.data);
		if (count > 0 && ++got === count) {
			ws.close();
			process.exit(0);
		}
	};
	ws.onerror = () => {
		if (!opened) {	/* the upgrade refused */
			say({ error: true });
			process.exit(0);
		}
	};
	ws.onclose = (c) => {
		say({ close: c.code, reason: c.reason });
		process.exit(0);
	};
}
