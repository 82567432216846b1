package portal

import "time"

// Portal states.
const (
	StateActive      = "active"
	StateAttention   = "attention" // tokens or licence need the owner; see AttentionReason
	StateUninstalled = "uninstalled"
)

// Portal is a row of the portals table: one Bitrix24 account (tenant) that
// installed the app, keyed by member_id because domains change.
type Portal struct {
	ID                    uint64 `gorm:"primaryKey"`
	MemberID              string
	Domain                string
	ClientEndpoint        string
	ServerEndpoint        string
	AccessToken           []byte // sealed
	RefreshToken          []byte // sealed
	TokenExpiresAt        *time.Time
	ApplicationToken      []byte // sealed
	Scope                 string
	Lang                  string
	Name                  string
	State                 string
	AttentionReason       string
	AttentionSince        *time.Time
	LicenceStatus         string
	LicencePaymentExpired bool
	LicenceDays           *int
	LicenceCheckedAt      *time.Time
	InstallerUserID       int64
	InstalledAt           *time.Time
	UninstalledAt         *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// TableName pins the table name used by the migrations.
func (Portal) TableName() string { return "portals" }

// Origin is the portal's https origin, used for CSP frame-ancestors and to
// check where file links point.
func (p *Portal) Origin() string {
	return originOf(p.ClientEndpoint, p.Domain)
}

// Models lists the gorm models of this package, for schema checks.
func Models() []any { return []any{&Portal{}} }
