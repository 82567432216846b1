package wastore

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestDeviceRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000001", 12)
		if err := device.Save(ctx); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if !device.Initialized || device.Sessions == nil || device.LIDs == nil {
			t.Fatal("Save did not attach the stores to the device")
		}

		got, err := c.GetDevice(ctx, *device.ID)
		if err != nil {
			t.Fatalf("GetDevice: %v", err)
		}
		if diff := deviceDiff(device, got); diff != "" {
			t.Fatalf("GetDevice returned a different device: %s", diff)
		}
		if got.Container != c || got.Identities == nil || got.EventBuffer == nil || got.LIDs == nil {
			t.Error("GetDevice returned a device without its stores")
		}

		client := whatsmeow.NewClient(got, nil)
		if client.Store != got {
			t.Error("NewClient did not keep the device")
		}
		if client.Store.GetJID() != *device.ID {
			t.Errorf("client JID = %s, want %s", client.Store.GetJID(), device.ID)
		}
	})
}

func TestGetDeviceAbsent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := newTestContainer(t, db)
		got, err := c.GetDevice(context.Background(), types.NewADJID("79990000009", 0, 3))
		if err != nil {
			t.Fatalf("GetDevice: %v", err)
		}
		if got != nil {
			t.Errorf("GetDevice of an unknown JID = %v, want nil", got.ID)
		}
	})
}

func TestPutDeviceKeepsKeysOnUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000002", 4)
		if err := c.PutDevice(ctx, device); err != nil {
			t.Fatal(err)
		}
		original := *device.NoiseKey.Priv

		changed := pairedDevice(t, c, "79990000002", 4)
		changed.PushName = "Renamed"
		changed.Platform = "smbi"
		if err := c.PutDevice(ctx, changed); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetDevice(ctx, *device.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PushName != "Renamed" || got.Platform != "smbi" {
			t.Errorf("profile = %q/%q, want the updated Renamed/smbi", got.PushName, got.Platform)
		}
		if *got.NoiseKey.Priv != original {
			t.Error("PutDevice replaced the noise key of a stored device")
		}
	})
}

func TestDeviceListing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)

		first, err := c.GetFirstDevice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil || first.ID != nil {
			t.Fatal("GetFirstDevice on an empty store should return a new unpaired device")
		}
		if err := c.PutDevice(ctx, first); !errors.Is(err, ErrDeviceJIDMissing) {
			t.Errorf("PutDevice of an unpaired device: got %v, want ErrDeviceJIDMissing", err)
		}

		phones := []string{"79990000005", "79990000003", "79990000004"}
		for _, phone := range phones {
			if err := c.PutDevice(ctx, pairedDevice(t, c, phone, 1)); err != nil {
				t.Fatal(err)
			}
		}
		all, err := c.GetAllDevices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(phones) {
			t.Fatalf("GetAllDevices returned %d devices, want %d", len(all), len(phones))
		}
		for i, phone := range phones {
			if all[i].ID.User != phone {
				t.Errorf("device %d is %s, want %s (insertion order)", i, all[i].ID, phone)
			}
		}
		first, err = c.GetFirstDevice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == nil || first.ID.User != phones[0] {
			t.Errorf("GetFirstDevice = %v, want the first stored device", first.ID)
		}
	})
}
