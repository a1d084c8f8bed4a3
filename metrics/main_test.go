package metrics

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: a part's
// collection goroutine must end with its collection, even one the scrape
// gave up on.
//
// Two fasthttp goroutines are ignored because they are fasthttp's own, not
// per-connection: the worker pool's idle-cleanup loop sleeps 10 s before it
// notices the server stopped, and the process-wide Date header updater never
// ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}
