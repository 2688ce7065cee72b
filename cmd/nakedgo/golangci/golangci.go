// Package golangci makes nakedgo a golangci-lint module plugin: a custom
// golangci-lint binary built with `golangci-lint custom` from a
// .custom-gcl.yml that lists this package runs nakedgo beside the other
// linters, configured as linter "nakedgo" of type "module". See the
// nakedgo README for the two files and two commands.
package golangci

import (
	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/shepherd-go/shepherd/cmd/nakedgo/nakedgo"
)

func init() {
	register.Plugin("nakedgo", New)
}

// Settings are nakedgo's settings in .golangci.yml; it has none yet, and
// unknown keys are an error rather than silently ignored.
type Settings struct{}

// New is the plugin's constructor, called by golangci-lint with the
// linter's settings.
func New(settings any) (register.LinterPlugin, error) {
	if _, err := register.DecodeSettings[Settings](settings); err != nil {
		return nil, err
	}
	return plugin{}, nil
}

type plugin struct{}

// BuildAnalyzers returns the nakedgo analyzer.
func (plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return []*analysis.Analyzer{nakedgo.Analyzer}, nil
}

// GetLoadMode asks for type information: nakedgo resolves which channel a
// send uses and which package a called function belongs to.
func (plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
