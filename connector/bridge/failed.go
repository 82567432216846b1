package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/portal"
)

// Interfaces the bridge implements for the session manager and the
// Bitrix24 event dispatcher, and those it consumes from them.
var (
	_ connector.MessageSink     = (*Bridge)(nil)
	_ portal.ConnectorEventSink = (*Bridge)(nil)
	_ Caller                    = (*portal.Client)(nil)
	_ Sessions                  = connector.Sessions(nil)
	_ LineEvents                = (*connector.Manager)(nil)
)

// FailedDelivery is a message that could not be delivered, for the
// settings page.
type FailedDelivery struct {
	ID        uint64
	Direction string // "in": WhatsApp to Bitrix24; "out": Bitrix24 to WhatsApp
	Kind      string
	ChatKey   string // the customer's person id
	Excerpt   string
	LastError string
	Attempts  int
	CreatedAt time.Time
	FailedAt  time.Time
}

// Failed lists the failed deliveries of a line (lines.id), newest first, at
// most 200. They stay stored until Retry or the line is deleted.
func (b *Bridge) Failed(ctx context.Context, lineID uint64) ([]FailedDelivery, error) {
	var ds []connector.Delivery
	err := b.db.WithContext(ctx).Where("line_id = ? AND state = ?", lineID, connector.DeliveryFailed).
		Order("updated_at DESC, id DESC").Limit(200).Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("list failed deliveries of line %d: %w", lineID, err)
	}
	out := make([]FailedDelivery, 0, len(ds))
	for _, d := range ds {
		f := FailedDelivery{
			ID: d.ID, Direction: d.Direction, Kind: d.Kind, ChatKey: d.ChatKey, Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, FailedAt: d.UpdatedAt, Excerpt: payloadExcerpt(d),
		}
		if d.LastError != nil {
			f.LastError = *d.LastError
		}
		out = append(out, f)
	}
	return out, nil
}

func payloadExcerpt(d connector.Delivery) string {
	var p struct {
		Text    string `json:"text"`
		Excerpt string `json:"excerpt"`
	}
	_ = json.Unmarshal([]byte(d.Payload), &p)
	return excerpt(firstOf(p.Excerpt, p.Text))
}

// Retry queues a failed delivery of the line again, for example after the
// administrator re-activated the open line or re-scanned the number.
func (b *Bridge) Retry(ctx context.Context, lineID, deliveryID uint64) error {
	res := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("id = ? AND line_id = ? AND state = ?", deliveryID, lineID, connector.DeliveryFailed).
		Updates(map[string]any{"state": connector.DeliveryPending, "attempts": 0, "next_attempt_at": b.now(), "updated_at": b.now()})
	if res.Error != nil {
		return fmt.Errorf("retry delivery %d: %w", deliveryID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("retry delivery %d of line %d: %w", deliveryID, lineID, ErrDeliveryNotFound)
	}
	b.wake()
	return nil
}
