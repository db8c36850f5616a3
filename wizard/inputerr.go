package wizard

import (
	"errors"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// InputError marks a problem with what the operator gave plan (the answers
// file, its contents, the --out folder), found before anything was changed.
// The CLI exits 2 for it. Problems found only while rendering (user data over
// 16 KiB, an over-long IQN, a repeated data LUN) are InputErrors too.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is bad input with nothing changed: an
// InputError or the spec's Problems, however wrapped.
func IsInputError(err error) bool {
	var ie *InputError
	var ps spec.Problems
	return errors.As(err, &ie) || errors.As(err, &ps)
}

func inputErr(err error) error {
	if err == nil {
		return nil
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return &InputError{Err: err}
}

// problem is one bad-input finding in the spec's own format (field, message, fix).
func problem(field, msg, fix string) error {
	return &InputError{Err: spec.Problems{{Field: field, Message: msg, Fix: fix}}}
}
