package server

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
)

// stateNames are the values of state= (model.State's names).
var stateNames = []string{"up", "degraded", "down", "unknown"}

// checkFilter reads /api/v1/checks' filters: state=, group= and type=,
// each a list (repeated or comma-separated) of which a check must match
// one; different filters must all match. A value that names nothing
// (a misspelt state, a group no check has, a type dashd does not know)
// is a 400 naming the accepted ones, not an empty answer.
func checkFilter(c *fiber.Ctx, sts []collectors.Status) (func(collectors.Status) bool, error) {
	states, err := listParam(c, "state", stateNames)
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, st := range sts {
		if st.Group != "" && !slices.Contains(groups, st.Group) {
			groups = append(groups, st.Group)
		}
	}
	slices.Sort(groups)
	group, err := listParam(c, "group", groups)
	if err != nil {
		return nil, err
	}
	var types []string
	for t := range collectors.Types() {
		types = append(types, t)
	}
	slices.Sort(types)
	typ, err := listParam(c, "type", types)
	if err != nil {
		return nil, err
	}
	return func(st collectors.Status) bool {
		return matches(states, st.State.String()) && matches(group, st.Group) && matches(typ, st.Type)
	}, nil
}

// listParam reads a list parameter whose values must be among known; a
// 400 otherwise.
func listParam(c *fiber.Ctx, name string, known []string) ([]string, error) {
	vals, err := queryList(c, name)
	if err == nil {
		err = checkValues(name, vals, known)
	}
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return vals, nil
}

// matches reports whether v is among want; an absent filter (nil) keeps
// everything.
func matches(want []string, v string) bool { return want == nil || slices.Contains(want, v) }

// eventKinds are the values of kind= on /api/v1/events.
var eventKinds = []string{
	string(model.EventCheck), string(model.EventStart), string(model.EventStop), string(model.EventReload),
	string(model.EventConfig), string(model.EventAlert), string(model.EventSilence), string(model.EventAudit),
	string(model.EventFlapping), string(model.EventIncident), string(model.EventAck),
}
