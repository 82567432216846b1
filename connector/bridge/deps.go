package bridge

import (
	"context"

	"github.com/wabridge/b24wa/connector/wa"
)

// Caller is the Bitrix24 REST client as the bridge uses it.
// *portal.Client implements it: it keeps each portal within its rate limit,
// refreshes expired tokens and retries QUERY_LIMIT_EXCEEDED itself.
type Caller interface {
	Call(ctx context.Context, portalID uint64, method string, params, out any) error
}

// Sessions returns the live WhatsApp session of a line owned by this
// instance. connector.Sessions (the session manager) implements it.
type Sessions interface {
	Session(lineID uint64) (wa.Session, bool)
}

// LineEvents receives the connector events that end a line's link to an
// open line: the connector was disconnected in Contact Center (deleted false)
// or the open line was deleted (deleted true). The session manager
// implements it.
type LineEvents interface {
	LineRemovedInBitrix(ctx context.Context, portalID uint64, lineID string, deleted bool) error
}

// Translator returns the text for a translation key in a portal language.
// *static.Catalog implements it.
type Translator interface {
	T(lang, key string, args ...any) string
}
