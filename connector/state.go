package connector

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// phoneSeenEvery throttles writes of lines.phone_seen_at per line.
const phoneSeenEvery = time.Minute

// lineCacheTTL bounds how stale the line handed to the message sink may be,
// for example after the settings page enabled groups.
const lineCacheTTL = 10 * time.Second

func (m *Manager) handlerFor(c *client) wa.EventHandler {
	return func(evt any) error { return m.handleEvent(c, evt) }
}

// handleEvent routes one event of a client. Content goes to the sink and
// its error goes back to the backend, so an unstored message is not acked.
func (m *Manager) handleEvent(c *client, evt any) error {
	switch e := evt.(type) {
	case *events.Message:
		if e.Info.IsFromMe {
			m.notePhoneSeen(c.lineID)
		}
		return m.forward(c, evt)
	case *events.Receipt:
		if e.IsFromMe {
			m.notePhoneSeen(c.lineID)
		}
		return m.forward(c, evt)
	case *events.UndecryptableMessage, *events.HistorySync, *events.MediaRetry:
		return m.forward(c, evt)
	case *events.AppState:
		m.notePhoneSeen(c.lineID)
	case *events.PushNameSetting:
		m.onPushName(c, e)
	default:
		m.handleStateEvent(c, evt)
	}
	return nil
}

// handleStateEvent turns connection events of a line's live client into
// line states. Events of pairing devices and replaced clients are ignored:
// the pairing channel reports what matters there.
func (m *Manager) handleStateEvent(c *client, evt any) {
	if !m.isLive(c) {
		return
	}
	ctx := m.ctx
	switch e := evt.(type) {
	case *events.Connected:
		m.refreshConnected(ctx, c)
	case *events.Disconnected:
		if m.stateIn(c.lineID, StateConnected, StateConnecting, StateReconnecting) {
			m.setLineState(ctx, c.lineID, StateReconnecting, "disconnected", nil)
			m.scheduleConnect(c.lineID, time.Time{})
		}
	case *events.KeepAliveTimeout:
		if m.stateIn(c.lineID, StateConnected) {
			m.setLineState(ctx, c.lineID, StateReconnecting, "keepalive_timeout", nil)
		}
	case *events.KeepAliveRestored:
		if m.stateIn(c.lineID, StateReconnecting) {
			m.refreshConnected(ctx, c)
		}
	case *events.LoggedOut:
		m.onLoggedOut(c, loggedOutReason(e))
	case *events.StreamReplaced:
		m.onStreamReplaced(ctx, c)
	case *events.TemporaryBan:
		m.onTemporaryBan(ctx, c, fmt.Sprintf("temp_ban_%d", int(e.Code)), e.Expire)
	case *events.ClientOutdated:
		m.onClientOutdated(ctx, c)
	case *events.ConnectFailure:
		m.onConnectFailure(ctx, c, e)
	case *events.CATRefreshError:
		m.setLineState(ctx, c.lineID, StateDisconnected, "cat_refresh_failed", nil)
		m.scheduleConnect(c.lineID, time.Time{})
	}
}

// refreshConnected records connected only while the socket is up and the
// device is logged in, as WhatsApp may keep a socket of a removed device.
func (m *Manager) refreshConnected(ctx context.Context, c *client) {
	connected, loggedIn := c.session.IsConnected(), c.session.IsLoggedIn()
	switch {
	case connected && loggedIn:
		m.setLineState(ctx, c.lineID, StateConnected, "", nil)
		m.mu.Lock()
		if rt := m.runtimes[c.lineID]; rt != nil {
			rt.needConnect = false
			rt.retryDelay = 0
		}
		m.mu.Unlock()
	case connected:
		m.log.Warn("Connected socket of a device that is not logged in", "line_id", c.lineID)
		m.setLineState(ctx, c.lineID, StateConnecting, "not_logged_in", nil)
	default:
		m.setLineState(ctx, c.lineID, StateConnecting, "", nil)
	}
}

// onStreamReplaced stops a client that another one replaced. When another
// instance took the lease over, this instance only lets go. Otherwise the
// line waits in stream_replaced for Reconnect.
func (m *Manager) onStreamReplaced(ctx context.Context, c *client) {
	lease, err := m.leases.get(ctx, c.lineID)
	if err == nil && (lease == nil || lease.Owner != m.opts.InstanceID) {
		m.leaseLost(c.lineID)
		return
	}
	m.log.Warn("Another client connected with the keys of a line; not reconnecting", "line_id", c.lineID)
	m.setLineState(ctx, c.lineID, StateStreamReplaced, "stream_replaced", nil)
	m.mu.Lock()
	if rt := m.runtimes[c.lineID]; rt != nil {
		rt.needConnect = false
	}
	m.mu.Unlock()
	// Disconnect now, not in the background, so it cannot close a later
	// Reconnect. whatsmeow dispatches StreamReplaced on its own goroutine.
	c.session.Disconnect()
}

// onTemporaryBan records the ban with its end and reconnects after it; a
// ban without a known end is retried after an hour.
func (m *Manager) onTemporaryBan(ctx context.Context, c *client, reason string, expire time.Duration) {
	var until *time.Time
	retryAt := m.now().Add(time.Hour)
	if expire > 0 {
		end := m.now().Add(expire)
		until, retryAt = &end, end
	}
	m.log.Warn("WhatsApp temporarily banned a line's number", "line_id", c.lineID, "reason", reason, "expires_in", expire)
	m.setLineState(ctx, c.lineID, StateTemporaryBan, reason, until)
	m.scheduleConnect(c.lineID, retryAt)
}

func (m *Manager) onClientOutdated(ctx context.Context, c *client) {
	m.log.Error("WhatsApp rejected the client version as outdated; upgrade whatsmeow and restart", "line_id", c.lineID)
	m.setLineState(ctx, c.lineID, StateClientOutdated, "client_outdated", nil)
	m.mu.Lock()
	if rt := m.runtimes[c.lineID]; rt != nil {
		rt.needConnect = false
	}
	m.mu.Unlock()
}

// onConnectFailure keeps the keys on every failure except 401, 403 and 406,
// which are real logouts.
func (m *Manager) onConnectFailure(ctx context.Context, c *client, e *events.ConnectFailure) {
	reason := fmt.Sprintf("connect_failure_%d", int(e.Reason))
	switch {
	case e.Reason.IsLoggedOut():
		m.onLoggedOut(c, reason)
	case e.Reason == events.ConnectFailureClientOutdated:
		m.onClientOutdated(ctx, c)
	case e.Reason == events.ConnectFailureTempBanned:
		m.onTemporaryBan(ctx, c, reason, 0)
	case e.Reason >= 500:
		m.log.Warn("WhatsApp refused a connection for now; reconnecting", "line_id", c.lineID, "reason", int(e.Reason))
		m.setLineState(ctx, c.lineID, StateReconnecting, reason, nil)
		m.scheduleConnect(c.lineID, time.Time{})
	default:
		m.log.Warn("WhatsApp refused a connection; retrying later", "line_id", c.lineID, "reason", int(e.Reason), "message", e.Message)
		m.setLineState(ctx, c.lineID, StateDisconnected, reason, nil)
		m.scheduleConnect(c.lineID, time.Time{})
	}
}

func loggedOutReason(e *events.LoggedOut) string {
	if !e.OnConnect {
		return ReasonPhone
	}
	return fmt.Sprintf("connect_failure_%d", int(e.Reason))
}

// setLineState writes a state and remembers it for guards and metrics.
func (m *Manager) setLineState(ctx context.Context, lineID uint64, state, reason string, until *time.Time) {
	if err := m.lines.SetState(ctx, lineID, state, reason, until); err != nil {
		m.log.Error("Recording a line state failed", "line_id", lineID, "state", state, "error", err)
		return
	}
	if previous := m.noteState(lineID, state); previous != state {
		m.log.Info("Line state changed", "line_id", lineID, "state", state, "reason", reason, "previous", previous)
	}
}

// noteState remembers the state written for a line and returns the one
// before it.
func (m *Manager) noteState(lineID uint64, state string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimeLocked(lineID)
	previous := rt.state
	rt.state = state
	rt.cached = nil
	return previous
}

func (m *Manager) stateIn(lineID uint64, states ...string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt := m.runtimes[lineID]
	if rt == nil {
		return false
	}
	for _, s := range states {
		if rt.state == s {
			return true
		}
	}
	return false
}
