package bridge

import (
	"context"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waE2E"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/bbcode"
	"github.com/wabridge/b24wa/connector/wa"
)

// outJob is one claimed outbound delivery being sent.
type outJob struct {
	line *connector.Line
	sess wa.Session
	d    connector.Delivery
	p    *outPayload
	chat *connector.Chat
	to   types.JID
	stop context.Context // cancelled on Close; ends pacing waits early
}

// runOutbound is one round of a line's outbound worker. It runs only while
// the line's session is live on this instance and sends the claimed chat
// heads one after another, paced per WhatsApp number. On Close it stops
// between deliveries; the ones it did not start are unlocked at LockTTL.
func (b *Bridge) runOutbound(stop context.Context, lineID uint64) int {
	if stop.Err() != nil {
		return 0
	}
	ctx := context.WithoutCancel(stop)
	sess, ok := b.session(lineID)
	if !ok {
		return 0
	}
	var line connector.Line
	if err := b.db.WithContext(ctx).Where("id = ?", lineID).Take(&line).Error; err != nil {
		b.log.ErrorContext(ctx, "Load line failed", "line_id", lineID, "error", err)
		return 0
	}
	ds, err := b.claim(ctx, dirOut, "line_id", lineID, b.opts.BatchSize)
	if err != nil {
		b.log.ErrorContext(ctx, "Claim outbound deliveries failed", "line_id", lineID, "error", err)
		return 0
	}
	for _, d := range ds {
		if stop.Err() != nil {
			break // the lock expires and the delivery is claimed again
		}
		b.sendOutbound(ctx, &outJob{line: &line, sess: sess, d: d, stop: stop})
	}
	return len(ds)
}

func (b *Bridge) sendOutbound(ctx context.Context, j *outJob) {
	p, err := decodeOut(&j.d)
	if err != nil {
		b.settle(ctx, j.line, j.d, b.fail(ctx, &j.d, err))
		return
	}
	j.p = p
	j.chat, err = b.chatByPerson(ctx, j.line.ID, p.ChatExtID)
	if err == nil {
		j.to, err = types.ParseJID(j.chat.WaChatJID)
	}
	if err == nil {
		switch j.d.Kind {
		case kindMessage:
			err = b.sendOperatorMessage(ctx, j)
		case kindEdit:
			err = b.sendEdit(ctx, j)
		case kindRevoke:
			err = b.sendRevoke(ctx, j)
		default:
			err = fmt.Errorf("unknown outbound kind %q", j.d.Kind)
		}
	}
	if err != nil {
		b.outboundFailed(ctx, j, err)
	}
}

// outboundFailed settles a failed send. A failure that retrying cannot fix
// ends the delivery with a note to the operator. Error 463 gets one retry
// first, and any other error is retried with backoff up to MaxAttempts.
func (b *Bridge) outboundFailed(ctx context.Context, j *outJob, err error) {
	if errors.Is(err, errLockLost) {
		return
	}
	if errors.Is(err, wa.ErrReachoutTimelock) && j.p != nil && j.p.TimelockRetries < 1 {
		j.p.TimelockRetries++
		if saveErr := b.savePayload(ctx, j); saveErr != nil {
			b.settle(ctx, j.line, j.d, saveErr)
			return
		}
		b.settle(ctx, j.line, j.d, b.retry(ctx, &j.d, err, b.opts.InactiveRetry, true))
		return
	}
	if key := noteKey(err); key != "" || j.d.Attempts+1 >= b.opts.MaxAttempts {
		if key == "" {
			key = "bridge.note.failed"
		}
		b.noteOnce(ctx, j, key)
		b.settle(ctx, j.line, j.d, b.fail(ctx, &j.d, err))
		return
	}
	b.log.WarnContext(ctx, "Send to WhatsApp failed, will retry", "line_id", j.line.ID,
		"b24_message_id", j.d.SourceID, "attempt", j.d.Attempts+1, "error", err)
	b.settle(ctx, j.line, j.d, b.retry(ctx, &j.d, err, b.backoff(j.d.Attempts), true))
}

// noteKey returns the operator note for a failure that retrying cannot fix,
// or "" for a failure worth retrying.
func noteKey(err error) string {
	switch {
	case errors.Is(err, wa.ErrReachoutTimelock):
		return "bridge.note.timelock"
	case errors.Is(err, wa.ErrNotOnWhatsApp):
		return "bridge.note.not_on_whatsapp"
	case errors.Is(err, wa.ErrNoLID):
		return "bridge.note.no_lid"
	case errors.Is(err, ErrChatNotFound):
		return "bridge.note.chat_unknown"
	case errors.Is(err, ErrEditWindow):
		return "bridge.note.edit_too_old"
	case errors.Is(err, ErrRevokeWindow):
		return "bridge.note.revoke_too_old"
	case errors.Is(err, ErrUnknownMessage):
		return "bridge.note.unknown_message"
	case errors.Is(err, ErrLineNotConnected):
		return "bridge.note.line_logged_out"
	}
	return ""
}

// sendOperatorMessage sends the text and files of an operator message, then
// confirms the delivery to Bitrix24. Each part's WhatsApp id is stored before
// the first attempt, so a send repeated after a crash reuses the id and the
// recipient's phone drops the duplicate.
func (b *Bridge) sendOperatorMessage(ctx context.Context, j *outJob) error {
	if err := b.plan(ctx, j); err != nil {
		return err
	}
	for i := range j.p.Parts {
		part := &j.p.Parts[i]
		if part.Sent || deferredSignature(j.p, part) {
			continue
		}
		if err := b.sendPart(ctx, j, part); err != nil {
			return err
		}
		part.Sent = true
		if err := b.savePayload(ctx, j); err != nil {
			return err
		}
	}
	if err := b.dropDeferredSignature(ctx, j); err != nil {
		return err
	}
	if !j.p.Sent {
		j.p.Sent = true
		if err := b.savePayload(ctx, j); err != nil {
			return err
		}
		b.markCustomerRead(ctx, j)
	}
	ids := j.p.sentIDs()
	if len(ids) > 0 {
		if err := b.confirmDelivery(ctx, j, ids); err != nil {
			return err
		}
	}
	return b.finish(ctx, &j.d, firstOf(ids...))
}

// sentIDs lists the ids of the parts that reached WhatsApp; files skipped
// with a note have no id.
func (p *outPayload) sentIDs() []string {
	var ids []string
	for _, part := range p.Parts {
		if part.Sent && part.WaID != "" {
			ids = append(ids, part.WaID)
		}
	}
	return ids
}

// sendPart sends one planned part. A file that cannot be fetched from the
// portal for good is skipped with a note, so the rest still goes out.
func (b *Bridge) sendPart(ctx context.Context, j *outJob, part *outPart) error {
	var msg *waE2E.Message
	if part.File < 0 {
		msg = &waE2E.Message{Conversation: proto.String(bbcode.ToWhatsApp(j.p.Text))}
	} else {
		f := j.p.Files[part.File]
		m, err := b.fileMessage(ctx, j, f)
		if isFileProblem(err) {
			b.log.WarnContext(ctx, "Operator file not sent", "line_id", j.line.ID, "file", f.Name, "error", err)
			b.noteOnce(ctx, j, "bridge.note.file_failed", f.Name)
			part.WaID = ""
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.sendDeferredSignature(ctx, j); err != nil {
			return err
		}
		msg = m
	}
	b.pace(j.stop, j.line.ID)
	_, err := j.sess.Send(ctx, j.to, msg, wa.SendOptions{ID: part.WaID})
	if err != nil {
		return fmt.Errorf("send message %s: %w", part.WaID, err)
	}
	return nil
}

// savePayload writes the job's payload back to its delivery.
func (b *Bridge) savePayload(ctx context.Context, j *outJob) error {
	payload, err := encodePayload(j.p)
	if err != nil {
		return err
	}
	j.d.Payload = payload
	return b.update(ctx, &j.d, map[string]any{"payload": payload})
}
