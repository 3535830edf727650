-- 0013-push-subscriptions: the browsers a user receives Web Push on
-- (issue 19; corp-bind.1 "PUSH SUBSCRIPTIONS").  binds keeps one row per
-- user and channel (its address: the endpoint bound last, active while
-- any subscription is); this table keeps every subscription with its
-- keys, one per endpoint.  A row goes to every active one.
--   deactivated_by  NULL while active; operator (corp-bind deactivate),
--                   delivery (the push service answered 404 or 410)
CREATE TABLE push_subscriptions (
	user_id		INTEGER NOT NULL REFERENCES users(id),
	endpoint	TEXT NOT NULL,
	p256dh		TEXT NOT NULL,
	auth		TEXT NOT NULL,
	active		INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	deactivated_by	TEXT CHECK (deactivated_by IN ('operator', 'delivery')),
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	PRIMARY KEY (user_id, endpoint)
) STRICT;
CREATE UNIQUE INDEX push_subscriptions_endpoint ON
    push_subscriptions(endpoint) WHERE active = 1;

PRAGMA user_version = 13;
