package pgginkgo_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/pgginkgo/pgginkgo/pgginkgo"
	"github.com/pgginkgo/pgginkgo/pgginkgo/internal/binaries"
)

// The image fixture (testdata/imagesuite) runs as its own test binary under
// the ginkgo CLI, as a package of a user's repository would.
var imageSuiteBinary = func() func() string {
	var path string
	return func() string {
		if path == "" {
			dir, err := os.MkdirTemp("", "pgginkgo-imagesuite-")
			Expect(err).NotTo(HaveOccurred())
			Expect(os.Chmod(dir, 0o755)).To(Succeed())
			p := filepath.Join(dir, "imagesuite.test")
			out, err := exec.Command("go", "test", "-c", "-o", p, "./testdata/imagesuite").CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			path = p
		}
		return path
	}
}()

// worldDir makes a directory every account can use: PostgreSQL runs as
// nobody when the tests run as root, and must reach the cache and the files
// the fixture writes.
func worldDir(prefix string) string {
	dir, err := os.MkdirTemp("", prefix)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.Chmod(dir, 0o777)).To(Succeed())
	DeferCleanup(os.RemoveAll, dir)
	return dir
}

// imageRun is one ginkgo --procs=2 run of the image fixture.
type imageRun struct {
	cache    string            // PGGINKGO_CACHE_DIR
	env      map[string]string // more variables
	dir      string            // holds the run's log and files
	asNobody bool

	out string
	err error
}

func newImageRun(cache string) *imageRun {
	dir := worldDir("pgginkgo-imagerun-")
	return &imageRun{cache: cache, dir: dir, env: map[string]string{}}
}

func (r *imageRun) file(name string) string { return filepath.Join(r.dir, name) }

func (r *imageRun) command(ctx context.Context) *exec.Cmd {
	args := []string{"--procs=2", "--no-color", imageSuiteBinary()}
	var cmd *exec.Cmd
	env := []string{"IMAGE_LOG=" + r.file("log"), "IMAGE_MIGRATIONS=" + absMigrations()}
	if r.cache != "" {
		env = append(env, "PGGINKGO_CACHE_DIR="+r.cache)
	}
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	if r.asNobody {
		cli := filepath.Join(filepath.Dir(imageSuiteBinary()), "ginkgo")
		if _, err := os.Stat(cli); err != nil {
			b, err := os.ReadFile(ginkgoCLI())
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(cli, b, 0o755)).To(Succeed())
		}
		home := filepath.Join(r.dir, "home")
		Expect(os.MkdirAll(home, 0o777)).To(Succeed())
		Expect(os.Chmod(home, 0o777)).To(Succeed())
		cmd = exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups",
			"env", "-i", "PATH=" + os.Getenv("PATH"), "HOME=" + home}, append(env, append([]string{cli}, args...)...)...)...)
	} else {
		cmd = exec.CommandContext(ctx, ginkgoCLI(), args...)
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Dir = r.dir
	return cmd
}

func (r *imageRun) run(ctx context.Context) *imageRun {
	out, err := r.command(ctx).CombinedOutput()
	r.out, r.err = string(out), err
	return r
}

// log is what the core logged, in every process of the run.
func (r *imageRun) log() string {
	b, _ := os.ReadFile(r.file("log"))
	return string(b)
}

func (r *imageRun) count(msg string) int { return strings.Count(r.log(), `msg="`+msg+`"`) }

func (r *imageRun) expectPassed() {
	GinkgoHelper()
	Expect(r.err).NotTo(HaveOccurred(), "the fixture failed:\n%s\nits log:\n%s", tail(r.out, 60), tail(r.log(), 40))
	Expect(r.out).To(ContainSubstring("Ran 6 of 6 Specs"))
	Expect(r.out).To(ContainSubstring("SUCCESS!"))
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func absMigrations() string {
	p, err := filepath.Abs("testdata/imagesuite/migrations")
	Expect(err).NotTo(HaveOccurred())
	return p
}

var imageKeyInLog = regexp.MustCompile(`msg="image (?:built|hit)".* key=(\S+)`)

// firstSpecDatabases parses IMAGE_FIRST: process → databases seen when
// its first spec started.
func firstSpecDatabases(path string) map[int][]string {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	out := map[int][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p int
		head, names, ok := strings.Cut(line, ": ")
		Expect(ok).To(BeTrue(), line)
		_, err := fmt.Sscanf(head, "process %d", &p)
		Expect(err).NotTo(HaveOccurred())
		out[p] = strings.Fields(names)
	}
	return out
}

var _ = Describe("the migrated image", Serial, func() {
	It("is built once by 4 suites started at once on an empty cache, then booted with no migration and no CREATE DATABASE before the first spec", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		runs := make([]*imageRun, 4)
		for i := range runs {
			runs[i] = newImageRun(cache)
		}
		imageSuiteBinary()
		ginkgoCLI()
		together(runs, func(r *imageRun) { r.run(ctx) })
		builds, waits := 0, 0
		for _, r := range runs {
			r.expectPassed()
			builds += r.count("image built")
			waits += r.count("waiting for another process to build the image")
		}
		Expect(builds).To(Equal(1), "image builds across the 4 suites")
		for _, r := range runs {
			if r.count("image built") == 0 {
				Expect(r.log()).To(MatchRegexp(`msg="image hit"`), "a suite that did not build booted from the image")
				Expect(r.log()).NotTo(ContainSubstring("migrated=true"))
			}
		}
		GinkgoWriter.Printf("builds=%d, suites that logged waiting for the build=%d\n", builds, waits)

		warm := newImageRun(cache)
		warm.env["IMAGE_FIRST"] = warm.file("first")
		warm.run(ctx).expectPassed()
		Expect(warm.count("image hit")).To(Equal(1))
		Expect(warm.count("templates came from the image: no migration applied")).To(Equal(1))
		Expect(warm.log()).NotTo(ContainSubstring("migrated=true"))
		Expect(warm.count("image built")).To(BeZero())
		seen := firstSpecDatabases(warm.file("first"))
		Expect(seen).To(HaveLen(2), "both processes ran a first spec")
		for p, names := range seen {
			for _, n := range names {
				Expect(n).NotTo(ContainSubstring(fmt.Sprintf("_p%d_", p)),
					"process %d cloned a database before its first spec: %v", p, names)
			}
			Expect(names).To(ContainElement(MatchRegexp(`^pgg_default_ready_\d+$`)))
		}
		got := firstSpecDatabases(warm.file("first.got"))
		Expect(got).To(HaveLen(2))
		for p, name := range got {
			Expect(name).To(ConsistOf(MatchRegexp(`^pgg_default_ready_\d+$`)), "process %d's first spec got a database of the image", p)
		}
	}, SpecTimeout(4*time.Minute))

	It("holds templates equal to freshly migrated ones: pg_dump of the schema and every row", func(ctx SpecContext) {
		skipWithoutPgDump(ctx)
		cache := worldDir("pgginkgo-cache-")
		dumps := map[string]string{}
		for _, mode := range []string{"off", "cold", "warm"} {
			r := newImageRun(cache)
			r.env["IMAGE_DUMP"] = r.file("dump")
			if mode == "off" {
				r.env["PGGINKGO_IMAGE"] = "off"
			}
			r.run(ctx).expectPassed()
			b, err := os.ReadFile(r.file("dump"))
			Expect(err).NotTo(HaveOccurred())
			dumps[mode] = string(b)
			switch mode {
			case "off":
				Expect(r.log()).To(ContainSubstring("migrated image bypassed"))
			case "cold":
				Expect(r.count("image built")).To(Equal(1))
			case "warm":
				Expect(r.count("image hit")).To(Equal(1))
			}
		}
		Expect(dumps["off"]).To(ContainSubstring("CREATE TABLE public.invoices"))
		Expect(dumps["off"]).To(ContainSubstring("ada@example.com"))
		Expect(dumps["cold"]).To(Equal(dumps["off"]))
		Expect(dumps["warm"]).To(Equal(dumps["off"]))
	}, SpecTimeout(4*time.Minute))

	It("is left neither running nor half-built by a builder killed with SIGKILL in mid-migration, and the next run builds it", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		r := newImageRun(cache)
		r.env["IMAGE_HANG"] = r.file("hang")
		cmd := r.command(ctx)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		go cmd.Wait()
		DeferCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		Eventually(r.file("hang")).WithTimeout(2 * time.Minute).Should(BeAnExistingFile())
		b, err := os.ReadFile(r.file("hang"))
		Expect(err).NotTo(HaveOccurred())
		dataDir := string(b)
		pid := postmasterPIDOf(dataDir)
		Expect(procAlive(pid)).To(BeTrue())

		Expect(syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() bool { return procAlive(pid) }).WithTimeout(5*time.Second).Should(BeFalse(), "postgres outlived the killed build")
		Eventually(filepath.Dir(dataDir)).WithTimeout(5 * time.Second).ShouldNot(BeADirectory())
		images, err := pgginkgo.ListImages(pgginkgo.CacheDir(cache))
		Expect(err).NotTo(HaveOccurred())
		Expect(images).To(BeEmpty(), "a killed build left an image")

		next := newImageRun(cache)
		next.run(ctx).expectPassed()
		Expect(next.count("image built")).To(Equal(1))
		images, err = pgginkgo.ListImages(pgginkgo.CacheDir(cache))
		Expect(err).NotTo(HaveOccurred())
		Expect(images).To(HaveLen(1))
	}, SpecTimeout(4*time.Minute))

	It("is rebuilt, with a warning, when a file inside it is truncated or deleted", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		newImageRun(cache).run(ctx).expectPassed()
		for _, damage := range []string{"truncate", "delete"} {
			images, err := pgginkgo.ListImages(pgginkgo.CacheDir(cache))
			Expect(err).NotTo(HaveOccurred())
			Expect(images).To(HaveLen(1))
			victim := largestFile(filepath.Join(images[0].Dir, "data", "base"))
			if damage == "truncate" {
				Expect(os.Truncate(victim, 100)).To(Succeed())
			} else {
				Expect(os.Remove(victim)).To(Succeed())
			}
			r := newImageRun(cache).run(ctx)
			r.expectPassed()
			Expect(r.log()).To(MatchRegexp(`level=WARN msg="the image is damaged; rebuilding it".*base/`), damage)
			Expect(r.count("image built")).To(Equal(1), damage)
			Expect(r.count("image hit")).To(BeZero(), damage)
			again := newImageRun(cache).run(ctx)
			again.expectPassed()
			Expect(again.count("image hit")).To(Equal(1), "the rebuilt image serves the next run")
		}
	}, SpecTimeout(4*time.Minute))

	It("gets a new key when a migration is edited, and the old image stays listed until eviction", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		migrations := worldDir("pgginkgo-migrations-")
		Expect(os.CopyFS(migrations, os.DirFS(absMigrations()))).To(Succeed())
		first := newImageRun(cache)
		first.env["IMAGE_MIGRATIONS"] = migrations
		first.run(ctx).expectPassed()
		f, err := os.OpenFile(filepath.Join(migrations, "002_invoices.sql"), os.O_APPEND|os.O_WRONLY, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteString("\nCREATE INDEX invoices_issued_idx ON invoices (issued);\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		second := newImageRun(cache)
		second.env["IMAGE_MIGRATIONS"] = migrations
		second.run(ctx).expectPassed()
		Expect(second.count("image built")).To(Equal(1), "the edited migration built a new image")
		k1 := imageKeyInLog.FindStringSubmatch(first.log())
		k2 := imageKeyInLog.FindStringSubmatch(second.log())
		Expect(k1).NotTo(BeNil())
		Expect(k2).NotTo(BeNil())
		Expect(k2[1]).NotTo(Equal(k1[1]))
		images, err := pgginkgo.ListImages(pgginkgo.CacheDir(cache))
		Expect(err).NotTo(HaveOccurred())
		var keys []string
		for _, i := range images {
			keys = append(keys, i.Key)
		}
		Expect(keys).To(ConsistOf(k1[1], k2[1]))

		removed, err := pgginkgo.RemoveImages(ctx, false, pgginkgo.CacheDir(cache), pgginkgo.ImageCacheLimits(1, 0))
		Expect(err).NotTo(HaveOccurred())
		Expect(removed).To(HaveLen(1))
		Expect(removed[0].Key).To(Equal(k1[1]), "the least recently used goes first")
	}, SpecTimeout(4*time.Minute))

	It("is bypassed with PGGINKGO_IMAGE=off", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		r := newImageRun(cache)
		r.env["PGGINKGO_IMAGE"] = "off"
		r.run(ctx).expectPassed()
		Expect(r.log()).To(ContainSubstring(`msg="migrated image bypassed: this run applies the migrations in its own cluster" component=pgginkgo why="PGGINKGO_IMAGE=off"`))
		Expect(r.log()).To(ContainSubstring("migrated=true"))
		images, err := pgginkgo.ListImages(pgginkgo.CacheDir(cache))
		Expect(err).NotTo(HaveOccurred())
		Expect(images).To(BeEmpty())

		bad := newImageRun(cache)
		bad.env["PGGINKGO_IMAGE"] = "maybe"
		bad.run(ctx)
		Expect(bad.err).To(HaveOccurred())
		Expect(bad.out).To(ContainSubstring(`PGGINKGO_IMAGE="maybe": use off to bypass the migrated image, or on (the default)`))
	}, SpecTimeout(4*time.Minute))

	It("lets the run go on, with one warning, when the cache cannot take the image", func(ctx SpecContext) {
		cache := worldDir("pgginkgo-cache-")
		env, err := pgginkgo.Inspect(pgginkgo.CacheDir(cache))
		Expect(err).NotTo(HaveOccurred())
		// The image directory exists but its owner, the account PostgreSQL
		// runs as, may not write to it: a read-only cache.
		Expect(os.MkdirAll(env.ImageDir, 0o700)).To(Succeed())
		Expect(os.Chown(filepath.Dir(env.ImageDir), env.UID, -1)).To(Succeed())
		Expect(os.Chown(env.ImageDir, env.UID, -1)).To(Succeed())
		Expect(os.Chmod(env.ImageDir, 0o500)).To(Succeed())
		for range 2 {
			r := newImageRun(cache).run(ctx)
			r.expectPassed()
			Expect(strings.Count(r.log(), "level=WARN")).To(Equal(1), r.log())
			Expect(r.log()).To(MatchRegexp(`level=WARN msg="the image cache cannot take an image, so this run applied the migrations in its own cluster and will again next time; make the cache directory writable .*problem=".*permission denied`))
		}
		entries, err := os.ReadDir(env.ImageDir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "nothing partial is left in the cache")
	}, SpecTimeout(4*time.Minute))

	It("works the same for an unprivileged user as for root", func(ctx SpecContext) {
		if os.Geteuid() != 0 {
			Skip("the whole suite runs unprivileged already")
		}
		for i, want := range []string{"image built", "image hit"} {
			r := newImageRun("")
			r.asNobody = true
			r.dir = worldDir("pgginkgo-imagerun-")
			if i == 1 {
				r.dir = prevDir
			}
			prevDir = r.dir
			r.run(ctx).expectPassed()
			Expect(r.count(want)).To(Equal(1), "run %d as nobody", i+1)
		}
		images, err := os.ReadDir(filepath.Join(prevDir, "home", ".cache", "pgginkgo", "u"+strconv.Itoa(nobodyUID()), "images"))
		Expect(err).NotTo(HaveOccurred())
		Expect(images).NotTo(BeEmpty())
	}, SpecTimeout(4*time.Minute))
})

var prevDir string

func nobodyUID() int {
	out, err := exec.Command("id", "-u", "nobody").Output()
	Expect(err).NotTo(HaveOccurred())
	uid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	Expect(err).NotTo(HaveOccurred())
	return uid
}

// largestFile is the biggest regular file under dir: a table or index of
// the image whose damage a copy must notice.
func largestFile(dir string) string {
	var best string
	var size int64
	Expect(filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && info.Size() > size {
			best, size = p, info.Size()
		}
		return err
	})).To(Succeed())
	Expect(best).NotTo(BeEmpty())
	return best
}

// skipWithoutPgDump skips a spec that compares pg_dump output when no
// pg_dump can read the suite's server: binaries that carry the server only
// (PGGINKGO_BINARIES at a downloaded build) of a major newer than any
// installed client.
func skipWithoutPgDump(ctx context.Context) {
	bin, err := pgginkgo.FindBinaries(ctx, pgginkgo.Offline())
	Expect(err).NotTo(HaveOccurred())
	if _, err := binaries.ClientTool(ctx, bin.BinDir, "pg_dump", binaries.Major(bin.Version)); err != nil {
		Skip(err.Error())
	}
}
