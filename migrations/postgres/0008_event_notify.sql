-- Every replica listens on this channel: a committed event wakes all their buses at once, so a
-- browser on replica B sees a change made through replica A without waiting for the backup poll.
-- NOTIFY is delivered at commit, once per transaction for identical payloads.
CREATE FUNCTION flightdeck_event_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('flightdeck_events', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER event_notify AFTER INSERT ON event
    FOR EACH STATEMENT EXECUTE FUNCTION flightdeck_event_notify();
