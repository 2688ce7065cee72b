package pprofl

import (
	"reflect"
	"testing"
)

func TestParseLabels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]string
	}{
		{`{}`, map[string]string{}},
		{`{"shepherd.path":"app/api", "shepherd.tree":"0xc0"}`, map[string]string{"shepherd.path": "app/api", "shepherd.tree": "0xc0"}},
		{`{"k":"a \"quoted\" value"}`, map[string]string{"k": `a "quoted" value`}},
		{`{"k":broken}`, map[string]string{}},
	} {
		if got := ParseLabels(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseLabels(%s) = %v; want %v", c.in, got, c.want)
		}
	}
}
