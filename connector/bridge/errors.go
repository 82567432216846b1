package bridge

import "errors"

// Errors of the bridge. The media store returns ErrMediaNotFound and
// ErrMediaExpired to the GET /media handler. The others are recorded as the
// last error of a failed delivery, wrapped with the ids at fault.
var (
	// ErrMediaNotFound means no re-hosted file has the token of the URL.
	ErrMediaNotFound = errors.New("media file not found")
	// ErrMediaExpired means the re-hosted file's URL has expired and its
	// content was or will be deleted.
	ErrMediaExpired = errors.New("media link expired")
	// ErrChatNotFound means an operator message names a chat.id that no
	// WhatsApp chat of the line has.
	ErrChatNotFound = errors.New("chat not found")
	// ErrFileTooLarge means a file exceeds the configured size limit.
	ErrFileTooLarge = errors.New("file exceeds the size limit")
	// ErrFileOrigin means an operator file link points outside the portal
	// that sent it, so it is not downloaded.
	ErrFileOrigin = errors.New("file link is not on the portal's origin")
	// ErrLineNotConnected means the line's WhatsApp device is logged out or
	// suspended, so queued operator messages cannot be sent.
	ErrLineNotConnected = errors.New("line has no connected WhatsApp device")
	// ErrEditWindow and ErrRevokeWindow mean WhatsApp no longer allows
	// editing or deleting the message for everyone.
	ErrEditWindow   = errors.New("message is too old to edit on WhatsApp")
	ErrRevokeWindow = errors.New("message is too old to delete on WhatsApp")
	// ErrUnknownMessage means an edit or delete names a WhatsApp message id
	// that the bridge never sent.
	ErrUnknownMessage = errors.New("message id is unknown")
	// ErrDeliveryNotFound is returned by Retry for an id that names no
	// failed delivery of the line.
	ErrDeliveryNotFound = errors.New("failed delivery not found")
	// ErrStarted is returned by SetSessions after Start.
	ErrStarted = errors.New("bridge is already started")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("bridge is closed")
)
