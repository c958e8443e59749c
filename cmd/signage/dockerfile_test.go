package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// There is no container engine on the machines that run the tests, so nothing here
// pretends to run the image. What can be checked without one is: what the Dockerfile says
// (TestDockerfile), and what its build makes, by running the build stage's own commands on
// a copy of the context that .dockerignore leaves, and copying into an empty root what the
// final stage copies (TestDockerImageWithoutAnEngine). What that cannot show: the base
// images themselves (golang's toolchain is this machine's Go; distroless is an empty root).

// dockerInstr is one instruction of a Dockerfile: FROM, COPY, RUN, …, its --flags and the
// rest of the line.
type dockerInstr struct {
	cmd   string
	flags map[string]string
	args  string
}

// dockerStage is one FROM and what follows it.
type dockerStage struct {
	name, from string
	instrs     []dockerInstr
}

func parseDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var logical string
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if logical == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			logical += cont + " "
			continue
		}
		logical += line
		cmd, rest, _ := strings.Cut(logical, " ")
		logical = ""
		in := dockerInstr{cmd: strings.ToUpper(cmd), flags: map[string]string{}}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			flag, after, _ := strings.Cut(rest, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			in.flags[k] = v
			rest = strings.TrimSpace(after)
		}
		in.args = rest
		if in.cmd == "FROM" {
			from, name, _ := strings.Cut(rest, " AS ")
			stages = append(stages, dockerStage{name: strings.TrimSpace(name), from: strings.TrimSpace(from)})
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				continue
			}
			t.Fatalf("Dockerfile: %s before FROM", in.cmd)
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and the image", len(stages))
	}
	return stages
}

func (s dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s dockerStage) last(t *testing.T, cmd string) dockerInstr {
	t.Helper()
	all := s.all(cmd)
	if len(all) == 0 {
		t.Fatalf("Dockerfile: the stage FROM %s has no %s", s.from, cmd)
	}
	return all[len(all)-1]
}

// jsonArgs reads an instruction's exec form (["a", "b"]).
func jsonArgs(t *testing.T, in dockerInstr) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Fatalf("Dockerfile: %s %s is not in the exec form: %v", in.cmd, in.args, err)
	}
	return args
}

// imageUser is the image's USER as numbers.
func imageUser(t *testing.T, image dockerStage) (uid, gid int) {
	t.Helper()
	user := image.last(t, "USER").args
	u, g, _ := strings.Cut(user, ":")
	var err1, err2 error
	uid, err1 = strconv.Atoi(u)
	gid, err2 = strconv.Atoi(g)
	if err1 != nil || err2 != nil {
		t.Fatalf("USER %s: want uid:gid by number (Kubernetes' runAsNonRoot checks a number)", user)
	}
	return uid, gid
}

// TestDockerfile checks what the Dockerfile says: the build stage runs make build with the
// VERSION build argument; the image runs as a non-root user, keeps its data in a volume
// that user owns, bakes in no config, and the context leaves out what the build does not
// need.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	build, image := stages[0], stages[len(stages)-1]

	if !slices.ContainsFunc(build.all("ARG"), func(in dockerInstr) bool { return strings.HasPrefix(in.args, "VERSION") }) {
		t.Error("the build stage has no ARG VERSION")
	}
	if !slices.ContainsFunc(build.all("RUN"), func(in dockerInstr) bool {
		return strings.Contains(in.args, "make build VERSION=") && strings.Contains(in.args, "$VERSION")
	}) {
		t.Error("the build stage does not run make build VERSION=$VERSION")
	}

	uid, gid := imageUser(t, image)
	if uid == 0 || gid == 0 {
		t.Errorf("the image runs as %d:%d, want a non-root user", uid, gid)
	}
	volumes := jsonArgs(t, image.last(t, "VOLUME"))
	for _, want := range []string{"/etc/signage", "/var/lib/signage"} {
		if !slices.Contains(volumes, want) {
			t.Errorf("VOLUME %v lacks %s", volumes, want)
		}
	}
	owner := fmt.Sprintf("%d:%d", uid, gid)
	if !slices.ContainsFunc(image.all("COPY"), func(in dockerInstr) bool {
		f := strings.Fields(in.args)
		return in.flags["chown"] == owner && f[len(f)-1] == "/var/lib/signage"
	}) {
		t.Errorf("no COPY --chown=%s makes the volume's folder /var/lib/signage the image user's", owner)
	}
	if wd := image.last(t, "WORKDIR").args; wd != "/var/lib/signage" {
		t.Errorf("WORKDIR %s: data_dir = \"data\" would not be in the volume", wd)
	}
	for _, in := range image.all("COPY") {
		if strings.Contains(in.args, ".toml") {
			t.Errorf("the image bakes in a config: COPY %s", in.args)
		}
	}

	ignore := readDockerignore(t)
	for _, p := range []string{".git", "bin/signage", "data/userlist-x.json", "testdata/screenshots/a.png", "server/server.test", "cpu.prof"} {
		if !ignore.excludes(p) {
			t.Errorf(".dockerignore sends %s to the build", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "Makefile", "cmd/signage/main.go", "static/static.go", "views/deck.templ"} {
		if ignore.excludes(p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
}

// dockerignore is a .dockerignore's patterns. Only the forms this repository's file uses
// are read (names, globs, a leading **/); any other form fails the test rather than be
// misread.
type dockerignore []string

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := path.Clean(strings.TrimPrefix(line, "/"))
		if strings.HasPrefix(p, "!") || strings.Contains(strings.TrimPrefix(p, "**/"), "**") {
			t.Fatalf(".dockerignore: %q is a form this test does not read", line)
		}
		if _, err := path.Match(strings.TrimPrefix(p, "**/"), "x"); err != nil {
			t.Fatalf(".dockerignore: %q: %v", line, err)
		}
		d = append(d, p)
	}
	return d
}

// excludes reports whether a path of the context (slash-separated) is left out: a pattern
// that matches it or one of its parent directories.
func (d dockerignore) excludes(name string) bool {
	parts := strings.Split(name, "/")
	for _, p := range d {
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		n := strings.Count(p, "/") + 1
		for end := 1; end <= len(parts); end++ {
			for start := 0; start+n <= end; start++ {
				if start > 0 && !anyDepth {
					break
				}
				if start+n != end {
					continue
				}
				if ok, _ := path.Match(p, strings.Join(parts[start:end], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// TestDockerImageWithoutAnEngine builds the image's root file system the way the Dockerfile
// does, without an engine: the context is what .dockerignore leaves of the work tree; the
// build stage's COPY and RUN lines run in a directory standing for its root (its RUN lines
// may use only relative paths, for they run outside a chroot), with VERSION as a build
// argument; the image's COPY lines fill an empty root, with their --chown when we are root.
// Then the image's binary says the version it was given; its entrypoint without a mounted
// config exits 2 saying what to mount; and, run as the image's user with a config mounted,
// it can write its data_dir in the volume and serves.
func TestDockerImageWithoutAnEngine(t *testing.T) {
	stages := parseDockerfile(t)
	ignore := readDockerignore(t)
	const version = "v9.8.7-test"

	ctxDir := t.TempDir()
	sent := copyContext(t, "../..", ctxDir, ignore)
	roots := map[string]string{}
	var image string
	for i, st := range stages {
		root := openTempDir(t)
		if st.name != "" {
			roots[st.name] = root
		}
		image = root
		wd := root
		env := append(withoutMake(os.Environ()), "GOFLAGS=-mod=readonly")
		for _, in := range st.instrs {
			switch in.cmd {
			case "WORKDIR":
				wd = filepath.Join(root, in.args)
				os.MkdirAll(wd, 0o755) //nolint:errcheck
			case "ARG":
				name, def, _ := strings.Cut(in.args, "=")
				if name == "VERSION" {
					def = version // --build-arg VERSION=…
				}
				env = append(env, name+"="+def)
			case "COPY":
				f := strings.Fields(in.args)
				srcs, dst := f[:len(f)-1], f[len(f)-1]
				from := ctxDir
				if stage, ok := in.flags["from"]; ok {
					from = roots[stage]
				}
				dstPath := filepath.Join(wd, dst)
				if strings.HasPrefix(dst, "/") {
					dstPath = filepath.Join(root, dst)
				}
				for _, src := range srcs {
					srcPath := filepath.Join(from, src)
					target := dstPath
					// A file goes into a destination written as a folder; a folder's contents go
					// into the destination.
					if st, err := os.Stat(srcPath); err == nil && !st.IsDir() && (strings.HasSuffix(dst, "/") || dst == "." || len(srcs) > 1) {
						target = filepath.Join(dstPath, filepath.Base(src))
					}
					copyTree(t, srcPath, target, in.flags["chown"])
				}
			case "RUN":
				if strings.Contains(" "+in.args, " /") {
					t.Fatalf("Dockerfile stage %d: RUN %s names an absolute path, which this test cannot run outside a chroot", i, in.args)
				}
				cmd := exec.Command("sh", "-c", in.args)
				cmd.Dir, cmd.Env = wd, env
				if os.Geteuid() != 0 {
					// Not root, we cannot give files away: the owner is then checked from the
					// Dockerfile's text only (TestDockerfile).
					cmd.Args[2] = strings.ReplaceAll(in.args, "chown ", ": chown ")
				}
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("RUN %s: %v\n%s", in.args, err, out)
				}
				t.Logf("RUN %s: %v", in.args, time.Since(start).Round(100*time.Millisecond))
			}
		}
	}
	if sent[".git"] || sent["bin"] || sent["data"] {
		t.Errorf("the context holds .git, bin or data: %v", sent)
	}

	final := stages[len(stages)-1]
	entry := jsonArgs(t, final.last(t, "ENTRYPOINT"))
	bin := filepath.Join(image, entry[0])
	args := append([]string{}, entry[1:]...)
	for i := range args {
		if strings.HasPrefix(args[i], "/") {
			args[i] = filepath.Join(image, args[i])
		}
	}
	// docker run IMAGE -version: the argument follows the entrypoint's.
	out, err := exec.Command(bin, append(args, "-version")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "signage "+version {
		t.Errorf("docker run IMAGE -version: %q %v, want \"signage %s\"", out, err, version)
	}

	// The entrypoint without a config mounted.
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Join(image, final.last(t, "WORKDIR").args)
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "mount it there") {
		t.Errorf("the entrypoint without a config: %v %q", err, out)
	}

	// Mounted: the shipped config (demo mode, data_dir = "data"), as the image's user.
	uid, gid := imageUser(t, final)
	volume := filepath.Join(image, "var/lib/signage")
	if os.Geteuid() == 0 {
		st, err := os.Stat(volume)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); int(sys.Uid) != uid || int(sys.Gid) != gid {
			t.Errorf("the volume's folder is owned by %d:%d, want the image's user %d:%d", sys.Uid, sys.Gid, uid, gid)
		}
	}
	config := filepath.Join(image, "etc/signage/config.toml")
	os.MkdirAll(filepath.Dir(config), 0o755) //nolint:errcheck
	shipped, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, shipped, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.Dir = volume
	cmd.Env = []string{"SIGNAGE_LISTEN=127.0.0.1:0"}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logged []string
	serving := false
	sc := bufio.NewScanner(stderr)
	for !serving && sc.Scan() {
		logged = append(logged, sc.Text())
		serving = strings.Contains(sc.Text(), `"msg":"serving"`)
	}
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	go io.Copy(io.Discard, stderr)      //nolint:errcheck
	cmd.Wait()                          //nolint:errcheck
	if !serving {
		t.Errorf("the image's server, as %d:%d with a config mounted, did not serve:\n%s", uid, gid, strings.Join(logged, "\n"))
	}
	if _, err := os.Stat(filepath.Join(volume, "data")); err != nil {
		t.Errorf("no data_dir in the volume: %v", err)
	}
}

// copyContext copies the work tree at src to dst as docker build sends it: without what
// .dockerignore leaves out. It returns the top-level names sent.
func copyContext(t *testing.T, src, dst string, ignore dockerignore) map[string]bool {
	t.Helper()
	sent := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		if ignore.excludes(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		sent[strings.Split(filepath.ToSlash(rel), "/")[0]] = true
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
	if err != nil {
		t.Fatal(err)
	}
	return sent
}

// copyTree copies a file or a directory as COPY does, with its --chown when we may.
func copyTree(t *testing.T, src, dst, chown string) {
	t.Helper()
	uid, gid := -1, -1
	if chown != "" && os.Geteuid() == 0 {
		u, g, _ := strings.Cut(chown, ":")
		uid, _ = strconv.Atoi(u)
		gid, _ = strconv.Atoi(g)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		} else if err := copyFile(p, target); err != nil {
			return err
		}
		if uid >= 0 {
			return os.Lchown(target, uid, gid)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("COPY %s %s: %v", src, dst, err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
