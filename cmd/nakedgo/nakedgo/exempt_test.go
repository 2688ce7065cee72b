package nakedgo

import "testing"

func TestIsExempt(t *testing.T) {
	const def = ShepherdPath
	tests := []struct {
		path, prefixes string
		want           bool
	}{
		{"github.com/shepherd-go/shepherd", def, true},
		{"github.com/shepherd-go/shepherd_test", def, true},
		{"github.com/shepherd-go/shepherd/internal/stack", def, true},
		{"github.com/shepherd-go/shepherd [github.com/shepherd-go/shepherd.test]", def, true},
		{"github.com/shepherd-go/shepherd-contrib", def, false},
		{"github.com/shepherd-go", def, false},
		{"acme/workers", def, false},
		{"acme/workers", def + ",acme/workers", true},
		{"acme/workers/pool", " acme/workers/ ", true},
		{"github.com/shepherd-go/shepherd", "", false},
		{"github.com/shepherd-go/shepherd", ",,", false},
	}
	for _, tt := range tests {
		if got := isExempt(tt.path, tt.prefixes); got != tt.want {
			t.Errorf("isExempt(%q, %q) = %v; want %v", tt.path, tt.prefixes, got, tt.want)
		}
	}
}
