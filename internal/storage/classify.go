package storage

import (
	"net/http"
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
