package template

import (
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// expandEnv substitutes environment variables in a line of a goose file
// under "-- +goose ENVSUB ON", with the shell-like rules goose applies:
// $NAME and ${NAME}; ${NAME:-default} when NAME is unset or empty;
// ${NAME-default} when it is unset; ${NAME?message} and ${NAME:?message},
// an error when it is unset; $$ and \$ for a literal '$'. An unset $NAME
// is empty. A '$' before anything but a letter or '{' is an error, as in
// goose, so $1 and $$-quoted bodies need \$ or ENVSUB OFF around them.
func expandEnv(s string) (string, error) {
	p := &envParser{in: s}
	out, err := p.expr("")
	if err != nil {
		return "", err
	}
	return out, nil
}

type envParser struct {
	in  string
	pos int
}

// expr expands up to the end of input or an unnested stop rune.
func (p *envParser) expr(stop string) (string, error) {
	var b strings.Builder
	for p.pos < len(p.in) {
		rest := p.in[p.pos:]
		r, size := utf8.DecodeRuneInString(rest)
		switch {
		case strings.ContainsRune(stop, r):
			return b.String(), nil
		case strings.HasPrefix(rest, `\\`):
			b.WriteString(`\\`)
			p.pos += 2
		case strings.HasPrefix(rest, `\$`), strings.HasPrefix(rest, `$$`):
			b.WriteByte('$')
			p.pos += 2
		case strings.HasPrefix(rest, `$(`):
			b.WriteString(`$(`)
			p.pos += 2
		case r == '$' && len(rest) > 1:
			v, err := p.expansion()
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		default:
			b.WriteRune(r)
			p.pos += size
		}
	}
	return b.String(), nil
}

func (p *envParser) expansion() (string, error) {
	p.pos++ // '$'
	if p.in[p.pos] != '{' {
		name, err := p.identifier()
		if err != nil {
			return "", err
		}
		return os.Getenv(name), nil
	}
	p.pos++ // '{'
	name, err := p.identifier()
	if err != nil {
		return "", err
	}
	value, set := os.LookupEnv(name)
	var op string
	for _, candidate := range []string{"}", ":-", ":?", "-", "?"} {
		if strings.HasPrefix(p.in[p.pos:], candidate) {
			op = candidate
			break
		}
	}
	if op == "" {
		return "", fmt.Errorf("unsupported expansion in %q at %q; use ${%s}, ${%s:-default}, ${%s-default} or ${%s?message}", p.in, p.in[p.pos:], name, name, name, name)
	}
	p.pos += len(op)
	if op == "}" {
		return value, nil
	}
	arg, err := p.expr("}")
	if err != nil {
		return "", err
	}
	if p.pos >= len(p.in) {
		return "", fmt.Errorf("%q: ${%s… is not closed with '}'", p.in, name)
	}
	p.pos++ // '}'
	switch op {
	case ":-":
		if value == "" {
			return arg, nil
		}
	case "-":
		if !set {
			return arg, nil
		}
	default: // "?" and ":?"
		if !set || (op == ":?" && value == "") {
			return "", fmt.Errorf("$%s is required: %s", name, arg)
		}
	}
	return value, nil
}

func (p *envParser) identifier() (string, error) {
	start := p.pos
	for p.pos < len(p.in) {
		r, size := utf8.DecodeRuneInString(p.in[p.pos:])
		if !(unicode.IsLetter(r) || (p.pos > start && (unicode.IsDigit(r) || r == '_'))) {
			break
		}
		p.pos += size
	}
	if p.pos == start {
		return "", fmt.Errorf("%q: '$' must be followed by a variable name (a letter first) or '{'; write \\$ or $$ for a literal '$'", p.in)
	}
	return p.in[start:p.pos], nil
}
