/*
 * review.js -- the review page (corp-api.1 PAGES): the runs, one run's
 * counters and proposals with their source messages, approve / reject /
 * merge, and what other reviewers decide arriving live.
 */
"use strict";

(function () {
	var $ = corp.$, el = corp.el, api = corp.api;
	var current = null;	/* the open run's id */
	var messages = {};	/* stored message id -> message, per chat */

	function listRuns() {
		return api("GET", "/api/runs").then(function (j) {
			var tb = $("runs-body");

			tb.textContent = "";
			j.runs.forEach(function (r) {
				var tr = el("tr"), b = el("button", "open",
				    "Open");

				tr.dataset.run = r.run_id;
				[r.run_id, r.chat_id, r.status, r.window_start +
				    " \u2013 " + r.window_end,
				    r.proposals_pending, r.proposals_total]
				    .forEach(function (v) {
					tr.appendChild(el("td", null, v));
				});
				b.type = "button";
				b.addEventListener("click", function () {
					location.hash = "#run=" + r.run_id;
				});
				tr.appendChild(el("td")).appendChild(b);
				tb.appendChild(tr);
			});
		});
	}

	function counters(r) {
		$("run-title").textContent = "Run " + r.run_id + " (chat " +
		    r.chat_id + ")";
		$("c-status").textContent = r.status;
		$("c-batches").textContent = r.batches_done + "/" +
		    r.batches_total;
		$("c-total").textContent = r.proposals_total;
		$("c-pending").textContent = r.proposals_pending;
		$("c-approved").textContent = r.proposals_approved;
		$("c-rejected").textContent = r.proposals_rejected;
		$("c-merged").textContent = r.proposals_merged;
	}

	/* The run's stored messages, for the proposals' sources. */
	function loadMessages(r) {
		return api("GET", "/api/messages?chat=" +
		    encodeURIComponent(r.chat_id) + "&after=" +
		    encodeURIComponent(corp.before(r.window_start)) +
		    "&limit=1000").then(function (j) {
			messages = {};
			j.messages.forEach(function (m) {
				messages[m.id] = m;
			});
		});
	}

	function decide(p, verb, body) {
		corp.showError("");
		return api("PUT", "/api/proposals/" + p.proposal_id + "/" +
		    verb, body).then(function () {
			return refresh();
		}).catch(function (e) {
			corp.showError("proposal " + p.proposal_id + ": " +
			    e.message);
			return refresh();
		});
	}

	function actions(p) {
		var d = el("div", "actions"), ok = el("button", "approve",
		    "Approve"), reason = el("input", "reason"),
		    no = el("button", "reject", "Reject"),
		    task = el("input", "task"), merge = el("button", "merge",
		    "Merge");

		[ok, no, merge].forEach(function (b) {
			b.type = "button";
		});
		reason.placeholder = "reason";
		task.placeholder = "task id";
		task.type = "number";
		task.min = "1";
		ok.addEventListener("click", function () {
			decide(p, "approve", {});
		});
		no.addEventListener("click", function () {
			if (!reason.value.trim()) {
				corp.showError("a rejection needs a reason");
				return;
			}
			decide(p, "reject", { reason: reason.value.trim() });
		});
		merge.addEventListener("click", function () {
			var n = parseInt(task.value, 10);

			if (!(n > 0)) {
				corp.showError("merge: give the task id");
				return;
			}
			decide(p, "merge", { task_id: n });
		});
		d.appendChild(ok);
		d.appendChild(reason);
		d.appendChild(no);
		d.appendChild(task);
		d.appendChild(merge);
		return d;
	}

	function proposal(p) {
		var d = el("div", "proposal " + p.status), h = el("h3"),
		    who;

		d.id = "proposal-" + p.proposal_id;
		d.dataset.id = p.proposal_id;
		d.dataset.status = p.status;
		h.appendChild(el("span", null, "#" + p.proposal_id + " "));
		h.appendChild(el("span", "title", p.title));
		h.appendChild(document.createTextNode(" "));
		h.appendChild(el("span", "status", p.status));
		d.appendChild(h);
		if (p.description && p.description !== p.title)
			d.appendChild(el("p", "description", p.description));
		if (p.assignee || p.due_at)
			d.appendChild(el("p", "meta", (p.assignee ?
			    "assignee " + p.assignee : "") + (p.due_at ?
			    " due " + p.due_at : "")));
		(p.messages || []).forEach(function (id) {
			var m = messages[id], q = el("blockquote", "source");

			q.dataset.message = id;
			q.textContent = m ? (m.from_username || m.from_name ||
			    m.from_id) + " (" + m.date + "): " + (m.text ||
			    "") : "message " + id;
			d.appendChild(q);
		});
		if (p.status === "pending") {
			d.appendChild(actions(p));
		} else {
			who = p.status + " by " + p.decided_by + " at " +
			    p.decided_at;
			if (p.task_id)
				who += ", task " + p.task_id;
			if (p.reason)
				who += ": " + p.reason;
			d.appendChild(el("p", "decided", who));
		}
		return d;
	}

	/* The open run's counters and proposals, again. */
	function refresh() {
		var id = current;

		if (id === null)
			return listRuns();
		return Promise.all([api("GET", "/api/runs/" + id),
		    api("GET", "/api/runs/" + id + "/proposals")])
		    .then(function (a) {
			var box = $("proposals");

			if (id !== current)
				return;
			counters(a[0]);
			box.textContent = "";
			a[1].proposals.forEach(function (p) {
				box.appendChild(proposal(p));
			});
		});
	}

	function route() {
		var m = /^#run=(\d+)$/.exec(location.hash);

		corp.showError("");
		if (m) {
			current = parseInt(m[1], 10);
			$("runs").hidden = true;
			$("run").hidden = false;
			api("GET", "/api/runs/" + current).then(function (r) {
				return loadMessages(r);
			}).then(refresh).catch(function (e) {
				corp.showError(e.message);
			});
		} else {
			current = null;
			$("run").hidden = true;
			$("runs").hidden = false;
			listRuns().catch(function (e) {
				corp.showError(e.message);
			});
		}
	}

	function tick() {
		refresh().catch(function (e) {
			corp.showError(e.message);
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		$("back").addEventListener("click", function () {
			location.hash = "";
		});
		corp.init(function () {
			window.addEventListener("hashchange", route);
			route();
			/* Any run or proposal event: read the state again
			 * (the counters are the run's, not summed here). */
			corp.live(["analysis_runs", "proposals"],
			    function (ev) {
				if (current === null ||
				    (ev.data && (ev.data.run_id === current ||
				    ev.data.run_id === undefined)))
					tick();
			}, tick);
		});
	});
})();
