package clientconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", `default-profile = "prod"
[profiles.prod]
url = "https://prod.example:8443"
account = "000001"
api-key = "prod-key"
ca-file = "/etc/certd/root.crt"
[profiles.lab]
url = "http://lab.example:8080"
account = "000002"
api-key = "lab-key"
`, 0o600)
	plainDefault := write("default.toml", `[profiles.default]
url = "https://d.example"
account = "7"
`, 0o644)
	readable := write("readable.toml", "[profiles.default]\nurl = \"https://x\"\naccount = \"1\"\napi-key = \"k\"\n", 0o644)
	unknown := write("unknown.toml", "[profiles.default]\nurl = \"https://x\"\ncolour = \"blue\"\n", 0o600)
	broken := write("broken.toml", "=== no", 0o600)

	for _, tc := range []struct {
		name    string
		flags   Settings
		profile string
		env     map[string]string
		path    string
		want    Settings
		err     string
	}{
		{name: "default profile of the file", path: good,
			want: Settings{URL: "https://prod.example:8443", AccountID: "000001", APIKey: "prod-key", CAFile: "/etc/certd/root.crt"}},
		{name: "profile by flag", profile: "lab", path: good,
			want: Settings{URL: "http://lab.example:8080", AccountID: "000002", APIKey: "lab-key"}},
		{name: "profile by environment", env: map[string]string{EnvProfile: "lab"}, path: good,
			want: Settings{URL: "http://lab.example:8080", AccountID: "000002", APIKey: "lab-key"}},
		{name: "environment over profile", env: map[string]string{EnvAPIKey: "env-key", EnvURL: "https://env.example"}, path: good,
			want: Settings{URL: "https://env.example", AccountID: "000001", APIKey: "env-key", CAFile: "/etc/certd/root.crt"}},
		{name: "flags over environment", flags: Settings{APIKey: "flag-key"}, env: map[string]string{EnvAPIKey: "env-key"}, path: good,
			want: Settings{URL: "https://prod.example:8443", AccountID: "000001", APIKey: "flag-key", CAFile: "/etc/certd/root.crt"}},
		{name: "profile named default, key from the environment", env: map[string]string{EnvAPIKey: "k"}, path: plainDefault,
			want: Settings{URL: "https://d.example", AccountID: "7", APIKey: "k"}},
		{name: "no file, all from the environment", path: filepath.Join(dir, "absent.toml"),
			env:  map[string]string{EnvURL: "https://e", EnvAccount: "1", EnvAPIKey: "k", EnvCAFile: "/r.pem"},
			want: Settings{URL: "https://e", AccountID: "1", APIKey: "k", CAFile: "/r.pem"}},
		{name: "missing URL", path: filepath.Join(dir, "absent.toml"), err: "no server URL: pass --url, set CERTD_URL, or add it to a profile in"},
		{name: "missing key", path: plainDefault, err: "no API key: pass --api-key, set CERTD_API_KEY"},
		{name: "unknown profile", profile: "staging", path: good, err: `has no profile "staging" (it has: lab, prod)`},
		{name: "profile without a file", profile: "x", path: filepath.Join(dir, "absent.toml"), err: "there is no config file"},
		{name: "file readable by others", path: readable, err: "other users can read it (mode 0644): chmod 600"},
		{name: "unknown key", path: unknown, err: "unknown key(s) profiles.default.colour"},
		{name: "not TOML", path: broken, err: "config file " + broken},
		{name: "URL without scheme", flags: Settings{URL: "ca.example:8443", AccountID: "1", APIKey: "k"}, err: "must start with https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			got, err := Resolve(tc.flags, tc.profile, getenv, tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if _, ok := err.(*UsageError); !ok {
					t.Errorf("err is %T, not a usage error", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestClientCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, err string }{
		{"missing file", filepath.Join(dir, "absent.pem"), "CA file:"},
		{"not a certificate", notPEM, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Settings{URL: "https://x", AccountID: "1", APIKey: "k", CAFile: tc.file}.Client()
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	c, err := Settings{URL: "https://x/", AccountID: "1", APIKey: "k"}.Client()
	if err != nil || c.BaseURL != "https://x" || c.UserAgent != "certd-cli/1" {
		t.Fatalf("%+v %v", c, err)
	}
}
