package geo

import "time"

// TaskWhy says why a place is proposed to a team for measuring.
type TaskWhy string

const (
	// TaskHoleEdge: land no report reaches beside a hole (or dead
	// zone): a measurement there says where the hole ends.
	TaskHoleEdge TaskWhy = "hole_edge"
	// TaskNearThreshold: a judged place whose weak share is close to
	// the threshold: a few more reports decide whether it is a hole.
	TaskNearThreshold TaskWhy = "near_threshold"
	// TaskUnobserved: land no report of the carrier (CarrierAll: of any
	// carrier) reaches yet.
	TaskUnobserved TaskWhy = "unobserved"
	// TaskRetest: a hole its carrier says it fixed: reports there decide
	// whether the fix is verified or the hole reopens. These come first
	// (rank 0), before the places the analysis proposes.
	TaskRetest TaskWhy = "retest"
)

// Task states: proposed and waiting for reports, or done because
// reports arrived at the place after it was proposed.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

// Task is a place a team is asked to measure next: land the analysis
// cannot judge yet, or where one more measurement would change a
// decision. The engine proposes tasks (ID to Rank); the service keeps
// them, with when each was proposed and done.
type Task struct {
	// ID is the team's ID, "/", and the place.
	ID       string `json:"id"`
	Team     string `json:"team"`
	TeamName string `json:"team_name"`
	// Area and AreaName are the area the place lies in (the team's own
	// or a neighbour).
	Area     string `json:"area"`
	AreaName string `json:"area_name"`
	// Place is the H3 cell to measure in (about 0.1 km², 350 m across
	// with the defaults), Lon and Lat its centre.
	Place string  `json:"place"`
	Cell  uint64  `json:"-"`
	Lon   float64 `json:"lon"`
	Lat   float64 `json:"lat"`
	// Carrier is the carrier to measure; CarrierAll asks for every
	// carrier the team has a SIM of.
	Carrier Carrier `json:"carrier"`
	Why     TaskWhy `json:"why"`
	// Households is the estimated number of households in the place
	// (its area's, spread over its land).
	Households float64 `json:"households"`
	// Score is how much a measurement there is worth (see the README);
	// Rank orders a team's tasks by it, from 1 (0: a re-test). Hole is
	// the hole a re-test is for.
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
	Hole  string  `json:"hole,omitempty"`

	// State is TaskOpen or TaskDone; ProposedAt is when the task was
	// first proposed, DoneAt when the first report arrived at the place
	// after that, and DoneBy that report's ID.
	State      string    `json:"state"`
	ProposedAt time.Time `json:"proposed_at"`
	DoneAt     time.Time `json:"done_at,omitzero"`
	DoneBy     string    `json:"done_by,omitempty"`
}
