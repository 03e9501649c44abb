// Package fielderr is how a configuration type reports what is wrong with
// it (with dialtone.InvalidError, the type account resources use): one error per field, named by the field's key path as a
// provisioning file writes it ("trunks[0].address", "network.time_scale").
// The type's Validate stays free of file positions; the provisioning
// decoder maps each path to the line it was written on.
package fielderr

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
)

// Error is a problem with one field: the domain's InvalidError, so that a
// front door renders node configuration and account resources alike.
type Error = dialtone.InvalidError

// List collects the errors of one Validate.
type List struct {
	errs []error
}

// Addf adds a problem at path.
func (l *List) Addf(path, format string, args ...any) {
	l.errs = append(l.errs, &Error{Field: path, Message: fmt.Sprintf(format, args...)})
}

// Duplicate adds a problem at path that repeats the field at first.
func (l *List) Duplicate(path, first, format string, args ...any) {
	l.errs = append(l.errs, &Error{Field: path, Message: fmt.Sprintf(format, args...), First: first})
}

// Reference adds a problem at path, shown on the item at (a reference to
// something missing).
func (l *List) Reference(path, at, format string, args ...any) {
	l.errs = append(l.errs, &Error{Field: path, Message: fmt.Sprintf(format, args...), At: at})
}

// Add adds the errors of a part's Validate, their paths under prefix.
func (l *List) Add(prefix string, err error) {
	for _, e := range All(err) {
		e.Field, e.First, e.At = Join(prefix, e.Field), under(prefix, e.First), under(prefix, e.At)
		l.errs = append(l.errs, e)
	}
}

// Err returns the problems joined, or nil.
func (l *List) Err() error { return errors.Join(l.errs...) }

// All flattens err (joined and wrapped errors) into field errors; an error
// that names no field becomes an *Error at "". The results are copies.
func All(err error) []*Error {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case *Error:
		c := *e
		return []*Error{&c}
	case interface{ Unwrap() []error }:
		var out []*Error
		for _, inner := range e.Unwrap() {
			out = append(out, All(inner)...)
		}
		return out
	case interface{ Unwrap() error }:
		// A wrapped field error keeps its path; the wrapping text goes.
		var fe *Error
		if errors.As(err, &fe) {
			return All(e.Unwrap())
		}
	}
	return []*Error{{Message: err.Error()}}
}

// Join appends a key path to a prefix: Join("trunks[0]", "name") is
// "trunks[0].name", Join("codecs", "[1]") is "codecs[1]".
func Join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

// under is Join for an optional path.
func under(prefix, path string) string {
	if path == "" {
		return ""
	}
	return Join(prefix, path)
}

// Index is the path of a list item: Index("trunks", 2) is "trunks[2]".
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Quote shows a value in a message, cut to 64 bytes so that a huge value
// does not flood the error.
func Quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
