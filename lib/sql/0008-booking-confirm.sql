-- 0008-booking-confirm: seed 003's recipient matrix sends a client who
-- books ("booking_created", initiated_by client) a confirmation.  That
-- client is the event's actor, and route gives the actor "self" unless
-- the setting has notify_self: so the shipped default of
-- (booking_created, client, telegram) becomes notify_self on.  It is the
-- only cell of the matrix where the initiator is a recipient; every other
-- one says "- сам" (the actor hears nothing), as notify_self off does.
--
-- A database created before this step has 0003's default, notify_self
-- off.  The row is changed only while it is still exactly that default
-- (enabled, p2p, template booking_created, notify_self off): a row the
-- operator disabled, gave another priority or template, or deleted is
-- the operator's and stays as it is.  An operator who had set
-- notify_self off explicitly on an otherwise default row cannot be told
-- apart; corp-settings.1 says how to turn it off again.  Rows of other
-- channels are the operator's own and are not touched.
UPDATE notification_settings SET notify_self = 1
WHERE event_type = 'booking_created' AND role = 'client'
    AND channel = 'telegram' AND enabled = 1 AND priority = 'p2p'
    AND template = 'booking_created' AND notify_self = 0;

PRAGMA user_version = 8;
