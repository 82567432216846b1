package connector

import "time"

// Line states. A line is connected only while its socket is up and the device
// is logged in.
const (
	StateNew            = "new"
	StatePairing        = "pairing"
	StateConnecting     = "connecting"
	StateConnected      = "connected"
	StateReconnecting   = "reconnecting"
	StateLoggedOut      = "logged_out"
	StateStreamReplaced = "stream_replaced"
	StateTemporaryBan   = "temporarily_banned"
	StateClientOutdated = "client_outdated"
	StateSuspended      = "suspended"
	StateNeedsScan      = "needs_scan" // paid again after a suspension
	StateDisconnected   = "disconnected"
)

// Line is a row of the lines table: one open line of one portal, with at most
// one linked WhatsApp number.
type Line struct {
	ID            uint64 `gorm:"primaryKey"`
	PortalID      uint64
	LineID        string // the open line id in Bitrix24 (LINE)
	ConnectorID   string
	Name          string
	State         string
	StateReason   string
	StateSince    time.Time
	StateUntil    *time.Time // end of a temporary ban, when known
	WaJID         string     `gorm:"column:wa_jid"`
	Phone         string
	PushName      string
	ExpectedPhone string
	GroupsEnabled bool
	B24Active     bool `gorm:"column:b24_active"`
	// B24DetachedAt is the time the connector was disconnected from the open
	// line in Contact Center. The manager does not re-activate such a line in
	// Bitrix24 until it is paired again or activated from the settings page.
	B24DetachedAt *time.Time `gorm:"column:b24_detached_at"`
	PhoneSeenAt   *time.Time
	BillingState  string
	PaidUntil     *time.Time
	RemindedAt    *time.Time
	SuspendedAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (Line) TableName() string { return "lines" }

// DeviceSession is one linking of a WhatsApp device to a line. A row is added
// on every successful pairing and closed on logout.
type DeviceSession struct {
	ID           uint64 `gorm:"primaryKey"`
	LineID       uint64
	WaJID        string `gorm:"column:wa_jid"`
	Phone        string
	PushName     string
	Platform     string
	BusinessName string
	LinkedVia    string // "qr", "phone_code" or "scan_link"
	LinkedAt     time.Time
	LoggedOutAt  *time.Time
	LogoutReason string
}

func (DeviceSession) TableName() string { return "device_sessions" }

// ScanLink is a public pairing link. Only the SHA-256 of its token is stored.
type ScanLink struct {
	ID        uint64 `gorm:"primaryKey"`
	LineID    uint64
	TokenHash string
	CreatedBy int64
	Lang      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	UsedAt    *time.Time
}

func (ScanLink) TableName() string { return "scan_links" }

// Chat maps one WhatsApp customer (or group) of a line to its Open Lines
// dialog. PersonID is stable for the customer even when WhatsApp switches
// between the phone-number JID and the hidden-number LID.
type Chat struct {
	ID           uint64 `gorm:"primaryKey"`
	LineID       uint64
	PersonID     string
	WaChatJID    string `gorm:"column:wa_chat_jid"`
	PnJID        string `gorm:"column:pn_jid"`
	LidJID       string `gorm:"column:lid_jid"`
	Phone        string
	PushName     string
	IsGroup      bool
	B24ChatID    string `gorm:"column:b24_chat_id"`
	B24SessionID string `gorm:"column:b24_session_id"`
	B24UserID    string `gorm:"column:b24_user_id"`
	// AvatarID is the WhatsApp id of the profile picture last sent to
	// Bitrix24, empty when none was sent. AvatarCheckedAt is when the
	// picture was last looked up, nil before the first lookup.
	AvatarID        string
	AvatarCheckedAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (Chat) TableName() string { return "chats" }

// MessageLink pairs a WhatsApp message id with its Bitrix24 message, for
// statuses, edits, deletes, replies and reactions.
type MessageLink struct {
	ID           uint64 `gorm:"primaryKey"`
	LineID       uint64
	ChatID       uint64
	Direction    string // "in" (customer to operator) or "out"
	WaMessageID  string `gorm:"column:wa_message_id"`
	B24ChatID    string `gorm:"column:b24_chat_id"`
	B24MessageID string `gorm:"column:b24_message_id"`
	TextExcerpt  string
	SentAt       time.Time
}

func (MessageLink) TableName() string { return "message_links" }

// Delivery states.
const (
	DeliveryPending  = "pending"
	DeliveryInFlight = "inflight"
	DeliveryDone     = "done"
	DeliveryFailed   = "failed"
)

// Delivery is one unit of work in the durable queue, in either direction.
// (LineID, Direction, Kind, SourceID) is unique, so storing the same event
// twice is a no-op.
type Delivery struct {
	ID            uint64 `gorm:"primaryKey"`
	PortalID      uint64
	LineID        uint64
	Direction     string // "in" or "out"
	Kind          string
	SourceID      string
	ChatKey       string    // deliveries with the same key are sent in SeqAt order
	SeqAt         time.Time // WhatsApp or Bitrix24 time of the source event
	Payload       string    // JSON of the kind's payload
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LockedBy      string
	LockedUntil   *time.Time
	LastError     *string
	RemoteID      string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DoneAt        *time.Time
}

func (Delivery) TableName() string { return "deliveries" }

// MediaFile is a re-hosted file served to the portal under an unguessable,
// expiring URL.
type MediaFile struct {
	ID          uint64 `gorm:"primaryKey"`
	LineID      uint64
	TokenHash   string
	Name        string
	MimeType    string
	Size        int64
	StoragePath string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (MediaFile) TableName() string { return "media_files" }

// LineLease records which instance owns a line's WhatsApp session until
// ExpiresAt; only the owner connects the line and works its deliveries.
type LineLease struct {
	LineID    uint64 `gorm:"primaryKey;autoIncrement:false"`
	Owner     string
	ExpiresAt time.Time
}

func (LineLease) TableName() string { return "line_leases" }

// Models lists the gorm models of this package, for schema checks.
func Models() []any {
	return []any{&Line{}, &DeviceSession{}, &ScanLink{}, &Chat{}, &MessageLink{}, &Delivery{}, &MediaFile{}, &LineLease{}}
}
