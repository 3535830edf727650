-- 0015-fallback: a notification setting may name a fallback channel
-- (issue 19 "Fallback"; corp-settings.1 "Fallback").  Route creates the
-- row on it when the user has no active bind on the setting's channel
-- and has one there; route's housekeeping moves a row that has waited
-- for a bind longer than fallback_after (corp-event.1).  One row per
-- setting and user, never both.
--   notification_settings.fallback  the fallback channel, or NULL
--   deliveries.fallback              the fallback route found in the
--                                    setting when it made the row (the
--                                    move reads it, not today's setting)
--   route_decisions.fallback, why    decision 'fallback': the channel the
--                                    row went to and why, in words
ALTER TABLE notification_settings ADD COLUMN fallback TEXT;
ALTER TABLE deliveries ADD COLUMN fallback TEXT;

-- A decision's CHECK cannot be altered in SQLite: the table is made
-- again.  (REFERENCES users (id) is written with a space so embed.sh
-- leaves it inline for PostgreSQL: the table is renamed below.)
CREATE TABLE route_decisions_new (
	event_id	INTEGER NOT NULL,
	user_id		INTEGER NOT NULL REFERENCES users (id),
	channel		TEXT NOT NULL,
	decision	TEXT NOT NULL CHECK (decision IN ('created',
	    'muted_channel', 'muted_type', 'disabled', 'self', 'no_bind',
	    'refused', 'fallback')),
	role		TEXT,
	roles		TEXT,
	decided_at	INTEGER NOT NULL,
	fallback	TEXT,
	why		TEXT,
	PRIMARY KEY (event_id, user_id, channel)
) STRICT, WITHOUT ROWID;
INSERT INTO route_decisions_new (event_id, user_id, channel, decision, role,
    roles, decided_at)
SELECT event_id, user_id, channel, decision, role, roles, decided_at
FROM route_decisions;
DROP TABLE route_decisions;
ALTER TABLE route_decisions_new RENAME TO route_decisions;

-- Seed 003: "tg_id -> Telegram; push_subscription (without tg_id) -> Web
-- Push".  The shipped Telegram rows (0003's matrix) fall back to push.
-- Without a push subscription nothing changes: a fallback is taken only
-- where the user has a bind on it.
UPDATE notification_settings SET fallback = 'push'
WHERE channel = 'telegram' AND fallback IS NULL
    AND event_type || ' ' || role IN (
	'TASK_CREATED initiator', 'TASK_ASSIGNED initiator',
	'TASK_DUE_CHANGED initiator', 'REPORT_SUBMITTED initiator',
	'APPROVED initiator', 'REJECTED initiator',
	'TASK_CANCELLED initiator', 'TASK_DUE_SOON initiator',
	'TASK_OVERDUE initiator',
	'TASK_CREATED executor', 'TASK_ASSIGNED executor',
	'APPROVED executor', 'REJECTED executor',
	'TASK_CANCELLED executor', 'TASK_DUE_SOON executor',
	'TASK_OVERDUE executor', 'TASK_DUE_CHANGED executor',
	'TASK_ASSIGNED previous_executor',
	'TASK_OVERDUE supervisor',
	'booking_created client', 'booking_created specialist',
	'booking_created admin',
	'booking_cancelled client', 'booking_cancelled specialist',
	'booking_cancelled admin',
	'booking_rescheduled client', 'booking_rescheduled specialist',
	'booking_rescheduled admin',
	'booking_done admin');

PRAGMA user_version = 15;
