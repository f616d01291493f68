// Package specslug is the one rule by which the fixture suite in
// decorators/testdata/fixture names the files it writes after spec texts,
// and by which the tests that run it find those files again.
package specslug

import (
	"regexp"
	"strings"
)

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// Of turns a spec's text into a file name part: lower case, each run of
// other characters than a-z and 0-9 one dash, no dash at either end.
func Of(text string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(text), "-"), "-")
}
