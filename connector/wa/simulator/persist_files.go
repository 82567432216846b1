package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// mediaDir is the directory next to the state file where media are kept,
// one file per distinct content named by its SHA-256.
func (s *Simulator) mediaDir() string { return s.opts.StatePath + ".media" }

// saveMediaLocked writes the media not yet on disk. Files are written once
// and never changed, so the state file may name them as soon as this
// returns. The caller holds s.mu.
// NOTE: media files stay on disk after ExpireMedia or the removal of their
// device; the directory grows for the lifetime of the state file.
func (s *Simulator) saveMediaLocked() error {
	for path, data := range s.media {
		if _, ok := s.mediaFiles[path]; ok {
			continue
		}
		sum := sha256.Sum256(data)
		name := hex.EncodeToString(sum[:])
		if err := os.MkdirAll(s.mediaDir(), 0o700); err != nil {
			return fmt.Errorf("create media directory: %w", err)
		}
		file := filepath.Join(s.mediaDir(), name)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			if err := writeFileAtomic(file, data); err != nil {
				return fmt.Errorf("save media %s: %w", path, err)
			}
		}
		s.mediaFiles[path] = name
	}
	for path := range s.mediaFiles {
		if _, ok := s.media[path]; !ok {
			delete(s.mediaFiles, path)
		}
	}
	return nil
}

// restoreMediaLocked reads the media the state file names and checks each
// against its SHA-256. The caller holds s.mu.
func (s *Simulator) restoreMediaLocked(files map[string]string) error {
	for path, name := range files {
		data, err := os.ReadFile(filepath.Join(s.mediaDir(), filepath.Base(name)))
		if err != nil {
			return fmt.Errorf("read media %s: %w", path, err)
		}
		sum := sha256.Sum256(data)
		if want, err := hex.DecodeString(name); err != nil || !bytes.Equal(sum[:], want) {
			return fmt.Errorf("media file %s does not match its SHA-256 name", name)
		}
		s.media[path] = data
		s.mediaFiles[path] = name
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves either the old or the new content. It writes a temporary file in
// the same directory, syncs it and renames it over path. Then it syncs the
// directory, so the rename itself survives a power loss.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// removeTempFiles deletes the temporary files of writes to path that a
// crash interrupted before their rename.
func removeTempFiles(path string) {
	leftovers, _ := filepath.Glob(path + ".tmp-*")
	for _, f := range leftovers {
		_ = os.Remove(f)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
