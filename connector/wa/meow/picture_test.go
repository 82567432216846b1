package meow

import (
	"errors"
	"fmt"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
)

func TestPictureInfoResult(t *testing.T) {
	picture := &types.ProfilePictureInfo{ID: "1700000000", URL: "https://pps.whatsapp.net/v/t61/1.jpg"}
	network := errors.New("connection reset")
	tests := []struct {
		name     string
		info     *types.ProfilePictureInfo
		err      error
		wantInfo *types.ProfilePictureInfo
		wantErr  error
	}{
		{"picture", picture, nil, picture, nil},
		{"not set", nil, whatsmeow.ErrProfilePictureNotSet, nil, nil},
		{"not set wrapped", nil, fmt.Errorf("iq: %w", whatsmeow.ErrProfilePictureNotSet), nil, nil},
		{"hidden", nil, whatsmeow.ErrProfilePictureUnauthorized, nil, nil},
		{"not modified", nil, nil, nil, nil},
		{"no url", &types.ProfilePictureInfo{ID: "1"}, nil, nil, nil},
		{"other error", nil, network, nil, network},
		{"timeout", nil, whatsmeow.ErrIQTimedOut, nil, whatsmeow.ErrIQTimedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := pictureInfoResult(tt.info, tt.err)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if info != tt.wantInfo {
				t.Errorf("info = %+v, want %+v", info, tt.wantInfo)
			}
		})
	}
}

func TestPictureMimeType(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"image header", "image/jpeg; charset=binary", "image/jpeg"},
		{"missing header", "", "image/jpeg"},
		{"generic header", "application/octet-stream", "image/jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pictureMimeType(tt.header, jpeg); got != tt.want {
				t.Errorf("pictureMimeType(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
