package storage

// Unit test, no fakes.

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKindFromStatus(t *testing.T) {
	for status, want := range map[int]Kind{200: KindUnknown, 302: KindUnknown, 400: KindInvalid, 401: KindAuth, 403: KindAuth,
		404: KindNotFound, 408: KindTransient, 409: KindInvalid, 429: KindTransient, 500: KindTransient, 503: KindTransient} {
		assert.Equal(t, want, KindFromStatus(status), "status %d", status)
	}
}
