package wastore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/store"
)

// bufferRetention is how long a handled event's hash is kept. WhatsApp's
// servers redeliver undelivered events for 14 days (per the comment in
// whatsmeow's sqlstore), so older hashes cannot be seen again.
const bufferRetention = 14 * 24 * time.Hour

// GetBufferedEvent returns the buffered decryption of a ciphertext, or nil
// when it was never buffered. A nil Plaintext means the event was already
// handled.
func (s *deviceStore) GetBufferedEvent(ctx context.Context, ciphertextHash [32]byte) (*store.BufferedEvent, error) {
	var rows []eventBufferRow
	err := s.c.conn(ctx).Where("our_jid = ? AND ciphertext_hash = ?", s.ourJID, ciphertextHash[:]).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get buffered event %x: %w", ciphertextHash, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	plaintext, err := s.seal.open(rows[0].Plaintext, kindEventPlaintext, hex.EncodeToString(ciphertextHash[:]))
	if err != nil {
		return nil, err
	}
	return &store.BufferedEvent{
		Plaintext:  plaintext,
		ServerTime: time.Unix(rows[0].ServerTimestamp, 0),
		InsertTime: time.UnixMilli(rows[0].InsertTimestamp),
	}, nil
}

// PutBufferedEvent stores the plaintext of a decrypted event before it is
// handled, so a crash after the Signal state advanced does not lose it.
// Storing the same hash twice fails, as in sqlstore.
func (s *deviceStore) PutBufferedEvent(ctx context.Context, ciphertextHash [32]byte, plaintext []byte, serverTimestamp time.Time) error {
	row := eventBufferRow{
		OurJID:          s.ourJID,
		CiphertextHash:  ciphertextHash[:],
		Plaintext:       s.seal.seal(plaintext, kindEventPlaintext, hex.EncodeToString(ciphertextHash[:])),
		ServerTimestamp: serverTimestamp.Unix(),
		InsertTimestamp: time.Now().UnixMilli(),
	}
	if err := s.c.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("put buffered event %x: %w", ciphertextHash, err)
	}
	return nil
}

// DoDecryptionTxn runs fn in one transaction, which every store method
// called with fn's context joins. whatsmeow decrypts a message and buffers
// its plaintext inside it, so the Signal state and the buffer commit
// together.
func (s *deviceStore) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	return s.c.inTx(ctx, fn)
}

// ClearBufferedEventPlaintext drops the plaintext of a handled event and
// keeps its hash, so a redelivery is recognised as already processed.
func (s *deviceStore) ClearBufferedEventPlaintext(ctx context.Context, ciphertextHash [32]byte) error {
	err := s.c.conn(ctx).Model(&eventBufferRow{}).
		Where("our_jid = ? AND ciphertext_hash = ?", s.ourJID, ciphertextHash[:]).
		Update("plaintext", nil).Error
	if err != nil {
		return fmt.Errorf("clear buffered event %x: %w", ciphertextHash, err)
	}
	return nil
}

// DeleteOldBufferedHashes deletes buffered events older than 14 days. Like
// sqlstore it does so for every device of the container, not only this one.
func (s *deviceStore) DeleteOldBufferedHashes(ctx context.Context) error {
	cutoff := time.Now().Add(-bufferRetention).UnixMilli()
	err := s.c.conn(ctx).Where("insert_timestamp < ?", cutoff).Delete(&eventBufferRow{}).Error
	if err != nil {
		return fmt.Errorf("delete old buffered events: %w", err)
	}
	return nil
}
