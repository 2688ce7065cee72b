// Package pprofl reads pprof label sets as the runtime prints them in
// goroutine profiles and tracebacks; package goroutines and the root
// package's debug page both need it.
package pprofl

import "strconv"
import "strings"

// ParseLabels reads a label set as pprof prints it: {"k":"v", "k2":"v2"}.
func ParseLabels(s string) map[string]string {
	m := map[string]string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for s != "" {
		kq, err := strconv.QuotedPrefix(s)
		if err != nil {
			break
		}
		s = strings.TrimPrefix(s[len(kq):], ":")
		vq, err := strconv.QuotedPrefix(s)
		if err != nil {
			break
		}
		s = strings.TrimPrefix(s[len(vq):], ", ")
		k, _ := strconv.Unquote(kq)
		v, _ := strconv.Unquote(vq)
		m[k] = v
	}
	return m
}
