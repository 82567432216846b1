package wa

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// LevelTrace is below slog.LevelDebug. whatsmeow's "Recv" and "Send"
// sub-loggers, which dump every protocol node including pairing refs and
// encrypted payloads, log at this level, so Debug logs stay free of them.
// Never enable it in production.
const LevelTrace = slog.LevelDebug - 4

// qrLogText is the whatsmeow (2025-12) QRChannel debug line that carries a
// whole QR code; the adapter redacts its argument.
const qrLogText = "Emitting QR code %s"

// NewLogger adapts log to whatsmeow's waLog.Logger, so the library logs
// through slog and never to stdout. Each record has the constant message
// "whatsmeow", the formatted text in "text" and the sub-logger path (for
// example "Client/Socket") in "module". Add line_id or jid attributes to log
// before passing it.
func NewLogger(log *slog.Logger) waLog.Logger {
	return &slogLogger{log: log}
}

type slogLogger struct {
	log    *slog.Logger
	module string
	trace  bool
}

func (l *slogLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }
func (l *slogLogger) Warnf(msg string, args ...any)  { l.logf(slog.LevelWarn, msg, args) }
func (l *slogLogger) Infof(msg string, args ...any)  { l.logf(slog.LevelInfo, msg, args) }

func (l *slogLogger) Debugf(msg string, args ...any) {
	level := slog.LevelDebug
	if l.trace {
		level = LevelTrace
	}
	l.logf(level, msg, args)
}

// Sub returns a logger for a whatsmeow component; raw node dumps of the
// "Recv" and "Send" components go to LevelTrace.
func (l *slogLogger) Sub(module string) waLog.Logger {
	path := module
	if l.module != "" {
		path = l.module + "/" + module
	}
	return &slogLogger{
		log:    l.log,
		module: path,
		trace:  l.trace || module == "Recv" || module == "Send",
	}
}

func (l *slogLogger) logf(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	if msg == qrLogText {
		args = []any{"[redacted]"}
	}
	text := fmt.Sprintf(msg, args...)
	if l.module == "" {
		l.log.Log(ctx, level, "whatsmeow", "text", text)
		return
	}
	l.log.Log(ctx, level, "whatsmeow", "module", l.module, "text", text)
}
