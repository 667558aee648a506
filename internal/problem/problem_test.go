package problem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/certd/certd/internal/problem"
)

func TestFlattenAndMatch(t *testing.T) {
	missing := problem.Required("csr", "CSR is required.")
	bad := problem.Invalid("validity", "Bad.")
	tests := []struct {
		name  string
		err   error
		codes []string
		kind  problem.Kind
	}{
		{"nil", nil, nil, problem.Internal},
		{"one", missing, []string{"required_param:csr"}, problem.InvalidParam},
		{"wrapped", fmt.Errorf("ctx: %w", missing), []string{"required_param:csr"}, problem.InvalidParam},
		{"list", problem.List{missing, bad}, []string{"required_param:csr", "invalid_param:validity"}, problem.InvalidParam},
		{"plain error", errors.New("disk on fire"), []string{"internal_error"}, problem.Internal},
		{"internal", problem.Internalf("x: %w", errors.New("y")), []string{"internal_error"}, problem.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problem.Flatten(tt.err)
			if len(ps) != len(tt.codes) {
				t.Fatalf("Flatten = %v", ps)
			}
			for i, p := range ps {
				if p.Code != tt.codes[i] {
					t.Errorf("code %d = %s, want %s", i, p.Code, tt.codes[i])
				}
			}
			if tt.err != nil && problem.KindOf(tt.err) != tt.kind {
				t.Errorf("KindOf = %v, want %v", problem.KindOf(tt.err), tt.kind)
			}
		})
	}
	if !errors.Is(problem.List{missing, bad}, problem.Invalid("validity", "")) {
		t.Error("errors.Is does not find a member of a list")
	}
	if errors.Is(missing, problem.Invalid("validity", "")) {
		t.Error("errors.Is matches a different code")
	}
	if (problem.List{}).Err() != nil {
		t.Error("empty list is an error")
	}
	if msg := problem.Internalf("secret %d", 42).Description; msg != "An unexpected error occurred." {
		t.Errorf("internal description leaks: %q", msg)
	}
}
