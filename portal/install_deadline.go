package portal

import (
	"context"
	"errors"
	"fmt"
)

// deadlineError marks err as a timeout when the install's deadline has
// passed, so that errors.Is(err, context.DeadlineExceeded) holds even when
// the client reported an earlier failure of a retried call. The step of an
// InstallError in err's chain is kept, because it names what timed out.
func (in *Installer) deadlineError(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	var ie *InstallError
	if errors.As(err, &ie) {
		return &InstallError{Step: ie.Step, Err: in.timedOut(ie.Err)}
	}
	return in.timedOut(err)
}

func (in *Installer) timedOut(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("install did not finish within %s: %w", in.opts.Timeout, err)
	}
	return fmt.Errorf("install did not finish within %s (%w): %w", in.opts.Timeout, context.DeadlineExceeded, err)
}

// proofStep is the install step a failed proveMember belongs to: a missing
// refresh token is a defect of the request, everything else of verification.
func proofStep(err error) string {
	if errors.Is(err, ErrInstallMissingField) {
		return StepRequest
	}
	return StepVerify
}
