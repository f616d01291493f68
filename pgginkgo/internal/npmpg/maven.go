package npmpg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os/exec"
)

// MavenJar repacks the tarball of a release as zonky publishes its
// embedded-postgres-binaries artefacts on Maven: a jar (a zip) that holds
// one xz-compressed tar of the tree. It returns the jar and the .txz inside
// it. xz must be installed (Debian: xz-utils).
func MavenJar(tgz string) (jar, txz []byte, err error) {
	if _, err := exec.LookPath("xz"); err != nil {
		return nil, nil, fmt.Errorf("xz is needed to build the .txz (apt-get install xz-utils): %w", err)
	}
	xz := exec.Command("xz", "-1", "-T0", "-c")
	var out, stderr bytes.Buffer
	xz.Stdout, xz.Stderr = &out, &stderr
	stdin, err := xz.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := xz.Start(); err != nil {
		return nil, nil, err
	}
	tw := tar.NewWriter(stdin)
	err = Walk(tgz, func(e Entry) error {
		if e.IsSymlink() {
			return tw.WriteHeader(&tar.Header{Name: e.Name, Linkname: e.Linkname, Typeflag: tar.TypeSymlink, Mode: 0o777})
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.Name, Mode: int64(e.Mode), Size: e.Size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, e.Body)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	stdin.Close()
	if werr := xz.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("xz: %w: %s", werr, stderr.String())
	}
	if err != nil {
		return nil, nil, err
	}
	txz = out.Bytes()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("postgres-linux-x86_64.txz")
	if err == nil {
		_, err = w.Write(txz)
	}
	if err == nil {
		err = zw.Close()
	}
	return zbuf.Bytes(), txz, err
}
