package engine

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

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
