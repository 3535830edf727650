/*
 * check_list.h -- the system's invariants, one { name, sql } each, the
 * query returning one row per violation.  Included by check.c; each
 * domain adds its own (DESIGN 3-5).
 */
/* Event ids strictly increasing and never reused: AUTOINCREMENT's
 * counter never below the largest id. */
{ "event_sequence", "SELECT 'sqlite_sequence ' || coalesce(s.seq, 'missing') "
    "|| ' is below max(event_id) ' || m.mx FROM (SELECT max(event_id) mx "
    "FROM events) m LEFT JOIN sqlite_sequence s ON s.name = 'events' "
    "WHERE m.mx IS NOT NULL AND (s.seq IS NULL OR s.seq < m.mx)" },
/* Within a task, a later event never happened before an earlier one. */
{ "event_time_order", "SELECT 'event ' || event_id || ' of task ' || "
    "task_id || ' occurred before event ' || prev FROM (SELECT event_id, "
    "task_id, occurred_at, lag(event_id) OVER w prev, lag(occurred_at) "
    "OVER w pat FROM events WHERE task_id IS NOT NULL WINDOW w AS "
    "(PARTITION BY task_id ORDER BY event_id)) o WHERE occurred_at < pat" },
/* Replay each task's state-machine events: every step legal from the
 * state before it, versions increasing, and the last one giving the
 * task's state and version.  A DRAFT has no events. */
{ "task_replay", "WITH sm(task_id, event_id, type, state, ver, pstate, "
    "pver) AS (SELECT task_id, event_id, event_type, state, task_version, "
    "lag(state) OVER w, lag(task_version) OVER w FROM events "
    "WHERE task_id IS NOT NULL AND source IS NULL AND event_type IN "
    "('TASK_CREATED', 'TASK_ASSIGNED', 'TASK_DUE_CHANGED', "
    "'REPORT_SUBMITTED', 'APPROVED', 'REJECTED', 'TASK_CANCELLED', "
    "'TASK_DUE_SOON', 'TASK_OVERDUE') WINDOW w AS (PARTITION BY task_id "
    "ORDER BY event_id)) "
    "SELECT 'event ' || event_id || ': ' || type || ' from ' || "
    "coalesce(pstate, 'nothing') || ' to ' || coalesce(state, '?') || "
    "' is not a transition' FROM sm WHERE NOT ("
    "(type = 'TASK_CREATED' AND pstate IS NULL AND state = 'OPEN') OR "
    "(type IN ('TASK_ASSIGNED') AND pstate = 'OPEN' AND state = 'OPEN') OR "
    "(type IN ('TASK_DUE_CHANGED', 'TASK_OVERDUE') AND pstate IN ('OPEN', "
    "'WAITING_APPROVAL') AND state = pstate) OR "
    "(type = 'TASK_DUE_SOON' AND pstate = 'OPEN' AND state = 'OPEN') OR "
    "(type = 'REPORT_SUBMITTED' AND pstate = 'OPEN' AND "
    "state = 'WAITING_APPROVAL') OR "
    "(type = 'APPROVED' AND pstate = 'WAITING_APPROVAL' AND "
    "state = 'DONE') OR "
    "(type = 'REJECTED' AND pstate = 'WAITING_APPROVAL' AND "
    "state = 'OPEN') OR "
    "(type = 'TASK_CANCELLED' AND pstate IN ('OPEN', 'WAITING_APPROVAL') "
    "AND state = 'CANCELLED')) OR (pver IS NOT NULL AND ver < pver) "
    "UNION ALL "
    "SELECT 'task ' || t.id || ' is ' || t.state || ' v' || t.version || "
    "' but its events end at ' || coalesce(l.state, 'none') || ' v' || "
    "coalesce(l.ver, 0) FROM tasks t LEFT JOIN (SELECT task_id, state, "
    "ver FROM sm s WHERE event_id = (SELECT max(event_id) FROM sm s2 "
    "WHERE s2.task_id = s.task_id)) l ON l.task_id = t.id "
    "WHERE (t.state = 'DRAFT' AND l.task_id IS NOT NULL) OR "
    "(t.state <> 'DRAFT' AND (l.task_id IS NULL OR l.state <> t.state "
    "OR l.ver > t.version))" },

/* The delivery queue (DESIGN 5). */
{ "sent_has_sent_at", "SELECT 'delivery ' || id || ' is SENT without "
    "sent_at' FROM deliveries WHERE status = 'SENT' AND sent_at IS NULL" },
/* A claim first clears expired leases of its channel and skips users
 * leased under another token, so one token per (user, channel) at most,
 * expired or not. */
{ "one_lease_per_user", "SELECT 'user ' || user_id || ' on ' || channel || "
    "' is leased under ' || count(DISTINCT lease_token) || ' tokens' "
    "FROM deliveries WHERE lease_token IS NOT NULL "
    "GROUP BY user_id, channel HAVING count(DISTINCT lease_token) > 1" },
{ "delivery_has_recipient", "SELECT 'delivery ' || d.id || ' (event ' || "
    "d.event_id || ', user ' || d.user_id || ') has no event_recipients "
    "row' FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM "
    "event_recipients r WHERE r.event_id = d.event_id AND "
    "r.user_id = d.user_id)" },
{ "readiness_follows_binds", "SELECT 'delivery ' || d.id || ' is ' || "
    "d.readiness || ' but user ' || d.user_id || CASE WHEN "
    "d.readiness = 'ready' THEN ' has no active ' ELSE ' has an active ' "
    "END || d.channel || ' bind' FROM deliveries d WHERE d.status = "
    "'PENDING' AND (d.readiness = 'ready') <> EXISTS (SELECT 1 FROM binds b "
    "WHERE b.user_id = d.user_id AND b.channel = d.channel AND "
    "b.active = 1)" },
/* A fallback (corp-settings.1 "Fallback") leaves one row per setting:
 * none left to send on the channel route fell back from. */
{ "fallback_one_row", "SELECT 'delivery ' || d.id || ' on ' || "
    "d.channel || ' is ' || d.status || ' but route fell back to ' || "
    "r.fallback FROM route_decisions r JOIN deliveries d ON "
    "d.event_id = r.event_id AND d.user_id = r.user_id AND "
    "d.channel = r.channel WHERE r.decision = 'fallback' "
    "AND d.status <> 'FAILED' "
    "UNION ALL SELECT 'notification setting ' || event_type || '/' || "
    "role || ' on ' || channel || ' falls back to its own channel' "
    "FROM notification_settings WHERE fallback = channel" },
{ "watermark_within_events", "SELECT 'route watermark ' || r.watermark || "
    "' is beyond the last event ' || e.last FROM route_state r, (SELECT "
    "max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), "
    "0), coalesce((SELECT max(event_id) FROM events), 0)) AS last) e "
    "WHERE r.watermark > e.last" },
{ "lease_token_and_until", "SELECT 'delivery ' || id || ' has lease_token "
    "and lease_until not both set or both null' FROM deliveries "
    "WHERE (lease_token IS NULL) <> (lease_until IS NULL)" },
/* Seed 004: each run's counters equal a count of its proposals and of
 * its recorded errors (every decision moves both in one transaction). */
{ "analysis_counters", "SELECT 'run ' || r.id || ': counters ' || "
    "r.proposals_total || '/' || r.proposals_pending || '/' || "
    "r.proposals_approved || '/' || r.proposals_rejected || '/' || "
    "r.proposals_merged || '/' || r.errors_total || ' but proposals ' || "
    "c.t || '/' || c.p || '/' || c.a || '/' || c.rj || '/' || c.m || '/' || "
    "c.e FROM analysis_runs r JOIN (SELECT r2.id id, "
    "(SELECT count(*) FROM proposals WHERE run_id = r2.id) t, "
    "(SELECT count(*) FROM proposals WHERE run_id = r2.id AND "
    "status = 'pending') p, "
    "(SELECT count(*) FROM proposals WHERE run_id = r2.id AND "
    "status = 'approved') a, "
    "(SELECT count(*) FROM proposals WHERE run_id = r2.id AND "
    "status = 'rejected') rj, "
    "(SELECT count(*) FROM proposals WHERE run_id = r2.id AND "
    "status = 'merged') m, "
    "(SELECT count(*) FROM proposal_errors WHERE run_id = r2.id) e "
    "FROM analysis_runs r2) c ON c.id = r.id WHERE r.proposals_total <> c.t "
    "OR r.proposals_pending <> c.p OR r.proposals_approved <> c.a OR "
    "r.proposals_rejected <> c.rj OR r.proposals_merged <> c.m OR "
    "r.errors_total <> c.e" },
