package image

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FormatVersion changes whenever the layout of an image or what it holds
// changes; it is part of every key, so a new pgginkgo never boots an image
// an older one built.
const FormatVersion = 1

// Manifest describes an image: written last, before the rename that makes
// the image visible, and checked on every use.
type Manifest struct {
	Format    int        `json:"format"`
	Key       string     `json:"key"`
	Created   time.Time  `json:"created"`
	Version   string     `json:"version"` // server version, e.g. "15.18"
	Templates []Template `json:"templates"`
	// Describe is the key's human-readable input, minus anything secret,
	// so that `pgginkgo ls` can say what an image was built from.
	Describe []string `json:"describe,omitempty"`
	Bytes    int64    `json:"bytes"`
	Files    []File   `json:"files"`
}

// Template is one template database in the image and the ready databases
// cloned from it, which any process of a run may claim.
type Template struct {
	Name     string   `json:"name"`
	Database string   `json:"database"`
	Ready    []string `json:"ready,omitempty"`
}

// File is one entry of the data directory: a directory, a regular file or
// a symlink, with the size a regular file must still have.
type File struct {
	Path string      `json:"p"`
	Mode fs.FileMode `json:"m"`
	Size int64       `json:"s,omitempty"`
	Link string      `json:"l,omitempty"`
}

// ErrDamaged reports an image whose files no longer match its manifest.
var ErrDamaged = errors.New("image does not match its manifest")

const manifestName = "manifest.json"

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %v", ErrDamaged, filepath.Join(dir, manifestName), err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%w: format %d, this pgginkgo writes %d", ErrDamaged, m.Format, FormatVersion)
	}
	return &m, nil
}

// readManifestHead decodes a manifest up to its file list, which Manifest
// puts last: the fields before it, Bytes and Templates among them.
func readManifestHead(dir string) (*Manifest, error) {
	f, err := os.Open(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrDamaged, f.Name())
	}
	var m Manifest
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var dst any
		switch t {
		case "files":
			if m.Format != FormatVersion {
				return nil, fmt.Errorf("%w: format %d, this pgginkgo writes %d", ErrDamaged, m.Format, FormatVersion)
			}
			return &m, nil
		case "format":
			dst = &m.Format
		case "bytes":
			dst = &m.Bytes
		case "templates":
			dst = &m.Templates
		default:
			dst = new(json.RawMessage)
		}
		if err := dec.Decode(dst); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, f.Name(), err)
		}
	}
	return nil, fmt.Errorf("%w: %s has no file list", ErrDamaged, f.Name())
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, manifestName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	// The manifest is what makes the image trustworthy: it reaches the disk
	// before the rename publishes the image.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
