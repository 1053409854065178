package geo

import (
	"fmt"
	"math"
)

// Team is a community digital-technology team (Tổ công nghệ số cộng
// đồng), normally one per hamlet with 4–12 members.
type Team struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	AreaCode string `json:"area_code"`
	Members  int    `json:"members"`
	// HouseholdsReached is the number of households the team has helped;
	// 0 when not reported.
	HouseholdsReached int64 `json:"households_reached"`
	// Lat and Lon locate the team's base (WGS 84); HasLocation is false
	// when the input gave none, and the team is then placed at its area.
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
	HasLocation bool    `json:"-"`
}

// MaxTeamMembers bounds Members; real teams have 4–12.
const MaxTeamMembers = 200

// Validate checks the team's fields and returns FieldErrors.
func (t *Team) Validate() error {
	var es FieldErrors
	add := func(field, format string, args ...any) {
		es = append(es, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if t.ID == "" {
		add("id", "required")
	}
	if t.AreaCode == "" && !t.HasLocation {
		add("area_code", "required when lat/lon are not given")
	}
	if t.Members < 0 || t.Members > MaxTeamMembers {
		add("members", "must be between 0 and %d", MaxTeamMembers)
	}
	if t.HouseholdsReached < 0 {
		add("households_reached", "must not be negative")
	}
	if t.HasLocation {
		if math.IsNaN(t.Lat) || t.Lat < -90 || t.Lat > 90 {
			add("lat", "must be between -90 and 90")
		}
		if math.IsNaN(t.Lon) || t.Lon < -180 || t.Lon > 180 {
			add("lon", "must be between -180 and 180")
		}
	}
	return es.Err()
}
