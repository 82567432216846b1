package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// Bitrix24 methods of the inbound direction, one per delivery kind.
var inboundMethods = map[string]string{
	kindMessage: "imconnector.send.messages",
	kindUpdate:  "imconnector.update.messages",
	kindDelete:  "imconnector.delete.messages",
	kindRead:    "imconnector.send.status.reading",
}

// runInbound is one round of a portal's inbound worker: it claims the heads
// of up to BatchSize chats and sends them, one call per line and kind. It
// returns the number of deliveries it handled. A round that started runs to
// its end on Close, so no call to Bitrix24 is cut off after it was sent.
func (b *Bridge) runInbound(stop context.Context, portalID uint64) int {
	if stop.Err() != nil {
		return 0
	}
	ctx := context.WithoutCancel(stop)
	ds, err := b.claim(ctx, dirIn, "portal_id", portalID, b.opts.BatchSize)
	if err != nil {
		b.log.ErrorContext(ctx, "Claim inbound deliveries failed", "portal_id", portalID, "error", err)
		return 0
	}
	if len(ds) == 0 {
		return 0
	}
	lines, err := b.linesByID(ctx, ds)
	if err != nil {
		b.log.ErrorContext(ctx, "Load lines of deliveries failed", "portal_id", portalID, "error", err)
		return 0
	}
	for _, g := range groupDeliveries(ds) {
		line, ok := lines[g[0].LineID]
		if !ok {
			continue // the line was deleted with its deliveries
		}
		b.sendInbound(ctx, &line, g)
	}
	return len(ds)
}

// groupDeliveries splits deliveries by line and kind, keeping their order.
func groupDeliveries(ds []connector.Delivery) [][]connector.Delivery {
	index := map[string]int{}
	var groups [][]connector.Delivery
	for _, d := range ds {
		key := fmt.Sprintf("%d/%s", d.LineID, d.Kind)
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], d)
	}
	return groups
}

func (b *Bridge) linesByID(ctx context.Context, ds []connector.Delivery) (map[uint64]connector.Line, error) {
	ids := make([]uint64, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.LineID)
	}
	var lines []connector.Line
	if err := b.db.WithContext(ctx).Where("id IN ?", ids).Find(&lines).Error; err != nil {
		return nil, err
	}
	out := make(map[uint64]connector.Line, len(lines))
	for _, l := range lines {
		out[l.ID] = l
	}
	return out, nil
}

// pendingIn is a claimed inbound delivery with what its element needs.
type pendingIn struct {
	d    connector.Delivery
	p    *inPayload
	chat *connector.Chat
}

// sendInbound sends one group of deliveries of a line and kind in one call
// and settles each delivery by its own element's result.
func (b *Bridge) sendInbound(ctx context.Context, line *connector.Line, ds []connector.Delivery) {
	var items []pendingIn
	var elems []any
	for _, d := range ds {
		it, elem, err := b.prepareIn(ctx, d)
		if err != nil {
			b.settle(ctx, line, d, b.fail(ctx, &d, err))
			continue
		}
		if len(elem) == 0 {
			b.settle(ctx, line, d, b.finish(ctx, &d, ""))
			continue
		}
		items = append(items, it)
		elems = append(elems, elem...)
	}
	if len(items) == 0 {
		return
	}

	method := inboundMethods[ds[0].Kind]
	params := map[string]any{"CONNECTOR": line.ConnectorID, "LINE": line.LineID, "MESSAGES": elems}
	var raw json.RawMessage
	err := b.opts.Caller.Call(ctx, line.PortalID, method, params, &raw)
	if err == nil {
		err = checkTopLevel(raw)
	}
	if err != nil {
		b.inboundCallFailed(ctx, line, items, err)
		return
	}
	b.markLineActive(ctx, line)
	if ds[0].Kind == kindRead {
		for _, it := range items {
			b.settle(ctx, line, it.d, b.finish(ctx, &it.d, ""))
		}
		return
	}
	results := decodeElements(raw)
	for i, it := range items {
		b.settleElement(ctx, line, it, results, i)
	}
}

// settle logs an error of settling a delivery; the lock expiry recovers it.
func (b *Bridge) settle(ctx context.Context, line *connector.Line, d connector.Delivery, err error) {
	if err != nil {
		b.log.ErrorContext(ctx, "Update delivery state failed", "line_id", line.ID, "delivery_id", d.ID, "error", err)
	}
}

// inboundCallFailed handles a failure of the whole call. NOT_ACTIVE_LINE
// keeps the messages queued and polls slowly until the open line is active
// again. A permanent error of a multi-message call is retried message by
// message, so one bad message does not hold back the others. Any other
// error is retried with backoff.
func (b *Bridge) inboundCallFailed(ctx context.Context, line *connector.Line, items []pendingIn, err error) {
	switch {
	case isInactiveLine(err):
		b.markLineInactive(ctx, line, err)
		for _, it := range items {
			b.settle(ctx, line, it.d, b.retry(ctx, &it.d, err, b.opts.InactiveRetry, false))
		}
	case isPermanent(err) && len(items) > 1:
		for _, it := range items {
			b.sendInbound(ctx, line, []connector.Delivery{it.d})
		}
	case isPermanent(err):
		b.settle(ctx, line, items[0].d, b.fail(ctx, &items[0].d, err))
	default:
		b.log.WarnContext(ctx, "Send to Bitrix24 failed, will retry", "portal_id", line.PortalID,
			"line_id", line.ID, "count", len(items), "error", err)
		for _, it := range items {
			b.settle(ctx, line, it.d, b.retry(ctx, &it.d, err, b.backoff(it.d.Attempts), true))
		}
	}
}

// isInactiveLine reports errors after which the line must be activated in
// Contact Center before messages can go through.
func isInactiveLine(err error) bool {
	return portal.IsCode(err, portal.CodeNotActiveLine) || portal.IsCode(err, "IMCONNECTOR_NO_CORRECT_PROVIDER")
}

// isPermanent reports errors that repeating the same request cannot fix:
// Bitrix24's 400 argument errors, an unknown method and an uninstalled app.
// Token, rate-limit, server and network failures are not permanent.
func isPermanent(err error) bool {
	if errors.Is(err, portal.ErrPortalUninstalled) {
		return true
	}
	var apiErr *portal.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.HTTPStatus == 400 || apiErr.Code == portal.CodeMethodNotFound
}

func (b *Bridge) markLineInactive(ctx context.Context, line *connector.Line, cause error) {
	res := b.db.WithContext(ctx).Model(&connector.Line{}).Where("id = ? AND b24_active = ?", line.ID, true).
		Updates(map[string]any{"b24_active": false, "updated_at": b.now()})
	if res.Error == nil && res.RowsAffected > 0 {
		b.log.WarnContext(ctx, "Open line is not active in Bitrix24; messages wait", "portal_id", line.PortalID,
			"line_id", line.ID, "error", cause)
	}
	line.B24Active = false
}

func (b *Bridge) markLineActive(ctx context.Context, line *connector.Line) {
	if line.B24Active {
		return
	}
	res := b.db.WithContext(ctx).Model(&connector.Line{}).Where("id = ? AND b24_active = ?", line.ID, false).
		Updates(map[string]any{"b24_active": true, "updated_at": b.now()})
	if res.Error == nil && res.RowsAffected > 0 {
		b.log.InfoContext(ctx, "Open line accepts messages again", "portal_id", line.PortalID, "line_id", line.ID)
	}
	line.B24Active = true
}

// checkTopLevel turns the SUCCESS:false result of older Bitrix24 servers
// into an error. NOT_ACTIVE_LINE in it becomes the same APIError that newer
// servers return with HTTP 400.
func checkTopLevel(raw json.RawMessage) error {
	var top struct {
		Success flexBool `json:"SUCCESS"`
	}
	if err := json.Unmarshal(raw, &top); err != nil || !top.Success.set || top.Success.value {
		return nil
	}
	text := string(raw)
	if strings.Contains(text, portal.CodeNotActiveLine) {
		return &portal.APIError{HTTPStatus: 200, Code: portal.CodeNotActiveLine, Description: "SUCCESS false"}
	}
	return &portal.APIError{HTTPStatus: 200, Code: "SUCCESS_FALSE", Description: truncate(text, 300)}
}
