-- 0019-chat-spaces: a chat tied to an org unit, its space (issue 20;
-- corp-analysis.1 "Spaces"): corp-api's space:UNIT_ID:messages,
-- :analysis_runs and :proposals topics carry the events of the chats
-- tied to the unit, to its members.  A chat has at most one space.
CREATE TABLE chat_spaces (
	chat_id		INTEGER PRIMARY KEY,	-- the Telegram chat id
	unit_id		INTEGER NOT NULL REFERENCES org_units(id),
	tied_by		INTEGER NOT NULL REFERENCES users(id),
	tied_at		INTEGER NOT NULL
) STRICT;
CREATE INDEX chat_spaces_unit ON chat_spaces(unit_id);

PRAGMA user_version = 19;
