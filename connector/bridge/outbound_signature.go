package bridge

import (
	"context"
	"regexp"
	"strings"
)

// signatureOnly matches the text Bitrix24 sends for an operator message
// without text when the connector requests signatures: "[b]<name>:[/b]".
var signatureOnly = regexp.MustCompile(`(?i)^\[b\][^\[\]]+:\[/b\]$`)

// deferredSignature reports whether part is the text part of a message that
// carries files and no text but the operator signature. That part is sent
// just before the first file that can be sent, so a message whose files are
// all rejected sends the customer nothing.
func deferredSignature(p *outPayload, part *outPart) bool {
	return part.File < 0 && len(p.Files) > 0 && signatureOnly.MatchString(strings.TrimSpace(p.Text))
}

// sendDeferredSignature sends the deferred signature part, if it is still
// unsent, ahead of a file that is ready to go.
func (b *Bridge) sendDeferredSignature(ctx context.Context, j *outJob) error {
	for i := range j.p.Parts {
		part := &j.p.Parts[i]
		if part.Sent || !deferredSignature(j.p, part) {
			continue
		}
		if err := b.sendPart(ctx, j, part); err != nil {
			return err
		}
		part.Sent = true
		return b.savePayload(ctx, j)
	}
	return nil
}

// dropDeferredSignature marks a signature part that no file went out with
// as done without sending it. Like a skipped file, it gets no WhatsApp id.
func (b *Bridge) dropDeferredSignature(ctx context.Context, j *outJob) error {
	for i := range j.p.Parts {
		part := &j.p.Parts[i]
		if part.Sent || !deferredSignature(j.p, part) {
			continue
		}
		part.WaID, part.Sent = "", true
		return b.savePayload(ctx, j)
	}
	return nil
}
