package secrets

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func newBox(t *testing.T, secret string, older ...string) *Box {
	t.Helper()
	var old [][]byte
	for _, o := range older {
		old = append(old, []byte(o))
	}
	b, err := New([]byte(secret), old...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	keyA = strings.Repeat("a", 32)
	keyB = strings.Repeat("b", 32)
)

func TestSealOpenRoundTrip(t *testing.T) {
	b := newBox(t, keyA)
	sealed := b.Seal([]byte("refresh-token"), "portal:1:refresh_token")
	if bytes.Contains(sealed, []byte("refresh-token")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := b.Open(sealed, "portal:1:refresh_token")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "refresh-token" {
		t.Errorf("opened %q, want refresh-token", got)
	}
	if again := b.Seal([]byte("refresh-token"), "portal:1:refresh_token"); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal; the nonce is not random")
	}
}

func TestOpenRejectsOtherRowAndDamage(t *testing.T) {
	b := newBox(t, keyA)
	sealed := b.Seal([]byte("token"), "portal:1:access_token")
	if _, err := b.Open(sealed, "portal:2:access_token"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("value moved to another row: got %v, want ErrDecrypt", err)
	}
	damaged := append([]byte{}, sealed...)
	damaged[len(damaged)-1] ^= 1
	if _, err := b.Open(damaged, "portal:1:access_token"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("damaged value: got %v, want ErrDecrypt", err)
	}
	if _, err := b.Open(sealed[:5], "portal:1:access_token"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("truncated value: got %v, want ErrDecrypt", err)
	}
	if _, err := newBox(t, keyB).Open(sealed, "portal:1:access_token"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("value opened with another key: got %v, want ErrDecrypt", err)
	}
	if got, err := b.Open(nil, "x"); err != nil || got != nil {
		t.Errorf("empty value opened to %q, %v; want nil, nil", got, err)
	}
}

func TestKeyRotationKeepsOldValuesReadable(t *testing.T) {
	old := newBox(t, keyA)
	sealedOld := old.Seal([]byte("v1"), "row")
	rotated := newBox(t, keyB, keyA)
	got, err := rotated.Open(sealedOld, "row")
	if err != nil || string(got) != "v1" {
		t.Fatalf("value sealed before the rotation: %q, %v", got, err)
	}
	sealedNew := rotated.Seal([]byte("v2"), "row")
	if sealedNew[0] != 2 {
		t.Errorf("new value has key version %d, want 2", sealedNew[0])
	}
	if _, err := old.Open(sealedNew, "row"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("old box opened a value of a newer key: %v", err)
	}
}

func TestNewRejectsShortSecret(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

func TestTokenIssueAndParse(t *testing.T) {
	b := newBox(t, keyA)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	type claims struct {
		PortalID uint64 `json:"p"`
		Admin    bool   `json:"a"`
	}
	tok, err := b.IssueToken("frame", claims{PortalID: 7, Admin: true}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got claims
	if err := b.ParseToken(tok, "frame", now, &got); err != nil {
		t.Fatal(err)
	}
	if got.PortalID != 7 || !got.Admin {
		t.Errorf("claims = %+v, want portal 7 admin", got)
	}

	cases := []struct {
		name    string
		token   string
		purpose string
		at      time.Time
		want    error
	}{
		{"expired", tok, "frame", now.Add(time.Hour), ErrTokenExpired},
		{"other purpose", tok, "scan", now, ErrTokenSignature},
		{"tampered", tamper(tok), "frame", now, ErrTokenSignature},
		{"no signature", strings.Split(tok, ".")[0], "frame", now, ErrTokenMalformed},
		{"other key", mustIssue(t, newBox(t, keyB), now), "frame", now, ErrTokenSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c claims
			if err := b.ParseToken(tc.token, tc.purpose, tc.at, &c); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func mustIssue(t *testing.T, b *Box, now time.Time) string {
	t.Helper()
	tok, err := b.IssueToken("frame", map[string]int{"p": 7}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamper changes one character of the token's payload.
func tamper(tok string) string {
	c := byte('A')
	if tok[5] == c {
		c = 'B'
	}
	return tok[:5] + string(c) + tok[6:]
}
