// Package fleet carries one dashd's findings to another over NATS
// JetStream: `dashd agent` publishes its host's samples, check results,
// events and a hello; a hub (`dashd serve` with a fleet: section) runs an
// embedded NATS server (or uses an existing cluster), keeps one stream of
// every host's messages, and ingests them into storage per host.
//
// # Subjects
//
// Every host has one prefix, dashd.<host>., and four subjects under it:
// sample, result, event and hello (Subject, ParseSubject). Host names are
// single subject tokens (config.ValidFleetHost), so the embedded server's
// permissions can give each agent exactly its own prefix. The stream
// (StreamName) takes dashd.*.*.
//
// # Wire
//
// Samples, the bulk of the traffic, are binary (EncodeSample): the time in
// ms and the points with front-coded series names (a name shares its
// prefix with the previous one) and float32 values where exact. Results,
// events and hellos are the model's JSON. An event of kind alert (one of
// the agent's host metric rules firing or resolving, keyed
// "rule:<rule>[:<instance>]") carries its alert beside it, under "alert"
// (RuleAlert: severity, summary, reason and the rule's own labels; see
// AlertEventMessage and DecodeEvent): the hub refuses one without it.
// Every message carries a Nats-Msg-Id made of its host, kind and original
// time (MessageID), so a message published twice within the stream's
// duplicate window is stored once.
//
// # Agent
//
// The Publisher takes samples (Tee, on the sampler's goroutine, never
// blocking) and results and events (a flow subscription) and publishes
// them in order. While NATS or the stream is unreachable it writes them
// to the Spool, a bounded bbolt file of its own (the oldest go first when
// it is full, counted), and drains it in order when NATS is back; while
// the spool holds anything, new messages queue behind it, so a host's
// messages reach the stream in the order they were made.
//
// # Hub
//
// Hub runs the embedded server (Embedded: JetStream under the data
// directory, every agent limited to publishing under its own prefix),
// creates the stream, and runs the Ingester: a durable pull consumer that
// writes each batch to storage in one transaction and acknowledges the
// messages only after the commit, so a hub that stops at any moment loses
// nothing (storage keys are made of what the agent sent, so a redelivered
// message is written to the same key). The Registry follows hellos and
// arrivals and turns a host not heard from for
// fleet.unreachable_intervals sample intervals into a flow event of kind
// host (model.EventHost).
//
// # History and alerts
//
// The hub folds every host's samples into minute and hour tiers and
// keeps only a short raw window (fleet.hub_raw); the agent's
// HistoryService answers range requests for its own history on
// HistorySubject (request/reply, outside the stream), and Hub.HostRange
// picks the agent or a hub tier by the detail asked for. The Ingester
// hands every agent's event to the alerter (HostAlerter) after the
// commit and before the acknowledgement. Hubs that share a stream each
// use their own durable consumer (HubOptions.HubName).
//
// # Several hubs
//
// What people do on a hub goes to the others through a stream of its
// own, DASHD_HUB_ACTIONS, on subjects agents may not publish to (Actions:
// chat messages, incident actions and silences): sent from an outbox
// after the local commit, read by every other hub with its own durable
// consumers (actions-<name> for chat and silences, incidents-<name> for
// incident actions, which may wait for their incident without holding
// chat back), applied there under the original author and
// time with the hub it came from (Origin, shown as "via <hub>"), shown
// live, then acknowledged; a copy already applied is not applied twice.
package fleet
