package database

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw      string
		dialect  Dialect
		contains []string
	}{
		{"", SQLite, []string{"file:data/app.db?", "foreign_keys(1)"}},
		{"sqlite:///var/lib/b24wa/app.db", SQLite, []string{"file:/var/lib/b24wa/app.db?"}},
		{"sqlite::memory:", SQLite, []string{"file::memory:?"}},
		{"mysql://user:p%40ss@db.internal:3307/b24wa", MySQL, []string{"user:p@ss@tcp(db.internal:3307)/b24wa", "parseTime=true"}},
		{"mysql://root@127.0.0.1/test", MySQL, []string{"tcp(127.0.0.1:3306)/test"}},
	}
	for _, tc := range cases {
		got, err := ParseURL(tc.raw, "data")
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if got.Dialect != tc.dialect {
			t.Errorf("ParseURL(%q) dialect = %s, want %s", tc.raw, got.Dialect, tc.dialect)
		}
		for _, want := range tc.contains {
			if !strings.Contains(got.DSN, want) {
				t.Errorf("ParseURL(%q) DSN %q lacks %q", tc.raw, got.DSN, want)
			}
		}
		if strings.Contains(got.Redacted, "p@ss") || strings.Contains(got.Redacted, "p%40ss") {
			t.Errorf("ParseURL(%q) redacted form %q shows the password", tc.raw, got.Redacted)
		}
	}
}

func TestParseURLRejects(t *testing.T) {
	for _, raw := range []string{"postgres://db/x", "mysql://db.internal:3306/", "mysql:///b24wa", "sqlite://", "::"} {
		if _, err := ParseURL(raw, "data"); err == nil {
			t.Errorf("ParseURL(%q) accepted", raw)
		}
	}
}
