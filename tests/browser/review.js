/*
 * tests/0955's driver: the review page and the operator page in Debian's
 * chromium, headless, through playwright-core (pinned in
 * package-lock.json).  Two reviewers, each in a browser context of its
 * own (separate sessionStorage); one JSON line per step on stdout for
 * the shell test to judge; an exception exits 1 with its message.
 *
 * Environment: BASE (http://127.0.0.1:PORT), TOKEN_A, TOKEN_B,
 * CHROMIUM (the executable).  Every wait is bounded (WAIT_MS).
 */
"use strict";
const { chromium } = require("playwright-core");

const WAIT_MS = 20000;
const base = process.env.BASE;

const t0 = Date.now();

/* A step's line; "ms": since the driver started (for --timer hunts). */
function out(o) {
	o.ms = Date.now() - t0;
	process.stdout.write(JSON.stringify(o) + "\n");
}

async function counters(p) {
	const get = (id) => p.textContent(id);
	return {
		status: await get("#c-status"),
		total: await get("#c-total"),
		pending: await get("#c-pending"),
		approved: await get("#c-approved"),
	};
}

/* A table's rows as arrays of cell texts, the first n cells. */
function rows(p, sel, n) {
	return p.$$eval(sel, (t, k) => t.map((r) => Array.from(r.cells)
	    .slice(0, k || r.cells.length).map((x) => x.textContent)), n);
}

async function signIn(p, token) {
	await p.waitForSelector("#signin:not([hidden])", { timeout: WAIT_MS });
	await p.fill("#token", token);
	await p.click("#signin-form button[type=submit]");
}

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM,
		/* as root chromium needs --no-sandbox; the pages are ours */
		args: ["--no-sandbox", "--disable-gpu"],
		timeout: WAIT_MS,
	});
	const csp = [], errors = [];
	async function page() {
		const ctx = await browser.newContext();
		const p = await ctx.newPage();

		p.setDefaultTimeout(WAIT_MS);
		p.on("console", (m) => {
			if (/Content Security Policy/i.test(m.text()))
				csp.push(m.text());
		});
		p.on("pageerror", (e) => errors.push(e.message));
		return p;
	}
	out({ step: "launched" });
	try {
		const a = await page(), b = await page();

		/* reviewer A: sign in, the runs, open run 1 */
		await a.goto(base + "/");
		await signIn(a, process.env.TOKEN_A);
		await a.waitForSelector('#runs-body tr[data-run="1"]');
		out({ step: "runs", who: await a.textContent("#who"),
		    rows: await a.$$eval("#runs-body tr", (t) => t.map((r) =>
		    Array.from(r.cells).slice(0, 3).map((x) =>
		    x.textContent))) });
		await a.click('#runs-body tr[data-run="1"] button');
		await a.waitForSelector("#proposal-1");
		out({ step: "a-open", hash: await a.evaluate(() =>
		    location.hash), counters: await counters(a),
		    proposals: await a.$$eval("#proposals .proposal",
		    (d) => d.map((x) => x.dataset.status)),
		    source: await a.textContent(
		    '#proposal-1 blockquote.source') });

		/* reviewer B opens the same run in another context: a
		 * token that is not one first */
		await b.goto(base + "/#run=1");
		await signIn(b, "not-a-token");
		await b.waitForSelector("#error:not([hidden])");
		out({ step: "bad-token", error: await b.textContent("#error"),
		    stored: await b.evaluate(() =>
		    sessionStorage.getItem("corp.token")),
		    signin: await b.isVisible("#signin") });
		await signIn(b, process.env.TOKEN_B);
		await b.waitForSelector("#proposal-1");
		await b.waitForFunction(() => /^live: /.test(
		    document.getElementById("live").textContent));
		out({ step: "b-open", counters: await counters(b),
		    live: await b.textContent("#live") });

		/* A approves proposal 1; B's document is marked, so a
		 * reload of it would show */
		await b.evaluate(() => { window.corpMark = 1; });
		await a.click("#proposal-1 button.approve");
		await a.waitForSelector('#proposal-1[data-status="approved"]');
		out({ step: "a-approved", counters: await counters(a),
		    decided: await a.textContent("#proposal-1 .decided") });

		/* B sees it without a reload */
		await b.waitForSelector('#proposal-1[data-status="approved"]');
		await b.waitForFunction(() => document.getElementById(
		    "c-approved").textContent === "1");
		out({ step: "b-live", counters: await counters(b),
		    decided: await b.textContent("#proposal-1 .decided"),
		    same_document: await b.evaluate(() =>
		    window.corpMark === 1) });

		/* a third reviewer whose WebSocket the network closes at
		 * once: the page falls back to polling, and still sees A */
		const c = await page();

		await c.context().routeWebSocket(/\/ws$/, (ws) => ws.close());
		await c.goto(base + "/#run=1");
		await signIn(c, process.env.TOKEN_B);
		await c.waitForSelector("#proposal-2");
		await c.waitForFunction(() => /^live: polling/.test(
		    document.getElementById("live").textContent));
		await c.evaluate(() => { window.corpMark = 1; });
		await a.fill("#proposal-2 input.reason", "a duplicate");
		await a.click("#proposal-2 button.reject");
		await a.waitForSelector('#proposal-2[data-status="rejected"]');
		await c.waitForSelector('#proposal-2[data-status="rejected"]');
		await c.waitForFunction(() => document.getElementById(
		    "c-pending").textContent === "1");
		out({ step: "c-poll", live: await c.textContent("#live"),
		    counters: await counters(c),
		    decided: await c.textContent("#proposal-2 .decided"),
		    same_document: await c.evaluate(() =>
		    window.corpMark === 1) });

		/* the operator page, in A's tab (its sessionStorage) */
		await a.goto(base + "/ops");
		await a.waitForSelector("#stats-at:not(:empty)");
		await a.waitForSelector("#chart polyline.pending",
		    { state: "attached" });
		out({ step: "ops", stats: await rows(a, "#stats-body tr"),
		    paused: await a.textContent("#paused"),
		    points: Number(await a.getAttribute(
		    "#chart polyline.pending", "data-points")),
		    dlq: await rows(a, "#dlq-body tr", 8) });
		await a.click('#dlq-body tr[data-delivery="1"] button.requeue');
		await a.waitForFunction(() => document.querySelectorAll(
		    "#dlq-body tr").length === 0);
		await a.waitForFunction(() => document.querySelector(
		    '#stats-body tr[data-channel="telegram"] td:nth-child(2)')
		    .textContent === "3");
		out({ step: "requeued", stats: await rows(a, "#stats-body tr"),
		    dlq: await rows(a, "#dlq-body tr") });
		await a.fill("#explain-event", "1");
		await a.fill("#explain-user", "admin");
		await a.click("#explain-form button");
		await a.waitForFunction(() => document.getElementById(
		    "explain-out").textContent !== "");
		out({ step: "explain", out: JSON.parse(await a.textContent(
		    "#explain-out")).user });
		out({ step: "errors", csp: csp, page: errors });
	} finally {
		await browser.close();
	}
})().catch((e) => {
	process.stderr.write("review.js: " + e.message + "\n");
	process.exit(1);
});
