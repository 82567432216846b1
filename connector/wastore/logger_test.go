package wastore

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLoggerAdapter(t *testing.T) {
	var out bytes.Buffer
	log := NewLogger(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})), "Client")

	log.Sub("Recv").Warnf("Failed to decrypt message from %s", "79110000001@s.whatsapp.net")
	log.Debugf("dropped below the level")

	var record map[string]any
	if err := json.Unmarshal(out.Bytes(), &record); err != nil {
		t.Fatalf("want exactly one JSON record, got %q: %v", out.String(), err)
	}
	if record["level"] != "WARN" {
		t.Errorf("level = %v, want WARN", record["level"])
	}
	if record["module"] != "Client/Recv" {
		t.Errorf("module = %v, want Client/Recv", record["module"])
	}
	if record["detail"] != "Failed to decrypt message from 79110000001@s.whatsapp.net" {
		t.Errorf("detail = %v", record["detail"])
	}
}
