package views

import "time"

// AdminPage is the operator's status page.
type AdminPage struct {
	Assets   Assets
	CSRF     string // token every action must carry
	Version  string
	Now      time.Time
	Upstream string // "answering", "failing" or "waiting": whether Spencer answers now
	Problem  string // why not, when it does not; never a secret
	// DataDirProblem is why data_dir cannot be written, while it cannot.
	DataDirProblem string
	Token          *AdminToken
	Userlists      []AdminUserlist
	Screens        []AdminScreen
	BaseURL        string
	KeyHint        bool // access keys are on: snippets show a ?key= placeholder
	// Cluster is this instance's place in a cluster, Instances the cluster's instances;
	// nil and empty for a single instance.
	Cluster       *AdminCluster
	Instances     []AdminInstance
	Announcements []AdminAnnouncement
	// The screens set up with a pairing code: the form (with the code of ?pair= filled
	// in), the kiosks waiting with a code, and the screens managed.
	Pair         string
	SlideSeconds int // the interval a new screen gets
	Waiting      []AdminWaiting
	Managed      []AdminManaged
}

// AdminWaiting is a kiosk that shows its pairing code.
type AdminWaiting struct {
	Code, UserAgent, Address, Viewport string
	SeenAt, ExpiresAt                  time.Time
}

// AdminManaged is a screen set up with a pairing code, with its settings and what its
// pages reported last.
type AdminManaged struct {
	ID, Name, Slug, URL, Userlist, UserlistName string
	Theme                                       string
	Interval                                    int
	Lang                                        string
	QR, Clock, Quiet, Paired, Online            bool
	Pages                                       int
	LastHeartbeat                               time.Time
	Address, UserAgent, Viewport, Instance      string
}

// AdminAnnouncement is an active announcement, with what the operator needs to end it.
type AdminAnnouncement struct {
	ID, Title, Text, Severity, By string
	Userlists                     []string
	ExpiresAt                     time.Time
}

// AdminCluster is this instance in its cluster.
type AdminCluster struct {
	Instance string
	Role     string // leader or follower
	Redis    string // up or unreachable
}

// AdminInstance is one instance of the cluster.
type AdminInstance struct {
	ID                   string
	Leader, Self         bool
	Version              string
	Started, LastContact time.Time
	Screens              int
}

// AdminToken describes the access token, never showing it.
type AdminToken struct {
	ExpiresAt time.Time
	Renewals  int64
	Failures  int64
	LastError string
}

// AdminUserlist is one polled userlist on the status page.
type AdminUserlist struct {
	ID, Name   string
	Configured bool
	Items      int
	Version    string
	LastFetch  time.Time
	NextFetch  time.Time
	LastError  string
	StaleSince time.Time
	Unknown    bool
	Screens    int
	// MediaFailures counts the images of its news that could not be fetched or kept,
	// MediaError the latest reason ("format: not JPEG, PNG, GIF or WebP (SVG)").
	MediaFailures int
	MediaError    string
}

// AdminScreen is one screen on the status page: connected, or disconnected a short
// while ago (Left is then set and it is offline).
type AdminScreen struct {
	ID, Userlist, Address, UserAgent, Viewport, Version string
	ConnectedAt, LastSeen, Left                         time.Time
	Online                                              bool
	UserlistName                                        string // the userlist's configured name, "" for one seen on demand
	UpToDate                                            bool   // it shows its userlist's current version
	Instance                                            string // the instance that holds it, in a cluster
	Quiet                                               bool   // it rests in its quiet hours
	Name                                                string // of the managed screen it shows, "" for none
}
