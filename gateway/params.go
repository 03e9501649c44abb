package gateway

import (
	"math"
	"strconv"
	"strings"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/pop"
)

// Params are the business parameters of one request, with typed accessors
// whose errors are already in the form the client must see: a missing
// required parameter is the gateway's 400 Missing<Name>; a value of the wrong
// type is the business code isv.INVALID_PARAMETERS naming the parameter.
type Params map[string]string

// Has reports whether name was sent (even empty).
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// String returns the value of name, or "".
func (p Params) String(name string) string { return p[name] }

// Required returns the value of name or the 400 Missing<Name> error.
func (p Params) Required(name string) (string, error) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return "", pop.ErrMissing(name)
	}
	return p[name], nil
}

// Int64 parses name as a decimal integer; ok is false when absent or empty.
func (p Params) Int64(name string) (v int64, ok bool, err error) {
	s, present := p[name]
	if !present || s == "" {
		return 0, false, nil
	}
	v, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if perr == nil {
		return v, true, nil
	}
	// dyvmsapi v1.2.1 (tea-rpc) round-trips requests through JSON and
	// prints large integers as floats ("1.1000000300006e+13"). Accept a
	// float that is exactly a whole number small enough to be exact.
	f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if ferr == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int64(f), true, nil
	}
	return 0, false, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s must be an integer, got %q.", name, s)
}

// RequiredInt64 is Int64 for a mandatory parameter.
func (p Params) RequiredInt64(name string) (int64, error) {
	if _, err := p.Required(name); err != nil {
		return 0, err
	}
	v, _, err := p.Int64(name)
	return v, err
}

// Bool parses name as true/false (case-insensitive); ok is false when absent.
func (p Params) Bool(name string) (v bool, ok bool, err error) {
	s, present := p[name]
	if !present || s == "" {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s must be true or false, got %q.", name, s)
}

// Float64 parses name as a number; ok is false when absent.
func (p Params) Float64(name string) (v float64, ok bool, err error) {
	s, present := p[name]
	if !present || s == "" {
		return 0, false, nil
	}
	v, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if perr != nil {
		return 0, false, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s must be a number, got %q.", name, s)
	}
	return v, true, nil
}
