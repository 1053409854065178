package api

import (
	"github.com/gapmap/gapmap/geo"
)

// How much of the holes a request sees is the access table's
// (geo.Viewer.SeesHole, with the server's Options.PublicHoles): in full
// for the hole's carrier and the province, and for everyone else what the
// public sees — by default its outline (geo.HoleOutline). Every path that
// serves holes (the layer, its windows and zooms, OGC pages and items)
// goes through a holesView, so they all agree.
//
// A catalog holds the holes twice when the public sees outlines: the full
// features, in rank order, and the outlines (outlineKey), in the order of
// carrier and ID so that the order tells nothing of the ranking. Those
// who see every hole alike (the province, or the public) are served one
// of the two as it is, its whole layer and gzip made once per
// publication; the others (carriers, staff) walk the outlines and get the
// full bytes of the holes they see in full, a join per request.

// holesView is how one viewer sees the holes of one catalog.
type holesView struct {
	// col is the collection walked, key its name in the catalog.
	col *ogcCollection
	key string
	// see, when not nil, says how much the viewer sees of the i-th
	// feature of col; nil: every feature as col has it.
	see func(i int) geo.HoleView
	// full is the catalog's full holes, whose bytes a feature of the
	// outlines seen in full is shown with.
	full *ogcCollection
}

// errHolesSignIn is the refusal of the holes to the public when it sees
// none of them.
var errHolesSignIn = geo.NewError(geo.ErrUnauthenticated, "sign in or send an API token to see the coverage holes")

// holesView returns how v sees the holes of c; for the public, when it
// sees no holes, an ErrUnauthenticated.
func (s *Server) holesView(c *ogcCatalog, v *geo.Viewer) (holesView, error) {
	pub := s.publicHoles
	full := c.cols["holes"]
	if v.SeesAllHoles(pub) {
		return holesView{col: full, key: "holes"}, nil
	}
	if pub == geo.HoleHidden && v.Anonymous() {
		return holesView{}, errHolesSignIn
	}
	hv := holesView{col: full, key: "holes", full: full}
	if pub == geo.HoleOutline {
		hv.col, hv.key = c.cols[outlineKey], outlineKey
		if v.Anonymous() {
			return holesView{col: hv.col, key: hv.key}, nil
		}
	}
	holes, areas := c.st.result.Holes, c.holeAreas()
	pos := hv.col.holePos
	hv.see = func(i int) geo.HoleView {
		if pos != nil {
			i = int(pos[i])
		}
		return v.SeesHole(holes[i].Carrier, areas[i], pub)
	}
	return hv, nil
}

// substitutes reports whether hv shows some features of its collection
// with the full holes' bytes (false for nil).
func (hv *holesView) substitutes() bool { return hv != nil && hv.see != nil && hv.col.outline }

// fullFeatures returns the full holes' features when hv substitutes them
// for some of its collection's (see pick), else nil.
func (hv *holesView) fullFeatures() []ogcFeature {
	if !hv.substitutes() {
		return nil
	}
	return hv.full.features
}

// pick returns the bytes the i-th feature of hv's collection is shown
// with, from feats (the collection's features, simplified or not) and
// full (the full holes' features alike, when hv substitutes), and false
// when the viewer does not see it.
func (hv *holesView) pick(i int, feats, full []ogcFeature) ([]byte, bool) {
	if hv.see == nil {
		return feats[i].json, true
	}
	switch hv.see(i) {
	case geo.HoleFull:
		if hv.col.outline {
			return full[hv.col.holePos[i]].json, true
		}
		return feats[i].json, true
	case geo.HoleOutline:
		if hv.col.outline {
			return feats[i].json, true
		}
	}
	return nil, false // hidden, or an outline there are no outline bytes for
}

// holeAreas returns, by hole of c's state, the indexes of the areas the
// hole touches (what a staff scope is checked against), made on first use.
func (c *ogcCatalog) holeAreas() [][]int32 {
	c.areasOnce.Do(func() {
		holes := c.st.result.Holes
		c.areasOf = make([][]int32, len(holes))
		for i := range holes {
			for _, a := range holes[i].Areas {
				if j, ok := c.st.areaByCode[a.Code]; ok {
					c.areasOf[i] = append(c.areasOf[i], int32(j))
				}
			}
		}
	})
	return c.areasOf
}
