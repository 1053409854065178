package api

import "net/url"

func urlPathEscape(s string) string { return url.PathEscape(s) }
