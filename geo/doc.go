// Package geo is gapmap's vocabulary: areas (hamlet, commune or province
// boundaries), weak-signal reports and their compact form (Obs), community
// digital-technology teams, carriers, technologies and levels, accounts
// (users, roles, scopes, tokens, sessions, the audit log, reviews), the
// rules and parameters of the analysis and the shapes of its results
// (holes, area scores, team reach), the errors (ErrInvalid, ErrNotFound,
// ErrConflict, ErrUnauthenticated, ErrForbidden, FieldError, Error), the
// storage contracts (Store, Accounts) and, in access.go, the one table of
// who may see and do what (Viewer).
//
// All coordinates are longitude/latitude on WGS 84 (EPSG:4326) in orb's
// (lon, lat) order. Package geo does no I/O, imports no other gapmap
// package and no cryptography. Its sub-packages hold the rest of the
// domain: index (R-tree, prepared polygons, H3 helpers), engine (the one
// analysis), ingest (every reader), export (every encoder), credential
// (password hashing and secrets), service (the running application: the
// writes, the reports in memory, the published analysis) and sim (the
// synthetic province).
package geo
