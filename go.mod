module github.com/shepherd-go/shepherd

go 1.26.0

require (
	go.uber.org/multierr v1.11.0
	golang.org/x/sync v0.24.0
)

require go.uber.org/goleak v1.3.0
