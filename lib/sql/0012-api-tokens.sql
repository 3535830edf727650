-- 0012-api-tokens: corp-api's bearer tokens (corp-user token, corp-api.1).
-- The token itself is shown once by corp-user token add and never
-- stored: hash is the lower-case hex SHA-256 of the whole token
-- ("corp_" and its 43 base64url characters), looked up on every request.
-- A token is good while it is not revoked, not expired (expires_at NULL:
-- never) and its user is active.  last_used_at moves at most once a
-- minute per token, so a busy client does not write on every request.
CREATE TABLE api_tokens (
	id		INTEGER PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id),
	label		TEXT,
	hash		TEXT NOT NULL UNIQUE,
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER,
	last_used_at	INTEGER,
	revoked_at	INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

PRAGMA user_version = 12;
