package connector

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types/events"
)

// sinkTimeout bounds one MessageSink call; past it the message is not
// acknowledged and WhatsApp delivers it again.
const sinkTimeout = time.Minute

// forward passes a content event to the sink with the line it belongs to.
func (m *Manager) forward(c *client, evt any) error {
	if m.opts.Sink == nil {
		m.log.Debug("No message sink configured; dropping a WhatsApp event", "line_id", c.lineID, "event", fmt.Sprintf("%T", evt))
		return nil
	}
	ctx, cancel := context.WithTimeout(m.ctx, sinkTimeout)
	defer cancel()

	line, err := m.cachedLine(ctx, c.lineID)
	if err != nil {
		return fmt.Errorf("load line %d for an inbound event: %w", c.lineID, err)
	}
	return m.opts.Sink.HandleWhatsApp(ctx, line, evt)
}

// cachedLine returns a copy of the line, read from the database at most
// lineCacheTTL ago or after the manager last changed it.
func (m *Manager) cachedLine(ctx context.Context, lineID uint64) (*Line, error) {
	m.mu.Lock()
	rt := m.runtimes[lineID]
	if rt != nil && rt.cached != nil && time.Since(rt.cachedAt) < lineCacheTTL {
		line := *rt.cached
		m.mu.Unlock()
		return &line, nil
	}
	m.mu.Unlock()

	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if rt := m.runtimes[lineID]; rt != nil {
		cached := *line
		rt.cached, rt.cachedAt = &cached, time.Now()
	}
	m.mu.Unlock()
	return line, nil
}

// notePhoneSeen records, at most once per phoneSeenEvery, that an event
// proved the line's phone online. Later work can then warn before WhatsApp
// logs out linked devices whose phone stayed offline for about 14 days.
func (m *Manager) notePhoneSeen(lineID uint64) {
	now := m.now()
	m.mu.Lock()
	rt := m.runtimes[lineID]
	if rt == nil || now.Sub(rt.phoneSeenAt) < phoneSeenEvery {
		m.mu.Unlock()
		return
	}
	rt.phoneSeenAt = now
	m.mu.Unlock()

	if err := m.lines.TouchPhoneSeen(m.ctx, lineID, now); err != nil {
		m.log.Warn("Recording when the phone was online failed", "line_id", lineID, "error", err)
	}
}

// onPushName stores the profile name of the line's number. whatsmeow
// learns it from the app state sync after pairing (a full sync, which does
// not prove the phone online) and later whenever the owner changes it.
func (m *Manager) onPushName(c *client, e *events.PushNameSetting) {
	if !e.FromFullSync {
		m.notePhoneSeen(c.lineID)
	}
	name := e.Action.GetName()
	if name == "" || !m.isLive(c) {
		return
	}
	if err := m.lines.SetPushName(m.ctx, c.lineID, name); err != nil {
		m.log.Warn("Recording a changed profile name failed", "line_id", c.lineID, "error", err)
		return
	}
	m.mu.Lock()
	if rt := m.runtimes[c.lineID]; rt != nil {
		rt.cached = nil
	}
	m.mu.Unlock()
}
