package geo

import (
	"fmt"
	"strings"
)

// Carrier is a Vietnamese mobile network operator.
type Carrier uint8

// The carriers gapmap knows. CarrierAll marks all-carrier dead zones.
const (
	CarrierUnknown Carrier = iota
	Viettel
	VinaPhone
	MobiFone
	Vietnamobile
	CarrierAll
)

// Carriers lists the real carriers in a stable order.
var Carriers = []Carrier{Viettel, VinaPhone, MobiFone, Vietnamobile}

var carrierNames = [...]string{"", "viettel", "vinaphone", "mobifone", "vietnamobile", "all"}
var carrierLabels = [...]string{"", "Viettel", "VinaPhone", "MobiFone", "Vietnamobile", "All carriers"}

// MCC-MNC codes of the carriers (MCC 452 is Vietnam).
var carrierMCCMNC = map[string]Carrier{
	"45201": MobiFone, "45202": VinaPhone, "45204": Viettel, "45205": Vietnamobile,
	"45208": Viettel, // Viettel's second MNC (former EVNTelecom range)
}

// String returns the lower-case name used in files and URLs ("viettel").
func (c Carrier) String() string {
	if int(c) < len(carrierNames) {
		return carrierNames[c]
	}
	return fmt.Sprintf("carrier(%d)", c)
}

// Label returns the display name ("Viettel").
func (c Carrier) Label() string {
	if int(c) < len(carrierLabels) {
		return carrierLabels[c]
	}
	return c.String()
}

// MarshalText encodes c as its name.
func (c Carrier) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a name or MCC-MNC code.
func (c *Carrier) UnmarshalText(b []byte) error {
	v, err := ParseCarrier(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseCarrier accepts a carrier name in any case ("Viettel", "VINAPHONE",
// "Vinaphone", "vnpt", "mobi", "vnmobile") or an MCC-MNC code ("452-04",
// "45204", "452 04"). "all" parses as CarrierAll. The error names the
// accepted values.
func ParseCarrier(s string) (Carrier, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	switch k {
	case "viettel", "vtl":
		return Viettel, nil
	case "vinaphone", "vina", "vnpt", "vnp":
		return VinaPhone, nil
	case "mobifone", "mobi", "mbf":
		return MobiFone, nil
	case "vietnamobile", "vnmobile", "vnm":
		return Vietnamobile, nil
	case "all":
		return CarrierAll, nil
	}
	digits := strings.NewReplacer("-", "", " ", "", "/", "").Replace(k)
	if c, ok := carrierMCCMNC[digits]; ok {
		return c, nil
	}
	if k == "" {
		return CarrierUnknown, fmt.Errorf("required")
	}
	return CarrierUnknown, fmt.Errorf("unknown carrier %q (want viettel, vinaphone, mobifone, vietnamobile or an MCC-MNC code such as 452-04)", s)
}

// Tech is the radio technology a device was on when it reported.
type Tech uint8

// Technologies. TechUnknown means the report did not say; TechNone means
// the device had no service at all.
const (
	TechUnknown Tech = iota
	TechNone
	Tech2G
	Tech3G
	Tech4G
	Tech5G
)

var techNames = [...]string{"", "none", "2G", "3G", "4G", "5G"}

func (t Tech) String() string {
	if int(t) < len(techNames) {
		return techNames[t]
	}
	return fmt.Sprintf("tech(%d)", t)
}

// MarshalText encodes t as its name ("4G"; "" when unknown).
func (t Tech) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a technology name.
func (t *Tech) UnmarshalText(b []byte) error {
	v, err := ParseTech(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTech accepts "none", "2G".."5G" in any case, "LTE" and "NR";
// the empty string is TechUnknown.
func ParseTech(s string) (Tech, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return TechUnknown, nil
	case "NONE", "NO", "NOSERVICE", "NO_SERVICE":
		return TechNone, nil
	case "2G", "GSM", "EDGE", "GPRS":
		return Tech2G, nil
	case "3G", "UMTS", "WCDMA", "HSPA", "HSPA+":
		return Tech3G, nil
	case "4G", "LTE", "4G+", "LTE-A":
		return Tech4G, nil
	case "5G", "NR", "5G NR":
		return Tech5G, nil
	}
	return TechUnknown, fmt.Errorf("unknown technology %q (want none, 2G, 3G, 4G or 5G)", s)
}

// Source says who made a report.
type Source uint8

// Report sources.
const (
	SourceUnknown Source = iota
	SourceStaff
	SourceTeam
	SourceApp
	SourceDriveTest
)

var sourceNames = [...]string{"", "staff", "team", "app", "drive_test"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", s)
}

// MarshalText encodes s as its name.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a source name.
func (s *Source) UnmarshalText(b []byte) error {
	v, err := ParseSource(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSource accepts staff, team, app, drive_test (or "drive-test",
// "drivetest"); the empty string is SourceUnknown.
func ParseSource(s string) (Source, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return SourceUnknown, nil
	case "staff":
		return SourceStaff, nil
	case "team":
		return SourceTeam, nil
	case "app":
		return SourceApp, nil
	case "drive_test", "drive-test", "drivetest":
		return SourceDriveTest, nil
	}
	return SourceUnknown, fmt.Errorf("unknown source %q (want staff, team, app or drive_test)", s)
}

// Level is an administrative level. Lower values are finer.
type Level uint8

// Levels, finest first. Since 1 July 2025 Vietnam has two administrative
// levels (province → commune); hamlets (ấp, khóm, thôn, khu phố) are
// community units under a commune; districts exist in pre-2025 data.
const (
	LevelUnknown Level = iota
	LevelHamlet
	LevelCommune
	LevelDistrict
	LevelProvince
)

var levelNames = [...]string{"", "hamlet", "commune", "district", "province"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", l)
}

// MarshalText encodes l as its name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParseLevel accepts hamlet, commune, district, province and the
// Vietnamese words for them (ấp/thôn/khóm/khu phố, xã/phường/đặc khu,
// huyện/quận, tỉnh/thành phố); the empty string is LevelUnknown.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return LevelUnknown, nil
	case "hamlet", "village", "ấp", "thôn", "khóm", "khu phố", "bản", "tổ dân phố":
		return LevelHamlet, nil
	case "commune", "ward", "xã", "phường", "đặc khu", "thị trấn":
		return LevelCommune, nil
	case "district", "huyện", "quận", "thị xã":
		return LevelDistrict, nil
	case "province", "tỉnh", "thành phố":
		return LevelProvince, nil
	}
	return LevelUnknown, fmt.Errorf("unknown level %q (want hamlet, commune, district or province)", s)
}
