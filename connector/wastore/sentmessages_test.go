package wastore

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestSentMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000051", 7)
		must(t, device.Save(ctx))
		our := *device.ID
		pn := types.NewJID("79110000051", types.DefaultUserServer)
		lid := types.NewJID("200000000000051", types.HiddenUserServer)
		must(t, c.LIDs().PutLIDMapping(ctx, lid, pn))
		msg := &waE2E.Message{Conversation: proto.String("Your order is ready")}
		must(t, c.PutSentMessage(ctx, our, pn, "3EB0SENT1", msg))

		tests := []struct {
			name string
			our  types.JID
			chat types.JID
			id   types.MessageID
			want *waE2E.Message
		}{
			{"same chat", our, pn, "3EB0SENT1", msg},
			{"chat with device", our, types.JID{User: pn.User, Device: 3, Server: pn.Server}, "3EB0SENT1", msg},
			{"chat as LID", our, lid, "3EB0SENT1", msg},
			{"other id", our, pn, "3EB0SENT2", nil},
			{"other chat", our, types.NewJID("79110000052", types.DefaultUserServer), "3EB0SENT1", nil},
			{"other device", types.NewADJID("79990000051", 0, 8), pn, "3EB0SENT1", nil},
		}
		for _, tc := range tests {
			got, err := c.GetSentMessage(ctx, tc.our, tc.chat, tc.id)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}

		retry := c.MessageForRetry(our)
		if got := retry(lid, pn, "3EB0SENT1"); !proto.Equal(got, msg) {
			t.Errorf("MessageForRetry returned %v", got)
		}

		edited := &waE2E.Message{Conversation: proto.String("Your order is on its way")}
		must(t, c.PutSentMessage(ctx, our, pn, "3EB0SENT1", edited))
		got, err := c.GetSentMessage(ctx, our, pn, "3EB0SENT1")
		must(t, err)
		if !proto.Equal(got, edited) {
			t.Errorf("second PutSentMessage did not replace the message: %v", got)
		}
	})
}

func TestPruneSentMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		c := newTestContainer(t, db)
		device := pairedDevice(t, c, "79990000052", 7)
		must(t, device.Save(ctx))
		chat := types.NewJID("79110000053", types.DefaultUserServer)
		msg := &waE2E.Message{Conversation: proto.String("hi")}
		must(t, c.PutSentMessage(ctx, *device.ID, chat, "OLD", msg))
		must(t, c.PutSentMessage(ctx, *device.ID, chat, "NEW", msg))
		old := time.Now().Add(-8 * 24 * time.Hour).UTC()
		must(t, db.Model(&sentMessageRow{}).Where("message_id = ?", "OLD").Update("created_at", old).Error)

		deleted, err := c.PruneSentMessages(ctx, time.Now().Add(-7*24*time.Hour))
		must(t, err)
		if deleted != 1 {
			t.Errorf("PruneSentMessages deleted %d messages, want 1", deleted)
		}
		if got, err := c.GetSentMessage(ctx, *device.ID, chat, "OLD"); err != nil || got != nil {
			t.Errorf("old message still readable: %v, %v", got, err)
		}
		if got, err := c.GetSentMessage(ctx, *device.ID, chat, "NEW"); err != nil || got == nil {
			t.Errorf("recent message lost: %v, %v", got, err)
		}
	})
}
