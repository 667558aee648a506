// Package clientconf resolves the connection settings of certd's client
// commands (server URL, account id, API key, the CA file to trust) from
// flags, then CERTD_* environment variables, then a named profile of the
// user's config file (~/.config/certd/config.toml), and says which one is
// missing and where it could come from.
package clientconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/certd/certd/client"
)

// Settings are one way of reaching a server as an account.
type Settings struct {
	URL       string `toml:"url"`
	AccountID string `toml:"account"`
	APIKey    string `toml:"api-key"`
	CAFile    string `toml:"ca-file"`
}

// Environment variables, in the order of Settings' fields, and the one
// that picks a profile.
const (
	EnvURL     = "CERTD_URL"
	EnvAccount = "CERTD_ACCOUNT_ID"
	EnvAPIKey  = "CERTD_API_KEY"
	EnvCAFile  = "CERTD_CA_FILE"
	EnvProfile = "CERTD_PROFILE"
)

// file is the config file: profiles by name, and which one to use when
// none is named.
type file struct {
	DefaultProfile string              `toml:"default-profile"`
	Profiles       map[string]Settings `toml:"profiles"`
}

// DefaultPath is ~/.config/certd/config.toml (or under $XDG_CONFIG_HOME).
func DefaultPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "certd", "config.toml")
}

// UsageError is a missing or contradictory setting: the user's to fix.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// Resolve fills each setting from flags (the ones set), else the
// environment, else the profile: profile names one, else CERTD_PROFILE,
// else the file's default-profile, else "default" if the file has it.
func Resolve(flags Settings, profile string, getenv func(string) string, path string) (Settings, error) {
	if profile == "" {
		profile = getenv(EnvProfile)
	}
	prof, err := loadProfile(path, profile)
	if err != nil {
		return Settings{}, err
	}
	pick := func(flag, env, fromFile string) string {
		if flag != "" {
			return flag
		}
		if v := getenv(env); v != "" {
			return v
		}
		return fromFile
	}
	s := Settings{
		URL:       pick(flags.URL, EnvURL, prof.URL),
		AccountID: pick(flags.AccountID, EnvAccount, prof.AccountID),
		APIKey:    pick(flags.APIKey, EnvAPIKey, prof.APIKey),
		CAFile:    pick(flags.CAFile, EnvCAFile, prof.CAFile),
	}
	where := "add it to a profile in " + path
	if path == "" {
		where = "or write a config file"
	}
	for _, m := range []struct{ v, what, flag, env, key string }{
		{s.URL, "server URL", "--url", EnvURL, "url"},
		{s.AccountID, "account id", "--account", EnvAccount, "account"},
		{s.APIKey, "API key", "--api-key", EnvAPIKey, "api-key"},
	} {
		if m.v == "" {
			return Settings{}, &UsageError{fmt.Sprintf("no %s: pass %s, set %s, or %s (key %q)", m.what, m.flag, m.env, where, m.key)}
		}
	}
	if !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
		return Settings{}, &UsageError{fmt.Sprintf("server URL %q: it must start with https:// (or http:// for a server run with --http)", s.URL)}
	}
	return s, nil
}

// loadProfile reads one profile; a missing file is no profile.
func loadProfile(path, name string) (Settings, error) {
	if path == "" {
		if name != "" {
			return Settings{}, &UsageError{fmt.Sprintf("profile %q: no config file", name)}
		}
		return Settings{}, nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if name != "" {
			return Settings{}, &UsageError{fmt.Sprintf("profile %q: there is no config file %s", name, path)}
		}
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	var f file
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return Settings{}, &UsageError{fmt.Sprintf("config file %s: %v", path, err)}
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return Settings{}, &UsageError{fmt.Sprintf("config file %s: unknown key(s) %s (profile keys are url, account, api-key, ca-file)", path, strings.Join(keys, ", "))}
	}
	// The file holds API keys: like ssh with private keys, refuse it when
	// other users could read it.
	for _, p := range f.Profiles {
		if p.APIKey != "" && fi.Mode().Perm()&0o077 != 0 {
			return Settings{}, &UsageError{fmt.Sprintf("config file %s holds API keys but other users can read it (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)}
		}
	}
	if name == "" {
		name = f.DefaultProfile
	}
	if name == "" {
		return f.Profiles["default"], nil
	}
	p, ok := f.Profiles[name]
	if !ok {
		names := make([]string, 0, len(f.Profiles))
		for n := range f.Profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return Settings{}, &UsageError{fmt.Sprintf("config file %s has no profile %q (it has: %s)", path, name, strings.Join(names, ", "))}
	}
	return p, nil
}

// Client makes the SDK client for these settings, trusting CAFile's
// certificates (certd's root) when one is set.
func (s Settings) Client() (*client.Client, error) {
	c := client.New(s.URL, s.AccountID, s.APIKey)
	c.UserAgent = "certd-cli/1"
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, &UsageError{fmt.Sprintf("CA file: %v", err)}
		}
		if err := c.TrustRoots(pem); err != nil {
			return nil, &UsageError{fmt.Sprintf("CA file %s: %v", s.CAFile, err)}
		}
	}
	return c, nil
}
