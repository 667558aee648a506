package pipeline

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClientID(t *testing.T) {
	start := time.Date(2026, 11, 29, 7, 30, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		name, node, want string
	}{
		{"named", "node-a", "node-a_2026_11_29T07_30_00.123456"},
		{"unnamed", "", "certd_2026_11_29T07_30_00.123456"},
		{"long", strings.Repeat("n", 200), strings.Repeat("n", 60) + "_2026_11_29T07_30_00.123456"},
		{"cut inside a character", "x" + strings.Repeat("é", 100), "x" + strings.Repeat("é", 29) + "_2026_11_29T07_30_00.123456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clientID(tc.node, start)
			if got != tc.want {
				t.Errorf("clientID = %q, want %q", got, tc.want)
			}
			if len(got) > 100 || !utf8.ValidString(got) {
				t.Errorf("clientID %q is not a valid river client id", got)
			}
		})
	}
}
