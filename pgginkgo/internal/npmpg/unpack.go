package npmpg

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Entry is one file of a release's PostgreSQL tree, laid out as zonky lays
// out its archives: bin/, lib/ and share/ at the top.
type Entry struct {
	Name     string      // slash-separated, relative to the tree's root
	Mode     os.FileMode // permission bits of a regular file
	Size     int64
	Linkname string    // for a symlink: its target, relative to its directory
	Body     io.Reader // a regular file's content; nil for a symlink
}

// IsSymlink reports whether e is a symlink.
func (e Entry) IsSymlink() bool { return e.Linkname != "" }

// Walk calls fn for every file of the PostgreSQL tree in the tarball at tgz:
// the regular files of the package's native/ directory, then the library
// symlinks that npm cannot ship and the package lists in
// native/pg-symlinks.json. Static libraries and the build-only files of
// pgxs and pkg-config are left out.
func Walk(tgz string, fn func(Entry) error) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(gz)
	var links []struct{ Source, Target string }
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tgz, err)
		}
		name, ok := strings.CutPrefix(h.Name, "package/native/")
		switch {
		case !ok || h.Typeflag != tar.TypeReg:
			continue
		case name == "pg-symlinks.json":
			if err := json.NewDecoder(tr).Decode(&links); err != nil {
				return fmt.Errorf("%s: pg-symlinks.json: %w", tgz, err)
			}
			continue
		case strings.HasSuffix(name, ".a"), strings.HasPrefix(name, "lib/postgresql/pgxs/"), strings.HasPrefix(name, "lib/pkgconfig/"):
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%s: unsafe file name %q", tgz, h.Name)
		}
		if err := fn(Entry{Name: name, Mode: os.FileMode(h.Mode).Perm(), Size: h.Size, Body: tr}); err != nil {
			return err
		}
	}
	for _, l := range links {
		src, _ := strings.CutPrefix(l.Source, "native/")
		dst, _ := strings.CutPrefix(l.Target, "native/")
		if !filepath.IsLocal(dst) || path.Dir(src) != path.Dir(dst) {
			return fmt.Errorf("%s: unexpected symlink %s -> %s", tgz, l.Target, l.Source)
		}
		if err := fn(Entry{Name: dst, Linkname: path.Base(src)}); err != nil {
			return err
		}
	}
	return nil
}

// markerName is written into a tree once it is complete.
const markerName = ".pgginkgo-npm-release"

// Extract unpacks the tarball of r at tgz into dir (which then holds
// bin/postgres), unless dir already holds a complete extraction of r. It
// unpacks into a staging directory beside dir and renames it into place, so
// a reader never sees half a tree. The tree is world-readable: as root,
// pgginkgo runs PostgreSQL as another account, which must reach it.
func Extract(tgz, dir string, r Release) error {
	if b, err := os.ReadFile(filepath.Join(dir, markerName)); err == nil && string(b) == r.Version+"\n" {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".staging-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	err = Walk(tgz, func(e Entry) error {
		target := filepath.Join(staging, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if e.IsSymlink() {
			return os.Symlink(e.Linkname, target)
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, e.Mode|0o444)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, e.Body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, markerName), []byte(r.Version+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(staging, dir)
}
