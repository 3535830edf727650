-- 0011-bind-deactivated-by: who turned an inactive bind off (issue 16,
-- round 3).  A chat may resume only what it paused itself: a bare /start
-- or an unblock turns a bind on again only when its chat turned it off;
-- one the operator deactivated needs a new code (corp-tg.1).
--   NULL       the bind is active
--   operator   corp-bind deactivate
--   user       /stop in the chat
--   blocked    the user blocked the bot (my_chat_member "kicked")
--   delivery   a send answered "unbound" (Telegram 403, HTTP 410)
--   unknown    inactive before 0011; treated as the operator's
ALTER TABLE binds ADD COLUMN deactivated_by TEXT CHECK (deactivated_by IN
    ('operator', 'user', 'blocked', 'delivery', 'unknown'));
UPDATE binds SET deactivated_by = 'unknown' WHERE active = 0;

PRAGMA user_version = 11;
