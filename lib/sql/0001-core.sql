-- 0001-core: operator settings and stored answers of idempotent commands.
-- Times are INTEGER Unix seconds bound by corp; no SQL reads a clock.

CREATE TABLE config (
	key	TEXT PRIMARY KEY,
	value	TEXT NOT NULL
) STRICT;

-- --idempotency-key K: one stored answer per (actor, verb, key).
CREATE TABLE idempotency (
	actor_user_id	INTEGER NOT NULL,	-- 0 when there is no actor
	verb		TEXT NOT NULL,
	key		TEXT NOT NULL,
	request_sha256	TEXT NOT NULL,
	exit_code	INTEGER NOT NULL,
	output		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	PRIMARY KEY (actor_user_id, verb, key)
) STRICT;
CREATE INDEX idempotency_created ON idempotency(created_at);

PRAGMA user_version = 1;
