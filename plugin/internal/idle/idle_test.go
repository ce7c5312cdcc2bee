package idle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	const after = time.Second
	block := make(chan struct{})
	for _, tc := range []struct {
		name     string
		requests func(r *Releaser, h http.Handler) // what happens before the checks
		checks   []time.Duration                   // when Check runs, after the requests
		want     []bool                            // whether each check released
	}{
		{
			name:     "idle from the start: one release, then none until a request",
			requests: func(*Releaser, http.Handler) {},
			checks:   []time.Duration{0, after, 2 * after, 5 * after},
			want:     []bool{false, true, false, false},
		},
		{
			name:     "a request ended: released only once it is the idle time past",
			requests: func(_ *Releaser, h http.Handler) { serve(h) },
			checks:   []time.Duration{after / 2, after + time.Millisecond, 3 * after},
			want:     []bool{false, true, false},
		},
		{
			name: "a request still in flight holds the release back",
			requests: func(r *Releaser, _ http.Handler) {
				started := make(chan struct{})
				go serve(r.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
					close(started)
					<-block
				})))
				<-started
			},
			checks: []time.Duration{2 * after, 10 * after},
			want:   []bool{false, false},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			released := 0
			r := New(after, func() { released++ })
			h := r.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			tc.requests(r, h)
			start := time.Now()
			for i, at := range tc.checks {
				if got := r.Check(start.Add(at)); got != tc.want[i] {
					t.Errorf("check %d (+%v) released = %v, want %v", i, at, got, tc.want[i])
				}
			}
			want := 0
			for _, w := range tc.want {
				if w {
					want++
				}
			}
			if released != want {
				t.Errorf("release called %d times, want %d", released, want)
			}
		})
	}
	close(block)
}

// A request after a release makes the next idle period release again.
func TestReleaseAgainAfterRequest(t *testing.T) {
	released := 0
	r := New(time.Second, func() { released++ })
	h := r.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	now := time.Now()
	if !r.Check(now.Add(2 * time.Second)) {
		t.Fatal("no release when idle")
	}
	serve(h)
	if r.Check(time.Now()) {
		t.Fatal("released right after a request")
	}
	if !r.Check(time.Now().Add(2 * time.Second)) {
		t.Fatal("no release in the next idle period")
	}
	if released != 2 {
		t.Fatalf("released %d times, want 2", released)
	}
}

func serve(h http.Handler) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/AuthZPlugin.AuthZReq", nil))
}

// A tiny idle time is not a ticker of zero (which would panic): Run still
// releases, then stops with its context.
func TestRunTinyIdleTime(t *testing.T) {
	done := make(chan struct{})
	r := New(time.Nanosecond, func() { close(done) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no release")
	}
}
