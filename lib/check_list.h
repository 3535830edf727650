/*
 * check_list.h -- the system's invariants, one { name, sql } each, the
 * query returning one row per violation.  Included by check.c; each
 * domain adds its own (DESIGN 3-5).
 */

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
{ "watermark_within_events", "SELECT 'route watermark ' || r.watermark || "
    "' is beyond the last event ' || e.last FROM route_state r, (SELECT "
    "max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), "
    "0), coalesce((SELECT max(event_id) FROM events), 0)) AS last) e "
    "WHERE r.watermark > e.last" },
{ "lease_token_and_until", "SELECT 'delivery ' || id || ' has lease_token "
    "and lease_until not both set or both null' FROM deliveries "
    "WHERE (lease_token IS NULL) <> (lease_until IS NULL)" },
