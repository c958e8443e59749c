package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/redis/go-redis/v9"

	"github.com/spencer-signage/signage/server/media"
)

// Config is the whole configuration file (SPEC 4).
type Config struct {
	Server  ServerConfig  `toml:"server"`
	Spencer SpencerConfig `toml:"spencer"`
	Screens ScreensConfig `toml:"screens"`
	Alerts  AlertsConfig  `toml:"alerts"`
	Cluster ClusterConfig `toml:"cluster"`
	Media   MediaConfig   `toml:"media"`
}

// MediaConfig is the [media] section: the publications' images, fetched, kept and
// resized by the server, so that screens load them from its origin alone.
type MediaConfig struct {
	Proxy         bool     `toml:"proxy"`          // false: screens load each image from its own host
	MaxImageMB    int      `toml:"max_image_mb"`   // the largest image fetched
	MaxMegapixels int      `toml:"max_megapixels"` // the most pixels, read from the image's header
	CacheMB       int      `toml:"cache_mb"`       // what the kept images take at most on disk
	AllowedHosts  []string `toml:"allowed_hosts"`  // hosts on a private network that may be fetched from
}

// ClusterConfig is the [cluster] section: instances that share a Redis form one cluster.
type ClusterConfig struct {
	RedisURL  string `toml:"redis_url"`  // "": one instance, the in-memory engine
	KeyPrefix string `toml:"key_prefix"` // so that several installations can share one Redis
}

// ServerConfig is the [server] section.
type ServerConfig struct {
	Listen               string   `toml:"listen"`
	PublicURL            string   `toml:"public_url"`
	DataDir              string   `toml:"data_dir"`
	AdminToken           string   `toml:"admin_token"`
	EmbedOrigins         []string `toml:"embed_origins"`
	AccessKeys           []string `toml:"access_keys"`
	MaxScreens           int      `toml:"max_screens"`
	MaxScreensPerAddress int      `toml:"max_screens_per_address"`
	LogFormat            string   `toml:"log_format"`
	TrustedProxies       []string `toml:"trusted_proxies"`
	// ClientIPHeader is the one header the trusted proxies name the client in:
	// X-Forwarded-For, X-Real-IP or Forwarded. Required with trusted_proxies.
	ClientIPHeader string `toml:"client_ip_header"`
}

// SpencerConfig is the [spencer] section.
type SpencerConfig struct {
	Demo           bool     `toml:"demo"`
	Customer       string   `toml:"customer"`
	Environment    string   `toml:"environment"`
	APIURL         string   `toml:"api_url"`
	TokenURL       string   `toml:"token_url"`
	ClientID       string   `toml:"client_id"`
	ClientSecret   string   `toml:"client_secret"`
	Locale         string   `toml:"locale"`
	PollInterval   Duration `toml:"poll_interval"`
	RequestTimeout Duration `toml:"request_timeout"`
	AuthStyle      string   `toml:"auth_style"`
	TokenAuth      string   `toml:"token_auth"`
	RefreshToken   string   `toml:"refresh_token"`
}

// ScreensConfig is the [screens] section.
type ScreensConfig struct {
	DefaultUserlist  string           `toml:"default_userlist"`
	AllowAnyUserlist bool             `toml:"allow_any_userlist"`
	MaxOnDemand      int              `toml:"max_on_demand_userlists"`
	IdleAfter        Duration         `toml:"idle_after"`
	SlideSeconds     int              `toml:"slide_seconds"`
	ReloadHour       int              `toml:"reload_hour"`
	StaleMarkerAfter Duration         `toml:"stale_marker_after"`
	QuietHours       []string         `toml:"quiet_hours"` // e.g. ["Sun-Fri 19:00-07:00", "Sat-Sun"]; empty: always on
	TimeZone         string           `toml:"time_zone"`   // IANA name, e.g. "Europe/Brussels"; empty: the system's
	Userlists        []UserlistConfig `toml:"userlist"`
}

// Location is the time zone of the quiet hours (the system's when none is set).
func (c ScreensConfig) Location() *time.Location {
	if c.TimeZone == "" {
		return time.Local
	}
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.Local // validated with the config
}

// UserlistConfig is one [[screens.userlist]].
type UserlistConfig struct {
	ID   string `toml:"id"`
	Name string `toml:"name"`
}

// AlertsConfig is the [alerts] section.
type AlertsConfig struct {
	WebhookURL           string   `toml:"webhook_url"`
	ScreenOfflineAfter   Duration `toml:"screen_offline_after"`
	UpstreamFailingAfter Duration `toml:"upstream_failing_after"`
}

// Duration is a time.Duration written in TOML as a string ("60s", "5m").
type Duration struct {
	time.Duration
	invalid string // the text, when it is not a duration; validate reports it with its key
}

// UnmarshalText parses a Go duration. It does not fail, so that decoding goes on and every
// problem of the file is reported, each with its key.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		d.invalid = string(b)
		return nil
	}
	d.Duration, d.invalid = v, ""
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ConfigError lists every problem of a configuration, one line each.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string { return strings.Join(e.Problems, "\n") }

// DefaultConfig is the configuration of a file with no keys.
func DefaultConfig() Config {
	return Config{
		Server: ServerConfig{
			Listen:               ":8080",
			DataDir:              "data",
			MaxScreens:           20000,
			MaxScreensPerAddress: 500,
			LogFormat:            "auto",
		},
		Spencer: SpencerConfig{
			Demo:           true,
			Environment:    "production",
			Locale:         "en-US",
			PollInterval:   Duration{Duration: 60 * time.Second},
			RequestTimeout: Duration{Duration: 10 * time.Second},
			AuthStyle:      "form",
			TokenAuth:      "body",
		},
		Screens: ScreensConfig{
			AllowAnyUserlist: true,
			MaxOnDemand:      50,
			IdleAfter:        Duration{Duration: 10 * time.Minute},
			SlideSeconds:     12,
			ReloadHour:       4,
			StaleMarkerAfter: Duration{Duration: 5 * time.Minute},
		},
		Alerts: AlertsConfig{
			ScreenOfflineAfter:   Duration{Duration: 10 * time.Minute},
			UpstreamFailingAfter: Duration{Duration: 15 * time.Minute},
		},
		Cluster: ClusterConfig{KeyPrefix: "signage:"},
		Media:   MediaConfig{Proxy: true, MaxImageMB: 20, MaxMegapixels: 50, CacheMB: 2048},
	}
}

// LoadConfig reads the file at path over DefaultConfig, applies the environment through
// getenv, and validates the result. Every problem is reported, as a *ConfigError.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Config{}, &ConfigError{Problems: []string{fmt.Sprintf("config: %s does not exist: write one (the repository's config.toml is a commented example, in demo mode), mount it there when running in a container, or pass -config PATH", path)}}
		}
		return Config{}, &ConfigError{Problems: []string{"config: " + err.Error()}}
	}
	return parseConfig(path, data, getenv)
}

// ParseConfig is LoadConfig from bytes.
func ParseConfig(data []byte, getenv func(string) string) (Config, error) {
	return parseConfig("config.toml", data, getenv)
}

func parseConfig(name string, data []byte, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return Config{}, &ConfigError{Problems: []string{decodeProblem(name, string(data), err)}}
	}
	// Values of the wrong type are all reported, each with its key, and left out, so that
	// the rest of the file is still decoded and checked.
	problems := typeProblems(raw)
	doc := string(data)
	if len(problems) > 0 {
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(raw); err != nil {
			return Config{}, &ConfigError{Problems: problems}
		}
		doc = b.String()
	}
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		// A mismatch typeProblems does not know of: TOML's own explanation, with the key.
		return Config{}, &ConfigError{Problems: append(problems, decodeProblem(name, doc, err))}
	}
	for _, k := range md.Undecoded() {
		problems = append(problems, "config: unknown key "+undecodedKey(k))
	}
	cfg.applyEnv(getenv)
	cfg.normalize()
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// decoderLine is how the TOML decoder starts an error that is not a ParseError.
var decoderLine = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// decodeProblem is a decoder's error as a problem line: the file, the line, the key and
// the decoder's explanation. On the line of a secret key, what the explanation quotes of
// the file is not shown.
func decodeProblem(name, doc string, err error) string {
	var line int
	var key, msg string
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line, key, msg = pe.Position.Line, pe.LastKey, pe.Message
	} else if m := decoderLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		key, msg = m[2], m[3]
	} else {
		return fmt.Sprintf("config: %s: %s", name, redactQuoted(err.Error(), ""))
	}
	if value, secret := secretOnLine(doc, line, key); secret {
		msg = redactQuoted(msg, value)
	}
	if key != "" {
		return fmt.Sprintf("config: %s:%d: %s: %s", name, line, undecodedKey(strings.Split(key, ".")), msg)
	}
	return fmt.Sprintf("config: %s:%d: %s", name, line, msg)
}

// secretOnLine reports whether line n of doc (1-based), or the decoder's last key, is a
// secret key, and the text after its '=' without quotes.
func secretOnLine(doc string, n int, lastKey string) (string, bool) {
	var key, value string
	if lines := strings.Split(doc, "\n"); n >= 1 && n <= len(lines) {
		k, v, _ := strings.Cut(lines[n-1], "=")
		key, value = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'[] `)
	}
	for secret := range secretKeys {
		_, leaf, _ := strings.Cut(secret, ".")
		if secret == lastKey || key == leaf || strings.HasSuffix(lastKey, "."+leaf) {
			return value, true
		}
	}
	return "", false
}

// redactQuoted hides what a decoder message quotes of the file ("…" and '…'), and the
// value itself where the message repeats it unquoted.
func redactQuoted(msg, value string) string {
	msg = quoted.ReplaceAllString(msg, "(value not shown)")
	if len(value) >= 4 {
		msg = strings.ReplaceAll(msg, value, "(value not shown)")
	}
	return msg
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`)

// undecodedKey names a key for people: array-table indexes are dropped
// (screens.userlist.nme rather than screens.userlist.0.nme).
func undecodedKey(k toml.Key) string {
	parts := make([]string, 0, len(k))
	for _, p := range k {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}

// applyEnv lets the environment win over the file: SPENCER_CLIENT_ID,
// SPENCER_CLIENT_SECRET, SIGNAGE_LISTEN, SIGNAGE_ADMIN_TOKEN for server.admin_token and
// SIGNAGE_REDIS_URL for cluster.redis_url (it may hold a password).
func (c *Config) applyEnv(getenv func(string) string) {
	if getenv == nil {
		return
	}
	for env, dst := range map[string]*string{
		"SPENCER_CLIENT_ID":     &c.Spencer.ClientID,
		"SPENCER_CLIENT_SECRET": &c.Spencer.ClientSecret,
		"SIGNAGE_LISTEN":        &c.Server.Listen,
		"SIGNAGE_ADMIN_TOKEN":   &c.Server.AdminToken,
		"SIGNAGE_REDIS_URL":     &c.Cluster.RedisURL,
	} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
}

func (c *Config) normalize() {
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	c.Screens.DefaultUserlist = strings.ToLower(c.Screens.DefaultUserlist)
	for i := range c.Screens.Userlists {
		c.Screens.Userlists[i].ID = strings.ToLower(strings.TrimSpace(c.Screens.Userlists[i].ID))
	}
	for i, o := range c.Server.EmbedOrigins {
		c.Server.EmbedOrigins[i] = strings.TrimRight(o, "/")
	}
	if h := canonicalClientIPHeader(c.Server.ClientIPHeader); h != "" {
		c.Server.ClientIPHeader = h
	}
}

// validate returns one line per problem, naming the key and what to do. Secret values
// never appear in a line.
func (c *Config) validate() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, "config: "+fmt.Sprintf(format, args...)) }
	oneOf := func(key, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			add("%s: %q is not one of %s", key, v, strings.Join(allowed, ", "))
		}
	}
	absURL := func(key, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s: %q is not an absolute http(s) URL", key, v)
		}
	}
	atLeast := func(key string, d Duration, min time.Duration) {
		if d.invalid != "" {
			add("%s: %q is not a duration (examples: 60s, 5m)", key, d.invalid)
		} else if d.Duration < min {
			add("%s: %s is too short: use at least %s", key, d.Duration, min)
		}
	}

	s := c.Server
	if s.Listen == "" {
		add("server.listen is empty: set it, e.g. \":8080\", or SIGNAGE_LISTEN")
	}
	absURL("server.public_url", s.PublicURL)
	for i, o := range s.EmbedOrigins {
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			add("server.embed_origins[%d]: %q is not an origin like https://intranet.example.com", i, o)
		}
	}
	if s.AdminToken != "" && len(s.AdminToken) < 16 {
		add("server.admin_token is shorter than 16 characters: use a long random token (in the file, or SIGNAGE_ADMIN_TOKEN), e.g. the output of openssl rand -hex 16")
	}
	for i, k := range s.AccessKeys {
		if len(k) < 16 {
			add("server.access_keys[%d] is shorter than 16 characters: use a long random key", i)
		}
	}
	if s.MaxScreens <= 0 {
		add("server.max_screens must be above 0")
	}
	if s.MaxScreensPerAddress <= 0 {
		add("server.max_screens_per_address must be above 0")
	}
	oneOf("server.log_format", s.LogFormat, "auto", "text", "json")
	for i, c := range s.TrustedProxies {
		if _, err := parsePrefix(c); err != nil {
			add("server.trusted_proxies[%d]: %q is not an address or CIDR like 127.0.0.1/32 or 10.0.0.0/8", i, c)
		}
	}
	switch header := canonicalClientIPHeader(s.ClientIPHeader); {
	case s.ClientIPHeader != "" && header == "":
		add("server.client_ip_header: %q is not one of %s", s.ClientIPHeader, strings.Join(clientIPHeaders, ", "))
	case len(s.TrustedProxies) > 0 && header == "":
		// Believing any of them lets a client pose as another address through a proxy
		// that passes on the headers it does not set itself.
		add("server.client_ip_header is empty while server.trusted_proxies is set: name the one header your proxy sets (%s); only that one is believed", strings.Join(clientIPHeaders, ", "))
	case len(s.TrustedProxies) == 0 && header != "":
		add("server.client_ip_header is set but server.trusted_proxies is empty: list your proxies' addresses, or the header is never believed")
	}

	sp := c.Spencer
	oneOf("spencer.environment", sp.Environment, "production", "staging")
	oneOf("spencer.auth_style", sp.AuthStyle, "form", "json", "json_no_grant", "refresh_token_json")
	oneOf("spencer.token_auth", sp.TokenAuth, "body", "basic")
	absURL("spencer.api_url", sp.APIURL)
	absURL("spencer.token_url", sp.TokenURL)
	atLeast("spencer.poll_interval", sp.PollInterval, time.Second)
	atLeast("spencer.request_timeout", sp.RequestTimeout, 100*time.Millisecond)
	if sp.Locale == "" {
		add("spencer.locale is empty: set it, e.g. \"en-US\"")
	}
	if !sp.Demo {
		if sp.Customer == "" && (sp.APIURL == "" || sp.TokenURL == "") {
			add("spencer.customer is empty: set it, or set spencer.api_url and spencer.token_url")
		}
		if sp.ClientID == "" {
			add("spencer.client_id is empty: set it, or SPENCER_CLIENT_ID")
		}
		if sp.ClientSecret == "" {
			add("spencer.client_secret is empty: set it, or SPENCER_CLIENT_SECRET")
		}
		if sp.AuthStyle == "refresh_token_json" && sp.RefreshToken == "" {
			add("spencer.refresh_token is empty: auth_style refresh_token_json needs an initial refresh token")
		}
	}

	sc := c.Screens
	if sc.DefaultUserlist != "" && !IsUUID(sc.DefaultUserlist) {
		add("screens.default_userlist: %q is not a UUID", sc.DefaultUserlist)
	}
	if sc.MaxOnDemand < 1 {
		add("screens.max_on_demand_userlists: %d is out of range: use 1 or more (allow_any_userlist = false turns on-demand userlists off)", sc.MaxOnDemand)
	}
	atLeast("screens.idle_after", sc.IdleAfter, time.Millisecond)
	atLeast("screens.stale_marker_after", sc.StaleMarkerAfter, time.Millisecond)
	if sc.SlideSeconds < 3 || sc.SlideSeconds > 3600 {
		add("screens.slide_seconds: %d is out of range: use 3 to 3600", sc.SlideSeconds)
	}
	if sc.ReloadHour < -1 || sc.ReloadHour > 23 {
		add("screens.reload_hour: %d is out of range: use 0 to 23, or -1 for never", sc.ReloadHour)
	}
	if sc.TimeZone != "" {
		if _, err := time.LoadLocation(sc.TimeZone); err != nil {
			add("screens.time_zone: %q is not a time zone like \"Europe/Brussels\"", sc.TimeZone)
		}
	}
	if _, qp := parseQuietHours(sc.QuietHours, time.UTC); len(qp) > 0 {
		for _, q := range qp {
			add("%s", q)
		}
	}
	seen := map[string]bool{}
	for i, ul := range sc.Userlists {
		switch {
		case ul.ID == "":
			add("screens.userlist[%d].id is empty: set it to the userlist's UUID", i)
		case !IsUUID(ul.ID):
			add("screens.userlist[%d].id: %q is not a UUID", i, ul.ID)
		case seen[ul.ID]:
			add("screens.userlist[%d].id: %s is listed twice", i, ul.ID)
		}
		seen[ul.ID] = true
	}

	if u := c.Cluster.RedisURL; u != "" {
		if _, err := redis.ParseURL(u); err != nil {
			// The URL may hold a password: name the key and the problem, never the value.
			add("cluster.redis_url is not a Redis URL like redis://host:6379/0 or rediss://user:password@host:6380/0 (%s)", redactURLError(err, u))
		}
	}

	m := c.Media
	if m.MaxImageMB < 1 || m.MaxImageMB > 1024 {
		add("media.max_image_mb: %d is out of range: use 1 to 1024", m.MaxImageMB)
	}
	if m.MaxMegapixels < 1 || m.MaxMegapixels > 1000 {
		add("media.max_megapixels: %d is out of range: use 1 to 1000", m.MaxMegapixels)
	}
	if m.CacheMB < 64 {
		add("media.cache_mb: %d is too small: use at least 64", m.CacheMB)
	}
	for i, h := range m.AllowedHosts {
		if _, _, err := media.SplitHost(h); err != nil {
			add("media.allowed_hosts[%d]: %q is not a host or host:port like images.intranet or 10.0.0.5:8080", i, h)
		}
	}

	a := c.Alerts
	absURL("alerts.webhook_url", a.WebhookURL)
	atLeast("alerts.screen_offline_after", a.ScreenOfflineAfter, time.Second)
	atLeast("alerts.upstream_failing_after", a.UpstreamFailingAfter, time.Second)
	return p
}

// redactURLError is a URL parser's complaint without the URL, which may hold a password.
func redactURLError(err error, u string) string {
	msg := strings.ReplaceAll(err.Error(), u, "…")
	if parsed, perr := url.Parse(u); perr == nil && parsed.User != nil {
		if pw, ok := parsed.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "…")
		}
	}
	return msg
}

// APIBase is the API base URL: api_url, else derived from customer and environment.
func (c SpencerConfig) APIBase() string {
	if c.APIURL != "" {
		return strings.TrimRight(c.APIURL, "/")
	}
	if c.Environment == "staging" {
		return "https://" + c.Customer + "-stag-api.spencer.co"
	}
	return "https://" + c.Customer + "-api.spencer.co"
}

// TokenEndpoint is the token URL: token_url, else derived from customer and environment.
func (c SpencerConfig) TokenEndpoint() string {
	if c.TokenURL != "" {
		return c.TokenURL
	}
	identity := "https://spencermultissov2-production-identity.spencer.co"
	if c.Environment == "staging" {
		identity = "https://spencermultissov2-staging-identity.spencer.co"
	}
	return identity + "/auth/oauth2/realms/root/realms/" + c.Customer + "/access_token"
}

// UserlistName is the configured name of a userlist.
func (c Config) UserlistName(id string) (string, bool) {
	for _, ul := range c.Screens.Userlists {
		if strings.EqualFold(ul.ID, id) {
			return ul.Name, true
		}
	}
	return "", false
}
