/*
 * ops.js -- the operator page (corp-api.1 PAGES): queue depth by channel
 * and status (corp-deliver stats), a chart of the last hour drawn from
 * the snapshots this page takes itself (one per update, kept in memory:
 * a fresh page starts an empty chart), the dead-letter queue with
 * requeue, and explain for an event and a user.
 */
"use strict";

(function () {
	var $ = corp.$, el = corp.el, api = corp.api;
	var HOUR = 3600 * 1000;
	var snaps = [];		/* {t (ms), pending, failed} */
	var SVG = "http://www.w3.org/2000/svg";

	function svg(tag, attrs) {
		var e = document.createElementNS(SVG, tag);

		Object.keys(attrs).forEach(function (k) {
			e.setAttribute(k, attrs[k]);
		});
		return e;
	}

	function stats() {
		return api("GET", "/api/ops/stats").then(function (s) {
			var by = {}, tb = $("stats-body"), tot = { PENDING: 0,
			    FAILED: 0 }, ul = $("paused");

			s.queue.forEach(function (q) {
				var c = by[q.channel] || (by[q.channel] = {
				    PENDING: 0, SENT: 0, FAILED: 0, leased: 0,
				    oldest: null });

				c[q.status] = (c[q.status] || 0) + q.count;
				c.leased += q.leased;
				if (q.oldest_ready_age_s !== null &&
				    (c.oldest === null ||
				    q.oldest_ready_age_s > c.oldest))
					c.oldest = q.oldest_ready_age_s;
				if (q.status in tot)
					tot[q.status] += q.count;
			});
			tb.textContent = "";
			Object.keys(by).sort().forEach(function (ch) {
				var c = by[ch], tr = el("tr");

				tr.dataset.channel = ch;
				[ch, c.PENDING, c.SENT, c.FAILED, c.leased,
				    c.oldest === null ? "\u2013" : c.oldest]
				    .forEach(function (v) {
					tr.appendChild(el("td", null, v));
				});
				tb.appendChild(tr);
			});
			ul.textContent = "";
			s.paused.forEach(function (p) {
				ul.appendChild(el("li", null, p.channel +
				    (p.endpoint ? " " + p.endpoint : "") +
				    " until " + p.until + ", " + p.waiting +
				    " waiting: " + p.cause));
			});
			if (!s.paused.length)
				ul.appendChild(el("li", null, "none"));
			$("stats-at").textContent = "at " + s.at;
			snaps.push({ t: Date.now(), pending: tot.PENDING,
			    failed: tot.FAILED });
			while (snaps.length && snaps[0].t < Date.now() - HOUR)
				snaps.shift();
			chart();
		});
	}

	/* The last hour: x is wall time, y the row count, both scaled. */
	function chart() {
		var c = $("chart"), W = 600, H = 160, L = 40, B = 20,
		    now = Date.now(), max = 1;

		c.textContent = "";
		snaps.forEach(function (s) {
			max = Math.max(max, s.pending, s.failed);
		});
		c.appendChild(svg("line", { x1: L, y1: H - B, x2: W, y2: H - B,
		    "class": "axis" }));
		c.appendChild(svg("line", { x1: L, y1: 0, x2: L, y2: H - B,
		    "class": "axis" }));
		[["-60 min", L], ["now", W - 24]].forEach(function (a) {
			var t = svg("text", { x: a[1], y: H - 5 });

			t.textContent = a[0];
			c.appendChild(t);
		});
		var t = svg("text", { x: 2, y: 10 });

		t.textContent = String(max);
		c.appendChild(t);
		["pending", "failed"].forEach(function (k) {
			var pts = snaps.map(function (s) {
				var x = L + (W - L) * (1 - (now - s.t) / HOUR),
				    y = (H - B) - (H - B - 5) * s[k] / max;

				return x.toFixed(1) + "," + y.toFixed(1);
			});

			c.appendChild(svg("polyline", { points: pts.join(" "),
			    "class": k, "data-points": pts.length }));
		});
	}

	function dlq() {
		return api("GET", "/api/ops/dlq?limit=200").then(function (j) {
			var tb = $("dlq-body");

			tb.textContent = "";
			j.rows.forEach(function (r) {
				var tr = el("tr"), b = el("button", "requeue",
				    "Requeue");

				tr.dataset.delivery = r.delivery_id;
				[r.delivery_id, r.event_id, r.event_type,
				    r.login, r.channel, r.attempts, r.error,
				    r.failed_at].forEach(function (v) {
					tr.appendChild(el("td", null, v));
				});
				b.type = "button";
				b.addEventListener("click", function () {
					requeue({ delivery_id: r.delivery_id });
				});
				tr.appendChild(el("td")).appendChild(b);
				tb.appendChild(tr);
			});
		});
	}

	function requeue(body) {
		corp.showError("");
		api("POST", "/api/ops/requeue", body).then(tick)
		    .catch(function (e) {
			corp.showError("requeue: " + e.message);
		});
	}

	function tick() {
		Promise.all([stats(), dlq()]).catch(function (e) {
			corp.showError(e.message);
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		$("requeue-all").addEventListener("click", function () {
			requeue({ all_failed: true });
		});
		$("explain-form").addEventListener("submit", function (ev) {
			ev.preventDefault();
			api("GET", "/api/ops/explain?event=" +
			    encodeURIComponent($("explain-event").value) +
			    "&user=" + encodeURIComponent(
			    $("explain-user").value.trim()))
			    .then(function (o) {
				$("explain-out").textContent =
				    JSON.stringify(o, null, 2);
			}).catch(function (e) {
				$("explain-out").textContent = e.message;
			});
		});
		corp.init(function () {
			$("ops").hidden = false;
			tick();
			/*
			 * The queue has no topic of its own: the page reads
			 * the stats again on every event of the topics and,
			 * so that the chart keeps its pace, every poll.
			 */
			corp.live(["messages", "analysis_runs", "proposals"],
			    tick, tick);
			setInterval(function () {
				if ($("live").dataset.mode === "websocket")
					tick();
			}, 15000);
		});
	});
})();
