package portal_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestBatchPartialFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		e.fake.AddLine(3, "Sales")
		cmds := []portal.BatchCommand{
			{Key: "info", Method: "app.info"},
			{Key: "bad", Method: "no.such.method"},
			{Key: "cfg", Method: "imopenlines.config.get", Params: map[string]any{"CONFIG_ID": 3}},
		}
		res, err := e.client.Batch(context.Background(), e.portal.ID, false, cmds)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err("info"); err != nil {
			t.Errorf("info: %v", err)
		}
		if !portal.IsCode(res.Err("bad"), portal.CodeMethodNotFound) {
			t.Errorf("bad: %v, want ERROR_METHOD_NOT_FOUND", res.Err("bad"))
		}
		if !strings.Contains(string(res.Results["cfg"]), `"LINE_NAME":"Sales"`) {
			t.Errorf("cfg result = %s", res.Results["cfg"])
		}
		if n := len(e.fake.CallsTo("batch")); n != 1 {
			t.Errorf("batch sent %d times, want 1", n)
		}
	})
}

func TestBatchHaltStopsInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		cmds := []portal.BatchCommand{
			{Key: "z_first", Method: "user.admin"},
			{Key: "m_fails", Method: "imopenlines.config.get", Params: url.Values{"CONFIG_ID": {"404"}}},
			{Key: "a_last", Method: "app.info"},
		}
		res, err := e.client.Batch(context.Background(), e.portal.ID, true, cmds)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err("z_first"); err != nil {
			t.Errorf("z_first: %v", err)
		}
		if res.Errors["m_fails"] == nil {
			t.Error("m_fails has no error")
		}
		if _, ran := res.Results["a_last"]; ran {
			t.Error("a_last ran after the failure despite halt")
		}
		if res.Err("a_last") == nil {
			t.Error("Err(a_last) = nil for a command that did not run")
		}
	})
}

func TestBatchRejectsTooManyCommands(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		e := newEnv(t, db, b24fake.Options{}, nil)
		cmds := make([]portal.BatchCommand, portal.MaxBatchCommands+1)
		for i := range cmds {
			cmds[i] = portal.BatchCommand{Key: "c" + strings.Repeat("x", i), Method: "app.info"}
		}
		_, err := e.client.Batch(context.Background(), e.portal.ID, false, cmds)
		if !errors.Is(err, portal.ErrBatchTooLong) {
			t.Fatalf("error = %v, want ErrBatchTooLong", err)
		}
		if n := len(e.fake.CallsTo("batch")); n != 0 {
			t.Errorf("batch sent %d times, want 0", n)
		}
	})
}

func TestEncodeQuery(t *testing.T) {
	got, err := portal.EncodeQuery(map[string]any{
		"FILTER": map[string]any{"ACTIVE": "Y"}, "IDS": []int{3, 5}, "FLAG": true, "OFF": false, "NONE": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	values, err := url.ParseQuery(got)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"FILTER[ACTIVE]": "Y", "IDS[0]": "3", "IDS[1]": "5", "FLAG": "1", "OFF": "0"}
	for k, v := range want {
		if values.Get(k) != v {
			t.Errorf("%s = %q, want %q (query %s)", k, values.Get(k), v, got)
		}
	}
	if values.Has("NONE") {
		t.Errorf("null value encoded: %s", got)
	}
}
