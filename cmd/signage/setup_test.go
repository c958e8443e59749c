package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testPackage is one line of .ci/test-packages.
type testPackage struct{ name, part, probe string }

func testPackages(t *testing.T) []testPackage {
	t.Helper()
	f, err := os.Open("../../.ci/test-packages")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var list []testPackage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 {
			t.Fatalf(".ci/test-packages: %q is not: package part probe", sc.Text())
		}
		list = append(list, testPackage{fields[0], fields[1], fields[2]})
	}
	if len(list) == 0 {
		t.Fatal(".ci/test-packages lists no package")
	}
	return list
}

// fakeMachine is a PATH on which none of the packages' commands is found, with an `id` that
// says who runs the script and an `apt-get` that logs what it is asked and installs by
// creating the commands named in installs.
type fakeMachine struct {
	bin, log string
}

func newFakeMachine(t *testing.T, uid string, installs []string) fakeMachine {
	t.Helper()
	m := fakeMachine{bin: t.TempDir()}
	m.log = filepath.Join(m.bin, "apt-get.log")
	var create strings.Builder
	for _, c := range installs {
		create.WriteString("\t\tprintf '#!/bin/sh\\n' > " + filepath.Join(m.bin, c) + "; /bin/chmod +x " + filepath.Join(m.bin, c) + "\n")
	}
	scripts := map[string]string{
		"id":      "#!/bin/sh\necho " + uid + "\n",
		"apt-get": "#!/bin/sh\necho \"apt-get $*\" >> " + m.log + "\ncase \"$1 $2\" in\n\tinstall*)\n" + create.String() + "\t\t;;\nesac\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(m.bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// run runs the repository's .ci/test-deps on the fake machine, with env added.
func (m fakeMachine) run(t *testing.T, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("/bin/bash", "../../.ci/test-deps")
	cmd.Env = append([]string{"PATH=" + m.bin, "HOME=" + m.bin}, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// commandProbes are the packages of the list found by a command (not a file), which the
// fake machine does not have, and those commands.
func commandProbes(list []testPackage, skip string) (pkgs, cmds []string) {
	for _, p := range list {
		if !strings.HasPrefix(p.probe, "/") && p.part != skip {
			pkgs, cmds = append(pkgs, p.name), append(cmds, p.probe)
		}
	}
	return pkgs, cmds
}

// TestTestDepsNamesWhatIsMissing: not as root, on a machine without the test's servers and
// browsers, the setup check prints one line naming every missing package and the command
// that installs them, and fails; a part skipped by name needs none of its packages.
func TestTestDepsNamesWhatIsMissing(t *testing.T) {
	list := testPackages(t)
	m := newFakeMachine(t, "1000", nil)
	want, _ := commandProbes(list, "")
	for _, must := range []string{"chromium", "redis-server", "curl"} {
		if !slices.Contains(want, must) {
			t.Fatalf("%s is not among the packages found by a command: %v", must, want)
		}
	}
	out, status := m.run(t)
	if status == 0 {
		t.Errorf("exit status 0 with %v missing", want)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want one:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[0], "missing Debian packages: "+strings.Join(want, " ")+";") ||
		!strings.Contains(lines[0], "apt-get install --no-install-recommends "+strings.Join(want, " ")) ||
		!strings.Contains(lines[0], "SIGNAGE_SKIP_BROWSER=1") {
		t.Errorf("the line does not name %v, the command and the skips:\n%s", want, lines[0])
	}
	if _, err := os.Stat(m.log); err == nil {
		t.Error("apt-get ran, not as root")
	}

	// The browser tests skipped on purpose: their packages are not asked for, and the skip is said.
	wantNoBrowser, _ := commandProbes(list, "browser")
	out, _ = m.run(t, "SIGNAGE_SKIP_BROWSER=1")
	if !strings.Contains(out, "missing Debian packages: "+strings.Join(wantNoBrowser, " ")+";") || strings.Contains(out, "chromium") {
		t.Errorf("with SIGNAGE_SKIP_BROWSER=1:\n%s", out)
	}
}

// TestTestDepsInstallsAsRoot: as root, the missing packages are installed with one apt-get
// update and one apt-get install -y --no-install-recommends of exactly them, and the check
// then passes.
func TestTestDepsInstallsAsRoot(t *testing.T) {
	want, cmds := commandProbes(testPackages(t), "")
	m := newFakeMachine(t, "0", cmds)
	out, status := m.run(t)
	if status != 0 {
		t.Fatalf("exit status %d:\n%s", status, out)
	}
	log, err := os.ReadFile(m.log)
	if err != nil {
		t.Fatal(err)
	}
	wantLog := "apt-get update -qq\napt-get install -y -qq --no-install-recommends " + strings.Join(want, " ") + "\n"
	if string(log) != wantLog {
		t.Errorf("apt-get was asked:\n%s\nwant:\n%s", log, wantLog)
	}
	// Once installed, nothing more is asked.
	os.Remove(m.log) //nolint:errcheck
	if out, status := m.run(t); status != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("second run: %d %q", status, out)
	}
	if _, err := os.Stat(m.log); err == nil {
		t.Error("apt-get ran with everything installed")
	}
}

// TestTestDepsSaysWhatIsSkipped: make test says which parts were skipped on purpose, and a
// misspelt skip is pointed out.
func TestTestDepsSaysWhatIsSkipped(t *testing.T) {
	_, cmds := commandProbes(testPackages(t), "")
	m := newFakeMachine(t, "0", cmds)
	m.run(t) // installs everything
	cmd := exec.Command("/bin/bash", "../../.ci/test-deps", "skipped")
	cmd.Env = []string{"PATH=" + m.bin, "SIGNAGE_SKIP_BROWSER=1", "SIGNAGE_SKIP_REDIS=1"}
	out, err := cmd.CombinedOutput()
	if want := "make test: skipped on purpose: browser tests (SIGNAGE_SKIP_BROWSER=1), redis tests (SIGNAGE_SKIP_REDIS=1)\n"; err != nil || string(out) != want {
		t.Errorf("skipped: %v %q, want %q", err, out, want)
	}
	out2, _ := m.run(t, "SIGNAGE_SKIP_BROWSERS=1")
	if !strings.Contains(out2, "SIGNAGE_SKIP_BROWSERS is no skip the tests know") {
		t.Errorf("a misspelt skip passes unseen: %q", out2)
	}
}

// TestMakeTestChecksPackagesFirst: make test runs the setup check before anything else, and
// says at its end what was skipped.
func TestMakeTestChecksPackagesFirst(t *testing.T) {
	cmd := exec.Command("make", "-n", "test")
	cmd.Dir = "../.."
	cmd.Env = withoutMake(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n test: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[0] != ".ci/test-deps" {
		t.Errorf("make test starts with %q, not the setup check", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "go test") || !strings.Contains(last, ".ci/test-deps skipped") {
		t.Errorf("make test ends with %q: it does not say what was skipped", last)
	}
}

// TestReadmeListsTestPackages: the README's setup section names every package of the list,
// and every skip.
func TestReadmeListsTestPackages(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	skips := map[string]bool{}
	for _, p := range testPackages(t) {
		if !strings.Contains(string(readme), p.name) {
			t.Errorf("the README does not name %s", p.name)
		}
		if p.part != "-" {
			skips["SIGNAGE_SKIP_"+strings.ToUpper(p.part)+"=1"] = true
		}
	}
	for skip := range skips {
		if !strings.Contains(string(readme), skip) {
			t.Errorf("the README does not name %s", skip)
		}
	}
}
