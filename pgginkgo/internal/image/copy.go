package image

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// skipped are files of a stopped data directory that must not travel into
// an image: postmaster.opts records the build's command line.
var skipped = map[string]bool{"postmaster.opts": true, "postmaster.pid": true}

// scan lists a data directory in walk order (parents before children).
func scan(src string) ([]File, int64, error) {
	var files []File
	var total int64
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if skipped[rel] {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Path: filepath.ToSlash(rel), Mode: info.Mode()}
		switch {
		case d.IsDir():
		case d.Type()&fs.ModeSymlink != 0:
			if f.Link, err = os.Readlink(path); err != nil {
				return err
			}
		case d.Type().IsRegular():
			f.Size = info.Size()
			total += f.Size
		default:
			return fmt.Errorf("unexpected file type at %s", path)
		}
		files = append(files, f)
		return nil
	})
	return files, total, err
}

// CopyTree copies the data directory src to dst, which must not exist,
// keeping modes and symlinks: the cluster gets a copy of its own, since
// PostgreSQL writes its files in place and hard links would change src.
// The initdb cache is copied into every cluster this way.
func CopyTree(ctx context.Context, src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	files, _, err := scan(src)
	if err != nil {
		return fmt.Errorf("listing %s: %w", src, err)
	}
	if err := os.Mkdir(dst, st.Mode().Perm()); err != nil {
		return err
	}
	return copyFiles(ctx, src, dst, files, false)
}

// copyWorkers copy regular files side by side: on tmpfs and the page cache
// a copy is mostly system calls per file, and a data directory holds
// thousands of small files.
const copyWorkers = 4

// copyFiles recreates files from src under dst (which must exist). With
// verify, every regular file must still have the size the list gives, or
// the copy stops with an error wrapping ErrDamaged.
func copyFiles(ctx context.Context, src, dst string, files []File, verify bool) error {
	for _, f := range files {
		target := filepath.Join(dst, filepath.FromSlash(f.Path))
		switch {
		case f.Mode.IsDir():
			if err := os.Mkdir(target, f.Mode.Perm()); err != nil {
				return err
			}
		case f.Mode&fs.ModeSymlink != 0:
			if err := os.Symlink(f.Link, target); err != nil {
				return err
			}
		}
	}
	jobs := make(chan File, 256)
	errs := make(chan error, copyWorkers)
	stop := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	for range copyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256*1024)
			for f := range jobs {
				select {
				case <-stop:
					return
				default:
				}
				if err := copyOne(src, dst, f, verify, buf); err != nil {
					errs <- err
					stopOnce.Do(func() { close(stop) })
					return
				}
			}
		}()
	}
	var sendErr error
send:
	for _, f := range files {
		if !f.Mode.IsRegular() {
			continue
		}
		select {
		case jobs <- f:
		case <-stop:
			break send
		case <-ctx.Done():
			sendErr = ctx.Err()
			break send
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return sendErr
}

// damaged reports a file whose size differs from the manifest's.
func damaged(f File, n int64) error {
	return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrDamaged, f.Path, n, f.Size)
}

func missing(f File) error { return fmt.Errorf("%w: %s is missing", ErrDamaged, f.Path) }
