// Package alert tells people outside the browser when something breaks:
// checks going down (or degraded, or flapping), host metric rules, and
// dashd's own trouble, routed to channels (webhook, email, Alertmanager...),
// gathered into few messages, repeated while a problem lasts, held back by
// silences and maintenance windows, and never lost.
//
// # Never lost
//
// Every alert change is an event. The Alerter attaches to the flow
// (flow.Recorder.Attach): for each event it works out the alert change and
// the outbox items of the channels that must hear of it, and the Recorder
// writes the event, the alert states and the items in one transaction,
// before any network call. A crash after that loses nothing: the
// deliverers read the outbox from storage, so a restart resumes it. Items
// are marked delivered after the channel accepted them; a crash between
// the send and the mark sends the message again, with the same message id
// (Idempotency-Key, email Message-ID, Alertmanager fingerprint), so a
// receiver can drop the duplicate. An outcome storage cannot record (a
// full disk) is kept and recorded before the channel sends anything else,
// so a delivered message is not sent again while dashd runs.
//
// New reads the alerts that fired when dashd last stopped, so a restart
// continues them: a check that comes back up resolves its alert, and no
// reminder goes out at once.
//
// Host metric rules and dashd's own alerts are evaluated by the Alerter's
// loop; each transition is recorded as an event of kind "alert" through
// the Recorder, which then attaches it like any other.
//
// # Delivery
//
// One deliverer goroutine per channel reads that channel's pending items
// in order. It waits until the oldest pending item is group_wait old and
// sends it together with every item created within group_wait of it, as
// one message; it retries with exponential backoff and jitter (or the
// channel's Retry-After), gives up after alerts.max_age or on a permanent
// error (the item is then shown as failed), and keeps to the channel's
// max_per_hour. A failing channel holds up only its own queue.
//
// # Silences and maintenance
//
// An alert that fires while a silence or a maintenance window matches it
// is recorded (the dashboard and the alerts page show it, marked) but no
// item is queued. When the silence ends while the alert still fires, the
// next reminder round queues it. repeat_interval reminders go out for
// every firing, unsilenced alert that a channel last heard of that long
// ago; an alertmanager channel hears again at least every quarter of
// channel.AlertmanagerWindow even when repeat_interval is 0, or
// Alertmanager would resolve the alert at its endsAt. A resolution goes
// to the channels that heard of the problem (whatever severity it had
// then) and whose route sends resolutions, never to others, and never
// before a reminder of the same alert queued earlier.
//
// # Acknowledgements
//
// An alert someone acknowledged (through its incident: Options.Acks, the
// incident Manager) gets no more reminders while the acknowledgement
// lasts; its first message went out, and its resolution still does. The
// acknowledgement is read at every reminder round from the incidents,
// which are stored, so a restart keeps it. Alertmanager channels still
// get their re-sends (see resendEvery).
package alert
