package wastore

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/internal/secrets"
)

// rawTableBytes returns every value of every row of a table, as bytes.
func rawTableBytes(t *testing.T, db *gorm.DB, table string) [][]byte {
	t.Helper()
	var rows []map[string]any
	if err := db.Table(table).Find(&rows).Error; err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	var values [][]byte
	for _, row := range rows {
		for _, value := range row {
			switch v := value.(type) {
			case []byte:
				values = append(values, v)
			case string:
				values = append(values, []byte(v))
			}
		}
	}
	return values
}

func TestSealedColumnsHideSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		v := populate(t, c, "79990000031")
		preKey, err := v.device.PreKeys.GetPreKey(ctx, 1)
		must(t, err)
		if preKey == nil {
			t.Fatal("populate stored no pre-key 1")
		}

		plain := map[string][]byte{
			"noise key":       v.device.NoiseKey.Priv[:],
			"identity key":    v.device.IdentityKey.Priv[:],
			"signed pre-key":  v.device.SignedPreKey.Priv[:],
			"ADV secret":      v.device.AdvSecretKey,
			"ADV details":     v.device.Account.Details,
			"pre-key":         preKey.Priv[:],
			"peer identity":   v.identity[:],
			"session":         v.session,
			"sender key":      v.senderKey,
			"sync key":        v.syncKey,
			"app state hash":  v.hash,
			"message secret":  v.msgSecret,
			"privacy token":   v.privacyToken,
			"event plaintext": v.plaintext,
			"sent message":    v.sentMessage,
		}
		tables := append([]string{"wa_device", "wa_lid_map"}, deviceTables()...)
		for _, table := range tables {
			for _, value := range rawTableBytes(t, db, table) {
				for name, secret := range plain {
					if bytes.Contains(value, secret) {
						t.Errorf("%s contains the plaintext %s", table, name)
					}
				}
			}
		}
	})
}

// TestSealedValueBoundToRow copies a sealed session to another address and
// expects it to fail to open rather than be served as that peer's session.
func TestSealedValueBoundToRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		v := populate(t, c, "79990000032")
		jid := v.device.ID.String()
		must(t, v.device.Sessions.PutSession(ctx, "79110000099:0", []byte("other session")))

		var sealed []byte
		must(t, db.Raw("SELECT session FROM wa_sessions WHERE our_jid = ? AND their_id = ?", jid, v.peer.SignalAddress().String()).Row().Scan(&sealed))
		must(t, db.Exec("UPDATE wa_sessions SET session = ? WHERE our_jid = ? AND their_id = ?", sealed, jid, "79110000099:0").Error)

		_, err := v.device.Sessions.GetSession(ctx, "79110000099:0")
		if !errors.Is(err, secrets.ErrDecrypt) {
			t.Fatalf("GetSession of a moved sealed value: got %v, want ErrDecrypt", err)
		}
		got, err := v.device.Sessions.GetSession(ctx, v.peer.SignalAddress().String())
		must(t, err)
		if !bytes.Equal(got, v.session) {
			t.Error("the original session no longer opens")
		}
	})
}

func TestAdditionalDataIsUnambiguous(t *testing.T) {
	cases := [][2][]string{
		{{"a:b", "c"}, {"a", "b:c"}},
		{{"a", "bc"}, {"ab", "c"}},
		{{`a"`, "b"}, {"a", `"b`}},
	}
	for _, tc := range cases {
		left := additionalData("1@s.whatsapp.net", kindSenderKey, tc[0]...)
		right := additionalData("1@s.whatsapp.net", kindSenderKey, tc[1]...)
		if left == right {
			t.Errorf("keys %q and %q give the same additional data %s", tc[0], tc[1], left)
		}
	}
	if got := additionalData("1:2@s.whatsapp.net", kindSession, "3:0"); got != `wa:"1:2@s.whatsapp.net":session:"3:0"` {
		t.Errorf("additionalData = %s", got)
	}
}
