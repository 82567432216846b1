package bridge_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/wa/simulator"
)

// mediaFiles counts the files below the bridge's media directory.
func mediaFiles(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dataDir, "media"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPurgePortalMediaRemovesFilesAndRows(t *testing.T) {
	each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, envOptions{})
		e.start(t)
		data := append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte{9}, 300)...)
		for range 2 {
			e.inbound(t, simulator.InboundMessage{From: customer, Media: &simulator.InboundMedia{Kind: "image", MIME: "image/jpeg", Data: data}})
		}
		url := e.received(t, 2)[0].Files[0].URL
		if n := mediaFiles(t, e.opts.DataDir); n != 2 {
			t.Fatalf("%d media files on disk before the purge, want 2", n)
		}

		if err := e.bridge.PurgePortalMedia(context.Background(), e.portal.ID); err != nil {
			t.Fatal(err)
		}
		if n := mediaFiles(t, e.opts.DataDir); n != 0 {
			t.Errorf("%d media files left on disk after the purge", n)
		}
		var rows int64
		if err := db.Model(&connector.MediaFile{}).Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Errorf("%d media rows left after the purge", rows)
		}
		if resp, _ := get(t, url); resp.StatusCode != http.StatusNotFound {
			t.Errorf("purged media answered %d, want 404", resp.StatusCode)
		}
		if err := e.bridge.PurgePortalMedia(context.Background(), e.portal.ID); err != nil {
			t.Errorf("second purge: %v", err)
		}
	})
}
