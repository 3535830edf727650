-- 0010-security: what the second security review (issue 16) needs kept.

-- The lease tokens once issued for the row, newest first, separated by
-- spaces, the last 8 kept (substr cuts the list at 8 tokens of 32
-- characters): a late "sent" ack is believed only with one of them,
-- so nobody can mark a row sent that no worker of theirs ever held
-- (corp-deliver.1, ack).
ALTER TABLE deliveries ADD COLUMN lease_tokens TEXT;
UPDATE deliveries SET lease_tokens = lease_token
    WHERE lease_token IS NOT NULL;

PRAGMA user_version = 10;
