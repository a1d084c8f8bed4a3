package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// incidentWindows are the windows of a check's MTTA/MTTR: the API's keys
// and the check page's rows.
var incidentWindows = []struct {
	key, label string
	span       time.Duration
}{
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
}

// incidentStatsJSON is how incidents went for a check over one window, in
// /api/v1/checks/{check}: the mean times are null when no incident was
// acknowledged (resolved).
type incidentStatsJSON struct {
	Count             int      `json:"count"`
	AcknowledgedCount int      `json:"acknowledged_count"`
	ResolvedCount     int      `json:"resolved_count"`
	MTTASeconds       *float64 `json:"mtta_seconds"`
	MTTRSeconds       *float64 `json:"mttr_seconds"`
}

// incidentStats figures a check's incidents over each window, for the API.
func (s *Server) incidentStats(check string) (map[string]incidentStatsJSON, error) {
	out := make(map[string]incidentStatsJSON, len(incidentWindows))
	for _, w := range incidentWindows {
		st, err := s.deps.Incidents.Stats(check, w.span)
		if err != nil {
			return nil, err
		}
		j := incidentStatsJSON{Count: st.Count, AcknowledgedCount: st.Acked, ResolvedCount: st.Resolved}
		if st.Acked > 0 {
			j.MTTASeconds = ptr(st.MTTA.Seconds())
		}
		if st.Resolved > 0 {
			j.MTTRSeconds = ptr(st.MTTR.Seconds())
		}
		out[w.key] = j
	}
	return out, nil
}

// handleCheckIncidents answers the check page's MTTA/MTTR panel, which
// asks once it loads: the panel with its figures, or with why there are
// none.
func (s *Server) handleCheckIncidents(c *fiber.Ctx) error {
	st, err := s.lookupCheck(c)
	if err != nil {
		return err
	}
	v := ui.CheckIncidentsView{Check: st.Name, Loaded: true}
	for _, w := range incidentWindows {
		figs, err := s.deps.Incidents.Stats(st.Name, w.span)
		if err != nil {
			s.log.Warn("incident figures not read", "check", st.Name, "err", err)
			v.Windows, v.Problem = nil, "The incident figures could not be read; reload to try again."
			break
		}
		v.Windows = append(v.Windows, view.IncidentStats(w.label, figs.Count, figs.Acked, figs.Resolved, figs.MTTA, figs.MTTR))
	}
	return hub.SSE(c).Send(hub.PatchComponent(c.UserContext(), ui.CheckIncidents(v)))
}

// checkWithIncidents is /api/v1/checks/{check}: the check, and under
// "incidents" its figures for "30d" and "90d".
type checkWithIncidents struct {
	checkJSON
	Incidents map[string]incidentStatsJSON `json:"incidents"`
}
