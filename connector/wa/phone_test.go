package wa

import (
	"errors"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw     string
		want    string
		wantErr error
	}{
		{"+7 912 345-67-89", "79123456789", nil},
		{"8 (912) 345-67-89", "79123456789", nil},
		{"89123456789", "79123456789", nil},
		{"7.912.345.67.89", "79123456789", nil},
		{" +49 30 1234567 ", "49301234567", nil},
		{"+81 90 1234 5678", "819012345678", nil},
		{"+8 912 345 67 89", "89123456789", nil},
		{"1234567", "1234567", nil},
		{"123456", "", ErrPhoneTooShort},
		{"", "", ErrPhoneTooShort},
		{"0912345678", "", ErrPhoneNotInternational},
		{"+7 912 ABC", "", ErrPhoneInvalid},
		{"++79123456789", "", ErrPhoneInvalid},
		{"1234567890123456", "", ErrPhoneTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := NormalizePhone(tt.raw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}
