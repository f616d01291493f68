// Package adapter holds what the migration-tool adapters under migrators/
// share: the tool's version for their fingerprints, a digest of the files
// they apply, and a database/sql handle on the template being built.
package adapter

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ToolVersion is the version of the module at path that this binary was
// built with: "v3.30.0", say. It goes into an adapter's fingerprint, so
// that an upgrade of the tool, which may change what it creates (its
// version table, say), builds a new template instead of reusing the old
// one.
//
// fromTool is any function of that module (goose.NewProvider, say). Test
// binaries, where adapters run, record no dependencies in their build
// info, so the version is read from where the compiler found the
// function's source: the module cache path ".../goose/v3@v3.30.0/…", also
// under -trimpath. Build info is the fallback; a module replaced by a
// local directory or vendored has neither, and is "unknown".
func ToolVersion(path string, fromTool any) string {
	if v := reflect.ValueOf(fromTool); v.IsValid() && v.Kind() == reflect.Func {
		if f := runtime.FuncForPC(v.Pointer()); f != nil {
			file, _ := f.FileLine(f.Entry())
			file = filepath.ToSlash(file)
			// The module cache escapes capitals: BurntSushi is !burnt!sushi.
			if i := strings.Index(file, escapeModule(path)+"@"); i >= 0 {
				version, _, _ := strings.Cut(file[i+len(escapeModule(path))+1:], "/")
				return unescapeModule(version)
			}
		}
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != path {
				continue
			}
			if m.Replace != nil {
				return m.Replace.Path + "@" + m.Replace.Version
			}
			return m.Version
		}
	}
	return "unknown"
}

// escapeModule spells a module path or version as the module cache does:
// each capital letter as '!' and its lower case.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unescapeModule undoes escapeModule.
func unescapeModule(s string) string {
	var b strings.Builder
	upper := false
	for _, r := range s {
		switch {
		case r == '!':
			upper = true
			continue
		case upper:
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FilesDigest hashes the name and content of every regular file under
// fsys, in fs.WalkDir's lexical order, so that adding, removing, renaming
// or editing any file a tool may read (shared templates in subdirectories
// included) changes it.
func FilesDigest(fsys fs.FS) (string, error) {
	if fsys == nil {
		return "", fmt.Errorf("the migrations fs.FS is nil; pass os.DirFS(\"path/to/migrations\") or an embed.FS")
	}
	h := sha256.New()
	n := 0
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(h, "%s\x00%x\x00", path, sum)
		n++
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the migrations: %w", err)
	}
	if n == 0 {
		return "", fmt.Errorf("the migrations directory holds no files")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Apply runs each of an adapter's options on cfg, in order, and returns
// cfg: what every adapter's New does with the options it is given.
func Apply[C any, O ~func(*C)](cfg *C, opts []O) *C {
	for _, o := range opts {
		o(cfg)
	}
	return cfg
}

// FilesFingerprint begins the fingerprint of an adapter whose tool, from
// module, applies the files under fsys: "<tool>:<version>:files=<digest>",
// with the ToolVersion that fromTool tells and the FilesDigest of fsys.
// optionErrs, the mistakes the adapter's options recorded, come first,
// before the cluster starts; a digest that cannot be made is an error that
// starts with "<pkg>: ", the adapter's package.
func FilesFingerprint(pkg, tool, module string, fromTool any, fsys fs.FS, optionErrs []error) (string, error) {
	if err := errors.Join(optionErrs...); err != nil {
		return "", err
	}
	digest, err := FilesDigest(fsys)
	if err != nil {
		return "", fmt.Errorf("%s: %w", pkg, err)
	}
	return fmt.Sprintf("%s:%s:files=%s", tool, ToolVersion(module, fromTool), digest), nil
}

// SQLDB opens a database/sql handle (pgx's stdlib driver) with conn's
// settings: the template database being built, as the same superuser.
// The caller closes it. It holds its own connections, never conn, so a
// tool that closes or pins what it is given cannot break pgginkgo's.
func SQLDB(conn *pgx.Conn) *sql.DB {
	return stdlib.OpenDB(*conn.Config().Copy())
}
