package wastore

import (
	"context"

	"gorm.io/gorm"
)

// txKey is the context key under which a Container keeps its open
// transaction. whatsmeow runs Signal decryption inside
// EventBuffer.DoDecryptionTxn and passes the returned context to the session,
// identity and pre-key stores, so every query made with that context must use
// the same transaction, as whatsmeow's sqlstore does. With SQLite's single
// connection a query outside it would wait for the transaction forever.
type txKey struct{ c *Container }

// conn returns the transaction carried by ctx, or the database.
func (c *Container) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{c}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return c.db.WithContext(ctx)
}

// inTx runs fn in a transaction. When ctx already carries one, fn joins it
// and the outer caller decides about commit or rollback.
func (c *Container) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{c}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{c}, tx))
	})
}
