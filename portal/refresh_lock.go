package portal

import (
	"context"
	"sync"
)

// keyedMutex is one mutex per portal id whose Lock gives up when the context
// ends. Entries are never removed; there is one per portal this process calls.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[uint64]chan struct{}
}

func newKeyedMutex() *keyedMutex {
	return &keyedMutex{locks: make(map[uint64]chan struct{})}
}

// lock acquires the mutex of id and returns its unlock function.
func (k *keyedMutex) lock(ctx context.Context, id uint64) (func(), error) {
	k.mu.Lock()
	ch, ok := k.locks[id]
	if !ok {
		ch = make(chan struct{}, 1)
		k.locks[id] = ch
	}
	k.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
