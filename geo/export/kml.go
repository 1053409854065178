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

// WriteGapsKML writes one carrier's holes (for carrier all, the dead
// zones) as a KML 2.2 document for Google Earth, in Vietnamese: a
// placemark per hole named "#<rank> <first area>", its description
// listing the key figures under Vietnamese labels as a Vietnamese reader
// writes them (16,1; 78,6%; times as 01/03/2025 08:30 in Vietnam time;
// states, causes and funding routes in words), and the same figures as
// ExtendedData under their machine names (the gap list's column names,
// with the Vietnamese label as displayName), with machine values: a
// point for decimals, times in RFC 3339 UTC, states as planned.
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
	k.element("name", "gapmap — "+gapListTitle(carrier))
	k.element("description", "Danh sách "+lowerVung(gapListTitle(carrier))+", xếp theo điểm ưu tiên; giờ Việt Nam (UTC+7). "+
		"gapmap gap list: "+gapListTitleEn(carrier)+", by priority.")
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

// lowerVung writes a title's first word, "Vùng", in lower case.
func lowerVung(s string) string {
	if rest, ok := strings.CutPrefix(s, "Vùng"); ok {
		return "vùng" + rest
	}
	return s
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

// figure is one line of a placemark: its machine name and value
// (ExtendedData) and what a Vietnamese reader sees (the description).
type figure struct{ key, label, show, value string }

func (k *writer) placemark(h *geo.Hole) {
	name := "#" + strconv.Itoa(h.Rank)
	if len(h.Areas) > 0 {
		name += " " + h.Areas[0].Name
	}
	_, names := areaLists(h.Areas)
	areas := strings.Join(names, "; ")
	num := func(key string, v float64, prec int) figure {
		return figure{key, columnVi(key), viNum(v, prec), formatNum(v, prec)}
	}
	share := func(key string, v float64) figure {
		return figure{key, columnVi(key), viPercent(v), formatNum(v, 3)}
	}
	count := func(key string, n int) figure {
		return figure{key, columnVi(key), viNum(float64(n), 0), strconv.Itoa(n)}
	}
	when := func(key string, t time.Time) figure {
		return figure{key, columnVi(key), viTime(t), utcTime(t)}
	}
	figures := []figure{
		{"id", columnVi("id"), h.ID, h.ID},
		{"carrier", columnVi("carrier"), viValue("carrier", h.Carrier.String()), h.Carrier.Label()},
		count("rank", h.Rank),
		num("priority", h.Priority, 2),
		num("households_affected", h.Households, 1),
		num("population_affected", h.Population, 1),
		num("area_km2", h.AreaKm2, 3),
		count("reports", h.Reports),
		count("weak_reports", h.Weak),
		count("reporters", h.Reporters),
		share("weak_share", h.WeakShare),
		num("median_signal_dbm", h.MedianSignalDBm, 1),
		num("severity", h.Severity, 3),
		num("confidence", h.Confidence, 3),
		share("prob_weak", h.ProbWeak),
		when("first_observed", h.FirstObserved),
		when("last_observed", h.LastObserved),
		{"areas", columnVi("area_names"), areas, areas},
	}
	if l := &h.Life; l.State != "" {
		enum := func(key, v string) figure { return figure{key, columnVi(key), viValue(key, v), v} }
		day := func(key, v string) figure { return figure{key, columnVi(key), viDate(v), v} }
		overdue := "Không"
		if l.Overdue {
			overdue = "Có"
		}
		figures = append(figures,
			enum("state", string(l.State)),
			day("answer_due", l.AnswerDue),
			day("fix_due", l.FixDue),
			figure{"overdue", columnVi("overdue"), overdue, strconv.FormatBool(l.Overdue)},
			enum("cause", string(l.Cause)),
			enum("funding", string(l.Funding)),
		)
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
		desc.WriteString("<b>" + html.EscapeString(f.label) + "</b>: " + html.EscapeString(f.show) + "<br>\n")
	}
	k.cdata("description", desc.String())
	k.str("<styleUrl>#gap</styleUrl>\n<ExtendedData>\n")
	for _, f := range figures {
		k.str(`<Data name="` + f.key + `"><displayName>`)
		xml.EscapeText(k, []byte(f.label))
		k.str(`</displayName><value>`)
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
