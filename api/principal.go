package api

import (
	"context"
	"net/http"
)

// Principal is who a request acts for. It is empty (anonymous) until
// accounts exist; the middleware that sets it is where authentication
// will go.
type Principal struct{}

type principalKey struct{}

// PrincipalFrom returns the request's principal and whether one was set.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// withPrincipal puts the anonymous principal in every request's context.
func withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, Principal{})))
	})
}
