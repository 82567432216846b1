package wa

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

func TestClassifySendError(t *testing.T) {
	to := types.NewJID("79119876543", types.DefaultUserServer)
	timelock := fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463)
	tests := []struct {
		name     string
		err      error
		want     []error
		wantCode int
	}{
		{"463", timelock, []error{ErrReachoutTimelock, whatsmeow.ErrServerReturnedError}, 463},
		{"wrapped 463", fmt.Errorf("send: %w", timelock), []error{ErrReachoutTimelock}, 463},
		{"other server error", fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 479), []error{whatsmeow.ErrServerReturnedError}, 479},
		{"no LID", fmt.Errorf("no LID found for %s from server", to), []error{ErrNoLID}, 0},
		{"not connected", whatsmeow.ErrNotConnected, []error{whatsmeow.ErrNotConnected}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassifySendError(tt.err)
			for _, want := range tt.want {
				if !errors.Is(got, want) {
					t.Errorf("ClassifySendError = %v, want it to wrap %v", got, want)
				}
			}
			if tt.wantCode != 463 && errors.Is(got, ErrReachoutTimelock) {
				t.Errorf("%v classified as reach-out timelock", tt.err)
			}
			if code := ServerErrorCode(got); code != tt.wantCode {
				t.Errorf("ServerErrorCode = %d, want %d", code, tt.wantCode)
			}
		})
	}
	if ClassifySendError(nil) != nil {
		t.Error("ClassifySendError(nil) is not nil")
	}
	twice := ClassifySendError(ClassifySendError(timelock))
	if twice.Error() != ClassifySendError(timelock).Error() {
		t.Errorf("classifying twice changed the error: %v", twice)
	}
	notOn := NotOnWhatsApp(ClassifySendError(fmt.Errorf("no LID found for %s from server", to)))
	if !errors.Is(notOn, ErrNotOnWhatsApp) || !errors.Is(notOn, ErrNoLID) {
		t.Errorf("NotOnWhatsApp = %v, want ErrNotOnWhatsApp and ErrNoLID", notOn)
	}
}

func TestClassifyPairPhoneError(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{whatsmeow.ErrPhoneNumberTooShort, ErrPhoneTooShort},
		{whatsmeow.ErrPhoneNumberIsNotInternational, ErrPhoneNotInternational},
		{&whatsmeow.IQError{Code: 429, Text: "rate-overlimit"}, ErrPairRateLimited},
	}
	for _, tt := range tests {
		got := ClassifyPairPhoneError(tt.err)
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) {
			t.Errorf("ClassifyPairPhoneError(%v) = %v, want %v wrapping the original", tt.err, got, tt.want)
		}
	}
	other := &whatsmeow.IQError{Code: 400, Text: "bad-request"}
	if got := ClassifyPairPhoneError(other); got != other {
		t.Errorf("unrelated error changed to %v", got)
	}
}

func TestPairItemFromQR(t *testing.T) {
	jid := types.NewADJID("79001234567", 0, 4)
	success := &events.PairSuccess{ID: jid, Platform: "android", BusinessName: "Shop"}
	code := PairItemFromQR(whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "2@x,a,b,c", Timeout: time.Minute}, nil, "")
	if code.Kind != PairQRCode || code.Code != "2@x,a,b,c" || code.Timeout != time.Minute {
		t.Errorf("code item = %+v", code)
	}
	done := PairItemFromQR(whatsmeow.QRChannelSuccess, success, "Anna")
	if done.Kind != PairSuccess || done.JID != jid || done.Platform != "android" || done.Business != "Shop" || done.PushName != "Anna" {
		t.Errorf("success item = %+v", done)
	}
	rejected := PairItemFromQR(whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: whatsmeow.ErrPairRejectedLocally}, nil, "")
	if !errors.Is(rejected.Err, ErrPairRejected) || !errors.Is(rejected.Err, whatsmeow.ErrPairRejectedLocally) {
		t.Errorf("rejected item err = %v", rejected.Err)
	}
	unknown := PairItemFromQR(whatsmeow.QRChannelItem{Event: "err-new-kind"}, nil, "")
	if unknown.Kind != PairError || !errors.Is(unknown.Err, ErrUnexpectedPairState) {
		t.Errorf("unknown event item = %+v", unknown)
	}
}
