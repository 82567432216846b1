package bridge

import (
	"context"
	"slices"
	"time"

	"github.com/wabridge/b24wa/connector"
)

// noteOnce posts a system note about a failed send into the operator's
// dialog, at most once per delivery and key. im.message.add is not
// idempotent, so the key is stored before the call: a crash may lose a note
// but never repeats one.
func (b *Bridge) noteOnce(ctx context.Context, j *outJob, key string, args ...any) {
	if j.p == nil || j.p.ImChatID == "" || slices.Contains(j.p.Notes, key) {
		return
	}
	j.p.Notes = append(j.p.Notes, key)
	if err := b.savePayload(ctx, j); err != nil {
		b.log.ErrorContext(ctx, "Store operator note failed", "line_id", j.line.ID, "error", err)
		return
	}
	lang := b.portalLang(ctx, j.line.PortalID)
	text := b.text(lang, key, args...)
	params := map[string]any{"DIALOG_ID": "chat" + j.p.ImChatID, "MESSAGE": text, "SYSTEM": "Y"}
	if err := b.opts.Caller.Call(ctx, j.line.PortalID, "im.message.add", params, nil); err != nil {
		b.log.WarnContext(ctx, "Post operator note failed", "portal_id", j.line.PortalID, "line_id", j.line.ID,
			"b24_chat_id", j.p.ImChatID, "note", key, "error", err)
	}
}

// failDeadLine fails the queued operator messages of a line that needs a
// new scan, each with a note to the operator, instead of letting them wait.
func (b *Bridge) failDeadLine(ctx context.Context, line connector.Line) {
	for range 20 {
		ds, err := b.claim(ctx, dirOut, "line_id", line.ID, 50)
		if err != nil || len(ds) == 0 {
			return
		}
		for _, d := range ds {
			j := &outJob{line: &line, d: d}
			if p, err := decodeOut(&d); err == nil {
				j.p = p
			}
			b.noteOnce(ctx, j, "bridge.note.line_logged_out")
			b.settle(ctx, &line, d, b.fail(ctx, &j.d, ErrLineNotConnected))
		}
	}
}

// pacer spaces the messages of one WhatsApp number: a burst of SendBurst
// messages goes out at once, then one per SendInterval, so a busy line does
// not look like spam.
type pacer struct {
	tokens float64
	last   time.Time
}

// pace waits until the line may send its next message.
func (b *Bridge) pace(ctx context.Context, lineID uint64) {
	b.mu.Lock()
	if b.pacers == nil {
		b.pacers = map[uint64]*pacer{}
	}
	p, ok := b.pacers[lineID]
	now := time.Now()
	if !ok {
		p = &pacer{tokens: float64(b.opts.SendBurst), last: now}
		b.pacers[lineID] = p
	}
	p.tokens = min(float64(b.opts.SendBurst), p.tokens+now.Sub(p.last).Seconds()/b.opts.SendInterval.Seconds())
	p.last = now
	var wait time.Duration
	if p.tokens < 1 {
		wait = time.Duration((1 - p.tokens) * float64(b.opts.SendInterval))
	}
	p.tokens--
	b.mu.Unlock()

	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
