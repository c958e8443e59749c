package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
)

func noEnv(string) string { return "" }

func TestShippedConfigParses(t *testing.T) {
	cfg, err := server.LoadConfig("../config.toml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Spencer.Demo || len(cfg.Screens.Userlists) != 2 || cfg.Server.Listen != ":8080" {
		t.Errorf("shipped config = %+v", cfg)
	}
	if cfg.Spencer.PollInterval.Duration != time.Minute {
		t.Errorf("poll_interval = %v", cfg.Spencer.PollInterval)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := server.ParseConfig(nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := server.DefaultConfig()
	if cfg.Spencer.PollInterval != want.Spencer.PollInterval || cfg.Screens.SlideSeconds != 12 || !cfg.Spencer.Demo {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string
		want []string // each must appear in one problem line
	}{
		{"issue 2: misspelled key and missing secret", `
[spencer]
demo = false
customer = "acme"
client_id = "id"
pol_interval = "30s"
`, []string{"config: unknown key spencer.pol_interval", "config: spencer.client_secret is empty: set it, or SPENCER_CLIENT_SECRET"}},
		{"unknown section key", "[server]\nlisten_addr = \":1\"\n", []string{"unknown key server.listen_addr"}},
		{"unknown top-level", "[sever]\nlisten = \":1\"\n", []string{"unknown key sever"}},
		{"unknown key in a userlist", "[[screens.userlist]]\nid = \"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f\"\nnme = \"x\"\n", []string{"unknown key screens.userlist.nme"}},
		{"bad duration", "[spencer]\npoll_interval = \"6Os\"\n", []string{`spencer.poll_interval: "6Os" is not a duration`}},
		{"bad enum", "[spencer]\nenvironment = \"prod\"\n", []string{`spencer.environment: "prod" is not one of production, staging`}},
		{"bad log format", "[server]\nlog_format = \"xml\"\n", []string{"server.log_format"}},
		{"trusted proxies without the header", "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n", []string{"server.client_ip_header is empty while server.trusted_proxies is set"}},
		{"a header nobody sets", "[server]\ntrusted_proxies = [\"127.0.0.1\"]\nclient_ip_header = \"X-Client-IP\"\n", []string{`server.client_ip_header: "X-Client-IP" is not one of X-Forwarded-For, X-Real-IP, Forwarded`}},
		{"the header without trusted proxies", "[server]\nclient_ip_header = \"X-Real-IP\"\n", []string{"server.client_ip_header is set but server.trusted_proxies is empty"}},
		{"a short admin token", "[server]\nadmin_token = \"ab\"\n", []string{"server.admin_token is shorter than 16 characters", "SIGNAGE_ADMIN_TOKEN"}},
		{"bad auth style", "[spencer]\nauth_style = \"magic\"\n", []string{"spencer.auth_style"}},
		{"bad uuid", "[[screens.userlist]]\nid = \"abc\"\n", []string{`screens.userlist[0].id: "abc" is not a UUID`}},
		{"duplicate userlist", "[[screens.userlist]]\nid = \"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f\"\n[[screens.userlist]]\nid = \"3F0C6F9E-2B1A-4C55-9D0E-8A7B6C5D4E3F\"\n", []string{"listed twice"}},
		{"bad default", "[screens]\ndefault_userlist = \"lobby\"\n", []string{"screens.default_userlist"}},
		{"bad url", "[server]\npublic_url = \"signage.example.com\"\n", []string{"server.public_url"}},
		{"bad origin", "[server]\nembed_origins = [\"*\", \"https://ok.example.com\", \"https://x.example.com/path\"]\n", []string{"embed_origins[0]", "embed_origins[2]"}},
		{"short access key", "[server]\naccess_keys = [\"short\"]\n", []string{"server.access_keys[0] is shorter"}},
		{"slide range", "[screens]\nslide_seconds = 1\n", []string{"screens.slide_seconds"}},
		{"reload hour", "[screens]\nreload_hour = 24\n", []string{"screens.reload_hour"}},
		{"no customer", "[spencer]\ndemo = false\nclient_id = \"a\"\nclient_secret = \"b\"\n", []string{"spencer.customer is empty"}},
		{"syntax", "[spencer\ndemo = 1\n", []string{"config: config.toml:2:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseConfig([]byte(tc.toml), noEnv)
			var ce *server.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			for _, w := range tc.want {
				found := false
				for _, p := range ce.Problems {
					found = found || strings.Contains(p, w)
				}
				if !found {
					t.Errorf("no problem line holds %q; got:\n%s", w, ce)
				}
			}
		})
	}
}

// TestConfigTypeErrors: a value of the wrong type names its key and what the key wants,
// shows the value unless the key is a secret, and does not hide the file's other problems.
func TestConfigTypeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		toml   string
		want   []string // each must be a whole problem line, or the start of one
		secret string   // must appear in no line
	}{
		{"text for a number", "[server]\nmax_screens = \"many\"\n", []string{`config: server.max_screens: "many" is not a number`}, ""},
		{"a number in quotes", "[server]\nmax_screens = \"100\"\n", []string{`config: server.max_screens: "100" is not a number: write it without quotes`}, ""},
		{"a fraction for a whole number", "[screens]\nslide_seconds = 1.5\n", []string{`config: screens.slide_seconds: 1.5 is not a whole number`}, ""},
		{"text for a list", "[screens]\nquiet_hours = \"Sat-Sun\"\n", []string{`config: screens.quiet_hours: "Sat-Sun" is not a list: write ["Sat-Sun"]`}, ""},
		{"a number in a list of text", "[server]\nembed_origins = [\"https://a.example.com\", 5]\n", []string{`config: server.embed_origins[1]: 5 is not text: write it in quotes`}, ""},
		{"a boolean in quotes", "[spencer]\ndemo = \"false\"\n", []string{`config: spencer.demo: "false" is not true or false: write it without quotes`}, ""},
		{"a number for a boolean", "[screens]\nallow_any_userlist = 1\n", []string{`config: screens.allow_any_userlist: 1 is not true or false`}, ""},
		{"a number for a duration", "[spencer]\npoll_interval = 60\n", []string{`config: spencer.poll_interval: 60 is not a duration: write it in quotes with a unit, e.g. "60s" or "5m"`}, ""},
		{"a duration that does not parse", "[alerts]\nscreen_offline_after = \"ten minutes\"\n", []string{`config: alerts.screen_offline_after: "ten minutes" is not a duration (examples: 60s, 5m)`}, ""},
		{"a number for text", "[spencer]\nlocale = 5\n", []string{`config: spencer.locale: 5 is not text: write it in quotes`}, ""},
		{"a value for a section", "server = 5\n", []string{`config: server: 5 is not a section: write [server] and its keys under it`}, ""},
		{"a userlist's name", "[[screens.userlist]]\nid = \"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f\"\n[[screens.userlist]]\nid = \"9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c\"\nname = 5\n", []string{`config: screens.userlist[1].name: 5 is not text: write it in quotes`}, ""},
		{"a table for the userlists", "[screens.userlist]\nid = \"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f\"\n", []string{`config: screens.userlist: a table is not a list of tables: write each as [[screens.userlist]]`}, ""},
		{"a number out of range", "[server]\nmax_screens = 99999999999999999999\n", []string{`config: config.toml:2: server.max_screens: 99999999999999999999 is out of range for int64`}, ""},

		{"the client secret as a number", "[spencer]\nclient_secret = 424242\n", []string{`config: spencer.client_secret: a number (value not shown) is not text: write it in quotes`}, "424242"},
		{"the admin token as a number", "[server]\nadmin_token = 31415926\n", []string{`config: server.admin_token: a number (value not shown) is not text: write it in quotes`}, "31415926"},
		{"access keys as text", "[server]\naccess_keys = \"k3y-0f-the-lobby-screens\"\n", []string{`config: server.access_keys: text (value not shown) is not a list, like ["…", "…"]`}, "k3y-0f-the-lobby-screens"},
		{"an access key as a number", "[server]\naccess_keys = [\"k3y-0f-the-lobby-screens\", 271828182]\n", []string{`config: server.access_keys[1]: a number (value not shown) is not text: write it in quotes`}, "271828182"},
		{"a Redis URL in a list", "[cluster]\nredis_url = [\"redis://:pa55w0rd@redis:6379/0\"]\n", []string{`config: cluster.redis_url: a list (value not shown) is not text: write it in quotes`}, "pa55w0rd"},
		{"a refresh token without quotes", "[spencer]\nrefresh_token = r3fr3sh-t0k3n\n", []string{`config: config.toml:2: spencer.refresh_token: expected value but found (value not shown) instead`}, "r3fr3sh-t0k3n"},
		{"a client secret cut by a newline", "[spencer]\nclient_secret = \"s3cr3t-v4lue\n\n", []string{`config: config.toml:2: spencer.client_secret: strings cannot contain newlines`}, "s3cr3t-v4lue"},

		{"every problem at once", `
[server]
max_screens = "many"
log_format = "xml"
[spencer]
demo = "true"
pol_interval = "30s"
[screens]
slide_seconds = 1.5
quiet_hours = "Sat-Sun"
`, []string{
			`config: server.max_screens: "many" is not a number`,
			`config: spencer.demo: "true" is not true or false: write it without quotes`,
			`config: screens.slide_seconds: 1.5 is not a whole number`,
			`config: screens.quiet_hours: "Sat-Sun" is not a list: write ["Sat-Sun"]`,
			`config: unknown key spencer.pol_interval`,
			`config: server.log_format: "xml" is not one of auto, text, json`,
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseConfig([]byte(tc.toml), noEnv)
			var ce *server.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			for _, w := range tc.want {
				found := false
				for _, p := range ce.Problems {
					found = found || strings.HasPrefix(p, w)
				}
				if !found {
					t.Errorf("no problem line starts with\n\t%s\ngot:\n%s", w, ce)
				}
			}
			if len(ce.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(ce.Problems), len(tc.want), ce)
			}
			if tc.secret != "" && strings.Contains(ce.Error(), tc.secret) {
				t.Errorf("the secret's value shows:\n%s", ce)
			}
		})
	}
}

func TestConfigEnvironmentWins(t *testing.T) {
	env := map[string]string{"SPENCER_CLIENT_ID": "env-id", "SPENCER_CLIENT_SECRET": "env-secret", "SIGNAGE_LISTEN": "127.0.0.1:9999"}
	cfg, err := server.ParseConfig([]byte("[spencer]\ndemo = false\ncustomer = \"acme\"\nclient_id = \"file-id\"\n"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Spencer.ClientID != "env-id" || cfg.Spencer.ClientSecret != "env-secret" || cfg.Server.Listen != "127.0.0.1:9999" {
		t.Errorf("env not applied: %+v", cfg.Spencer)
	}
	if got := cfg.Spencer.APIBase(); got != "https://acme-api.spencer.co" {
		t.Errorf("APIBase = %s", got)
	}
	if got := cfg.Spencer.TokenEndpoint(); got != "https://spencermultissov2-production-identity.spencer.co/auth/oauth2/realms/root/realms/acme/access_token" {
		t.Errorf("TokenEndpoint = %s", got)
	}
	cfg.Spencer.Environment = "staging"
	if got := cfg.Spencer.APIBase(); got != "https://acme-stag-api.spencer.co" {
		t.Errorf("staging APIBase = %s", got)
	}
}

func TestConfigProblemsNeverShowSecrets(t *testing.T) {
	const secret = "Sup3r-S3cret-Value!"
	_, err := server.ParseConfig([]byte(`
[server]
admin_token = "`+secret+`"
access_keys = ["`+secret[:10]+`"]
[spencer]
demo = false
client_secret = "`+secret+`"
refresh_token = "`+secret+`"
auth_style = "refresh_token_json"
client_secret_typo = "`+secret+`"
`), noEnv)
	if err == nil {
		t.Fatal("want problems")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:10]) {
		t.Errorf("a secret appears in:\n%s", err)
	}
}

func TestIsUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f":  true,
		"3F0C6F9E-2B1A-4C55-9D0E-8A7B6C5D4E3F":  true,
		"3f0c6f9e2b1a4c559d0e8a7b6c5d4e3f":      false,
		"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3":   false,
		"3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3fa": false,
		"3f0c6f9e_2b1a-4c55-9d0e-8a7b6c5d4e3f":  false,
		"zf0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f":  false,
		"":                                      false,
		"../../etc/passwd":                      false,
	} {
		if got := server.IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %v", s, got)
		}
	}
}

// TestClientIPHeaderInAnyCase: the header is named in any case and kept in its usual
// spelling.
func TestClientIPHeaderInAnyCase(t *testing.T) {
	cfg, err := server.ParseConfig([]byte("[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\nclient_ip_header = \"x-real-ip\"\n"), noEnv)
	if err != nil || cfg.Server.ClientIPHeader != "X-Real-IP" {
		t.Errorf("client_ip_header = %q (%v), want X-Real-IP", cfg.Server.ClientIPHeader, err)
	}
}

// TestMediaConfig: [media] has its defaults, and each key is checked like every other:
// an unknown one, the wrong type, a value out of range, a host that is not one.
func TestMediaConfig(t *testing.T) {
	cfg, err := server.ParseConfig(nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Media; !m.Proxy || m.MaxImageMB != 20 || m.MaxMegapixels != 50 || m.CacheMB != 2048 || len(m.AllowedHosts) != 0 {
		t.Errorf("defaults %+v", m)
	}
	cfg, err = server.ParseConfig([]byte("[media]\nproxy = false\nallowed_hosts = [\"images.intranet\", \"10.0.0.5:8080\"]\n"), noEnv)
	if err != nil || cfg.Media.Proxy || len(cfg.Media.AllowedHosts) != 2 {
		t.Errorf("%+v %v", cfg.Media, err)
	}
	_, err = server.ParseConfig([]byte(`
[media]
prxy = true
proxy = "yes"
max_image_mb = "20"
max_megapixels = 0
cache_mb = 10
allowed_hosts = ["ok.intranet", 5]
`), noEnv)
	var ce *server.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	for _, w := range []string{
		"config: unknown key media.prxy",
		`config: media.proxy: "yes" is not true or false`,
		`config: media.max_image_mb: "20" is not a number: write it without quotes`,
		"config: media.max_megapixels: 0 is out of range: use 1 to 1000",
		"config: media.cache_mb: 10 is too small: use at least 64",
		`config: media.allowed_hosts[1]: 5 is not text: write it in quotes`,
	} {
		found := false
		for _, p := range ce.Problems {
			found = found || strings.HasPrefix(p, w)
		}
		if !found {
			t.Errorf("no problem line starts with\n\t%s\ngot:\n%s", w, ce)
		}
	}
	_, err = server.ParseConfig([]byte("[media]\nallowed_hosts = [\"ok.intranet\", \"https://images.intranet/\", \"10.0.0.5:0\"]\n"), noEnv)
	if !errors.As(err, &ce) || len(ce.Problems) != 2 ||
		!strings.HasPrefix(ce.Problems[0], `config: media.allowed_hosts[1]: "https://images.intranet/" is not a host or host:port`) ||
		!strings.HasPrefix(ce.Problems[1], `config: media.allowed_hosts[2]: "10.0.0.5:0" is not a host`) {
		t.Errorf("allowed_hosts: %v", err)
	}
}
