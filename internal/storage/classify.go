package storage

import (
	"net/http"
	"strings"
)

// KindFromStatus classifies an array answer by its HTTP status alone. Vendor
// clients first look at their own machine-readable error codes and fall back
// to this; none of them reads English message text. A bare 409 is KindInvalid:
// without a vendor code it is no proof that the object exists.
func KindFromStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return KindTransient
	case status >= 400:
		return KindInvalid
	}
	return KindUnknown
}

// Printable keeps an array's message short and on one line, for an error
// string an operator reads. It is shown, never used to classify.
func Printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
