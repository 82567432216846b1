package wastore

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

// BenchmarkSession measures PutSession followed by GetSession of a 1 KiB
// session, the pair whatsmeow runs for every message it encrypts or
// decrypts outside a batch.
func BenchmarkSession(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", dbtest.SQLite}, {"mysql", dbtest.MySQL}} {
		b.Run(dialect.name, func(b *testing.B) {
			ctx := context.Background()
			c := newTestContainer(b, dialect.open(b))
			device := pairedDevice(b, c, "79990000081", 1)
			if err := device.Save(ctx); err != nil {
				b.Fatal(err)
			}
			session := randomBytes(b, 1024)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				address := fmt.Sprintf("7911%07d:0", i%100)
				if err := device.Sessions.PutSession(ctx, address, session); err != nil {
					b.Fatal(err)
				}
				if _, err := device.Sessions.GetSession(ctx, address); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
