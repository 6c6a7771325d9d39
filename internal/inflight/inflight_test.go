package inflight

import (
	"sync"
	"testing"
)

func TestRetireWaitsForLastRequest(t *testing.T) {
	c := New()
	if !c.Acquire() {
		t.Fatal("Acquire refused before Retire")
	}
	c.Retire()
	select {
	case <-c.Done():
		t.Fatal("Done before the request in flight ended")
	default:
	}
	if c.Acquire() {
		t.Fatal("Acquire accepted after Retire")
	}
	if c.InFlight() != 1 {
		t.Fatalf("InFlight = %d, want 1", c.InFlight())
	}
	c.Release()
	<-c.Done()
}

func TestRetireIdleAndConcurrent(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if c.Acquire() {
					c.Release()
				}
			}
		}()
	}
	c.Retire()
	c.Retire()
	wg.Wait()
	<-c.Done()
	if c.InFlight() != 0 {
		t.Fatalf("InFlight = %d", c.InFlight())
	}
}
