package binaries

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTimezoneDirOfDebian(t *testing.T) {
	needDebian15(t)
	// Debian builds --with-system-tzdata=/usr/share/zoneinfo; its share
	// directory has no timezone/ of its own.
	dir, err := TimezoneDir(Result{BinDir: debian15 + "/bin", Root: debian15})
	if err != nil || dir != "/usr/share/zoneinfo" {
		t.Fatalf("TimezoneDir = %q, %v", dir, err)
	}
}

func TestTimezoneDataMissing(t *testing.T) {
	// A tree laid out like a relocatable build but without share/: the
	// postgres file only has to be readable, since TimezoneDir reads the
	// build's configure arguments from it rather than running it.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	os.WriteFile(filepath.Join(root, "bin", "postgres"), []byte("\x00'--prefix=/usr/local/pg-build' '--with-icu'\x00"), 0o755)
	res := Result{BinDir: filepath.Join(root, "bin"), Root: root}
	_, err := TimezoneDir(res)
	if !errors.Is(err, ErrNoTimezoneData) {
		t.Fatalf("want ErrNoTimezoneData, got %v", err)
	}
	for _, w := range []string{filepath.Join(root, "share", "postgresql", "timezone"), "apt-get install tzdata", "ln -s /usr/share/zoneinfo", "PostgreSQL ignores TZDIR"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}

	// Built against system tzdata that is not installed.
	os.WriteFile(filepath.Join(root, "bin", "postgres"), []byte("'--with-system-tzdata="+root+"/zoneinfo' '--with-icu'"), 0o755)
	_, err = TimezoneDir(res)
	if !errors.Is(err, ErrNoTimezoneData) || !strings.Contains(err.Error(), "reads time zones from "+root+"/zoneinfo (built with --with-system-tzdata)") ||
		!strings.Contains(err.Error(), "apt-get install tzdata") {
		t.Fatalf("got %v", err)
	}

	// Data in the tree's own share directory is found.
	zones := filepath.Join(root, "share", "postgresql", "timezone")
	os.MkdirAll(zones, 0o755)
	os.WriteFile(filepath.Join(zones, "UTC"), []byte("TZif"), 0o644)
	os.WriteFile(filepath.Join(root, "bin", "postgres"), []byte("no configure arguments here"), 0o755)
	if dir, err := TimezoneDir(res); err != nil || dir != zones {
		t.Fatalf("TimezoneDir = %q, %v", dir, err)
	}
}

func TestCompiledTimezoneDirAcrossChunks(t *testing.T) {
	// The needle straddles the 1 MiB read boundary.
	bin := filepath.Join(t.TempDir(), "postgres")
	data := make([]byte, 1<<20-10)
	data = append(data, "'--with-system-tzdata=/some/where/zoneinfo'"...)
	os.WriteFile(bin, data, 0o644)
	if dir, err := compiledTimezoneDir(bin); err != nil || dir != "/some/where/zoneinfo" {
		t.Fatalf("got %q, %v", dir, err)
	}
}
