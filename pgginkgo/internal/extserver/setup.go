//go:build unix

package extserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// serverArgs are the -c settings: TCP on 127.0.0.1 only, durability off
// (the data is on tmpfs and thrown away), room for many test connections,
// then the caller's settings, sorted so the command line is stable.
func serverArgs(sock string, extra map[string]string) []string {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": sock,
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"max_connections":         "300",
		"shared_buffers":          "32MB",
		"log_line_prefix":         "%m [%p] %q%u@%d ",
	}
	for k, v := range extra {
		settings[k] = v
	}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	var args []string
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}
	return args
}

// binDir finds the directory that holds initdb and postgres.
func binDir(dir string) (string, error) {
	source := "Options.BinDir"
	if dir == "" {
		source, dir = "PGGINKGO_BINARIES", os.Getenv("PGGINKGO_BINARIES")
	}
	if dir != "" {
		if isFile(filepath.Join(dir, "bin", "initdb")) {
			return filepath.Join(dir, "bin"), nil
		}
		if isFile(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
		return "", fmt.Errorf("extserver: %s is %q, which holds neither initdb nor bin/initdb; point it at a PostgreSQL installation or its bin directory", source, dir)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestMajor := "", -1
	for _, f := range found {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(f))))
		if err == nil && major > bestMajor {
			best, bestMajor = filepath.Dir(f), major
		}
	}
	if best == "" {
		return "", errors.New("extserver: no /usr/lib/postgresql/<major>/bin/initdb found; install the PostgreSQL server package or set Options.BinDir or PGGINKGO_BINARIES")
	}
	return best, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// runAccount is the account initdb and postgres run as: nobody when the
// tests are root, because both refuse to run as root; nil (the current
// user) otherwise.
func runAccount() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("extserver: running as root, so postgres must run as nobody, but: %w", err)
	}
	gidText := u.Gid
	if g, err := user.LookupGroup("nogroup"); err == nil {
		gidText = g.Gid
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(gidText, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("extserver: account nobody: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// makeDir creates the server's directory on tmpfs, owned by the account
// postgres runs as.
func makeDir(cred *syscall.Credential) (string, error) {
	parent := "/dev/shm"
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "pgginkgo-ext-")
	if err != nil {
		return "", fmt.Errorf("extserver: create server directory: %w", err)
	}
	if err := chown(dir, cred); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func mkdirFor(dir string, cred *syscall.Credential) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("extserver: %w", err)
	}
	return chown(dir, cred)
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("extserver: hand %s to the postgres account: %w", path, err)
	}
	return nil
}

// freePort asks the kernel for a free port. Another process may take it
// before postgres binds it; Start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("extserver: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func randomPassword(n int) (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("extserver: generate password: %w", err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
