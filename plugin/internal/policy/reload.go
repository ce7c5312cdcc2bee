package policy

import (
	"context"
	"fmt"
	"time"
)

// Following the policy folder: checked at most every Config.Recheck, read
// only when its files' signatures changed, compiled only when their content did.

// current returns the prepared state for the folder as it is now: it
// checks the files' stat signatures and, only when they changed, reads
// them; only when their content changed, compiles and prepares again.
func (e *Engine) current(ctx context.Context) *prepared {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	if e.cur != nil && e.cfg.Recheck > 0 && now.Sub(e.checked) < e.cfg.Recheck {
		return e.cur
	}
	e.checked = now

	files, err := scan(e.cfg.Dir)
	if err != nil {
		return e.fail("", fmt.Errorf("policy unavailable: %v", err))
	}
	fp := fingerprint(files)
	if e.cur != nil && fp == e.fp {
		return e.cur
	}
	src, err := read(e.cfg.Dir, files)
	if err != nil {
		return e.fail("", fmt.Errorf("policy unavailable: %v", err))
	}
	if racyFiles(files, now) {
		fp = "" // read again at the next check
	}
	if e.cur != nil && src.hash == e.hash {
		e.fp = fp
		return e.cur
	}
	e.compiles++
	p := e.prepare(ctx, src)
	e.fp, e.hash, e.cur = fp, src.hash, p
	if p.err != nil {
		e.logError(p.err)
	} else {
		e.lastError = ""
		e.log.Info("policy loaded", "dir", e.cfg.Dir, "files", len(files), "revision", p.revision)
	}
	return p
}

// fail records a state without queries; fingerprint and hash are cleared
// so that the next check starts afresh.
func (e *Engine) fail(revision string, err error) *prepared {
	e.fp, e.hash = "", ""
	e.cur = &prepared{err: err, revision: revision}
	e.logError(err)
	return e.cur
}

func (e *Engine) logError(err error) {
	if msg := err.Error(); msg != e.lastError {
		e.lastError = msg
		e.log.Error("policy broken: refusing every request", "dir", e.cfg.Dir, "error", msg)
	}
}
