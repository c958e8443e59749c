package browsertest

import (
	"fmt"
	"slices"
)

// Engine is a browser engine and build that the tests can drive.
type Engine struct {
	// Name names it in test names and messages: chromium, chromium-64, firefox-esr, webkitgtk.
	Name string
	kind kind
	// build is the npm build of an old Chromium.
	build build
}

type kind int

const (
	kindChromium kind = iota + 1
	kindOldChromium
	kindFirefox
	kindWebKit
)

var (
	// Chromium is Debian's Chromium (apt-get install chromium), driven by chromedp.
	Chromium = Engine{Name: "chromium", kind: kindChromium}
	// Firefox is Debian's Firefox ESR (apt-get install firefox-esr) over WebDriver BiDi.
	Firefox = Engine{Name: "firefox-esr", kind: kindFirefox}
	// WebKit is WebKitGTK's MiniBrowser through WebKitWebDriver under Xvfb (apt-get install
	// webkit2gtk-driver xvfb).
	WebKit = Engine{Name: "webkitgtk", kind: kindWebKit}
)

// build is one chrome-aws-lambda release on the npm registry: the package ships a headless
// Chromium of the major version given, brotli-compressed in its tarball.
type build struct {
	major     int
	version   string // of the npm package
	integrity string // the registry's dist.integrity (Subresource Integrity, sha512)
}

// builds are the old Chromiums that TVs and players still run (Tizen, webOS, BrightSign,
// Qt WebEngine on a Raspberry Pi), by major version. The integrity of each is written here
// so that a tarball is checked against what was chosen, not only against what the registry
// says today.
var builds = []build{
	{64, "64.0.3264", "sha512-3XpUhpg5Qlbq8V/Pk5gzfSqcq3wSlfT1N98yzDY8a+PrrROx9XUCntkg4W1ZmisqLsWhmRLZQrKtDjTRBttwig=="},
	{69, "1.6.3", "sha512-K22/X+AqpSFPmBxuIOHhmzH4Id7Od9GpKvEksuaV7fy+WLvS/TYlwpc4I4B36Wz9u/NmvL9wKsQ1TT9cMhdYhg=="},
	{72, "1.11.2", "sha512-BpR7qYNkPZlMQGZI3/edrPT4Rx9Hd/Z+YV3dQ5ujfWj01r27pYYOoOmMd2w3mkmFeHF7nzFlksM/urKnfICwDQ=="},
	{78, "1.20.4", "sha512-+zuq/BO9TpAvlXIpyGto6YytnEe0NBpZS5HVGnaMqRhL0cagDEhrzAYqaQfK4HZnafA7HW1wkFacl7CAI990LQ=="},
	{83, "3.1.1", "sha512-ikOcpFgobiiUvDXtBft+jxVz2CsauRV58owDtVyF1ocl/YN+/eqdIrrmbItm3yeJGnb9RtKxzFAqGcpBTQbTCA=="},
	{88, "5.5.0", "sha512-nYSDzTsVEVsvIFaUUAUN53ulXBLKSRXFS+eVYZOLZD5SA1If59rqBAiy4raMgorQwXWqjSsjK1SF4As+qzPLqA=="},
	{92, "10.1.0", "sha512-NZQVf+J4kqG4sVhRm3WNmOfzY0OtTSm+S8rg77pwePa9RCYHzhnzRs8YvNI6L9tALIW6RpmefWiPURt3vURXcw=="},
}

// OldChromium is the headless Chromium of that major version from the npm registry
// (64, 69, 72, 78, 83, 88 or 92), fetched once into the cache (see CacheDir) and driven
// over its own DevTools WebSocket. It panics on a major version not in the list, as that
// is a mistake in the test.
func OldChromium(major int) Engine {
	i := slices.IndexFunc(builds, func(b build) bool { return b.major == major })
	if i < 0 {
		panic(fmt.Sprintf("browsertest: no Chromium %d build; there are %v", major, OldChromiumMajors()))
	}
	return Engine{Name: fmt.Sprintf("chromium-%d", major), kind: kindOldChromium, build: builds[i]}
}

// OldChromiumMajors are the major versions OldChromium knows.
func OldChromiumMajors() []int {
	out := make([]int, len(builds))
	for i, b := range builds {
		out[i] = b.major
	}
	return out
}
