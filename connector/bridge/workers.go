package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/connector"
)

// worker is one goroutine that works the deliveries of one portal (inbound)
// or one line (outbound) until none is due, then waits for a kick or exits
// after WorkerIdle.
type worker struct {
	kick chan struct{}
}

func (w *worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Start runs the dispatcher, which starts a worker for every portal and line
// with due deliveries, immediately after each new delivery and every
// PollInterval. Workers stop when ctx is cancelled or Close is called.
// Deliveries that an earlier process with the same InstanceID left locked
// are released first.
func (b *Bridge) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.started {
		return nil
	}
	released, err := b.releaseOwnLocks(ctx)
	if err != nil {
		return err
	}
	if released > 0 {
		b.log.Info("Released deliveries left in flight by an earlier run", "instance", b.opts.InstanceID, "count", released)
	}
	b.started = true
	ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.wg.Add(1)
	go b.dispatch(ctx)
	b.log.Info("Bridge started", "instance", b.opts.InstanceID)
	return nil
}

// Close stops the dispatcher and every worker and waits for them until ctx
// ends. A delivery in flight keeps its lock until LockTTL and is then
// claimed again, by this or another instance.
func (b *Bridge) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	cancel := b.cancel
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		b.log.Info("Bridge stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop bridge workers: %w", ctx.Err())
	}
}

func (b *Bridge) dispatch(ctx context.Context) {
	defer b.wg.Done()
	tick := time.NewTicker(b.opts.PollInterval)
	defer tick.Stop()
	lastSweep := time.Time{}
	for {
		b.scan(ctx)
		if time.Since(lastSweep) > time.Hour {
			b.sweepMedia(ctx)
			lastSweep = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-b.wakeCh:
		}
	}
}

// scan starts or kicks the workers of portals and lines with due work.
func (b *Bridge) scan(ctx context.Context) {
	portals, err := b.duePortals(ctx)
	if err != nil {
		b.log.ErrorContext(ctx, "List portals with due messages failed", "error", err)
	}
	for _, id := range portals {
		b.ensureWorker(ctx, b.portals, id, b.runInbound)
	}
	lines, err := b.dueLines(ctx)
	if err != nil {
		b.log.ErrorContext(ctx, "List lines with due messages failed", "error", err)
	}
	for _, line := range lines {
		if _, ok := b.session(line.ID); ok {
			b.ensureWorker(ctx, b.lines, line.ID, b.runOutbound)
			continue
		}
		if lineIsDead(line.State) {
			b.failDeadLine(ctx, line)
		}
	}
}

// lineIsDead reports states in which the line needs a new scan, so operator
// messages would wait for ever: they fail with a note instead.
func lineIsDead(state string) bool {
	switch state {
	case connector.StateLoggedOut, connector.StateSuspended, connector.StateNeedsScan:
		return true
	}
	return false
}

// ensureWorker kicks the running worker for id or starts one.
func (b *Bridge) ensureWorker(ctx context.Context, set map[uint64]*worker, id uint64,
	round func(ctx context.Context, id uint64) int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || ctx.Err() != nil {
		return
	}
	if w, ok := set[id]; ok {
		w.poke()
		return
	}
	w := &worker{kick: make(chan struct{}, 1)}
	set[id] = w
	b.wg.Add(1)
	go b.runWorker(ctx, set, id, w, round)
}

func (b *Bridge) runWorker(ctx context.Context, set map[uint64]*worker, id uint64, w *worker,
	round func(ctx context.Context, id uint64) int) {
	defer b.wg.Done()
	idle := time.NewTimer(b.opts.WorkerIdle)
	defer idle.Stop()
	for {
		if round(ctx, id) > 0 {
			continue
		}
		idle.Reset(b.opts.WorkerIdle)
		select {
		case <-ctx.Done():
			b.removeWorker(set, id)
			return
		case <-w.kick:
		case <-idle.C:
			if b.exitIdle(set, id, w) {
				return
			}
		}
	}
}

func (b *Bridge) removeWorker(set map[uint64]*worker, id uint64) {
	b.mu.Lock()
	delete(set, id)
	b.mu.Unlock()
}

// exitIdle removes the worker unless a kick arrived meanwhile.
func (b *Bridge) exitIdle(set map[uint64]*worker, id uint64, w *worker) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.kick:
		return false
	default:
	}
	delete(set, id)
	return true
}
