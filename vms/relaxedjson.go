package vms

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseTemplateParams decodes template variables: a JSON object whose
// values are strings or numbers, or the relaxed form the seed document uses
// itself ({product:'aliyun',code:'123'}: single quotes, unquoted keys).
// No JSON library accepts that form, hence this small parser. Nested objects,
// arrays and duplicate keys are refused; the error says where and why.
func ParseTemplateParams(s string) (map[string]string, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("the text is not valid UTF-8")
	}
	out, err := parseRelaxed(s, false)
	if err != nil {
		// The seed document's IvrCall sample mixes quotes
		// ({"product':'aliyun',...}); accept that as a second try, so
		// that anything valid as JSON is still read exactly as JSON.
		if lenient, lerr := parseRelaxed(s, true); lerr == nil {
			return lenient, nil
		}
		return nil, err
	}
	return out, nil
}

func parseRelaxed(s string, mixedQuotes bool) (map[string]string, error) {
	p := &relaxedParser{s: s, mixedQuotes: mixedQuotes}
	p.space()
	if p.i == len(p.s) {
		return map[string]string{}, nil
	}
	out, err := p.object()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected %q after the closing brace", p.rest())
	}
	return out, nil
}

type relaxedParser struct {
	s string
	i int
	// mixedQuotes lets a string opened by one quote character close with
	// the other when a delimiter (':', ',' or '}') follows.
	mixedQuotes bool
}

func (p *relaxedParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *relaxedParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 12 {
		r = r[:12] + "…"
	}
	return r
}

func (p *relaxedParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *relaxedParser) object() (map[string]string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, p.errorf("expected a JSON object starting with '{'")
	}
	p.i++
	out := map[string]string{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}
	for {
		p.space()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, p.errorf("variable %q is given twice", key)
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected ':' after %q", key)
		}
		p.i++
		p.space()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		out[key] = val
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errorf("missing closing '}'")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return out, nil
		default:
			return nil, p.errorf("expected ',' or '}' but found %q", p.rest())
		}
	}
}

func (p *relaxedParser) key() (string, error) {
	if p.i >= len(p.s) {
		return "", p.errorf("missing closing '}'")
	}
	if c := p.s[p.i]; c == '"' || c == '\'' {
		return p.quoted()
	}
	start := p.i
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			p.i += n
			continue
		}
		break
	}
	if p.i == start {
		return "", p.errorf("expected a variable name but found %q", p.rest())
	}
	return p.s[start:p.i], nil
}

func (p *relaxedParser) value() (string, error) {
	if p.i >= len(p.s) {
		return "", p.errorf("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		return p.quoted()
	case c == '{' || c == '[':
		return "", p.errorf("variable values must be strings or numbers, not objects or arrays")
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
			p.i++
		}
		num := p.s[start:p.i]
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			p.i = start
			return "", p.errorf("%q is not a number", num)
		}
		return num, nil
	}
	for _, lit := range []string{"true", "false"} {
		if strings.HasPrefix(p.s[p.i:], lit) {
			p.i += len(lit)
			return lit, nil
		}
	}
	if strings.HasPrefix(p.s[p.i:], "null") {
		return "", p.errorf("variable values must not be null")
	}
	return "", p.errorf("expected a quoted string or a number but found %q", p.rest())
}

// quoted reads a string in double or single quotes with JSON escapes (and
// \' inside single quotes).
func (p *relaxedParser) quoted() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q || p.mixedQuotes && (c == '"' || c == '\'') && p.delimiterFollows(p.i+1):
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unfinished escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\'', '\\', '/':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.i+4 > len(p.s) {
					return "", p.errorf("short \\u escape")
				}
				n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
				if err != nil {
					return "", p.errorf("bad \\u escape")
				}
				r := rune(n)
				p.i += 4
				if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(p.s[p.i:], "\\u") && p.i+6 <= len(p.s) {
					if lo, err := strconv.ParseUint(p.s[p.i+2:p.i+6], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
						r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						p.i += 6
					}
				}
				b.WriteRune(r)
			default:
				return "", p.errorf("unknown escape \\%c", e)
			}
		case c < 0x20:
			return "", p.errorf("control character in a string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *relaxedParser) delimiterFollows(i int) bool {
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	return i < len(p.s) && (p.s[i] == ':' || p.s[i] == ',' || p.s[i] == '}')
}
