package portal_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestRenamedPortalRepostsAndStoresDomain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.activateConnector(t, "acme_wa")
		oldDomain := e.fake.Domain()
		newDomain := e.fake.Rename()
		ctx := context.Background()

		var status struct {
			Status bool `json:"STATUS"`
		}
		params := map[string]any{"CONNECTOR": "acme_wa", "LINE": 1}
		if err := e.client.Call(ctx, e.portal.ID, "imconnector.status", params, &status); err != nil {
			t.Fatal(err)
		}
		if !status.Status {
			t.Error("status lost its parameters on the way: the body was not re-posted")
		}
		calls := e.fake.CallsTo("imconnector.status")
		if len(calls) != 1 || calls[0].Host != newDomain {
			t.Fatalf("calls = %+v, want one at %s", calls, newDomain)
		}
		p := e.reload(t)
		if p.Domain != newDomain || p.ClientEndpoint != e.fake.ClientEndpoint() {
			t.Errorf("stored %s %s, want %s %s", p.Domain, p.ClientEndpoint, newDomain, e.fake.ClientEndpoint())
		}
		if newDomain == oldDomain {
			t.Fatal("Rename kept the domain")
		}
	})
}

func TestAmbiguousSendIsNotRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, func(o *portal.ClientOptions) { o.Timeout = 300 * time.Millisecond })
		e.activateConnector(t, "acme_wa")
		e.fake.OnDelay("imconnector.send.messages", 1, time.Second)
		ctx := context.Background()

		err := e.client.Call(ctx, e.portal.ID, "imconnector.send.messages", sendParams("acme_wa", "wa:1", "hi"), nil)
		if !portal.IsAmbiguous(err) {
			t.Fatalf("error = %v, want an ambiguous error", err)
		}
		if n := len(e.fake.CallsTo("imconnector.send.messages")); n != 1 {
			t.Errorf("send.messages sent %d times, want 1", n)
		}
		if n := len(e.fake.ReceivedMessages()); n != 1 {
			t.Errorf("portal stored %d messages, want 1 (the timed-out call took effect)", n)
		}
	})
}

func TestDroppedConnectionOfSendIsAmbiguous(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.activateConnector(t, "acme_wa")
		e.fake.OnDrop("imconnector.send.messages", 1)

		err := e.client.Call(context.Background(), e.portal.ID, "imconnector.send.messages", sendParams("acme_wa", "wa:1", "hi"), nil)
		if !portal.IsAmbiguous(err) {
			t.Fatalf("error = %v, want an ambiguous error", err)
		}
		if n := len(e.fake.CallsTo("imconnector.send.messages")); n != 1 {
			t.Errorf("send.messages sent %d times, want 1", n)
		}
	})
}

func TestAmbiguousIdempotentCallIsRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, func(o *portal.ClientOptions) { o.Timeout = 300 * time.Millisecond })
		e.fake.OnDelay("imconnector.status", 1, time.Second)
		e.fake.OnError("imconnector.status", 1, http.StatusBadGateway, "", "")

		if err := e.client.Call(context.Background(), e.portal.ID, "imconnector.status", nil, nil); err != nil {
			t.Fatal(err)
		}
		if n := len(e.fake.CallsTo("imconnector.status")); n != 3 {
			t.Errorf("imconnector.status sent %d times, want 3 (502, timeout, success)", n)
		}
	})
}

func TestServerErrorOfSendIsAmbiguous(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.activateConnector(t, "acme_wa")
		e.fake.OnError("imconnector.send.messages", 1, http.StatusBadGateway, "", "")

		err := e.client.Call(context.Background(), e.portal.ID, "imconnector.send.messages", sendParams("acme_wa", "wa:1", "hi"), nil)
		if !portal.IsAmbiguous(err) {
			t.Fatalf("error = %v, want an ambiguous error", err)
		}
		if n := len(e.fake.CallsTo("imconnector.send.messages")); n != 1 {
			t.Errorf("send.messages sent %d times, want 1", n)
		}
	})
}

func TestIdempotentMethods(t *testing.T) {
	cases := map[string]bool{
		"imconnector.send.messages":        false,
		"imconnector.update.messages":      false,
		"imconnector.delete.messages":      false,
		"im.notify.system.add":             false,
		"event.bind":                       false,
		"imopenlines.config.add":           false,
		"imconnector.status":               true,
		"imconnector.send.status.delivery": true,
		"app.info":                         true,
	}
	for method, want := range cases {
		if got := portal.IsIdempotent(method); got != want {
			t.Errorf("IsIdempotent(%s) = %v, want %v", method, got, want)
		}
	}
}
