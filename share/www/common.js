/*
 * common.js -- what corp-api's two pages share (corp-api.1 PAGES): the
 * token (sessionStorage, never a cookie or the URL), the API calls, and
 * the live updates: the WebSocket topics (GET /ws, protocol corp.v1)
 * when the server offers them, else a poll of the REST reads every
 * POLL_MS.  No framework, no build step; text only through textContent.
 */
"use strict";

var corp = (function () {
	var KEY = "corp.token";
	var POLL_MS = 3000;

	function token() {
		return sessionStorage.getItem(KEY);
	}

	function $(id) {
		return document.getElementById(id);
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);

		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	function showError(msg) {
		var p = $("error");

		p.textContent = msg || "";
		p.hidden = !msg;
	}

	/* An API call: the JSON answer, or a rejected Error whose message
	 * is the server's "error" and whose status is the HTTP code. */
	function api(method, path, body) {
		var init = { method: method, headers: {
		    "Authorization": "Bearer " + token() } };

		if (body !== undefined) {
			init.headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		return fetch(path, init).then(function (r) {
			return r.json().catch(function () {
				return { error: "HTTP " + r.status };
			}).then(function (j) {
				var e;

				if (r.ok)
					return j;
				e = new Error(j.error || ("HTTP " + r.status));
				e.status = r.status;
				if (r.status === 401)
					signOut(e.message);
				throw e;
			});
		});
	}

	/* A 401 keeps the place (#run=N) for the next sign-in; the
	 * button leaves it. */
	function signOut(why, leave) {
		sessionStorage.removeItem(KEY);
		if (leave)
			location.hash = "";
		showSignin(why);
	}

	function showSignin(why) {
		$("signin").hidden = false;
		$("signout").hidden = true;
		$("who").textContent = "";
		showError(why || "");
		document.querySelectorAll("main > section:not(#signin), " +
		    "main > div").forEach(function (s) {
			s.hidden = true;
		});
	}

	/*
	 * Sign in, then start(me).  The token is checked with GET /api/me
	 * before it is kept.
	 */
	function init(start) {
		$("signin-form").addEventListener("submit", function (ev) {
			ev.preventDefault();
			sessionStorage.setItem(KEY, $("token").value.trim());
			$("token").value = "";
			begin();
		});
		$("signout").addEventListener("click", function () {
			signOut("", true);
		});
		function begin() {
			api("GET", "/api/me").then(function (me) {
				$("signin").hidden = true;
				$("signout").hidden = false;
				$("who").textContent = me.login;
				showError("");
				start(me);
			}).catch(function (e) {
				if (e.status !== 401)
					showError(e.message);
			});
		}
		if (token())
			begin();
		else
			showSignin("");
	}

	/*
	 * Live updates: onEvent(ev) for each topic event
	 * ({"id","topic","type","data"}), onTick() for each poll.  The
	 * WebSocket first: auth, subscribe with since (the last event id
	 * seen, so a reconnect loses nothing), then events.  A socket that
	 * is refused or closes before "subscribed" (a server without the
	 * topics) or fails twice in a row falls back to polling: onTick
	 * every POLL_MS, for good.  The mode is shown in #live.
	 */
	function live(topics, onEvent, onTick) {
		var since = null, fails = 0, timer = null, ws = null;

		function mode(text) {
			$("live").textContent = text;
			$("live").dataset.mode = text.split(" ")[1] || "";
		}
		function poll() {
			if (timer !== null)
				return;
			if (ws)
				ws.close();
			mode("live: polling every " + POLL_MS / 1000 + " s");
			timer = setInterval(onTick, POLL_MS);
		}
		function connect() {
			var url = (location.protocol === "https:" ? "wss://" :
			    "ws://") + location.host + "/ws", ok = false;

			try {
				ws = new WebSocket(url, "corp.v1");
			} catch (e) {
				poll();
				return;
			}
			ws.onopen = function () {
				ws.send(JSON.stringify({ type: "auth",
				    token: token() }));
				var sub = { type: "subscribe", topics: topics };

				if (since !== null)
					sub.since = since;
				ws.send(JSON.stringify(sub));
			};
			ws.onmessage = function (m) {
				var ev;

				try {
					ev = JSON.parse(m.data);
				} catch (e) {
					return;
				}
				if (ev.type === "subscribed") {
					ok = true;
					fails = 0;
					if (since === null)
						since = ev.last_id;
					mode("live: websocket");
					onTick();
				} else if (ev.type === "error") {
					showError("live updates: " + ev.error);
				} else if (typeof ev.id === "number") {
					since = ev.id;
					onEvent(ev);
				}
			};
			ws.onclose = function () {
				ws = null;
				if (timer !== null)
					return;
				if (!ok || ++fails > 1) {
					poll();
					return;
				}
				mode("live: reconnecting");
				setTimeout(connect, 1000);
			};
		}
		if (!("WebSocket" in window))
			poll();
		else
			connect();
	}

	/* An RFC 3339 time one second before t (the API's after= is
	 * strict), without milliseconds. */
	function before(t) {
		return new Date(Date.parse(t) - 1000).toISOString()
		    .replace(/\.\d{3}Z$/, "Z");
	}

	return { $: $, el: el, api: api, init: init, live: live,
	    showError: showError, before: before };
})();
