// The module nakedgo is run over in the README. It is its own module so
// that it can use the shepherd checkout it sits in, and so that "./..."
// patterns in cmd/nakedgo never reach it.
module example.com/demo

go 1.26

require github.com/shepherd-go/shepherd v0.0.0

require go.uber.org/multierr v1.11.0 // indirect

replace github.com/shepherd-go/shepherd => ../../../..
