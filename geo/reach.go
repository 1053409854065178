package geo

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// ReachParams decide when team reach is low and when an area has a
// coverage gap, which together give its action category.
type ReachParams struct {
	// MinMembersPer1000HH: fewer team members per 1,000 households than
	// this is low reach. A hamlet of 400 households with a 6-member team
	// has 15.
	MinMembersPer1000HH float64 `json:"min_members_per_1000_households"`
	// MinReachedShare: teams that report helping fewer than this share of
	// the households have low reach (ignored where no team reports it).
	MinReachedShare float64 `json:"min_reached_share"`
	// MaxNearestKm: an area whose centre is farther than this from every
	// team base has low reach.
	MaxNearestKm float64 `json:"max_nearest_team_km"`
	// GapShare: an area has a coverage gap when the subscriber-weighted
	// share of its land in holes (dead zones count for every carrier) is at
	// least this.
	GapShare float64 `json:"gap_share"`
}

// DefaultReachParams returns the documented defaults.
func DefaultReachParams() ReachParams {
	return ReachParams{MinMembersPer1000HH: 8, MinReachedShare: 0.3, MaxNearestKm: 5, GapShare: 0.1}
}

// teamFinder answers "how far is the nearest team" by scanning teams
// sorted by longitude outward from the query, stopping once the longitude
// gap alone exceeds the best distance.
type teamFinder struct{ pts []orb.Point }

func newTeamFinder(pts []orb.Point) *teamFinder {
	s := append([]orb.Point(nil), pts...)
	sort.Slice(s, func(i, j int) bool { return s[i][0] < s[j][0] })
	return &teamFinder{pts: s}
}

// nearestKm returns the great-circle distance in km to the nearest team,
// or NaN when there are none.
func (tf *teamFinder) nearestKm(p orb.Point) float64 {
	if len(tf.pts) == 0 {
		return math.NaN()
	}
	const kmPerDeg = 111.195
	coslat := math.Cos(p[1] * math.Pi / 180)
	i := sort.Search(len(tf.pts), func(i int) bool { return tf.pts[i][0] >= p[0] })
	best := math.Inf(1)
	for lo, hi := i-1, i; lo >= 0 || hi < len(tf.pts); {
		progressed := false
		if hi < len(tf.pts) {
			if dx := (tf.pts[hi][0] - p[0]) * kmPerDeg * coslat * 0.99; dx < best {
				best = math.Min(best, orbgeo.Distance(p, tf.pts[hi])/1000)
				hi++
				progressed = true
			} else {
				hi = len(tf.pts)
			}
		}
		if lo >= 0 {
			if dx := (p[0] - tf.pts[lo][0]) * kmPerDeg * coslat * 0.99; dx < best {
				best = math.Min(best, orbgeo.Distance(p, tf.pts[lo])/1000)
				lo--
				progressed = true
			} else {
				lo = -1
			}
		}
		if !progressed {
			break
		}
	}
	return best
}
