package wa

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func decodeRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestLoggerLevelsAndModules(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wl := NewLogger(log.With("line_id", 3))

	wl.Errorf("failed %d", 1)
	wl.Warnf("warn")
	wl.Infof("info")
	wl.Sub("Client").Sub("Socket").Debugf("frame %s", "x")
	wl.Sub("Recv").Debugf("<iq/>")
	wl.Sub("QRChannel").Debugf("Emitting QR code %s", "2@secret,a,b,c")

	recs := decodeRecords(t, &buf)
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5 (the Recv dump is below Debug): %v", len(recs), recs)
	}
	wantLevels := []string{"ERROR", "WARN", "INFO", "DEBUG", "DEBUG"}
	for i, want := range wantLevels {
		if recs[i]["level"] != want || recs[i]["msg"] != "whatsmeow" || recs[i]["line_id"] != float64(3) {
			t.Errorf("record %d = %v, want level %s with msg whatsmeow and line_id", i, recs[i], want)
		}
	}
	if recs[0]["text"] != "failed 1" {
		t.Errorf("text = %v", recs[0]["text"])
	}
	if recs[3]["module"] != "Client/Socket" || recs[3]["text"] != "frame x" {
		t.Errorf("sub-logger record = %v", recs[3])
	}
	if strings.Contains(buf.String(), "secret") {
		t.Error("a QR code reached the log")
	}
}

func TestLoggerTraceLevel(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: LevelTrace}))
	NewLogger(log).Sub("Send").Debugf("<message/>")
	recs := decodeRecords(t, &buf)
	if len(recs) != 1 || recs[0]["text"] != "<message/>" || recs[0]["module"] != "Send" {
		t.Errorf("records = %v, want the node dump at trace level", recs)
	}
}
