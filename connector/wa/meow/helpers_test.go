package meow

import (
	"crypto/rand"
	"sync"
	"testing"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wastore"
	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
)

// testSecret is the SECRET_KEY of the test Box, 32 bytes.
const testSecret = "meow-backend-test-secret-0123456"

func newContainer(t testing.TB, db *gorm.DB) *wastore.Container {
	t.Helper()
	box, err := secrets.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return wastore.New(db, box, dbtest.Logger(t))
}

func newBackend(t testing.TB, db *gorm.DB, opts Options) (*Backend, *wastore.Container) {
	t.Helper()
	container := newContainer(t, db)
	b := New(container, dbtest.Logger(t), opts)
	t.Cleanup(func() { _ = b.Close() })
	return b, container
}

// storePairedDevice saves a device the way whatsmeow fills one after
// pairing and returns its JID.
func storePairedDevice(t testing.TB, c *wastore.Container, phone string, deviceID uint8) types.JID {
	t.Helper()
	device := c.NewDevice()
	jid := types.NewADJID(phone, 0, deviceID)
	device.ID = &jid
	device.LID = types.JID{User: "1" + phone, Device: uint16(deviceID), Server: types.HiddenUserServer}
	device.Account = &waAdv.ADVSignedDeviceIdentity{
		Details:             randomBytes(t, 80),
		AccountSignature:    randomBytes(t, 64),
		AccountSignatureKey: randomBytes(t, 32),
		DeviceSignature:     randomBytes(t, 64),
	}
	device.Platform = "smba"
	if err := device.Save(t.Context()); err != nil {
		t.Fatalf("store paired device: %v", err)
	}
	return jid
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a wa.EventHandler that keeps events and returns err.
type recorder struct {
	mu     sync.Mutex
	events []any
	err    error
}

func (r *recorder) handle(evt any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evt)
	return r.err
}

func (r *recorder) setErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func openSession(t testing.TB, b *Backend, jid types.JID, rec *recorder, opts wa.OpenOptions) *Session {
	t.Helper()
	ws, err := b.Open(t.Context(), jid, rec.handle, opts)
	if err != nil {
		t.Fatalf("open %s: %v", jid, err)
	}
	return ws.(*Session)
}
