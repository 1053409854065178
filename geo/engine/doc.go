// Package engine is gapmap's one analysis: it assigns reports to areas,
// classifies them, pools their evidence on the H3 grid, finds coverage
// holes per carrier and all-carrier dead zones, and scores areas and team
// reach. NewLive builds the analysis and keeps it current as reports are
// added; Analyze is NewLive followed by Result.
//
// How holes are found is explained in the README ("How holes are found");
// the code is in holes.go (the evidence field and its judgement),
// holestats.go (a hole's evidence rules), live.go (holes kept as cells
// change sides) and score.go (area scores and roll-ups).
package engine
