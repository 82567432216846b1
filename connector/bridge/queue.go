package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/wabridge/b24wa/connector"
)

// Directions of a delivery.
const (
	dirIn  = "in"  // WhatsApp to Bitrix24
	dirOut = "out" // Bitrix24 to WhatsApp
)

// openStates are the states of deliveries that still have work to do.
var openStates = []string{connector.DeliveryPending, connector.DeliveryInFlight}

// enqueue stores d unless a delivery with the same line, direction, kind and
// source id exists. It reports whether d was inserted.
func (b *Bridge) enqueue(ctx context.Context, d *connector.Delivery) (bool, error) {
	now := b.now()
	d.State = connector.DeliveryPending
	d.NextAttemptAt = now
	d.CreatedAt, d.UpdatedAt = now, now
	d.SeqAt = d.SeqAt.UTC().Truncate(time.Microsecond)
	res := b.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(d)
	if res.Error != nil {
		return false, fmt.Errorf("store %s delivery %s/%s: %w", d.Direction, d.Kind, d.SourceID, res.Error)
	}
	if res.RowsAffected > 0 {
		b.wake()
	}
	return res.RowsAffected > 0, nil
}

// exists reports whether a delivery with this key is stored.
func (b *Bridge) exists(ctx context.Context, lineID uint64, direction, kind, sourceID string) (bool, error) {
	var n int64
	err := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("line_id = ? AND direction = ? AND kind = ? AND source_id = ?", lineID, direction, kind, sourceID).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up delivery %s/%s: %w", kind, sourceID, err)
	}
	return n > 0, nil
}

// duePortals lists the portals with inbound deliveries that are due now.
func (b *Bridge) duePortals(ctx context.Context) ([]uint64, error) {
	var ids []uint64
	now := b.now()
	err := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("direction = ? AND state IN ? AND next_attempt_at <= ?", dirIn, openStates, now).
		Where("locked_until IS NULL OR locked_until <= ?", now).
		Distinct().Pluck("portal_id", &ids).Error
	return ids, err
}

// dueLines lists the lines with outbound deliveries that are due now.
func (b *Bridge) dueLines(ctx context.Context) ([]connector.Line, error) {
	var ids []uint64
	now := b.now()
	err := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("direction = ? AND state IN ? AND next_attempt_at <= ?", dirOut, openStates, now).
		Where("locked_until IS NULL OR locked_until <= ?", now).
		Distinct().Pluck("line_id", &ids).Error
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var lines []connector.Line
	err = b.db.WithContext(ctx).Where("id IN ?", ids).Find(&lines).Error
	return lines, err
}

// claim locks up to limit due deliveries in one direction of one portal or
// line. Only the head of each chat (the oldest open delivery by seq_at, then
// id) can be claimed, so a chat's next message waits until the previous one
// is done or failed. The lock is an UPDATE guarded by the lock's expiry, so
// two instances never hold the same delivery.
func (b *Bridge) claim(ctx context.Context, direction, scope string, scopeID uint64, limit int) ([]connector.Delivery, error) {
	now := b.now()
	db := b.db.WithContext(ctx)
	var ids []uint64
	err := db.Raw(`SELECT d.id FROM deliveries d
WHERE d.`+scope+` = ? AND d.direction = ? AND d.state IN ? AND d.next_attempt_at <= ?
  AND (d.locked_until IS NULL OR d.locked_until <= ?)
  AND NOT EXISTS (SELECT 1 FROM deliveries e
    WHERE e.line_id = d.line_id AND e.direction = d.direction AND e.chat_key = d.chat_key
      AND e.state IN ? AND (e.seq_at < d.seq_at OR (e.seq_at = d.seq_at AND e.id < d.id)))
ORDER BY d.seq_at, d.id LIMIT ?`, scopeID, direction, openStates, now, now, openStates, limit).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return nil, err
	}

	token := lockToken(b.opts.InstanceID)
	err = db.Model(&connector.Delivery{}).
		Where("id IN ? AND state IN ?", ids, openStates).
		Where("locked_until IS NULL OR locked_until <= ?", now).
		Updates(map[string]any{
			"state": connector.DeliveryInFlight, "locked_by": token,
			"locked_until": now.Add(b.opts.LockTTL), "updated_at": now,
		}).Error
	if err != nil {
		return nil, fmt.Errorf("lock deliveries: %w", err)
	}

	var claimed []connector.Delivery
	err = db.Where("id IN ? AND locked_by = ?", ids, token).Order("seq_at, id").Find(&claimed).Error
	return claimed, err
}

func lockToken(instance string) string {
	return lockPrefix(instance) + randomHex(6)
}

// lockPrefix is the part of every lock token that names the instance.
func lockPrefix(instance string) string {
	if len(instance) > 48 {
		instance = instance[:48]
	}
	return instance + "/"
}

// releaseOwnLocks makes the deliveries that an earlier process with this
// InstanceID left in flight due again at once, instead of after LockTTL:
// that process died, because two live processes never share an InstanceID
// (line leases are held under it too). It returns how many it released.
func (b *Bridge) releaseOwnLocks(ctx context.Context) (int64, error) {
	prefix := lockPrefix(b.opts.InstanceID)
	res := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("state = ? AND SUBSTR(locked_by, 1, ?) = ?", connector.DeliveryInFlight, utf8.RuneCountInString(prefix), prefix).
		Updates(map[string]any{"state": connector.DeliveryPending, "locked_by": "", "locked_until": nil, "updated_at": b.now()})
	if res.Error != nil {
		return 0, fmt.Errorf("release deliveries locked by an earlier run of %s: %w", b.opts.InstanceID, res.Error)
	}
	return res.RowsAffected, nil
}

// update writes fields of a delivery this worker still holds. It returns
// errLockLost when the lock expired and another worker took it.
func (b *Bridge) update(ctx context.Context, d *connector.Delivery, fields map[string]any) error {
	fields["updated_at"] = b.now()
	res := b.db.WithContext(ctx).Model(&connector.Delivery{}).
		Where("id = ? AND locked_by = ?", d.ID, d.LockedBy).Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("update delivery %d: %w", d.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update delivery %d: %w", d.ID, errLockLost)
	}
	return nil
}

// errLockLost is returned by update when the delivery's lock was taken over.
var errLockLost = errors.New("delivery lock lost to another worker")

// finish marks a delivery done and unlocks it.
func (b *Bridge) finish(ctx context.Context, d *connector.Delivery, remoteID string) error {
	now := b.now()
	fields := map[string]any{
		"state": connector.DeliveryDone, "done_at": now, "locked_by": "", "locked_until": nil,
		"attempts": d.Attempts + 1, "last_error": nil,
	}
	if remoteID != "" {
		fields["remote_id"] = remoteID
	}
	return b.update(ctx, d, fields)
}

// retry unlocks a delivery to be tried again after delay. countAttempt is
// false for waits that are not the message's fault, such as an inactive
// open line.
func (b *Bridge) retry(ctx context.Context, d *connector.Delivery, cause error, delay time.Duration, countAttempt bool) error {
	attempts := d.Attempts
	if countAttempt {
		attempts++
	}
	msg := truncate(cause.Error(), 1000)
	return b.update(ctx, d, map[string]any{
		"state": connector.DeliveryPending, "attempts": attempts, "next_attempt_at": b.now().Add(delay),
		"last_error": msg, "locked_by": "", "locked_until": nil,
	})
}

// fail marks a delivery failed for good; it stays listed by Failed.
func (b *Bridge) fail(ctx context.Context, d *connector.Delivery, cause error) error {
	b.log.WarnContext(ctx, "Message delivery failed", "delivery_id", d.ID, "line_id", d.LineID,
		"direction", d.Direction, "kind", d.Kind, "source_id", d.SourceID, "error", cause)
	return b.update(ctx, d, map[string]any{
		"state": connector.DeliveryFailed, "attempts": d.Attempts + 1, "last_error": truncate(cause.Error(), 1000),
		"locked_by": "", "locked_until": nil,
	})
}

// backoff returns the delay before attempt number attempts+1: RetryBase
// doubled per attempt up to RetryMax, with up to half of it random.
func (b *Bridge) backoff(attempts int) time.Duration {
	d := b.opts.RetryBase
	for i := 0; i < attempts && d < b.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, b.opts.RetryMax)
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// isNotFound reports gorm's record-not-found error.
func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
