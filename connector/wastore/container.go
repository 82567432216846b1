// Package wastore keeps whatsmeow's device store in the service's database
// through gorm, on MySQL/MariaDB and SQLite. whatsmeow's own sqlstore supports
// only SQLite and Postgres. The tables are the wa_ tables of the versioned
// migrations. Private keys, Signal state and decrypted plaintext are sealed
// with secrets.Box, while the columns that queries filter on stay plain.
//
// Behaviour follows whatsmeow's sqlstore (go.mau.fi/whatsmeow
// v0.0.0-20251217143725-11cf47c62d32) method by method. The differences are
// listed on the methods concerned.
package wastore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"gorm.io/gorm"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wabridge/b24wa/internal/secrets"
)

// Container holds every WhatsApp device of the service. It is safe for
// concurrent use. Create one per database with New.
type Container struct {
	db    *gorm.DB
	box   *secrets.Box
	log   *slog.Logger
	waLog waLog.Logger
	lids  *lidStore

	mu     sync.Mutex
	stores map[string]*deviceStore // by device JID, shared by every handle
}

var (
	_ store.DeviceContainer          = (*Container)(nil)
	_ store.AllSessionSpecificStores = (*deviceStore)(nil)
	_ store.LIDStore                 = (*lidStore)(nil)
)

// New returns a Container on db, which must be migrated to include the wa_
// tables. box seals private values. log receives the store's own records
// and, through NewLogger, whatsmeow's device logs.
func New(db *gorm.DB, box *secrets.Box, log *slog.Logger) *Container {
	log = log.With("component", "wastore")
	c := &Container{
		db:     db,
		box:    box,
		log:    log,
		waLog:  NewLogger(log, "Store"),
		stores: make(map[string]*deviceStore),
	}
	c.lids = newLIDStore(c)
	return c
}

// LIDs returns the global LID to phone-number mapping store, the same one
// every device's LIDs field points to.
func (c *Container) LIDs() store.LIDStore { return c.lids }

// GetDevice returns the device with the given JID, or nil and no error when
// the store has none. The JID is usually the device's AD-JID
// ("<phone>:<device>@s.whatsapp.net").
func (c *Container) GetDevice(ctx context.Context, jid types.JID) (*store.Device, error) {
	var rows []deviceRow
	err := c.conn(ctx).Where("jid = ?", jid.String()).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get device %s: %w", jid, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return c.deviceFromRow(&rows[0])
}

// GetAllDevices returns every stored device in the order they were first
// stored. On a row that fails to open it returns the devices read before it
// together with the error, like sqlstore.
func (c *Container) GetAllDevices(ctx context.Context) ([]*store.Device, error) {
	var rows []deviceRow
	if err := c.conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	devices := make([]*store.Device, 0, len(rows))
	for i := range rows {
		device, err := c.deviceFromRow(&rows[i])
		if err != nil {
			return devices, err
		}
		devices = append(devices, device)
	}
	return devices, nil
}

// GetFirstDevice returns the first stored device, or a new unsaved device
// when there is none. It suits single-device tools, while the service keeps
// one device per line and uses GetDevice.
func (c *Container) GetFirstDevice(ctx context.Context) (*store.Device, error) {
	devices, err := c.GetAllDevices(ctx)
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		return c.NewDevice(), nil
	}
	return devices[0], nil
}

// DeleteDevice removes the device and every row it owns in the wa_ tables.
// The foreign keys cascade as well, and the explicit deletes keep the
// promise on a connection where SQLite's foreign keys are off. LID mappings are global
// and stay. Whatsmeow calls this through Device.Delete on logout.
func (c *Container) DeleteDevice(ctx context.Context, device *store.Device) error {
	if device.ID == nil {
		return ErrDeviceJIDMissing
	}
	jid := device.ID.String()
	err := c.inTx(ctx, func(ctx context.Context) error {
		for _, table := range deviceTables() {
			if err := c.conn(ctx).Exec("DELETE FROM "+table+" WHERE our_jid = ?", jid).Error; err != nil {
				return fmt.Errorf("delete %s rows: %w", table, err)
			}
		}
		return c.conn(ctx).Where("jid = ?", jid).Delete(&deviceRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("delete device %s: %w", jid, err)
	}
	c.dropStore(jid)
	c.log.InfoContext(ctx, "Deleted WhatsApp device from the store", "wa_jid", jid)
	return nil
}

// storeFor returns the per-device store of jid, shared by every Device value
// of that JID so that they share the pre-key lock and the contact cache.
func (c *Container) storeFor(jid types.JID) *deviceStore {
	key := jid.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.stores[key]
	if !ok {
		s = newDeviceStore(c, key)
		c.stores[key] = s
	}
	return s
}

// dropStore removes the per-device store of a deleted device and clears its
// caches, so a handle kept by a caller does not return deleted contacts.
func (c *Container) dropStore(jid string) {
	c.mu.Lock()
	s, ok := c.stores[jid]
	delete(c.stores, jid)
	c.mu.Unlock()
	if ok {
		s.clearCaches()
	}
}

// initializeDevice points every store field of device at this container.
func (c *Container) initializeDevice(device *store.Device) {
	s := c.storeFor(*device.ID)
	device.Identities = s
	device.Sessions = s
	device.PreKeys = s
	device.SenderKeys = s
	device.AppStateKeys = s
	device.AppState = s
	device.Contacts = s
	device.ChatSettings = s
	device.MsgSecrets = s
	device.PrivacyTokens = s
	device.EventBuffer = s
	device.LIDs = c.lids
	device.Container = c
	device.Initialized = true
}
