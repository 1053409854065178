// Package index is gapmap's geometry: the R-tree over area bounds with
// prepared polygons for point-in-area assignment (Index), and the H3 grid
// helpers the analysis works on (cells, parents, disks, boundaries, and
// the outline of a set of cells as a MultiPolygon).
//
// Coordinates are longitude/latitude on WGS 84 (EPSG:4326), orb's order.
// It imports only package geo of gapmap's.
package index
