package api

import (
	"net/http"
	"net/url"
	"sync"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
)

// The schemas of the OGC collections (OGC API - Features - Part 5): each
// collection links its JSON Schema (rel=describedby) and its queryables,
// so that GDAL, QGIS and OWSLib type every property from the schema
// rather than guess it from the values. The properties and their types
// come from the feature encoders themselves (export.Describe), so the
// schema says exactly what the features hold.

const (
	mimeSchema   = "application/schema+json"
	relQueryable = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
)

// schemaCache holds a catalog's fields per collection, made on first
// request.
type schemaCache struct {
	once   sync.Once
	fields map[string][]export.Field
}

// fields returns the properties of collection id of c, as a viewer whose
// holes are outlines only (outline) or not sees them.
func (c *ogcCatalog) fields(id string, outline bool) []export.Field {
	c.schema.once.Do(func() { c.schema.fields = describeCatalog(c) })
	if id == "holes" && outline {
		id = outlineKey
	}
	return c.schema.fields[id]
}

// describeCatalog describes the properties of every collection of c from
// its values: every area (their input properties differ), one hole with
// a registry state (its lifecycle properties are written only then), one
// team, one unobserved entry, and the reports' fixed properties.
func describeCatalog(c *ogcCatalog) map[string][]export.Field {
	res := c.st.result
	out := map[string][]export.Field{"reports": export.ReportFields}
	add := func(id string, b []byte) {
		if fs, err := export.Fields(b); err == nil {
			out[id] = export.MergeFields(out[id], fs)
		}
	}
	for i := range res.Areas {
		if sc := &res.Areas[i]; sc.Index >= 0 {
			a := c.areas[sc.Index]
			a.Geometry = nil // only the properties are described
			if b, err := export.AreaFeature(nil, export.Describe, sc, &a); err == nil {
				add("areas", b)
			}
		}
	}
	var h geo.Hole
	if len(res.Holes) > 0 {
		h = res.Holes[0]
	}
	h.Geometry = nil
	if h.Life.State == "" {
		h.Life.State = geo.StateOpen
	}
	add("holes", export.HoleFeature(nil, export.Describe, &h))
	add(outlineKey, export.HoleOutlineFeature(nil, export.Describe, &h))
	var t geo.TeamOut
	add("teams", export.TeamFeature(nil, export.Describe, &t))
	var u geo.Unobserved
	add("unobserved", export.UnobservedFeature(nil, export.Describe, &u))
	return out
}

// geometryFormats is each collection's geometry as Part 5 names it.
var geometryFormats = map[string]string{
	"areas": "geometry-multipolygon", "holes": "geometry-multipolygon", "unobserved": "geometry-multipolygon",
	"reports": "geometry-point", "teams": "geometry-point",
}

// schemaDoc is a collection's JSON Schema (queryables: its queryables).
func schemaDoc(href, title string, c *ogcCollection, fields []export.Field, queryables bool) map[string]any {
	props := map[string]any{}
	for _, f := range fields {
		p := map[string]any{"title": f.Name, "type": f.Type}
		if f.Type == "date-time" {
			p["type"], p["format"] = "string", "date-time"
		}
		if f.Type == "array" {
			p["items"] = map[string]any{"type": "string"}
		}
		if f.Name == "id" && !queryables {
			p["x-ogc-role"] = "id"
		}
		props[f.Name] = p
	}
	g := map[string]any{"format": geometryFormats[c.id]}
	if !queryables {
		g["x-ogc-role"] = "primary-geometry"
	}
	props["geometry"] = g
	doc := map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"$id":        href,
		"type":       "object",
		"title":      title,
		"properties": props,
	}
	if queryables {
		doc["additionalProperties"] = false
	}
	return doc
}

// handleOGCSchema serves a collection's schema (or its queryables).
func (s *Server) handleOGCSchema(queryables bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := ogcQuery(r); err != nil {
			return err
		}
		c, hv, err := s.ogcCollectionOf(r)
		if err != nil {
			return err
		}
		outline := hv != nil && c.outline && !hv.substitutes()
		href := s.ogcBase(r) + "/collections/" + url.PathEscape(c.id)
		title := c.title
		if queryables {
			href += "/queryables"
			title += ": queryables"
		} else {
			href += "/schema"
		}
		return writeJSONType(w, mimeSchema, schemaDoc(href, title, c, s.ogcCatalog().fields(c.id, outline), queryables))
	}
}
