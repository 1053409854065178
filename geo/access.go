package geo

import "slices"

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

// SeesCarrier reports whether v may read the holes and gap list of c:
// a carrier user its own only, everyone else every carrier's.
func (v *Viewer) SeesCarrier(c Carrier) bool {
	own, only := v.OwnCarrier()
	return !only || own == c
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
