//go:build windows

package image

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// copyOne copies one regular file; with verify, its size must be the
// manifest's.
func copyOne(src, dst string, f File, verify bool, buf []byte) error {
	in, err := os.Open(filepath.Join(src, filepath.FromSlash(f.Path)))
	if err != nil {
		if verify && errors.Is(err, fs.ErrNotExist) {
			return missing(f)
		}
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(dst, filepath.FromSlash(f.Path)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, f.Mode.Perm())
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, buf)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if verify && n != f.Size {
		return damaged(f, n)
	}
	return nil
}
