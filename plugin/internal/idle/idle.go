// Package idle gives the plugin's free memory back to the system once no
// request has come for a while. Between bursts of Docker API calls the
// plugin holds the heap its last burst grew to (the collector runs rarely,
// see GOGC in main): that is what an idle host pays for, so it is returned
// then, never in the middle of a burst, where a collection would add to the
// decisions' latency.
package idle

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Releaser tracks requests and calls its release function once per idle
// period: when no request is in flight and none ended for the idle time.
type Releaser struct {
	after    time.Duration
	release  func()
	inFlight atomic.Int64
	last     atomic.Int64 // when the last request ended (UnixNano); in-flight requests count apart
	released atomic.Bool  // released since the last request
}

// New returns a Releaser that calls release after `after` without requests.
func New(after time.Duration, release func()) *Releaser {
	r := &Releaser{after: after, release: release}
	r.last.Store(time.Now().UnixNano())
	return r
}

// Wrap returns h, with every request counted as activity.
func (r *Releaser) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.inFlight.Add(1)
		r.released.Store(false)
		defer func() {
			r.last.Store(time.Now().UnixNano())
			r.inFlight.Add(-1)
		}()
		h.ServeHTTP(w, req)
	})
}

// Check releases if the plugin is idle now and has not released since its
// last request. It reports whether it released.
func (r *Releaser) Check(now time.Time) bool {
	if r.inFlight.Load() > 0 || r.released.Load() {
		return false
	}
	if now.Sub(time.Unix(0, r.last.Load())) < r.after {
		return false
	}
	r.released.Store(true)
	r.release()
	return true
}

// Run checks every half idle time (at least every millisecond) until ctx
// is done.
func (r *Releaser) Run(ctx context.Context) {
	t := time.NewTicker(max(r.after/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Check(now)
		}
	}
}
