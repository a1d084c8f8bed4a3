package ui

import "time"

// Element ids of the alerts page's fragments.
const (
	AlertsFiringID     = "alerts-firing"
	AlertsSilencesID   = "alerts-silences"
	AlertsChannelsID   = "alerts-channels"
	AlertsDeliveriesID = "alerts-deliveries"
	AlertsFormErrorID  = "silence-error"
)

// AlertsView is the /alerts page.
type AlertsView struct {
	Firing     []AlertRow
	Silences   []SilenceRow
	Channels   []ChannelRow
	Deliveries []DeliveryRow
	// Sending is false when no channel is configured: the page says how
	// to add one.
	Sending bool
}

// AlertRow is one firing alert.
type AlertRow struct {
	Key      string
	Summary  string
	Reason   string
	Severity string
	Since    string
	SinceAt  time.Time
	// HeldBy names the silence or maintenance window holding it back.
	HeldBy string
	URL    string
}

// SilenceRow is one silence not yet ended.
type SilenceRow struct {
	ID       uint64
	Matchers string
	Author   string
	Comment  string
	Until    string
	UntilAt  time.Time
	Pending  bool // starts later
	// Origin is the hub of the site the silence was made on, when that is
	// another hub ("" for one made here): the line says "via <hub>".
	Origin string
}

// ChannelRow is one channel's delivery health.
type ChannelRow struct {
	Name        string
	Type        string
	Description string
	Pending     int
	LastSuccess string
	LastError   string
	Delivered   uint64
	Failed      uint64
	Routed      bool
	// Healthy is false while the last attempt failed.
	Healthy bool
}

// DeliveryRow is one finished delivery.
type DeliveryRow struct {
	ID      uint64
	Channel string
	Summary string
	State   string // delivered or failed
	When    string
	At      time.Time
	Error   string
}
