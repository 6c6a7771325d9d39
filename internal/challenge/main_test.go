package challenge

import (
	"testing"

	"github.com/rampart-edge/rampart/internal/testenv"
)

// TestMain stops the Redis server the tests started (testenv.Redis).
func TestMain(m *testing.M) { testenv.Main(m) }
