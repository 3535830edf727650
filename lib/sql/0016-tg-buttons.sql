-- 0016-tg-buttons: buttons that act (issue 19; corp-tg.1 "BUTTONS").
-- One row per card whose button acted: the first press wins and every
-- later press of that card (the same button again, another button, a
-- replayed update) is answered from it and changes nothing.  No foreign
-- key on delivery_id: old SENT deliveries are pruned (corp-deliver
-- prune); a press on a pruned card is refused as expired.
--   event_id   the event the press made (the producer's NAME_action
--              event or the task transition's)
CREATE TABLE tg_button_presses (
	delivery_id	INTEGER PRIMARY KEY,
	action		TEXT NOT NULL,
	user_id		INTEGER NOT NULL,
	chat_id		INTEGER NOT NULL,
	callback_id	TEXT NOT NULL,
	event_id	INTEGER NOT NULL,
	update_id	INTEGER NOT NULL,
	pressed_at	INTEGER NOT NULL
) STRICT;

-- The outbox carries what a press is answered with, durable as replies
-- are: 'message' (sendMessage, as before), 'answer' (answerCallbackQuery
-- of callback_query_id: chat_id is the presser's), 'edit'
-- (editMessageText of chat_id's message_id: the outcome, no keyboard).
ALTER TABLE tg_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'
    CHECK (kind IN ('message', 'answer', 'edit'));
ALTER TABLE tg_outbox ADD COLUMN callback_query_id TEXT;
ALTER TABLE tg_outbox ADD COLUMN message_id INTEGER;

PRAGMA user_version = 16;
