package wastore

import "time"

// Rows of the wa_ tables created by migrations/*/00002_whatsmeow_store.sql.
// Columns documented as sealed contain values made by secrets.Box.Seal with
// additional data naming the device and the row (see additionalData).

// deviceRow is a linked WhatsApp device with its sealed private keys.
type deviceRow struct {
	ID              uint64 `gorm:"primaryKey"`
	JID             string `gorm:"column:jid"`
	LID             string `gorm:"column:lid"`
	FacebookUUID    string `gorm:"column:facebook_uuid"`
	RegistrationID  uint32
	NoiseKey        []byte // sealed private key
	IdentityKey     []byte // sealed private key
	SignedPreKey    []byte // sealed private key
	SignedPreKeyID  uint32
	SignedPreKeySig []byte
	AdvKey          []byte // sealed ADV secret
	AdvAccount      []byte // sealed waAdv.ADVSignedDeviceIdentity proto
	Platform        string
	BusinessName    string
	PushName        string
	LIDMigrationTS  int64 `gorm:"column:lid_migration_ts"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (deviceRow) TableName() string { return "wa_device" }

type identityRow struct {
	OurJID   string `gorm:"column:our_jid;primaryKey"`
	TheirID  string `gorm:"column:their_id;primaryKey"`
	Identity []byte // sealed 32-byte public key
}

func (identityRow) TableName() string { return "wa_identity_keys" }

type preKeyRow struct {
	OurJID   string `gorm:"column:our_jid;primaryKey"`
	KeyID    uint32 `gorm:"primaryKey;autoIncrement:false"`
	PreKey   []byte // sealed private key
	Uploaded bool
}

func (preKeyRow) TableName() string { return "wa_pre_keys" }

type sessionRow struct {
	OurJID  string `gorm:"column:our_jid;primaryKey"`
	TheirID string `gorm:"column:their_id;primaryKey"`
	Session []byte // sealed Signal session record, NULL when stored as nil
}

func (sessionRow) TableName() string { return "wa_sessions" }

type senderKeyRow struct {
	OurJID    string `gorm:"column:our_jid;primaryKey"`
	ChatID    string `gorm:"primaryKey"`
	SenderID  string `gorm:"primaryKey"`
	SenderKey []byte // sealed Signal sender key record
}

func (senderKeyRow) TableName() string { return "wa_sender_keys" }

type appStateSyncKeyRow struct {
	OurJID       string `gorm:"column:our_jid;primaryKey"`
	KeyID        []byte `gorm:"primaryKey"`
	KeyData      []byte // sealed
	KeyTimestamp int64
	Fingerprint  []byte
}

func (appStateSyncKeyRow) TableName() string { return "wa_app_state_sync_keys" }

type appStateVersionRow struct {
	OurJID  string `gorm:"column:our_jid;primaryKey"`
	Name    string `gorm:"primaryKey"`
	Version uint64
	Hash    []byte // sealed 128-byte LTHash state
}

func (appStateVersionRow) TableName() string { return "wa_app_state_versions" }

type mutationMACRow struct {
	OurJID   string `gorm:"column:our_jid;primaryKey"`
	Name     string `gorm:"primaryKey"`
	Version  uint64 `gorm:"primaryKey;autoIncrement:false"`
	IndexMAC []byte `gorm:"column:index_mac;primaryKey"`
	ValueMAC []byte `gorm:"column:value_mac"`
}

func (mutationMACRow) TableName() string { return "wa_app_state_mutation_macs" }

type contactRow struct {
	OurJID        string  `gorm:"column:our_jid;primaryKey"`
	TheirJID      string  `gorm:"column:their_jid;primaryKey"`
	FirstName     *string // NULL until set, like whatsmeow's sqlstore
	FullName      *string
	PushName      *string
	BusinessName  *string
	RedactedPhone *string
}

func (contactRow) TableName() string { return "wa_contacts" }

type chatSettingsRow struct {
	OurJID     string `gorm:"column:our_jid;primaryKey"`
	ChatJID    string `gorm:"column:chat_jid;primaryKey"`
	MutedUntil int64  // Unix seconds, 0 for not muted, -1 for muted forever
	Pinned     bool
	Archived   bool
}

func (chatSettingsRow) TableName() string { return "wa_chat_settings" }

type messageSecretRow struct {
	OurJID    string `gorm:"column:our_jid;primaryKey"`
	ChatJID   string `gorm:"column:chat_jid;primaryKey"`
	SenderJID string `gorm:"column:sender_jid;primaryKey"`
	MessageID string `gorm:"primaryKey"`
	Secret    []byte // sealed
}

func (messageSecretRow) TableName() string { return "wa_message_secrets" }

type privacyTokenRow struct {
	OurJID         string `gorm:"column:our_jid;primaryKey"`
	TheirJID       string `gorm:"column:their_jid;primaryKey"`
	Token          []byte // sealed
	TokenTimestamp int64  // Unix seconds
}

func (privacyTokenRow) TableName() string { return "wa_privacy_tokens" }

type lidMapRow struct {
	LID string `gorm:"column:lid;primaryKey"`
	PN  string `gorm:"column:pn"`
}

func (lidMapRow) TableName() string { return "wa_lid_map" }

type eventBufferRow struct {
	OurJID          string `gorm:"column:our_jid;primaryKey"`
	CiphertextHash  []byte `gorm:"primaryKey"`
	Plaintext       []byte // sealed, NULL once the event was handled
	ServerTimestamp int64  // Unix seconds
	InsertTimestamp int64  // Unix milliseconds
}

func (eventBufferRow) TableName() string { return "wa_event_buffer" }

type sentMessageRow struct {
	OurJID    string `gorm:"column:our_jid;primaryKey"`
	ChatJID   string `gorm:"column:chat_jid;primaryKey"`
	MessageID string `gorm:"primaryKey"`
	Message   []byte // sealed waE2E.Message proto
	CreatedAt time.Time
}

func (sentMessageRow) TableName() string { return "wa_sent_messages" }

// Models lists the gorm models of the wa_ tables so that schema tests can
// compare them with the migrated tables. The tables themselves are created by
// the versioned migrations, never by AutoMigrate.
func Models() []any {
	return []any{
		&deviceRow{}, &identityRow{}, &preKeyRow{}, &sessionRow{}, &senderKeyRow{},
		&appStateSyncKeyRow{}, &appStateVersionRow{}, &mutationMACRow{}, &contactRow{},
		&chatSettingsRow{}, &messageSecretRow{}, &privacyTokenRow{}, &lidMapRow{},
		&eventBufferRow{}, &sentMessageRow{},
	}
}

// deviceTables lists the tables with an our_jid column, children first, in
// the order DeleteDevice empties them.
func deviceTables() []string {
	return []string{
		"wa_app_state_mutation_macs", "wa_app_state_versions", "wa_app_state_sync_keys",
		"wa_identity_keys", "wa_pre_keys", "wa_sessions", "wa_sender_keys", "wa_contacts",
		"wa_chat_settings", "wa_message_secrets", "wa_privacy_tokens", "wa_event_buffer",
		"wa_sent_messages",
	}
}
