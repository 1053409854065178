// Package ingest decodes weak-signal reports from CSV and GeoJSON over an
// io.Reader into geo.Reports and per-row geo.FieldErrors, and the JSON
// bodies of POST /api/v1/reports (DecodeReport, DecodeReportFeature),
// through one field parser, so that a report reads the same whichever way
// it comes. It does no other I/O, so its readers are what we fuzz.
//
// It also exports the CSV header and streaming GeoJSON feature primitives
// that package data's area and team readers share with the report readers.
//
// ingest imports geo and nothing else of gapmap's.
package ingest
