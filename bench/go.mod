module github.com/shepherd-go/shepherd/bench

go 1.26.0

replace github.com/shepherd-go/shepherd => ../

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/oklog/run v1.2.0
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/shepherd-go/shepherd v0.0.0-00010101000000-000000000000
	github.com/sourcegraph/conc v0.3.0
	github.com/thejerf/suture/v4 v4.0.6
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.24.0
)

require go.uber.org/multierr v1.11.0 // indirect
