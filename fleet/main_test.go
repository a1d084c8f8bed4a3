package fleet

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine outlives the tests: the
// publisher, the ingester, the registry, the NATS clients and the
// embedded servers must all end when they are stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
