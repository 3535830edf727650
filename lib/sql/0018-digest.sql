-- 0018-digest: a notification setting may collect its events into one
-- message per period (issue 19 "Digests"; corp-settings.1 "Digests").
--   notification_settings.digest  the period ('1h', 'daily@09:00'), or
--                                 NULL: one message per event
--   route_decisions 'digested'    the event joined a digest; why names
--                                 it ('digest 1h until 2026-...Z')
--   digests                       one per user, channel, period and end
--                                 (due_at); closed_at and delivery_id
--                                 set when route's pass closes it into
--                                 one delivery row
--   digest_members                its events, in event order, each with
--                                 the role that decided and its title
--   deliveries.digest             a digest row's {count, titles,
--                                 events} (JSON), for the claim line
ALTER TABLE notification_settings ADD COLUMN digest TEXT;
ALTER TABLE deliveries ADD COLUMN digest TEXT;

CREATE TABLE digests (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users (id),
	channel		TEXT NOT NULL,
	period		TEXT NOT NULL,
	due_at		INTEGER NOT NULL,
	created_at	INTEGER NOT NULL,
	closed_at	INTEGER,
	delivery_id	INTEGER,
	UNIQUE (user_id, channel, period, due_at)
) STRICT;
CREATE INDEX digests_open ON digests (due_at) WHERE closed_at IS NULL;

CREATE TABLE digest_members (
	digest_id	INTEGER NOT NULL REFERENCES digests (id),
	event_id	INTEGER NOT NULL,
	role		TEXT NOT NULL,
	roles		TEXT NOT NULL,
	title		TEXT NOT NULL,
	PRIMARY KEY (digest_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX digest_members_event ON digest_members (event_id);

-- A decision's CHECK cannot be altered in SQLite: the table is made
-- again, as in 0015.
CREATE TABLE route_decisions_new (
	event_id	INTEGER NOT NULL,
	user_id		INTEGER NOT NULL REFERENCES users (id),
	channel		TEXT NOT NULL,
	decision	TEXT NOT NULL CHECK (decision IN ('created',
	    'muted_channel', 'muted_type', 'disabled', 'self', 'no_bind',
	    'refused', 'fallback', 'digested')),
	role		TEXT,
	roles		TEXT,
	decided_at	INTEGER NOT NULL,
	fallback	TEXT,
	why		TEXT,
	PRIMARY KEY (event_id, user_id, channel)
) STRICT, WITHOUT ROWID;
INSERT INTO route_decisions_new (event_id, user_id, channel, decision, role,
    roles, decided_at, fallback, why)
SELECT event_id, user_id, channel, decision, role, roles, decided_at,
    fallback, why
FROM route_decisions;
DROP TABLE route_decisions;
ALTER TABLE route_decisions_new RENAME TO route_decisions;

PRAGMA user_version = 18;
