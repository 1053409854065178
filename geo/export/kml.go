package export

import (
	"encoding/xml"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// WriteGapsKML writes one carrier's holes as a KML 2.2 document for Google
// Earth: a placemark per hole named "#<rank> <first area>", with its key
// figures as ExtendedData and in the description.
//
// Google Earth renders a description as HTML, so text from the data
// (area names above all) goes into it HTML-escaped, inside CDATA: no
// markup from the data reaches the balloon. The balloon shows the
// description only (the style's BalloonStyle), so neither the name nor
// the ExtendedData values, which are plain text, are rendered as HTML.
func WriteGapsKML(w io.Writer, carrier geo.Carrier, holes []geo.Hole) error {
	k := newWriter(w)
	k.str(xml.Header)
	k.str(`<kml xmlns="http://www.opengis.net/kml/2.2">` + "\n<Document>\n")
	k.element("name", "gapmap — "+carrier.Label()+" coverage gaps")
	k.str(`<Style id="gap"><LineStyle><color>ff1400d2</color><width>1.5</width></LineStyle>` +
		`<PolyStyle><color>661400d2</color></PolyStyle>` +
		`<BalloonStyle><text>$[description]</text></BalloonStyle></Style>` + "\n")
	for i := range holes {
		k.placemark(&holes[i])
		k.maybeFlush()
	}
	k.str("</Document>\n</kml>\n")
	return k.flush()
}

// element writes <tag>text</tag> with text escaped.
func (k *writer) element(tag, text string) {
	k.str("<" + tag + ">")
	xml.EscapeText(k, []byte(text)) // writing to k cannot fail
	k.str("</" + tag + ">\n")
}

// cdata writes <tag><![CDATA[text]]></tag>. A "]]>" in text, which
// would end the section, is split over two sections.
func (k *writer) cdata(tag, text string) {
	k.str("<" + tag + "><![CDATA[")
	k.str(strings.ReplaceAll(text, "]]>", "]]]]><![CDATA[>"))
	k.str("]]></" + tag + ">\n")
}

func (k *writer) placemark(h *geo.Hole) {
	name := "#" + strconv.Itoa(h.Rank)
	if len(h.Areas) > 0 {
		name += " " + h.Areas[0].Name
	}
	_, names := areaLists(h.Areas)
	figures := []struct{ key, label, value string }{
		{"id", "ID", h.ID},
		{"carrier", "Carrier", h.Carrier.Label()},
		{"rank", "Rank", strconv.Itoa(h.Rank)},
		{"priority", "Priority", formatNum(h.Priority, 2)},
		{"households_affected", "Households affected", formatNum(h.Households, 1)},
		{"population_affected", "People affected", formatNum(h.Population, 1)},
		{"area_km2", "Area (km²)", formatNum(h.AreaKm2, 3)},
		{"reports", "Reports", strconv.Itoa(h.Reports)},
		{"weak_reports", "Weak reports", strconv.Itoa(h.Weak)},
		{"reporters", "Reporters", strconv.Itoa(h.Reporters)},
		{"weak_share", "Weak share", formatNum(h.WeakShare, 3)},
		{"median_signal_dbm", "Median signal (dBm)", formatNum(h.MedianSignalDBm, 1)},
		{"severity", "Severity", formatNum(h.Severity, 3)},
		{"confidence", "Confidence", formatNum(h.Confidence, 3)},
		{"prob_weak", "Probability weak", formatNum(h.ProbWeak, 3)},
		{"first_observed", "First observed", utcTime(h.FirstObserved)},
		{"last_observed", "Last observed", utcTime(h.LastObserved)},
		{"areas", "Areas", strings.Join(names, "; ")},
	}
	if l := &h.Life; l.State != "" {
		figures = append(figures, []struct{ key, label, value string }{
			{"state", "State", string(l.State)},
			{"answer_due", "Answer due", l.AnswerDue},
			{"fix_due", "Fix due", l.FixDue},
			{"overdue", "Overdue", strconv.FormatBool(l.Overdue)},
			{"cause", "Cause", string(l.Cause)},
			{"funding", "Funding", string(l.Funding)},
		}...)
	}
	k.str("<Placemark>\n")
	k.element("name", name)
	// The description is HTML: every text in it is escaped.
	var desc strings.Builder
	desc.WriteString("<h3>" + html.EscapeString(name) + "</h3>\n")
	for _, f := range figures {
		if f.value == "" {
			continue
		}
		desc.WriteString("<b>" + html.EscapeString(f.label) + "</b>: " + html.EscapeString(f.value) + "<br>\n")
	}
	k.cdata("description", desc.String())
	k.str("<styleUrl>#gap</styleUrl>\n<ExtendedData>\n")
	for _, f := range figures {
		k.str(`<Data name="` + f.key + `"><value>`)
		xml.EscapeText(k, []byte(f.value))
		k.str("</value></Data>\n")
	}
	k.str("</ExtendedData>\n")
	switch len(h.Geometry) {
	case 0:
	case 1:
		k.polygon(h.Geometry[0])
	default:
		k.str("<MultiGeometry>\n")
		for _, p := range h.Geometry {
			k.polygon(p)
		}
		k.str("</MultiGeometry>\n")
	}
	k.str("</Placemark>\n")
}

func (k *writer) polygon(p orb.Polygon) {
	k.str("<Polygon>")
	for i, r := range p {
		if i == 0 {
			k.str("<outerBoundaryIs>")
		} else {
			k.str("<innerBoundaryIs>")
		}
		k.str("<LinearRing><coordinates>")
		for j, pt := range r {
			if j > 0 {
				k.buf = append(k.buf, ' ')
			}
			k.buf = appendNum(k.buf, pt[0], precCoord)
			k.buf = append(k.buf, ',')
			k.buf = appendNum(k.buf, pt[1], precCoord)
		}
		k.str("</coordinates></LinearRing>")
		if i == 0 {
			k.str("</outerBoundaryIs>")
		} else {
			k.str("</innerBoundaryIs>")
		}
	}
	k.str("</Polygon>\n")
}

// utcTime is t in RFC 3339 UTC, as the machine formats write times, or
// "" for the zero time.
func utcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
