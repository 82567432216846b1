package wastore

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// NewLogger adapts a slog logger to whatsmeow's printf-style logger, for
// store.Device.Log and whatsmeow.NewClient. Like the gorm adapter in
// internal/database, every record has one constant message and carries
// whatsmeow's formatted text in "detail" and its module path ("Client/Recv")
// in "module". whatsmeow's Debug level includes the XML of every node sent and
// received, so run it at Info or above in production.
func NewLogger(log *slog.Logger, module string) waLog.Logger {
	return &slogAdapter{log: log, module: module}
}

type slogAdapter struct {
	log    *slog.Logger
	module string
}

func (a *slogAdapter) write(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !a.log.Enabled(ctx, level) {
		return
	}
	a.log.Log(ctx, level, "WhatsApp library message", "module", a.module, "detail", fmt.Sprintf(format, args...))
}

func (a *slogAdapter) Errorf(msg string, args ...any) { a.write(slog.LevelError, msg, args) }
func (a *slogAdapter) Warnf(msg string, args ...any)  { a.write(slog.LevelWarn, msg, args) }
func (a *slogAdapter) Infof(msg string, args ...any)  { a.write(slog.LevelInfo, msg, args) }
func (a *slogAdapter) Debugf(msg string, args ...any) { a.write(slog.LevelDebug, msg, args) }

// Sub returns the logger of a sub-module, named like whatsmeow's own
// loggers ("Client/Recv").
func (a *slogAdapter) Sub(module string) waLog.Logger {
	name := module
	if a.module != "" {
		name = a.module + "/" + module
	}
	return &slogAdapter{log: a.log, module: name}
}
