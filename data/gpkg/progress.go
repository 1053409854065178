package gpkg

import "context"

type progressKey struct{}

// WithProgress returns a context under which AddReports tells fn, every
// 10,000 rows and at the end, how many of the batch's total rows it has
// stored. fn runs within the batch's transaction: it must not call the
// Store.
func WithProgress(ctx context.Context, fn func(stored, total int)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// progressOf is the function of WithProgress in ctx, or one that does
// nothing.
func progressOf(ctx context.Context) func(stored, total int) {
	if fn, ok := ctx.Value(progressKey{}).(func(stored, total int)); ok && fn != nil {
		return fn
	}
	return func(int, int) {}
}
