package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package puts the module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSM makes a fresh SoftHSM2 token labelled label with the user PIN
// pin, in a folder of the test's, and points SOFTHSM2_CONF at it. It skips
// the test when SoftHSM2 is not installed, unless CERTD_REQUIRE_SOFTHSM is
// set (CI installs it and sets it).
func SoftHSM(t *testing.T, label, pin string) {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil || fileMissing(SoftHSMModule) {
		if os.Getenv("CERTD_REQUIRE_SOFTHSM") != "" {
			t.Fatal("softhsm2 is not installed")
		}
		t.Skip("softhsm2 not installed; .ci/run installs it")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-"+pin).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util: %v %s", err, out)
	}
}

func fileMissing(p string) bool {
	_, err := os.Stat(p)
	return err != nil
}
