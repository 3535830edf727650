-- 0007-tg-retention: what anyone who can write to the bot may make corp
-- keep, bounded (issue 16): replies counted per chat over the last hour
-- and pruned once finished; messages and callback queries pruned by age
-- (corp-msg prune, the messages.retention setting).

-- The per-chat reply limit counts a chat's recent replies.
CREATE INDEX tg_outbox_chat ON tg_outbox(chat_id, created_at);
-- Finished replies are pruned by age.
CREATE INDEX tg_outbox_done ON tg_outbox(created_at)
    WHERE status <> 'pending';
-- corp-msg prune: messages by their date, callback queries by arrival.
CREATE INDEX tg_messages_date ON tg_messages(date);
CREATE INDEX tg_callbacks_received ON tg_callbacks(received_at);

PRAGMA user_version = 7;
