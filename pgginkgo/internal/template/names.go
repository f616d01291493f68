package template

import (
	"fmt"
	"strings"
)

// MaxNameBytes is PostgreSQL's identifier limit (NAMEDATALEN-1). Longer names
// are not rejected by the server but silently truncated, which makes two
// different names collide; so we reject them instead.
const MaxNameBytes = 63

// maxTemplateNameBytes keeps the readable part of a template database name
// intact: prefix, the name and a 16-digit hash must fit in 63 bytes.
const maxTemplateNameBytes = 32

// NameError says why a name was rejected. It matches ErrInvalidName.
type NameError struct {
	Kind   string // "database", "template" or "prefix"
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid %s name %q: %s", e.Kind, e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidName) true.
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// ValidateDatabaseName accepts names that need no quoting in psql, so the
// command printed for a kept database can be pasted as is: 1–63 bytes of
// lower-case letters, digits and underscores, not starting with a digit.
func ValidateDatabaseName(name string) error {
	return validateIdent("database", name, MaxNameBytes)
}

// ValidateTemplateName accepts the names users give templates, such as
// "schema" or "schema+seed": 1–32 bytes of letters, digits and _ + - . :
func ValidateTemplateName(name string) error {
	if name == "" {
		return &NameError{"template", name, "it is empty; give each template a short name such as \"schema\""}
	}
	if len(name) > maxTemplateNameBytes {
		return &NameError{"template", name, fmt.Sprintf("it is %d bytes long, the limit is %d; use a shorter name", len(name), maxTemplateNameBytes)}
	}
	for i, r := range name {
		if !isLowerAlnum(r) && !(r >= 'A' && r <= 'Z') && !strings.ContainsRune("_+-.:", r) {
			return &NameError{"template", name, fmt.Sprintf("character %q at byte %d is not allowed; use letters, digits and _ + - . :", r, i)}
		}
	}
	return nil
}

func validateIdent(kind, name string, limit int) error {
	switch {
	case name == "":
		return &NameError{kind, name, "it is empty"}
	case len(name) > limit:
		return &NameError{kind, name, fmt.Sprintf("it is %d bytes long; PostgreSQL keeps only %d and would silently truncate it, so use a shorter name", len(name), limit)}
	case name[0] >= '0' && name[0] <= '9':
		return &NameError{kind, name, "it starts with a digit; start it with a letter or underscore"}
	}
	for i, r := range name {
		if !isLowerAlnum(r) && r != '_' {
			return &NameError{kind, name, fmt.Sprintf("character %q at byte %d is not allowed; use lower-case letters, digits and underscores", r, i)}
		}
	}
	return nil
}

func isLowerAlnum(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') }

// templateDatabaseName derives "<prefix>_tpl_<slug>_<hash16>". The slug keeps
// the name readable in psql and pg_stat_activity; the hash alone makes it
// unique, so the slug may be lossy.
func templateDatabaseName(prefix, template, hash string) string {
	var slug strings.Builder
	for _, r := range strings.ToLower(template) {
		if isLowerAlnum(r) {
			slug.WriteRune(r)
		} else if s := slug.String(); s != "" && !strings.HasSuffix(s, "_") {
			slug.WriteByte('_')
		}
	}
	s := strings.Trim(slug.String(), "_")
	head := prefix + "_tpl_"
	tail := "_" + hash[:16]
	if room := MaxNameBytes - len(head) - len(tail); len(s) > room {
		s = strings.TrimRight(s[:room], "_")
	}
	if s == "" {
		return head + hash[:16]
	}
	return head + s + tail
}
