package ratelimit

import (
	"testing"

	"github.com/rampart-edge/rampart/internal/testenv"
)

// TestMain stops the ephemeral servers the tests started (testenv.Redis,
// testenv.Postgres) when they end.
func TestMain(m *testing.M) { testenv.Main(m) }
