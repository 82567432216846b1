package connector

import (
	"context"
	"fmt"
	"strconv"
)

// Bitrix24 methods of the connector's line activation.
const (
	methodActivate = "imconnector.activate"
	methodDataSet  = "imconnector.connector.data.set"
	methodStatus   = "imconnector.status"
)

// ActivateInBitrix activates a linked line in Bitrix24 again after the
// connector was disconnected from it in Contact Center, and lets the repair
// loop keep it active from then on. It returns ErrNotLinked for a line
// without a device and the REST error of a failed call.
func (m *Manager) ActivateInBitrix(ctx context.Context, lineID uint64) error {
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return err
	}
	if line.WaJID == "" {
		return fmt.Errorf("activate line %d in Bitrix24: %w", lineID, ErrNotLinked)
	}
	if err := m.lines.SetB24Detached(ctx, lineID, nil); err != nil {
		return err
	}
	return m.activateLine(ctx, line)
}

func (m *Manager) activateByID(ctx context.Context, lineID uint64) error {
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return err
	}
	return m.activateLine(ctx, line)
}

// activateLine enables the connector on the open line and then describes
// the channel with the full DATA object, because data.set merges into what
// the portal stored before. In this order the portal routes the line's
// messages; data.set before activate leaves the line looking configured but
// inactive. Success sets b24_active.
func (m *Manager) activateLine(ctx context.Context, line *Line) error {
	if m.opts.B24 == nil {
		return nil
	}
	connector := m.connectorOf(line)
	err := m.opts.B24.Call(ctx, line.PortalID, methodActivate, map[string]any{
		"CONNECTOR": connector,
		"LINE":      lineParam(line.LineID),
		"ACTIVE":    1,
	}, nil)
	if err != nil {
		return fmt.Errorf("activate line %d in Bitrix24: %w", line.ID, err)
	}

	url := "https://wa.me/" + line.Phone
	err = m.opts.B24.Call(ctx, line.PortalID, methodDataSet, map[string]any{
		"CONNECTOR": connector,
		"LINE":      lineParam(line.LineID),
		"DATA": map[string]any{
			"ID":     line.Phone,
			"URL":    url,
			"URL_IM": url,
			"NAME":   "WhatsApp +" + line.Phone,
		},
	}, nil)
	if err != nil {
		return fmt.Errorf("describe line %d in Bitrix24: %w", line.ID, err)
	}

	if err := m.lines.SetB24Active(ctx, line.ID, true); err != nil {
		return err
	}
	m.log.Info("Line activated in Bitrix24", "line_id", line.ID, "portal_id", line.PortalID)
	return nil
}

func (m *Manager) deactivateByID(ctx context.Context, lineID uint64) error {
	line, err := m.lines.Get(ctx, lineID)
	if err != nil {
		return err
	}
	return m.deactivateLine(ctx, line)
}

// deactivateLine disables the connector on the open line, so operators see
// it disconnected, and clears b24_active.
func (m *Manager) deactivateLine(ctx context.Context, line *Line) error {
	if m.opts.B24 == nil {
		return nil
	}
	err := m.opts.B24.Call(ctx, line.PortalID, methodActivate, map[string]any{
		"CONNECTOR": m.connectorOf(line),
		"LINE":      lineParam(line.LineID),
		"ACTIVE":    0,
	}, nil)
	if err != nil {
		return fmt.Errorf("deactivate line %d in Bitrix24: %w", line.ID, err)
	}
	if err := m.lines.SetB24Active(ctx, line.ID, false); err != nil {
		return err
	}
	m.log.Info("Line deactivated in Bitrix24", "line_id", line.ID, "portal_id", line.PortalID)
	return nil
}

// checkBitrixStatus calls imconnector.status to check that the portal routes
// the line, and activates the line again when STATUS is false.
func (m *Manager) checkBitrixStatus(ctx context.Context, line *Line) error {
	var status struct {
		Status bool `json:"STATUS"`
	}
	err := m.opts.B24.Call(ctx, line.PortalID, methodStatus, map[string]any{
		"CONNECTOR": m.connectorOf(line),
		"LINE":      lineParam(line.LineID),
	}, &status)
	if err != nil {
		return fmt.Errorf("check line %d in Bitrix24: %w", line.ID, err)
	}
	if status.Status {
		return nil
	}
	m.log.Warn("Bitrix24 reports an active line as not working; activating it again", "line_id", line.ID, "portal_id", line.PortalID)
	return m.activateLine(ctx, line)
}

func (m *Manager) connectorOf(line *Line) string {
	if line.ConnectorID != "" {
		return line.ConnectorID
	}
	return m.opts.ConnectorID
}

// lineParam sends a numeric open line id as a JSON number, the form of the
// Bitrix24 documentation, and any other id as a string.
func lineParam(lineID string) any {
	if n, err := strconv.ParseUint(lineID, 10, 64); err == nil {
		return n
	}
	return lineID
}
