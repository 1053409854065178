package export

import (
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// The words of the files people read (XLSX, KML), in Vietnamese with the
// English beside them, as the README's glossary has them: a carrier's
// coverage hole is a "vùng lõm sóng", an all-carrier dead zone a "vùng
// lõm sóng mọi nhà mạng", and a carrier's ranked list of its holes a gap
// list, "danh sách vùng lõm sóng". Machine names (viettel, planned,
// no_power) stay as they are in CSV, GeoJSON, ExtendedData and the API.

// word is the Vietnamese and English label of one machine value.
type word struct{ value, vi, en string }

// valueWords are the labels of the values of the gap list's enumerated
// columns, by column name, in the order the vocabulary lists them.
var valueWords = []struct {
	column string
	words  []word
}{
	{"carrier", []word{
		{geo.Viettel.String(), "Viettel", "Viettel"},
		{geo.VinaPhone.String(), "VinaPhone", "VinaPhone"},
		{geo.MobiFone.String(), "MobiFone", "MobiFone"},
		{geo.Vietnamobile.String(), "Vietnamobile", "Vietnamobile"},
		{geo.CarrierAll.String(), "Mọi nhà mạng", "All carriers"},
	}},
	{"state", []word{
		{string(geo.StateOpen), "Mới", "Open"},
		{string(geo.StateAcknowledged), "Đã tiếp nhận", "Acknowledged"},
		{string(geo.StatePlanned), "Có kế hoạch", "Planned"},
		{string(geo.StateFixed), "Nhà mạng báo đã khắc phục", "Fixed (by the carrier)"},
		{string(geo.StateVerified), "Đã kiểm chứng", "Verified"},
		{string(geo.StateReopened), "Mở lại", "Reopened"},
		{string(geo.StateDisputed), "Đang khiếu nại", "Disputed"},
		{string(geo.StateDismissed), "Đã bác bỏ", "Dismissed"},
		{string(geo.StateResolvedByData), "Hết lõm sóng theo dữ liệu", "Resolved by data"},
	}},
	{"cause", []word{
		{string(geo.CauseNoSite), "Chưa có trạm phát sóng", "No site"},
		{string(geo.CauseCapacity), "Trạm quá tải", "Not enough capacity"},
		{string(geo.CauseNoPower), "Chưa có điện lưới", "No grid power"},
		{string(geo.CauseTerrain), "Địa hình che chắn", "Terrain"},
		{string(geo.CauseFewHouseholds), "Ít hộ dân", "Few households"},
		{string(geo.CauseUnknown), "Chưa rõ", "Unknown"},
	}},
	{"funding", []word{
		{string(geo.FundCarrier), "Nhà mạng tự đầu tư", "The carrier"},
		{string(geo.FundSharing), "Dùng chung hạ tầng", "Infrastructure sharing"},
		{string(geo.FundPublic), "Quỹ Dịch vụ viễn thông công ích", "Public-utility telecommunications fund"},
		{string(geo.FundPowerFirst), "Cần có điện lưới trước", "Grid power first"},
	}},
}

// viValue is the Vietnamese label of value in column, or value itself
// when the column is not enumerated or the value has no label.
func viValue(column, value string) string {
	for _, c := range valueWords {
		if c.column != column {
			continue
		}
		for _, w := range c.words {
			if w.value == value {
				return w.vi
			}
		}
	}
	return value
}

// gapListTitle is the title of carrier's gap list in Vietnamese: its
// coverage holes, or for carrier all the dead zones.
func gapListTitle(c geo.Carrier) string {
	if c == geo.CarrierAll {
		return "Vùng lõm sóng mọi nhà mạng"
	}
	return "Vùng lõm sóng " + c.Label()
}

// gapListTitleEn is gapListTitle in English.
func gapListTitleEn(c geo.Carrier) string {
	if c == geo.CarrierAll {
		return "Dead zones (all carriers)"
	}
	return c.Label() + " coverage holes"
}

// columnVi is the Vietnamese header of the gap list's column name, or
// name itself.
func columnVi(name string) string {
	for _, c := range GapColumns {
		if c.Name == name {
			return c.Vi
		}
	}
	return name
}

// viNum writes v rounded to prec decimals as Vietnamese writes numbers:
// a comma for decimals and a point between thousands (1.234,5); "" for
// NaN and infinities.
func viNum(v float64, prec int) string {
	s := formatNum(v, prec)
	if s == "" {
		return ""
	}
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteByte(whole[i])
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}

// viPercent writes share v (0–1) as a percentage with one decimal
// (78,6%); "" for NaN.
func viPercent(v float64) string {
	s := viNum(v*100, 1)
	if s == "" {
		return ""
	}
	return s + "%"
}

// viTime writes t in Vietnam time as day/month/year hour:minute
// (01/03/2025 08:30); "" for the zero time.
func viTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(geo.VietnamTime).Format("02/01/2006 15:04")
}

// viDate writes a YYYY-MM-DD day as day/month/year (31/03/2025), and
// anything else as it is.
func viDate(s string) string {
	t, err := time.Parse(geo.DateLayout, s)
	if err != nil {
		return s
	}
	return t.Format("02/01/2006")
}
