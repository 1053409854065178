package geo

import (
	"fmt"
	"slices"
	"strings"
)

// This file is the one table of who may see and do what. The service
// (geo/service) checks every write against it; the HTTP layer filters
// every read through it. Nothing else decides access.

// Viewer is who an operation acts for: a signed-in user (through a
// session, an API token or the command line) or the public, the zero
// value.
type Viewer struct {
	User    string
	Role    Role // "" for the public
	Scope   []string
	Carrier Carrier
	// Areas marks, by area index, the areas a staff scope covers (see
	// ScopeAreas); nil for every other role.
	Areas []bool
	// Via ("session", "token" or "cli") and Remote (the client's address)
	// say how the viewer reached us, for the audit log.
	Via    string
	Remote string
	// Credential names what the viewer authenticated with, the parent of
	// the tokens it makes (see Token.Parent): a token's ID, "session:"
	// and the first 16 hex digits of a session's hash, or "cli".
	Credential string
}

// Anonymous reports whether v is the public.
func (v *Viewer) Anonymous() bool { return v.Role == "" }

// Covers reports whether the area with index i (-1: none) is inside v's
// reach for raw reports: every area, and places outside every area, for
// admins and reviewers; the scope's areas for staff; none for carriers
// and the public.
func (v *Viewer) Covers(i int32) bool {
	switch {
	case v.CoversAll():
		return true
	case v.Role == RoleStaff:
		return i >= 0 && int(i) < len(v.Areas) && v.Areas[i]
	}
	return false
}

// SeesCarrier reports whether v, when it may read gap lists (ReadGaps),
// may read the gap list of c: a carrier user its own only, everyone else
// every carrier's and the dead zones. How much of the holes on the map v
// sees is SeesHole's.
func (v *Viewer) SeesCarrier(c Carrier) bool {
	own, only := v.OwnCarrier()
	return !only || own == c
}

// HoleView is how much of a coverage hole or dead zone a viewer sees.
// The zero value, HoleOutline, is what the public sees by default.
type HoleView uint8

// How much of a hole is seen.
const (
	// HoleOutline is where the hole is, as regulators publish coverage
	// maps: its outline, carrier, state, size (km²) and the areas it
	// touches; none of its evidence (report counts, median signal,
	// prob_weak, shares), ranking or priority, nor the households
	// affected.
	HoleOutline HoleView = iota
	// HoleFull is all of it: the outline and the evidence, ranking,
	// priority and households affected.
	HoleFull
	// HoleHidden is nothing: the hole is answered as if it did not exist.
	HoleHidden
)

var holeViewNames = [...]string{"outline", "full", "none"}

// String returns the name ParseHoleView reads: "outline", "full" or
// "none".
func (h HoleView) String() string {
	if int(h) < len(holeViewNames) {
		return holeViewNames[h]
	}
	return fmt.Sprintf("holeview(%d)", h)
}

// ParseHoleView reads "outline", "full" or "none" (any case); the error
// is an ErrInvalid naming the accepted values.
func ParseHoleView(s string) (HoleView, error) {
	for i, n := range holeViewNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return HoleView(i), nil
		}
	}
	return HoleOutline, fmt.Errorf("%w: %q is not one of outline, full, none", ErrInvalid, s)
}

// SeesHole returns how much v sees of a hole (or, for CarrierAll, a dead
// zone) of carrier c that touches the areas with the given indexes (as
// Covers takes them), when the public sees public: all of it for the
// hole's own carrier and for the province — admins and reviewers, and
// staff whose scope covers one of those areas — and what the public sees
// for everyone else (the public, other carriers, staff elsewhere). The
// gap list itself is ReadGaps' and SeesCarrier's.
func (v *Viewer) SeesHole(c Carrier, areas []int32, public HoleView) HoleView {
	if public == HoleFull || v.CoversAll() {
		return HoleFull
	}
	if own, only := v.OwnCarrier(); only && own == c {
		return HoleFull
	}
	if v.Role == RoleStaff {
		for _, a := range areas {
			if v.Covers(a) {
				return HoleFull
			}
		}
	}
	return public
}

// SeesAllHoles reports whether v sees every hole in full when the public
// sees public (see SeesHole), so that no hole need be asked about.
func (v *Viewer) SeesAllHoles(public HoleView) bool {
	return public == HoleFull || v.CoversAll()
}

// SeesReporters reports whether v may see who made a report.
func (v *Viewer) SeesReporters() bool { return v.Role == RoleAdmin || v.Role == RoleReviewer }

// Permission is something a viewer may be allowed to do. The zero value,
// Anyone, is allowed to everyone, the public included.
type Permission uint8

// Permissions. Where a permission is limited to a scope or a carrier,
// Covers and SeesCarrier narrow it further.
const (
	Anyone         Permission = iota // the public too
	UseTokens                        // any signed-in user: their own API tokens
	ReadReports                      // raw reports, inside the scope
	WriteReports                     // submit and import reports, inside the scope
	ReadGaps                         // carriers' gap lists, their own only
	ReviewReports                    // confirm or reject reports
	ManageUsers                      // add and list users, set passwords
	ManageAnyToken                   // make, list and revoke other users' tokens
	ReadAudit                        // the audit log
	ReadTasks                        // the teams' measurement tasks and activity, inside the scope
	ReadMetrics                      // the service's Prometheus metrics
	ReadHoles                        // a hole's state and history (see HoleRecord)
	AnswerHoles                      // answer holes: a carrier its own, reviewers any
	RuleHoles                        // rule disputes, name a dead zone's lead carrier
	ManageWebhooks                   // webhooks: a carrier's for its own holes
)

// allowed is the one table of which roles hold which permission.
var allowed = map[Permission][]Role{
	UseTokens:      Roles,
	ReadReports:    {RoleAdmin, RoleReviewer, RoleStaff},
	WriteReports:   {RoleAdmin, RoleStaff},
	ReadGaps:       {RoleAdmin, RoleReviewer, RoleCarrier},
	ReviewReports:  {RoleAdmin, RoleReviewer},
	ManageUsers:    {RoleAdmin},
	ManageAnyToken: {RoleAdmin},
	ReadAudit:      {RoleAdmin},
	ReadTasks:      {RoleAdmin, RoleStaff},
	ReadMetrics:    {RoleAdmin},
	ReadHoles:      {RoleAdmin, RoleReviewer, RoleStaff, RoleCarrier},
	AnswerHoles:    {RoleAdmin, RoleReviewer, RoleCarrier},
	RuleHoles:      {RoleAdmin, RoleReviewer},
	ManageWebhooks: {RoleAdmin, RoleCarrier},
}

// Can reports whether v holds permission p.
func (v *Viewer) Can(p Permission) bool {
	if p == Anyone {
		return true
	}
	return slices.Contains(allowed[p], v.Role)
}

// Check returns nil when v holds permission p; otherwise an *Error of
// kind ErrUnauthenticated for the public and ErrForbidden for a signed-in
// user.
func (v *Viewer) Check(p Permission) error {
	switch {
	case v.Can(p):
		return nil
	case v.Anonymous():
		return NewError(ErrUnauthenticated, "sign in or send an API token to use this")
	}
	return NewError(ErrForbidden, "the "+string(v.Role)+" role may not use this")
}

// CoversAll reports whether v's reach for raw reports is unlimited (see
// Covers): admins and reviewers.
func (v *Viewer) CoversAll() bool { return v.Role == RoleAdmin || v.Role == RoleReviewer }

// OwnCarrier returns the carrier whose holes and gap list are the only
// ones v sees, and whether there is one (for carrier users).
func (v *Viewer) OwnCarrier() (Carrier, bool) {
	if v.Role == RoleCarrier {
		return v.Carrier, true
	}
	return CarrierUnknown, false
}

// ManagesTokensOf reports whether v may make, list and revoke the API
// tokens of the named user: their own, or anyone's for an admin.
func (v *Viewer) ManagesTokensOf(user string) bool {
	return v.Can(UseTokens) && (user == v.User || v.Can(ManageAnyToken))
}
