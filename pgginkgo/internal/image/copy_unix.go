//go:build !windows

package image

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
)

// copyOne copies one regular file with plain system calls: a data
// directory is thousands of small files, and os.File's poller registration
// and io.Copy's copy_file_range and splice attempts cost more per file than
// the data does. With verify, the bytes read must be the manifest's size,
// which checks the size without a stat.
func copyOne(src, dst string, f File, verify bool, buf []byte) error {
	from := filepath.Join(src, filepath.FromSlash(f.Path))
	in, err := open(from, syscall.O_RDONLY, 0)
	if err != nil {
		if verify && errors.Is(err, syscall.ENOENT) {
			return missing(f)
		}
		return fmt.Errorf("opening %s: %w", from, err)
	}
	defer syscall.Close(in)
	to := filepath.Join(dst, filepath.FromSlash(f.Path))
	out, err := open(to, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, uint32(f.Mode.Perm()))
	if err != nil {
		return fmt.Errorf("creating %s: %w", to, err)
	}
	var total int64
	for {
		n, err := retry(func() (int, error) { return syscall.Read(in, buf) })
		if err != nil {
			syscall.Close(out)
			return fmt.Errorf("reading %s: %w", from, err)
		}
		if n == 0 {
			break
		}
		total += int64(n)
		if verify && total > f.Size {
			syscall.Close(out)
			return damaged(f, total)
		}
		for w := 0; w < n; {
			m, err := retry(func() (int, error) { return syscall.Write(out, buf[w:n]) })
			if err != nil {
				syscall.Close(out)
				return fmt.Errorf("writing %s: %w", to, err)
			}
			w += m
		}
	}
	if err := syscall.Close(out); err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	if verify && total != f.Size {
		return damaged(f, total)
	}
	return nil
}

func open(path string, mode int, perm uint32) (int, error) {
	return retry(func() (int, error) { return syscall.Open(path, mode|syscall.O_CLOEXEC, perm) })
}

// retry repeats a system call interrupted by a signal.
func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, syscall.EINTR) {
			return n, err
		}
	}
}
