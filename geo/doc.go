// Package geo is gapmap's domain: areas (hamlet, commune or province
// boundaries), weak-signal reports, community digital-technology teams, and
// the coverage-gap engine over them — the R-tree index and point-in-polygon
// assignment, weak-signal classification, H3 cell statistics, coverage-hole
// detection, area scores, team reach and carrier gap lists.
//
// All coordinates are longitude/latitude on WGS 84 (EPSG:4326) in orb's
// (lon, lat) order. Package geo does no I/O and imports no other gapmap
// package; report decoders live in package geo/ingest, storage and the
// other file readers in package data, HTTP in package api. The storage
// contract the HTTP layer uses is the Store interface declared here.
package geo
